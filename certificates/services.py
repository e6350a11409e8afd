"""Writes on certificates: one function a use case, each in one transaction.

Issuing is idempotent by the database: ``certificate_issue`` locks the request and returns the
certificate it already has; the unique one-to-one from Certificate to request holds even if two
workers race past the lock check. Serials come from a per-school, per-year counter row locked with
``select_for_update``: numbers are consecutive and never reused.
"""

from __future__ import annotations

import datetime

from django.core.files.base import ContentFile
from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from certificates.errors import CertificateError
from certificates.models import (
    OPEN_REQUEST_STATES,
    REQUEST_TRANSITIONS,
    Certificate,
    CertificateRequest,
    CertificateType,
    RequestStatus,
    RequestStatusChange,
    ReviewBatch,
    SerialCounter,
    StatusListCounter,
    Transcript,
)
from enrolment.models import Enrolment, EnrolmentStatus, Learner
from ouc_portal.audit import services as audit
from ouc_portal.audit.services import status_event
from ouc_portal.tasks import enqueue_on_commit
from schools.roles import roles_for

CREDIT_BANK = "credit-bank"  # the issuer of transcripts (certificates.credentials.builders.CREDIT_BANK)

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
    if request.learner.user_id == actor.pk:
        raise CertificateError(_("You cannot decide on your own certificate: another reviewer must."))


def _evidence(*, learner: Learner, type: CertificateType, enrolment: Enrolment | None) -> Enrolment:
    """The enrolment a request rests on, or an error saying why the learner is not eligible.

    A type that certifies a programme needs the learner's completed enrolment in it; a type that
    certifies a conversion rule needs an active conversion under that rule (any version of its code).
    """
    if type.programme_id:
        if enrolment is None:
            enrolment = (
                Enrolment.objects.filter(learner=learner, programme_id=type.programme_id, status=EnrolmentStatus.COMPLETED)
                .order_by("-pk")
                .first()
            )
        if enrolment is None or enrolment.learner_id != learner.pk or enrolment.programme_id != type.programme_id:
            raise CertificateError(_("This certificate needs your enrolment in %(programme)s.") % {"programme": type.programme})
        if enrolment.status != EnrolmentStatus.COMPLETED:
            raise CertificateError(_("The programme is not completed yet."))
        return enrolment
    if type.rule_id:
        from creditbank.models import ApplicationStatus, Conversion

        conversion = (
            Conversion.objects.filter(
                learner=learner, rule__code=type.rule.code, rule__programme_id=type.rule.programme_id,
                status=ApplicationStatus.ACTIVE,
            )
            .select_related("enrolment")
            .order_by("-at")
            .first()
        )
        if conversion is None:
            raise CertificateError(
                _("This certificate needs credits converted under rule %(rule)s, and you have none.") % {"rule": type.rule.code}
            )
        return conversion.enrolment
    raise CertificateError(_("This certificate is not open to requests."))


@transaction.atomic
def request_open(*, learner: Learner, type: CertificateType, enrolment: Enrolment | None = None, actor=None) -> CertificateRequest:
    """Open a request for a certificate the learner is eligible for (see ``_evidence``)."""
    enrolment = _evidence(learner=learner, type=type, enrolment=enrolment)
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
    """A completed enrolment opens a request for every certificate type of its programme by itself."""
    opened = []
    for cert_type in CertificateType.objects.filter(programme_id=enrolment.programme_id):
        if not CertificateRequest.objects.filter(learner_id=enrolment.learner_id, type=cert_type, status__in=OPEN_REQUEST_STATES).exists():
            opened.append(request_open(learner=enrolment.learner, type=cert_type, enrolment=enrolment, actor=None))
    return opened


def requests_for_completions(*, enrolments: list[Enrolment]) -> list[CertificateRequest]:
    """``requests_for_completion`` for many enrolments at once (a results import completing its
    learners): the same requests, history rows and audit events, in a fixed number of statements.

    Enrolments are taken in primary-key order, so a learner with two of them in one programme
    gets one request per certificate type, resting on the first, as one at a time would.
    """
    enrolments = sorted(enrolments, key=lambda e: e.pk)
    kinds: dict[int, list[CertificateType]] = {}
    for cert_type in CertificateType.objects.filter(programme_id__in={e.programme_id for e in enrolments}):
        kinds.setdefault(cert_type.programme_id, []).append(cert_type)
    enrolments = [e for e in enrolments if e.programme_id in kinds]
    if not enrolments:
        return []
    for enrolment in enrolments:  # what ``_evidence`` asks of a programme's certificate
        if enrolment.status != EnrolmentStatus.COMPLETED:
            raise CertificateError(_("The programme is not completed yet."))
    learner_ids = {e.learner_id for e in enrolments}
    held = set(
        CertificateRequest.objects.filter(
            learner_id__in=learner_ids,
            type__in=[t for types in kinds.values() for t in types],
            status__in=OPEN_REQUEST_STATES,
        ).values_list("learner_id", "type_id")
    )
    learners = {learner.pk: learner for learner in Learner.objects.filter(pk__in=learner_ids).select_related("user")}
    drafts = []
    for enrolment in enrolments:
        for cert_type in kinds[enrolment.programme_id]:
            if (enrolment.learner_id, cert_type.pk) in held:
                continue
            held.add((enrolment.learner_id, cert_type.pk))
            drafts.append(CertificateRequest(learner=learners[enrolment.learner_id], type=cert_type, enrolment=enrolment))
    if not drafts:
        return []
    try:
        with transaction.atomic():
            opened = CertificateRequest.objects.bulk_create(drafts, batch_size=500)
    except IntegrityError:  # a concurrent request won the race
        raise CertificateError(_("You already have a request for this certificate.")) from None
    changes = RequestStatusChange.objects.bulk_create(
        [RequestStatusChange(request=r, to_status=R.REQUESTED, actor=r.learner.user) for r in opened], batch_size=500
    )
    # bulk_create sends no post_save: the audit log gets the same events in bulk.
    audit.record_many(status_event(change) for change in changes)
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
        raise CertificateError(pgettext("certificate request", "Give the learner a reason for the rejection."))
    _move(request, to=R.REJECTED, actor=reviewer, reason=reason)
    return request


MAX_BATCH = 2000


def requests_bulk_decide(
    *, reviewer, association, request_ids: list[int], decision: str, reason: str = ""
) -> ReviewBatch:
    """Approve or reject many requests of one association at once, as one batch.

    Every id must be a request of ``association`` that can still be decided (requested or under
    review); otherwise nothing is decided and the error names the first one that cannot be. Each
    approval queues its own issuing task after the commit; the batch's page follows them.
    """
    if decision not in ReviewBatch.Decision.values:
        raise CertificateError(_("Choose to approve or to reject."))
    if decision == ReviewBatch.Decision.REJECT and not reason.strip():
        raise CertificateError(pgettext("certificate request", "Give the learners a reason for the rejection."))
    ids = sorted(set(request_ids))
    if not ids:
        raise CertificateError(_("Select at least one request."))
    if len(ids) > MAX_BATCH:
        raise CertificateError(_("At most %(max)d requests can be decided at once.") % {"max": MAX_BATCH})
    if not roles_for(reviewer).reviews_for(association.pk):
        raise CertificateError(_("Only reviewers of %(body)s decide on this request.") % {"body": association.name})
    with transaction.atomic():
        requests = list(
            CertificateRequest.objects.select_for_update()
            .filter(pk__in=ids, type__association=association)
            .select_related("type__association", "learner")
            .order_by("pk")
        )
        if len(requests) != len(ids):
            raise CertificateError(_("Some selected requests are not in your association's queue any more."))
        batch = ReviewBatch.objects.create(
            association=association, reviewer=reviewer, decision=decision, reason=reason, size=len(requests)
        )
        to = R.APPROVED if decision == ReviewBatch.Decision.APPROVE else R.REJECTED
        for request in requests:
            if request.learner.user_id == reviewer.pk:
                raise CertificateError(_("You cannot decide on your own certificate: another reviewer must."))
            if to not in REQUEST_TRANSITIONS.get(request.status, frozenset()):
                raise CertificateError(
                    _("The request of %(learner)s is %(status)s and cannot be decided again.")
                    % {"learner": request.learner, "status": R(request.status).label}
                )
        changes = [
            RequestStatusChange(request=r, from_status=r.status, to_status=to, actor=reviewer, reason=reason)
            for r in requests
        ]
        RequestStatusChange.objects.bulk_create(changes, batch_size=500)
        # bulk_create sends no post_save: the audit log gets the same events in bulk.
        audit.record_many(status_event(change) for change in changes)
        CertificateRequest.objects.filter(pk__in=ids).update(status=to, batch=batch)
        if to == R.APPROVED:
            from certificates.tasks import issue_certificate

            for request in requests:
                enqueue_on_commit(issue_certificate, request.pk)
    return batch


def serial_for(school_slug: str, year: int, number: int) -> str:
    """A certificate's serial: the school, the year, and its number that year (MECHANICAL-2026-000042)."""
    return f"{school_slug.upper()}-{year}-{number:06d}"


def _next_serial(school, year: int) -> tuple[int, str]:
    counter, _created = SerialCounter.objects.get_or_create(school=school, year=year)
    counter = SerialCounter.objects.select_for_update().get(pk=counter.pk)
    counter.last += 1
    counter.save(update_fields=["last"])
    return counter.last, serial_for(school.slug, year, counter.last)


def _next_status_index(issuer: str) -> int:
    """The next index in ``issuer``'s own status lists (its revocation and suspension lists alike)."""
    counter, _created = StatusListCounter.objects.get_or_create(purpose=f"issuer:{issuer}")
    counter = StatusListCounter.objects.select_for_update().get(pk=counter.pk)
    counter.last += 1
    counter.save(update_fields=["last"])
    return counter.last


@transaction.atomic
def certificate_allocate(*, request_id: int, today: datetime.date | None = None) -> Certificate:
    """The certificate row of an approved request, with its serial and status-list index.

    The first of the issue's two steps, kept short because it holds the school's serial counter:
    the serial is taken once, and a later run (a retry, a second delivery) finds the row again.
    """
    request = _locked(CertificateRequest(pk=request_id))
    existing = Certificate.objects.filter(request=request).first()
    if existing is not None:
        if existing.credential is None and existing.status_issuer != existing.school.slug:
            # Allocated before issue 17 and never signed: it takes an index in its school's own
            # lists, so the credential it is about to get names a list its school issues.
            existing.status_issuer = existing.school.slug
            existing.status_index = _next_status_index(existing.school.slug)
            existing.save(update_fields=["status_issuer", "status_index"])
        return existing
    if request.status != R.APPROVED:
        raise CertificateError(_("Only an approved request is issued; this one is %(status)s.") % {"status": R(request.status).label})
    today = today or timezone.localdate()
    number, serial = _next_serial(request.type.school, today.year)
    years = request.type.validity_years
    return Certificate.objects.create(
        request=request,
        school=request.type.school,
        year=today.year,
        number=number,
        serial=serial,
        issued_on=today,
        expires_on=_add_years(today, years) if years else None,
        status_issuer=request.type.school.slug,
        status_index=_next_status_index(request.type.school.slug),
    )


def _add_years(day: datetime.date, years: int) -> datetime.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February into a common year
        return day.replace(year=day.year + years, day=28)


def certificate_issue(*, request_id: int, today: datetime.date | None = None) -> Certificate:
    """Issue an approved request: the row and serial, then the signed credential and the PDF.

    Safe to run twice and to retry after failing anywhere: the row (and so the serial) is made
    once; the credential and PDF are made outside any lock and stored only if no other run has
    stored them first. The request becomes issued, and the learner is told, in that last step.
    """
    from certificates.credentials.builders import certificate_credential, signed_holder_name
    from certificates.rendering import certificate_pdf

    CertificateRequest.objects.filter(pk=request_id).update(issue_attempts=models.F("issue_attempts") + 1)
    certificate = certificate_allocate(request_id=request_id, today=today)
    if certificate.is_ready:
        return certificate
    certificate = Certificate.objects.select_related(
        "request__learner__user", "request__type__school", "request__type__association", "request__type__programme",
        "request__enrolment", "school",
    ).get(pk=certificate.pk)
    credential = certificate_credential(certificate)  # signed, schema-valid and self-verified
    # The PDF, the pages and the API show the name just signed, never the profile's later one.
    certificate.holder_name = signed_holder_name(credential)
    pdf = certificate_pdf(certificate)
    with transaction.atomic():
        request = _locked(certificate.request)
        stored = Certificate.objects.select_for_update().get(pk=certificate.pk)
        if stored.is_ready:
            return stored
        stored.credential = credential
        stored.holder_name = certificate.holder_name
        stored.pdf.save(f"{stored.serial}.pdf", ContentFile(pdf), save=False)
        stored.save(update_fields=["credential", "holder_name", "pdf"])
        if request.status == R.APPROVED:
            _move(request, to=R.ISSUED, actor=None)
        CertificateRequest.objects.filter(pk=request.pk).update(issue_failed_at=None, issue_error="")
        from certificates.tasks import send_certificate_issued

        enqueue_on_commit(send_certificate_issued, stored.pk)
    return stored


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
    # Waiting again, not failed: the batch and review pages count it among those being issued.
    CertificateRequest.objects.filter(pk=request.pk).update(issue_failed_at=None)
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


@transaction.atomic
def certificate_suspend(*, certificate: Certificate, actor=None, reason: str) -> Certificate:
    """Suspend a valid certificate while it is under review: its bit in its school's suspension
    list is set (at once: the list is built from the rows), and /verify/ shows it suspended.

    ``actor`` is the reviewer who decides, or None when the portal does it itself (the cascade
    from a revoked learning outcome). Suspending a suspended certificate changes nothing.
    """
    certificate = Certificate.objects.select_for_update().select_related("request__type").get(pk=certificate.pk)
    if actor is not None:
        _require_reviewer(actor, certificate.request)
    if not reason.strip():
        raise CertificateError(_("Give a reason for the suspension."))
    if certificate.status == Certificate.Status.REVOKED:
        raise CertificateError(_("A revoked certificate cannot be suspended."))
    if certificate.suspended_at is not None:
        return certificate
    certificate.suspended_at = timezone.now()
    certificate.suspension_reason = reason
    certificate.save(update_fields=["suspended_at", "suspension_reason"])
    audit.record(action="certificate.suspend", actor=actor, obj=certificate, summary=f"{certificate.serial}: {reason}")
    return certificate


@transaction.atomic
def certificate_reinstate(*, certificate: Certificate, actor=None) -> Certificate:
    """End a suspension: the bit is cleared and the certificate verifies as it did before."""
    certificate = Certificate.objects.select_for_update().select_related("request__type").get(pk=certificate.pk)
    if actor is not None:
        _require_reviewer(actor, certificate.request)
    if certificate.suspended_at is None:
        return certificate
    certificate.suspended_at = None
    certificate.suspension_reason = ""
    certificate.save(update_fields=["suspended_at", "suspension_reason"])
    audit.record(action="certificate.reinstate", actor=actor, obj=certificate, summary=certificate.serial)
    return certificate


def certificates_flag(*, enrolment_ids: set[int], reason: str) -> int:
    """Flag valid certificates built on these enrolments for review (an outcome they relied on was revoked)."""
    return Certificate.objects.filter(
        request__enrolment_id__in=enrolment_ids, status=Certificate.Status.VALID, flagged_at__isnull=True
    ).update(flagged_at=timezone.now(), flag_reason=reason)


def transcripts_flag(*, learner_id: int, since: datetime.datetime, reason: str) -> int:
    """Flag the learner's transcripts built since ``since`` (they list a now-revoked outcome)."""
    return Transcript.objects.filter(
        learner_id=learner_id, status=Transcript.Status.READY, built_at__gte=since, flagged_at__isnull=True
    ).update(flagged_at=timezone.now(), flag_reason=reason)


# -- transcripts ------------------------------------------------------------------------------


@transaction.atomic
def transcript_request(*, learner: Learner) -> Transcript:
    """Queue a transcript of the learner's record now; one waiting at a time is enough."""
    from certificates.tasks import build_transcript

    Learner.objects.select_for_update().get(pk=learner.pk)  # one click, one transcript
    waiting = Transcript.objects.filter(
        learner=learner, status__in=[Transcript.Status.QUEUED, Transcript.Status.WORKING]
    ).first()
    if waiting is not None:
        return waiting
    transcript = Transcript.objects.create(learner=learner)
    enqueue_on_commit(build_transcript, transcript.pk)
    return transcript


def transcript_build(*, transcript_id: int) -> Transcript:
    """Build a queued transcript: the record, the signed CLR credential, the PDF; then it
    supersedes the learner's older transcripts. Safe to run twice: a ready one is left alone."""
    from certificates.credentials.builders import signed_holder_name, transcript_credential
    from certificates.records import transcript_record
    from certificates.rendering import transcript_pdf

    with transaction.atomic():
        transcript = Transcript.objects.select_for_update().select_related("learner__user").get(pk=transcript_id)
        if transcript.status == Transcript.Status.READY:
            return transcript
        transcript.status = Transcript.Status.WORKING
        transcript.attempts += 1
        if transcript.status_index is None or transcript.status_issuer != CREDIT_BANK:
            transcript.status_issuer = CREDIT_BANK
            transcript.status_index = _next_status_index(CREDIT_BANK)
        transcript.save(update_fields=["status", "attempts", "status_issuer", "status_index"])
    record = transcript_record(learner=transcript.learner)
    credential = transcript_credential(transcript, record)
    pdf = transcript_pdf(transcript, record)
    with transaction.atomic():
        stored = Transcript.objects.select_for_update().get(pk=transcript.pk)
        if stored.status == Transcript.Status.READY:
            return stored
        now = timezone.now()
        stored.credential = credential
        stored.holder_name = signed_holder_name(credential)
        stored.pdf.save(f"transcript-{stored.public_id}.pdf", ContentFile(pdf), save=False)
        stored.status = Transcript.Status.READY
        stored.built_at = record.at
        stored.error = ""
        stored.save(update_fields=["credential", "holder_name", "pdf", "status", "built_at", "error"])
        Transcript.objects.filter(
            learner_id=stored.learner_id, status=Transcript.Status.READY, superseded_by__isnull=True, built_at__lt=record.at
        ).exclude(pk=stored.pk).update(superseded_by=stored, superseded_at=now)
        from certificates.tasks import send_transcript_ready

        enqueue_on_commit(send_transcript_ready, stored.pk)
    return stored


def transcript_failed(*, transcript_id: int, error: str) -> None:
    Transcript.objects.filter(pk=transcript_id).exclude(status=Transcript.Status.READY).update(
        status=Transcript.Status.FAILED, error=error[:2000]
    )
