"""What the credit bank holds about a person: learning outcomes with their evidence, and the
credit account with its ledger.

Registered with the kernel's personal-data registry (``ouc_portal.accounts.personal_data``) in
``CreditbankConfig.ready``. Closing an account erases the evidence files and their names; the
outcomes and the ledger stay (the ledger is append-only and its hashes must still verify).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import Prefetch
from django.urls import reverse

from creditbank import services
from creditbank.models import (
    CreditAccount,
    LearningOutcome,
    LedgerEntry,
    OutcomeEvidence,
    OutcomeStatusChange,
)
from enrolment.models import Learner
from ouc_portal.accounts.personal_data import PersonalDataPart, history_rows


def _outcomes(account: CreditAccount, user) -> list[dict[str, Any]]:
    outcomes = (
        LearningOutcome.objects.filter(account=account)
        .select_related("accreditation__standard")
        .prefetch_related(
            Prefetch("history", queryset=OutcomeStatusChange.objects.order_by("at", "pk")),
            Prefetch("evidence", queryset=OutcomeEvidence.objects.order_by("uploaded_at", "pk")),
        )
        .order_by("submitted_at", "pk")
    )
    rows = []
    for o in outcomes:
        accreditation = getattr(o, "accreditation", None)
        rows.append(
            {
                "id": o.public_id,
                "kind": o.kind,
                "title": o.title,
                "issuing_body": o.issuing_body_name,
                "achieved_on": o.achieved_on,
                "expires_on": o.expires_on,
                "level": o.level,
                "study_hours": o.study_hours,
                "grade": o.grade,
                "certificate_number": o.certificate_number,
                "status": o.status,
                "submitted_at": o.submitted_at,
                "history": history_rows(o.history.all(), user),
                "accreditation": None if accreditation is None else {
                    "standard": str(accreditation.standard),
                    "credits": accreditation.credits,
                    "reason": accreditation.reason,
                    "at": accreditation.at,
                },
                # The files themselves stay behind the portal's access check: a link, not a copy.
                "evidence": [
                    {
                        "file_name": ev.original_name,
                        "content_type": ev.content_type,
                        "size": ev.size,
                        "sha256": ev.sha256,
                        "uploaded_at": ev.uploaded_at,
                        "download_url": settings.SITE_URL + reverse(
                            "credits:evidence_download", kwargs={"public_id": ev.public_id}
                        ),
                    }
                    for ev in o.evidence.all()
                ],
            }
        )  # fmt: skip
    return rows


def _credit_account(account: CreditAccount) -> dict[str, Any]:
    entries = list(
        LedgerEntry.objects.filter(account=account)
        .select_related("outcome")
        .order_by("seq")
        .only("seq", "kind", "amount", "balance_after", "level", "at", "reason",
              "outcome__public_id", "outcome__title", "account_id")
    )  # fmt: skip
    return {
        "number": account.number,
        "opened_at": account.opened_at,
        "balance": entries[-1].balance_after if entries else Decimal("0"),
        "ledger": [
            {
                "seq": entry.seq,
                "kind": entry.kind,
                "credits": entry.amount,
                "balance_after": entry.balance_after,
                "level": entry.level,
                "at": entry.at,
                "reason": entry.reason,
                "learning_outcome": {"id": entry.outcome.public_id, "title": entry.outcome.title},
            }
            for entry in entries
        ],
    }


def export(user) -> dict[str, Any]:
    account = CreditAccount.objects.filter(learner__user=user).first()
    if account is None:
        return {"learning_outcomes": [], "credit_account": None}
    return {
        "learning_outcomes": _outcomes(account, user),
        "credit_account": _credit_account(account),
    }


def count(user) -> dict[str, int]:
    return {
        "outcomes": LearningOutcome.objects.filter(account__learner__user=user).count(),
        "evidence": OutcomeEvidence.objects.filter(outcome__account__learner__user=user).count(),
        "ledger_entries": LedgerEntry.objects.filter(account__learner__user=user).count(),
    }


def erase(user) -> dict[str, int]:
    learner = Learner.objects.filter(user=user).first()
    if learner is None:
        return {"evidence_files": 0}
    return {"evidence_files": services.evidence_erase(learner=learner)}


PART = PersonalDataPart(app="creditbank", export=export, count=count, erase=erase)
