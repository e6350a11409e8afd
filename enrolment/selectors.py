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
    Learner,
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


def programme_body_for_page(*, slug: str) -> Programme:
    """A published programme with its school and structure, for the catalogue cache's body of
    its page: without the intakes, whose seat counts read every enrolment the programme ever had
    (117 ms at seed_scale's 14,000 enrolments of one programme; docs/performance.md)."""
    return (
        Programme.objects.select_related("school")
        .filter(status=ProgrammeStatus.PUBLISHED)
        .prefetch_related(
            Prefetch(
                "groups",
                queryset=RequirementGroup.objects.order_by("position", "pk").prefetch_related(
                    Prefetch("memberships", queryset=GroupCourse.objects.select_related("course").order_by("course__code"))
                ),
            )
        )
        .get(slug=slug)
    )


def learner_of(user) -> Learner | None:
    """The person's learner record, or None. Reading never makes one: a record is made by an
    explicit action (signing up, saving the learner profile, applying, submitting a learning
    outcome, asking for a transcript), never by opening a page or calling a GET."""
    if not getattr(user, "is_authenticated", False):
        return None
    try:
        return user.learner
    except Learner.DoesNotExist:
        return None


def learner_enrolments(learner) -> QuerySet[Enrolment]:
    return (
        Enrolment.objects.filter(learner=learner)
        .select_related("intake__programme__school", "intake__centre")
        .order_by("-applied_at", "-pk")
    )


def learner_dashboard_enrolments(learner) -> QuerySet[Enrolment]:
    """The learner's enrolments as /me/ lists them: only the columns its cards show (the rows
    of programmes and centres are wide; reading and converting them was most of the page's cost)."""
    return (
        Enrolment.objects.filter(learner=learner)
        .select_related("intake__programme", "intake__centre")
        .only(
            "public_id", "status", "intake__year", "intake__season",
            "intake__programme__name_en", "intake__programme__name_zh",
            "intake__centre__name_en", "intake__centre__name_zh",
        )  # fmt: skip
        .order_by("-applied_at", "-pk")
    )


def learner_dashboard_results(learner) -> QuerySet[CourseResult]:
    """The learner's results as /me/ lists them, newest first: only the columns it shows."""
    return (
        CourseResult.objects.filter(enrolment__learner=learner)
        .select_related("course")
        .only("score", "grade", "passed", "assessed_on", "course__code", "course__name_en", "course__name_zh")
        .order_by("-assessed_on", "course__code")
    )


def learner_dashboard_fingerprint(learner) -> tuple:
    """In one query, what moves whenever the learner's enrolments or results change: how many
    enrolments and the last status change (every transition stamps ``status_changed_at``), how
    many results and the last one's id (results are only ever added). Names of programmes,
    intakes, centres and courses are the catalogue's (``enrolment.cache.catalogue_version``)."""
    from django.db import connection

    enrolment, result = Enrolment._meta.db_table, CourseResult._meta.db_table
    mine = f"FROM {enrolment} WHERE {enrolment}.learner_id = %s"
    results = f"FROM {result} INNER JOIN {enrolment} ON {enrolment}.id = {result}.enrolment_id WHERE {enrolment}.learner_id = %s"
    sql = (  # Table names from the models' own _meta; the learner is a parameter.
        f"SELECT (SELECT COUNT(*) {mine}), (SELECT MAX({enrolment}.status_changed_at) {mine}), "  # noqa: S608
        f"(SELECT COUNT(*) {results}), (SELECT MAX({result}.id) {results})"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [learner.pk] * 4)
        return tuple(cursor.fetchone())


def learner_results(learner) -> QuerySet[CourseResult]:
    return (
        CourseResult.objects.filter(enrolment__learner=learner)
        .select_related("course", "enrolment__programme")
        .order_by("-assessed_on", "course__code")
    )


# --- School staff area (/manage/) ---------------------------------------------------------------


def administered_schools(user) -> QuerySet:
    """The industry schools ``user`` administers (every school for a superuser)."""
    from schools.models import IndustrySchool
    from schools.roles import roles_for

    roles = roles_for(user)
    schools = IndustrySchool.objects.order_by("founded_on", "slug")
    if roles.superuser:
        return schools
    return schools.filter(pk__in=roles.school_ids)


# The states a report counts, in the order its columns appear.
REPORT_STATES = (S.APPLIED, S.WAITLISTED, S.ACCEPTED, S.REJECTED, S.ACTIVE, S.COMPLETED, S.WITHDRAWN)


@dataclass(frozen=True)
class IntakeReportRow:
    intake: Intake
    applications: int
    counts: dict[str, int]

    @property
    def completion_rate(self) -> float | None:
        """Completed / (accepted + studying + completed); None while no one is admitted."""
        admitted = self.counts[S.ACCEPTED] + self.counts[S.ACTIVE] + self.counts[S.COMPLETED]
        if not admitted:
            return None
        return self.counts[S.COMPLETED] / admitted

    def count(self, status: str) -> int:
        return self.counts[status]


def school_intake_report(school) -> list[IntakeReportRow]:
    """Every intake of ``school`` with its applications and enrolments per state: one query."""
    counts = {f"n_{s}": Count("enrolments", filter=Q(enrolments__status=s)) for s in REPORT_STATES}
    intakes = (
        Intake.objects.filter(programme__school=school)
        .select_related("programme", "centre")
        .annotate(applications=Count("enrolments"), **counts)
        .order_by("-year", "season", "programme__code", "centre__code", "pk")
    )
    return [
        IntakeReportRow(
            intake=intake,
            applications=intake.applications,
            counts={s: getattr(intake, f"n_{s}") for s in REPORT_STATES},
        )
        for intake in intakes
    ]


def application_queue(*, school, intake: Intake | None = None, status: str | None = S.APPLIED) -> QuerySet[Enrolment]:
    """A school's applications, oldest first, with what the queue shows of each learner."""
    enrolments = Enrolment.objects.filter(programme__school=school)
    if intake is not None:
        enrolments = enrolments.filter(intake=intake)
    if status:
        enrolments = enrolments.filter(status=status)
    return enrolments.select_related(
        "learner__user", "intake__programme", "intake__centre"
    ).order_by("applied_at", "pk")


def staff_enrolment(*, school, public_id) -> Enrolment:
    """One enrolment of ``school`` for its staff page (raises Enrolment.DoesNotExist otherwise)."""
    return (
        Enrolment.objects.filter(programme__school=school)
        .select_related(
            "learner__user", "learner__centre", "intake__programme__school", "intake__centre"
        )
        .get(public_id=public_id)
    )


def assessable_enrolments(intake: Intake, states) -> QuerySet[Enrolment]:
    """The intake's learners in ``states``, in name order, for entering results."""
    return (
        Enrolment.objects.filter(intake=intake, status__in=states)
        .select_related("learner__user")
        .order_by("learner__legal_name", "pk")
    )


def programme_courses(programme: Programme):
    """The courses in ``programme``'s structure, by code."""
    from enrolment.models import Course

    return Course.objects.filter(group_memberships__programme=programme).order_by("code")
