"""A person's own data: everything the portal holds about them, and closing their account.

Two use cases, one module, because they must agree on what "the person's data" is:

- ``personal_data_export`` builds the JSON document a signed-in person downloads from
  ``/me/data/``. It reads every kind of record in one query each (joins and prefetches), so the
  cost does not grow with how much the person has done on the portal.
- ``account_close`` closes an account. Personal data is erased or anonymised; the records other
  people rely on are kept: the credit ledger is append-only and hash-chained (DESIGN.md), and
  certificates and transcripts were issued to third parties' trust, so their public verification
  and their signed credentials (immutable, signed with the name at the time) keep working.

The export reaches into every app on purpose: it is the one place that answers "what do you hold
about me", and a reader of this module sees the whole answer.
"""

from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass
from decimal import Decimal
from importlib import import_module
from typing import Any

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.apps import apps
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.models import Session
from django.db import transaction
from django.db.models import Prefetch
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from certificates.links import absolute, verify_url
from certificates.models import Certificate, CertificateRequest, RequestStatusChange, Transcript
from creditbank import services as creditbank_services
from creditbank.models import (
    CreditAccount,
    LearningOutcome,
    LedgerEntry,
    OutcomeEvidence,
    OutcomeStatusChange,
)
from enrolment import services as enrolment_services
from enrolment.models import CourseResult, Enrolment, EnrolmentStatusChange, Learner
from ouc_portal.accounts.models import User
from ouc_portal.accounts.roles import holds_staff_role
from ouc_portal.audit import services as audit
from ouc_portal.audit.models import AuditEvent

logger = logging.getLogger(__name__)

EXPORT_FORMAT = "ouc-portal-personal-data/1"
CLOSED_DOMAIN = "closed.invalid"  # RFC 2606: can never be a real mailbox


class AccountCloseError(Exception):
    """Closing was refused; ``message`` says why, in words for the person."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


def closed_email(user_id: int) -> str:
    """The placeholder address of a closed account: unique (the id) and undeliverable."""
    return f"closed-{user_id}@{CLOSED_DOMAIN}"


def is_closed(user: User) -> bool:
    return not user.is_active and user.email == closed_email(user.pk)


def staff_refusal(user: User) -> str | None:
    """Why ``user`` may not close their own account here, or None if they may.

    Staff act for schools, associations and the credit bank: their account is referenced by
    decisions other people rely on, and removing it is an administrator's decision.
    """
    if user.is_staff or user.is_superuser or holds_staff_role(user):
        return _(
            "Staff accounts cannot be closed here. Ask a portal administrator to close your "
            "account once your roles are handed over."
        )
    return None


# --- Reading --------------------------------------------------------------------------------------


def _learner(user: User) -> Learner | None:
    """The person's learner profile (and credit account), without creating one."""
    return (
        Learner.objects.select_related("centre", "credit_account").filter(user=user).first()
    )


def _account(learner: Learner | None) -> CreditAccount | None:
    if learner is None:
        return None
    try:
        return learner.credit_account
    except CreditAccount.DoesNotExist:
        return None


def personal_data_summary(user: User) -> dict[str, int]:
    """How many records of each kind the portal holds about ``user``: what ``/me/data/`` lists.

    One COUNT a kind, whatever the numbers are.
    """
    learner = _learner(user)
    account = _account(learner)
    counts = {
        "enrolments": 0,
        "results": 0,
        "outcomes": 0,
        "evidence": 0,
        "ledger_entries": 0,
        "certificate_requests": 0,
        "certificates": 0,
        "transcripts": 0,
    }
    if learner is not None:
        counts["enrolments"] = Enrolment.objects.filter(learner=learner).count()
        counts["results"] = CourseResult.objects.filter(enrolment__learner=learner).count()
        counts["certificate_requests"] = CertificateRequest.objects.filter(learner=learner).count()
        counts["certificates"] = Certificate.objects.filter(request__learner=learner).count()
        counts["transcripts"] = Transcript.objects.filter(learner=learner).count()
    if account is not None:
        counts["outcomes"] = LearningOutcome.objects.filter(account=account).count()
        counts["evidence"] = OutcomeEvidence.objects.filter(outcome__account=account).count()
        counts["ledger_entries"] = LedgerEntry.objects.filter(account=account).count()
    counts["audit_events"] = AuditEvent.objects.filter(actor=user).count()
    return counts


def _history(rows, user: User) -> list[dict[str, Any]]:
    # Who else acted (a school administrator, a reviewer) is their data, not this person's:
    # the export says only whether it was the person themself.
    return [
        {
            "from": row.from_status,
            "to": row.to_status,
            "at": row.at,
            "by_you": row.actor_id == user.pk,
            "reason": row.reason,
        }
        for row in rows
    ]


def _enrolments(learner: Learner, user: User) -> list[dict[str, Any]]:
    enrolments = (
        Enrolment.objects.filter(learner=learner)
        .select_related("programme", "intake__centre")
        .prefetch_related(
            Prefetch("history", queryset=EnrolmentStatusChange.objects.order_by("at", "pk")),
            Prefetch(
                "results",
                queryset=CourseResult.objects.select_related("course").order_by("course__code"),
            ),
        )
        .order_by("applied_at", "pk")
    )
    return [
        {
            "id": e.public_id,
            "programme": {"code": e.programme.code, "name_en": e.programme.name_en,
                          "name_zh": e.programme.name_zh},
            "intake": {"year": e.intake.year, "term": e.intake.season,
                       "learning_centre": e.intake.centre.name_en},
            "status": e.status,
            "applied_at": e.applied_at,
            "status_changed_at": e.status_changed_at,
            "history": _history(e.history.all(), user),
            "results": [
                {
                    "course": {"code": r.course.code, "name_en": r.course.name_en,
                               "name_zh": r.course.name_zh},
                    "score": r.score,
                    "grade": r.grade,
                    "passed": r.passed,
                    "assessed_on": r.assessed_on,
                    "recorded_at": r.recorded_at,
                }
                for r in e.results.all()
            ],
        }
        for e in enrolments
    ]  # fmt: skip


def _outcomes(account: CreditAccount, user: User) -> list[dict[str, Any]]:
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
                "history": _history(o.history.all(), user),
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
                        "download_url": absolute(
                            reverse("credits:evidence_download", kwargs={"public_id": ev.public_id})
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


def _certificate_requests(learner: Learner, user: User) -> list[dict[str, Any]]:
    requests = (
        CertificateRequest.objects.filter(learner=learner)
        .select_related("type")
        .prefetch_related(
            Prefetch("history", queryset=RequestStatusChange.objects.order_by("at", "pk"))
        )
        .order_by("requested_at", "pk")
    )
    return [
        {
            "id": r.public_id,
            "certificate_type": {"code": r.type.code, "name_en": r.type.name_en,
                                 "name_zh": r.type.name_zh},
            "status": r.status,
            "requested_at": r.requested_at,
            "history": _history(r.history.all(), user),
        }
        for r in requests
    ]  # fmt: skip


def _certificates(learner: Learner) -> list[dict[str, Any]]:
    certificates = (
        Certificate.objects.filter(request__learner=learner)
        .select_related("request__type")
        .defer("credential")
        .order_by("issued_on", "pk")
    )
    return [
        {
            "serial": c.serial,
            "certificate_type": {"code": c.request.type.code, "name_en": c.request.type.name_en,
                                 "name_zh": c.request.type.name_zh},
            "issued_on": c.issued_on,
            "expires_on": c.expires_on,
            "status": c.status_on(),
            "revoked_at": c.revoked_at,
            "revocation_reason": c.revocation_reason,
            "verification_url": verify_url(c.verification_code),
        }
        for c in certificates
    ]  # fmt: skip


def _transcripts(learner: Learner) -> list[dict[str, Any]]:
    transcripts = (
        Transcript.objects.filter(learner=learner)
        .defer("credential")
        .order_by("requested_at", "pk")
    )
    return [
        {
            "id": t.public_id,
            "requested_at": t.requested_at,
            "status": t.status,
            "built_at": t.built_at,
            "superseded_at": t.superseded_at,
            # Only a ready transcript verifies: a link to anything else would say "not found".
            "verification_url": verify_url(t.verification_code)
            if t.status == Transcript.Status.READY else None,
        }
        for t in transcripts
    ]  # fmt: skip


def _audit_events(user: User) -> list[dict[str, Any]]:
    events = AuditEvent.objects.filter(actor=user).order_by("at", "pk")
    return [
        {
            "at": e.at,
            "action": e.action,
            "record_type": e.object_type,
            "record": e.object_id,
            "summary": e.summary,
            "address": e.ip,
            "method": e.method,
            "path": e.path,
            "answer": e.status_code,
        }
        for e in events.iterator(chunk_size=2000)
    ]


def personal_data_export(*, user: User) -> dict[str, Any]:
    """Everything the portal holds about ``user``, as one JSON-ready document.

    Only ``user``'s own records: every query is filtered by this person's learner profile,
    credit account or user id. Files (evidence, PDFs) are listed with links, not embedded.
    """
    learner = _learner(user)
    account = _account(learner)
    document: dict[str, Any] = {
        "format": EXPORT_FORMAT,
        "exported_at": timezone.now(),
        "portal": settings.SITE_URL,
        "account": {
            "email": user.email,
            "name": user.name,
            "date_joined": user.date_joined,
            "last_login": user.last_login,
            "active": user.is_active,
            "email_addresses": [
                {"email": a.email, "verified": a.verified, "primary": a.primary}
                for a in EmailAddress.objects.filter(user=user).order_by("pk")
            ],
            "second_factors": [
                {"type": a.type, "created_at": a.created_at, "last_used_at": a.last_used_at}
                for a in Authenticator.objects.filter(user=user).order_by("pk")
            ],
        },
        "learner_profile": None,
        "enrolments": [],
        "learning_outcomes": [],
        "credit_account": None,
        "certificate_requests": [],
        "certificates": [],
        "transcripts": [],
    }
    if learner is not None:
        document["learner_profile"] = {
            "id": learner.public_id,
            "registered_at": learner.registered_at,
            "legal_name": learner.legal_name,
            "phone": learner.phone,
            "employer": learner.employer,
            "job_title": learner.job_title,
            "industry": learner.industry,
            "province": learner.province,
            "learning_centre": learner.centre.name_en if learner.centre else None,
            "privacy_consent_at": learner.privacy_consent_at,
        }
        document["enrolments"] = _enrolments(learner, user)
        document["certificate_requests"] = _certificate_requests(learner, user)
        document["certificates"] = _certificates(learner)
        document["transcripts"] = _transcripts(learner)
    if account is not None:
        document["learning_outcomes"] = _outcomes(account, user)
        document["credit_account"] = _credit_account(account)
    document["audit_events"] = _audit_events(user)
    return document


def export_filename(moment: datetime.datetime | None = None) -> str:
    moment = timezone.localtime(moment or timezone.now())
    return f"ouc-portal-my-data-{moment:%Y%m%d-%H%M}.json"


# --- Closing --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClosedAccount:
    """What closing did, in numbers (the confirmation page and the audit event say them)."""

    user_id: int
    evidence_files: int
    sessions: int


def _end_sessions(user_id: int) -> int:
    """Delete every stored session of ``user_id``, through the session engine (its cache too).

    Sessions are not indexed by user, so this reads the unexpired ones; closing an account is
    rare. They are dead anyway (an inactive user with a new password hash is refused by the
    authentication backend), this removes what they hold.
    """
    engine = import_module(settings.SESSION_ENGINE)
    decoder = engine.SessionStore()
    ended = 0
    live = Session.objects.filter(expire_date__gt=timezone.now()).only("session_key", "session_data")
    for session in live.iterator(chunk_size=1000):
        if str(decoder.decode(session.session_data).get(SESSION_KEY)) == str(user_id):
            engine.SessionStore(session_key=session.session_key).delete()
            ended += 1
    return ended


@transaction.atomic
def account_close(*, user: User) -> ClosedAccount:
    """Close ``user``'s account: erase and anonymise their personal data, keep the records.

    Erased: email (a unique placeholder), name, password (unusable), email addresses, second
    factors, social accounts, sessions; the learner profile's personal fields; evidence files
    and their names. Kept: enrolments and results, learning outcomes, the credit ledger (never
    touched: it is append-only and its hashes must still verify), certificate requests,
    certificates and transcripts with their PDFs and signed credentials, and audit events.
    """
    locked = User.objects.select_for_update().get(pk=user.pk)
    if not locked.is_active:
        raise AccountCloseError(_("This account is already closed."))
    refusal = staff_refusal(locked)
    if refusal:
        raise AccountCloseError(refusal)

    learner = Learner.objects.select_for_update().filter(user=locked).first()
    files = 0
    if learner is not None:
        enrolment_services.learner_erase(learner=learner)
        files = creditbank_services.evidence_erase(learner=learner)

    EmailAddress.objects.filter(user=locked).delete()
    Authenticator.objects.filter(user=locked).delete()
    if apps.is_installed("allauth.socialaccount"):
        apps.get_model("socialaccount", "SocialAccount").objects.filter(user=locked).delete()

    locked.email = closed_email(locked.pk)
    locked.name = ""
    locked.set_unusable_password()
    locked.is_active = False
    locked.save(update_fields=["email", "name", "password", "is_active"])
    sessions = _end_sessions(locked.pk)

    audit.record(
        action="account.closed",
        actor=locked,
        obj=locked,
        summary=(
            f"Account closed by its holder: personal data erased, {files} evidence file(s) "
            f"deleted, {sessions} session(s) ended; ledger, certificates and transcripts kept."
        ),
    )
    return ClosedAccount(user_id=locked.pk, evidence_files=files, sessions=sessions)
