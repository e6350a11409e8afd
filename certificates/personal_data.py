"""What the certificates app holds about a person: certificate requests, certificates and
transcripts.

Registered with the kernel's personal-data registry (``ouc_portal.accounts.personal_data``) in
``CertificatesConfig.ready``. Closing an account erases nothing here: certificates and transcripts
were issued to third parties' trust, so their verification and signed credentials keep working.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch

from certificates.links import verify_url
from certificates.models import Certificate, CertificateRequest, RequestStatusChange, Transcript
from ouc_portal.accounts.personal_data import PersonalDataPart, history_rows


def _certificate_requests(user) -> list[dict[str, Any]]:
    requests = (
        CertificateRequest.objects.filter(learner__user=user)
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
            "history": history_rows(r.history.all(), user),
        }
        for r in requests
    ]  # fmt: skip


def _certificates(user) -> list[dict[str, Any]]:
    certificates = (
        Certificate.objects.filter(request__learner__user=user)
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


def _transcripts(user) -> list[dict[str, Any]]:
    transcripts = (
        Transcript.objects.filter(learner__user=user)
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


def export(user) -> dict[str, Any]:
    return {
        "certificate_requests": _certificate_requests(user),
        "certificates": _certificates(user),
        "transcripts": _transcripts(user),
    }


def count(user) -> dict[str, int]:
    return {
        "certificate_requests": CertificateRequest.objects.filter(learner__user=user).count(),
        "certificates": Certificate.objects.filter(request__learner__user=user).count(),
        "transcripts": Transcript.objects.filter(learner__user=user).count(),
    }


PART = PersonalDataPart(app="certificates", export=export, count=count)
