"""Reads the catalogue pages, the learner area, the staff area and the API share."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone

from enrolment.models import (
    SEAT_STATES,
    CourseResult,
    Enrolment,
    EnrolmentStatus,
    GroupCourse,
    Intake,
    Programme,
    ProgrammeStatus,
    RequirementGroup,
)

S = EnrolmentStatus

SORTS = {
    "name": ("name_en", "pk"),
    "-credits": ("-total_credits", "name_en", "pk"),
    "credits": ("total_credits", "name_en", "pk"),
    "level": ("qf_level", "name_en", "pk"),
    "newest": ("-created_at", "pk"),
}


@dataclass(frozen=True)
class CatalogueQuery:
    q: str = ""
    school: str = ""  # slug
    industry: str = ""
    kind: str = ""
    level: int | None = None
    delivery: str = ""
    province: str = ""
    centre: str = ""  # code
    open_now: bool = False
    sort: str = "name"


def intakes_with_seats(queryset: QuerySet[Intake] | None = None) -> QuerySet[Intake]:
    queryset = queryset if queryset is not None else Intake.objects.all()
    return queryset.annotate(
        seats_taken=Count("enrolments", filter=Q(enrolments__status__in=SEAT_STATES)),
        waitlisted=Count("enrolments", filter=Q(enrolments__status=S.WAITLISTED)),
    )


def catalogue(query: CatalogueQuery, *, now: datetime.datetime | None = None) -> QuerySet[Programme]:
    """Published programmes matching the query, with their school, in a stable order."""
    now = now or timezone.now()
    programmes = Programme.objects.published().select_related("school")
    if query.q:
        for term in query.q.split()[:8]:
            programmes = programmes.filter(search_text__icontains=term.lower())
    if query.school:
        programmes = programmes.filter(school__slug=query.school)
    if query.industry:
        programmes = programmes.filter(school__industry=query.industry)
    if query.kind:
        programmes = programmes.filter(kind=query.kind)
    if query.level:
        programmes = programmes.filter(qf_level=query.level)
    if query.delivery:
        programmes = programmes.filter(delivery_mode=query.delivery)
    intake_filter = Q()
    if query.province:
        intake_filter &= Q(centre__province=query.province)
    if query.centre:
        intake_filter &= Q(centre__code=query.centre)
    if query.open_now:
        intake_filter &= Q(opens_at__lte=now, closes_at__gt=now)
    if intake_filter:
        matching = Intake.objects.filter(intake_filter, programme=OuterRef("pk"))
        programmes = programmes.filter(Exists(matching))
    open_intakes = Intake.objects.filter(programme=OuterRef("pk"), opens_at__lte=now, closes_at__gt=now)
    programmes = programmes.annotate(is_open=Exists(open_intakes))
    return programmes.order_by(*SORTS.get(query.sort, SORTS["name"]))


def programme_for_page(*, slug: str, include_unpublished: bool = False) -> Programme:
    programmes = Programme.objects.select_related("school")
    if not include_unpublished:
        programmes = programmes.filter(status=ProgrammeStatus.PUBLISHED)
    return programmes.prefetch_related(
        Prefetch(
            "groups",
            queryset=RequirementGroup.objects.order_by("position", "pk").prefetch_related(
                Prefetch("memberships", queryset=GroupCourse.objects.select_related("course").order_by("course__code"))
            ),
        ),
        Prefetch(
            "intakes",
            queryset=intakes_with_seats(Intake.objects.select_related("centre")).order_by("-opens_at", "pk"),
        ),
    ).get(slug=slug)


def learner_enrolments(learner) -> QuerySet[Enrolment]:
    return (
        Enrolment.objects.filter(learner=learner)
        .select_related("intake__programme__school", "intake__centre")
        .order_by("-applied_at", "-pk")
    )


def learner_results(learner) -> QuerySet[CourseResult]:
    return (
        CourseResult.objects.filter(enrolment__learner=learner)
        .select_related("course", "enrolment__programme")
        .order_by("-assessed_on", "course__code")
    )
