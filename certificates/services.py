"""Writes on certificates: one function a use case, each in one transaction.

Issuing is idempotent by the database: ``certificate_issue`` locks the request and returns the
certificate it already has; the unique one-to-one from Certificate to request holds even if two
workers race past the lock check. Serials come from a per-school, per-year counter row locked with
``select_for_update``: numbers are consecutive and never reused.
"""

from __future__ import annotations

import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from certificates.errors import CertificateError
from certificates.models import (
    OPEN_REQUEST_STATES,
    REQUEST_TRANSITIONS,
    Certificate,
    CertificateKind,
    CertificateRequest,
    CertificateType,
    RequestStatus,
    RequestStatusChange,
    SerialCounter,
)
from enrolment.models import Enrolment, EnrolmentStatus, Learner
from ouc_portal.tasks import enqueue_on_commit
from schools.roles import roles_for

R = RequestStatus


def _move(request: CertificateRequest, *, to: str, actor, reason: str = "") -> None:
    if to not in REQUEST_TRANSITIONS.get(request.status, frozenset()):
        raise CertificateError(
            _("A request that is %(from)s cannot become %(to)s.") % {"from": R(request.status).label, "to": R(to).label}
        )
    RequestStatusChange.objects.create(request=request, from_status=request.status, to_status=to, actor=actor, reason=reason)
    request.status = to
    request.save(update_fields=["status"])


def _locked(request: CertificateRequest) -> CertificateRequest:
    return CertificateRequest.objects.select_for_update().select_related("type__school", "learner").get(pk=request.pk)


def _require_reviewer(actor, request: CertificateRequest) -> None:
    if not roles_for(actor).reviews_for(request.type.association_id):
        raise CertificateError(_("Only reviewers of %(body)s decide on this request.") % {"body": request.type.association.name})


@transaction.atomic
def request_open(*, learner: Learner, type: CertificateType, enrolment: Enrolment | None = None, actor=None) -> CertificateRequest:
    """Open a request; a completion certificate needs the learner's completed enrolment in its programme."""
    if type.kind == CertificateKind.COMPLETION:
        if enrolment is None or enrolment.learner_id != learner.pk or enrolment.programme_id != type.programme_id:
            raise CertificateError(_("A completion certificate needs your enrolment in %(programme)s.") % {"programme": type.programme})
        if enrolment.status != EnrolmentStatus.COMPLETED:
            raise CertificateError(_("The programme is not completed yet."))
    if CertificateRequest.objects.filter(learner=learner, type=type, status__in=OPEN_REQUEST_STATES).exists():
        raise CertificateError(_("You already have a request for this certificate."))
    try:
        with transaction.atomic():
            request = CertificateRequest.objects.create(learner=learner, type=type, enrolment=enrolment)
    except IntegrityError:  # a concurrent request won the race
        raise CertificateError(_("You already have a request for this certificate.")) from None
    RequestStatusChange.objects.create(request=request, to_status=R.REQUESTED, actor=actor or learner.user)
    return request


def requests_for_completion(*, enrolment: Enrolment) -> list[CertificateRequest]:
    """A completed enrolment opens its programme's completion certificate requests by itself."""
    opened = []
    for cert_type in CertificateType.objects.filter(programme_id=enrolment.programme_id, kind=CertificateKind.COMPLETION):
        if not CertificateRequest.objects.filter(learner_id=enrolment.learner_id, type=cert_type, status__in=OPEN_REQUEST_STATES).exists():
            opened.append(request_open(learner=enrolment.learner, type=cert_type, enrolment=enrolment, actor=None))
    return opened


@transaction.atomic
def request_start_review(*, request: CertificateRequest, reviewer) -> CertificateRequest:
    request = _locked(request)
    _require_reviewer(reviewer, request)
    _move(request, to=R.UNDER_REVIEW, actor=reviewer)
    return request


@transaction.atomic
def request_approve(*, request: CertificateRequest, reviewer, reason: str = "") -> CertificateRequest:
    """Approve, and queue the issuing task for after the commit."""
    from certificates.tasks import issue_certificate

    request = _locked(request)
    _require_reviewer(reviewer, request)
    _move(request, to=R.APPROVED, actor=reviewer, reason=reason)
    enqueue_on_commit(issue_certificate, request.pk)
    return request


@transaction.atomic
def request_reject(*, request: CertificateRequest, reviewer, reason: str) -> CertificateRequest:
    request = _locked(request)
    _require_reviewer(reviewer, request)
    if not reason.strip():
        raise CertificateError(_("Give the learner a reason for the rejection."))
    _move(request, to=R.REJECTED, actor=reviewer, reason=reason)
    return request


def _next_serial(school, year: int) -> tuple[int, str]:
    counter, _created = SerialCounter.objects.get_or_create(school=school, year=year)
    counter = SerialCounter.objects.select_for_update().get(pk=counter.pk)
    counter.last += 1
    counter.save(update_fields=["last"])
    return counter.last, f"{school.slug.upper()}-{year}-{counter.last:06d}"


@transaction.atomic
def certificate_issue(*, request_id: int, today: datetime.date | None = None) -> Certificate:
    """Issue the certificate of an approved request; running it again returns the same certificate."""
    request = _locked(CertificateRequest(pk=request_id))
    existing = Certificate.objects.filter(request=request).first()
    if existing is not None:
        return existing
    if request.status != R.APPROVED:
        raise CertificateError(_("Only an approved request is issued; this one is %(status)s.") % {"status": R(request.status).label})
    today = today or timezone.localdate()
    number, serial = _next_serial(request.type.school, today.year)
    years = request.type.validity_years
    certificate = Certificate.objects.create(
        request=request,
        school=request.type.school,
        year=today.year,
        number=number,
        serial=serial,
        issued_on=today,
        expires_on=today.replace(year=today.year + years) if years else None,
    )
    _move(request, to=R.ISSUED, actor=None)
    CertificateRequest.objects.filter(pk=request.pk).update(issue_failed_at=None, issue_error="")
    return certificate


def request_issue_failed(*, request_id: int, error: str) -> None:
    """Record that issuing gave up, for staff to see and retry."""
    CertificateRequest.objects.filter(pk=request_id).update(issue_failed_at=timezone.now(), issue_error=error[:2000])


@transaction.atomic
def certificate_retry_issue(*, request: CertificateRequest, actor) -> None:
    from certificates.tasks import issue_certificate

    request = _locked(request)
    _require_reviewer(actor, request)
    if request.status != R.APPROVED:
        raise CertificateError(_("Only an approved request waiting to be issued can be retried."))
    enqueue_on_commit(issue_certificate, request.pk)


@transaction.atomic
def certificate_revoke(*, certificate: Certificate, actor, reason: str) -> Certificate:
    certificate = Certificate.objects.select_for_update().select_related("request__type").get(pk=certificate.pk)
    request = _locked(certificate.request)
    _require_reviewer(actor, request)
    if not reason.strip():
        raise CertificateError(_("Give a reason for the revocation."))
    if certificate.status == Certificate.Status.REVOKED:
        raise CertificateError(_("This certificate is already revoked."))
    certificate.status = Certificate.Status.REVOKED
    certificate.revoked_at = timezone.now()
    certificate.revocation_reason = reason
    certificate.save(update_fields=["status", "revoked_at", "revocation_reason"])
    _move(request, to=R.REVOKED, actor=actor, reason=reason)
    return certificate


def certificates_flag(*, enrolment_ids: set[int], reason: str) -> int:
    """Flag valid certificates built on these enrolments for review (an outcome they relied on was revoked)."""
    return Certificate.objects.filter(
        request__enrolment_id__in=enrolment_ids, status=Certificate.Status.VALID, flagged_at__isnull=True
    ).update(flagged_at=timezone.now(), flag_reason=reason)
