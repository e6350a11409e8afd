"""Reads for the learner's certificate pages (shared by the pages and the API)."""

from __future__ import annotations

from django.db.models import Prefetch, Q, QuerySet

from certificates.models import (
    OPEN_REQUEST_STATES,
    Certificate,
    CertificateRequest,
    CertificateType,
    RequestStatusChange,
    Transcript,
)
from creditbank.models import ApplicationStatus, Conversion
from enrolment.models import Enrolment, EnrolmentStatus, Learner


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
