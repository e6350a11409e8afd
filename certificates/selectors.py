"""Reads on certificates that pages and the API share. Nothing here writes.

The partner-association reviewers' reads come first. Every one is scoped to the associations the
person reviews for (every association for a superuser, as ``schools.roles.Roles.reviews_for``
says), so a request, batch or certificate of another association is simply not found: the pages
turn that into a 404, never a 403, and nobody learns what another association holds.
"""

from __future__ import annotations

import datetime
import hashlib
from dataclasses import dataclass

from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils import timezone

from certificates.models import (
    OPEN_REQUEST_STATES,
    Certificate,
    CertificateRequest,
    CertificateType,
    RequestStatus,
    RequestStatusChange,
    ReviewBatch,
    Transcript,
)
from creditbank.models import ApplicationStatus, Conversion
from enrolment.models import Enrolment, EnrolmentStatus, EnrolmentStatusChange, Learner, Programme
from schools.models import IndustrySchool, PartnerAssociation
from schools.roles import roles_for

R = RequestStatus

# Requests a reviewer can still decide on (approve or reject), alone or in a batch.
DECIDABLE_STATES = (R.REQUESTED, R.UNDER_REVIEW)

# --- The reviewers' desk ------------------------------------------------------------------------


def reviewer_scope(reviewer, *, via: str = "type__association") -> Q:
    """Rows whose association (reached through ``via``) ``reviewer`` reviews for.

    A superuser reviews for every association; someone who reviews for none matches nothing.
    """
    roles = roles_for(reviewer)
    if roles.superuser:
        return Q()
    return Q(**{f"{via}__in": sorted(roles.association_ids)})


def reviewer_associations(*, reviewer) -> QuerySet[PartnerAssociation]:
    return PartnerAssociation.objects.filter(reviewer_scope(reviewer, via="pk")).order_by("name_en")


def reviewer_types(*, reviewer) -> QuerySet[CertificateType]:
    """The certificate types the reviewer decides on."""
    return (
        CertificateType.objects.filter(reviewer_scope(reviewer, via="association"))
        .select_related("school")
        .order_by("school__name_en", "name_en", "code")
    )


def reviewer_schools(*, reviewer) -> QuerySet[IndustrySchool]:
    """Schools that run a certificate type with one of the reviewer's associations."""
    types = CertificateType.objects.filter(reviewer_scope(reviewer, via="association"))
    return IndustrySchool.objects.filter(pk__in=types.values("school_id")).order_by("name_en")


def reviewer_programmes(*, reviewer) -> QuerySet[Programme]:
    """Programmes the reviewer's requests rest on: certified by a type, or under a type's rule."""
    types = CertificateType.objects.filter(reviewer_scope(reviewer, via="association"))
    return Programme.objects.filter(
        Q(pk__in=types.values("programme_id")) | Q(pk__in=types.values("rule__programme_id"))
    ).order_by("code")


def reviewer_requests(*, reviewer) -> QuerySet[CertificateRequest]:
    """Every request of the reviewer's associations, oldest first, with what a queue row shows
    (learner, type, school, association, the enrolment and its programme) read in the same query."""
    return (
        CertificateRequest.objects.filter(reviewer_scope(reviewer))
        .select_related(
            "learner__user",
            "type__school",
            "type__association",
            "type__programme",
            "enrolment__programme",
            "enrolment__intake",
        )
        .order_by("requested_at", "pk")
    )


def reviewer_request(*, reviewer, public_id) -> CertificateRequest:
    """One request of the reviewer's associations; any other raises ``CertificateRequest.DoesNotExist``."""
    return (
        reviewer_requests(reviewer=reviewer)
        .select_related("learner__centre", "enrolment__intake__centre", "batch", "certificate")
        .get(public_id=public_id)
    )


@dataclass
class RequestEvidence:
    """Everything a reviewer weighs before deciding on one request."""

    request: CertificateRequest
    history: list[RequestStatusChange]
    enrolment: Enrolment | None
    enrolment_history: list[EnrolmentStatusChange]
    audit: object | None  # creditbank.audit.Audit of the enrolment's programme
    certificate: Certificate | None


def request_evidence(*, request: CertificateRequest) -> RequestEvidence:
    from creditbank.audit import programme_audit

    enrolment = request.enrolment
    certificate = getattr(request, "certificate", None)  # the reverse one-to-one, or None
    return RequestEvidence(
        request=request,
        history=list(
            RequestStatusChange.objects.filter(request=request)
            .select_related("actor")
            .order_by("at", "pk")
        ),
        enrolment=enrolment,
        enrolment_history=(
            list(
                EnrolmentStatusChange.objects.filter(enrolment=enrolment)
                .select_related("actor")
                .order_by("at", "pk")
            )
            if enrolment is not None
            else []
        ),
        audit=programme_audit(enrolment) if enrolment is not None else None,
        certificate=certificate,
    )


def requests_digest(pks: list[int]) -> str:
    """A short fingerprint of a set of requests: a confirmation page carries it, so "all that
    match" decides exactly the requests the reviewer was shown, not whatever matches later."""
    text = ",".join(str(pk) for pk in sorted(pks))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def reviewer_batch(*, reviewer, public_id) -> ReviewBatch:
    """A batch of the reviewer's associations; any other raises ``ReviewBatch.DoesNotExist``."""
    return (
        ReviewBatch.objects.filter(reviewer_scope(reviewer, via="association"))
        .select_related("association", "reviewer")
        .get(public_id=public_id)
    )


# Certificates a reviewer lists and may revoke: issued in full (a row that is still being made
# belongs to an approved request, which the queue shows as being issued).
ISSUED_STATES = (R.ISSUED, R.REVOKED)


def batch_progress(*, batch: ReviewBatch) -> dict[str, int]:
    """How far a batch has come: requests by state, and how many failed to issue."""
    counts = dict.fromkeys(R.values, 0)
    for row in batch.requests.values("status").annotate(n=Count("pk")).order_by():
        counts[row["status"]] = row["n"]
    counts["failed"] = batch.requests.filter(status=R.APPROVED, issue_failed_at__isnull=False).count()
    counts["total"] = batch.size
    waiting = counts[R.APPROVED] - counts["failed"]
    counts["waiting"] = waiting
    counts["done"] = batch.size - waiting
    return counts


def reviewer_certificates(*, reviewer) -> QuerySet[Certificate]:
    """Certificates issued for the reviewer's associations, newest first."""
    return (
        Certificate.objects.filter(
            reviewer_scope(reviewer, via="request__type__association"),
            request__status__in=ISSUED_STATES,
        )
        .select_related(
            "request__learner__user", "request__type__school", "request__type__association"
        )
        .order_by("-issued_on", "-pk")
    )


def reviewer_certificate(*, reviewer, serial: str) -> Certificate:
    """One certificate of the reviewer's associations; any other raises ``Certificate.DoesNotExist``."""
    return reviewer_certificates(reviewer=reviewer).get(serial=serial)


def certificate_status_q(status: str, *, today: datetime.date | None = None) -> Q:
    """Certificates that are ``valid``, ``revoked``, ``suspended`` or ``expired`` on ``today`` (as
    ``Certificate.status_on``)."""
    today = today or timezone.localdate()
    if status == "revoked":
        return Q(status=Certificate.Status.REVOKED)
    if status == "suspended":
        return Q(status=Certificate.Status.VALID, suspended_at__isnull=False)
    if status == "expired":
        return Q(status=Certificate.Status.VALID, suspended_at__isnull=True, expires_on__lte=today)
    return Q(status=Certificate.Status.VALID, suspended_at__isnull=True) & (
        Q(expires_on__isnull=True) | Q(expires_on__gt=today)
    )


# --- The learner's certificates -------------------------------------------------------------------


def learner_requests(*, learner: Learner) -> QuerySet[CertificateRequest]:
    """Every request of the learner, newest first, with its certificate and the last decision."""
    return (
        CertificateRequest.objects.filter(learner=learner)
        .select_related("type__school", "type__association", "type__programme", "certificate")
        .prefetch_related(
            Prefetch("history", queryset=RequestStatusChange.objects.order_by("-at", "-pk"), to_attr="changes")
        )
        .order_by("-requested_at", "-pk")
    )


def eligible_types(*, learner: Learner) -> QuerySet[CertificateType]:
    """Certificate types the learner may ask for now and has no open request for.

    Eligible: the type's programme is completed, or the learner holds an active conversion under
    the type's rule (any version of the rule's code in the same programme).
    """
    completed = Enrolment.objects.filter(learner=learner, status=EnrolmentStatus.COMPLETED).values("programme_id")
    routes = Q(programme_id__in=completed)
    for code, programme_id in (
        Conversion.objects.filter(learner=learner, status=ApplicationStatus.ACTIVE)
        .values_list("rule__code", "rule__programme_id")
        .distinct()
    ):
        routes |= Q(programme__isnull=True, rule__code=code, rule__programme_id=programme_id)
    open_types = CertificateRequest.objects.filter(learner=learner, status__in=OPEN_REQUEST_STATES).values("type_id")
    return (
        CertificateType.objects.filter(routes)
        .exclude(pk__in=open_types)
        .select_related("school", "association", "programme", "rule")
        .order_by("school__name_en", "code")
    )


def learner_transcripts(*, learner: Learner) -> QuerySet[Transcript]:
    return Transcript.objects.filter(learner=learner).select_related("superseded_by").order_by("-requested_at", "-pk")


def learner_certificate(*, learner: Learner, serial: str) -> Certificate | None:
    return (
        Certificate.objects.select_related("request__type__school", "request__type__association", "request__learner")
        .filter(serial=serial, request__learner=learner)
        .first()
    )
