"""What the bench measures, found in the bench database, and the in-process measures.

Imported only after ``django.setup()`` (against the bench database, DEBUG off). Reads go through
the apps' selectors and writes through their services, as the pages and tasks do; the one
exception is admitting learners to the import's intakes, a set-up step done in bulk (see
``_admit``), which is not part of any figure.
"""

from __future__ import annotations

import csv
import datetime
import io
import math
import random
import statistics
import time
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.db import transaction
from django.db.models import Count, Exists, OuterRef
from django.utils import timezone

HEAVY_EMAIL = "heavy@scale.example"
BENCH_DOMAIN = "bench.example"


class ScenarioError(RuntimeError):
    """The bench database lacks something a measure needs."""


@dataclass
class Targets:
    """The URLs and people the HTTP part loads."""

    learner_email: str
    learner_entries: int
    audit_enrolment: str  # public_id of the enrolment whose audit page is loaded
    audit_programme: str
    programme_slug: str
    programme_name: str
    catalogue_query: dict[str, str]
    verify_code: str
    api_programmes: str = "/api/v1/programmes/"


def _heavy_learner():
    """``heavy@scale.example`` when seeded, else the learner whose account has most entries."""
    from creditbank.models import CreditAccount
    from enrolment.models import Learner

    learner = Learner.objects.filter(user__email=HEAVY_EMAIL).select_related("user").first()
    if learner is not None:
        return learner
    # Only a learner who can log in (the bench's own import learners have no password).
    account = (
        CreditAccount.objects.exclude(learner__user__password__startswith=UNUSABLE_PASSWORD_PREFIX)
        .exclude(learner__user__email__endswith=f"@{BENCH_DOMAIN}")
        .annotate(n=Count("entries"))
        .filter(n__gt=0)
        .order_by("-n", "pk")
        .first()
    )
    if account is None:
        raise ScenarioError("no learner has any credit-ledger entry: is the bench database seeded?")
    return Learner.objects.select_related("user").get(pk=account.learner_id)


def find_targets() -> Targets:
    from certificates.models import Certificate
    from creditbank.models import LedgerEntry
    from enrolment.models import Enrolment, Programme

    learner = _heavy_learner()
    entries = LedgerEntry.objects.filter(account__learner=learner).count()
    enrolment = (
        Enrolment.objects.filter(learner=learner)
        .annotate(n=Count("results"))
        .select_related("programme")
        .order_by("-n", "pk")
        .first()
    )
    if enrolment is None:
        raise ScenarioError(f"{learner.user.email} has no enrolment to audit")
    # The busiest programme page: the published programme with the most intakes.
    programme = (
        Programme.objects.published()
        .select_related("school")
        .annotate(n=Count("intakes"))
        .order_by("-n", "code")
        .first()
    )
    if programme is None:
        raise ScenarioError("no published programme: is the bench database seeded?")
    # A search and two filters that find that programme: a word of its name, its school, its kind.
    word = max(programme.name_en.split(), key=len).lower()
    query = {"q": word, "school": programme.school.slug, "kind": programme.kind}
    certificate = (
        Certificate.objects.filter(credential__isnull=False, status=Certificate.Status.VALID)
        .order_by("pk")
        .first()
    )
    if certificate is None:
        raise ScenarioError("no certificate with a signed credential: nothing to verify")
    return Targets(
        learner_email=learner.user.email,
        learner_entries=entries,
        audit_enrolment=str(enrolment.public_id),
        audit_programme=enrolment.programme.code,
        programme_slug=programme.slug,
        programme_name=programme.name_en,
        catalogue_query=query,
        verify_code=certificate.verification_code,
    )


# --- The credit audit, in the process -----------------------------------------------------------


def measure_audit(*, public_id: str, email: str, runs: int = 50, warm_up: int = 5) -> dict:
    """Median and spread of ``programme_audit`` as the audit page calls it, after a warm-up."""
    from creditbank import selectors
    from creditbank.audit import programme_audit
    from enrolment.models import Learner

    learner = Learner.objects.get(user__email=email)
    enrolment = selectors.learner_enrolment(learner=learner, public_id=public_id)
    for _ in range(warm_up):
        programme_audit(enrolment)
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        audit = programme_audit(enrolment)
        timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    return {
        "median_ms": statistics.median(timings),
        "p90_ms": timings[min(len(timings) - 1, math.ceil(0.9 * len(timings)) - 1)],
        "max_ms": timings[-1],
        "runs": runs,
        "groups": len(audit.groups),
        "courses": sum(len(g.courses) for g in audit.groups),
    }


# --- The results CSV import ---------------------------------------------------------------------


@dataclass
class ImportPlan:
    programme_code: str
    courses: list[str]
    files: list[tuple[object, bytes]] = field(default_factory=list)  # (intake, CSV bytes)
    rows: int = 0
    learners_created: int = 0
    actor: object = None


def _import_programme():
    """The published programme with a certificate type and the most courses.

    A certificate type makes a learner who passes every course complete the programme and open
    a certificate request, as in production: the import pays for that, and the issuing measure
    then approves those requests.
    """
    from certificates.models import CertificateType
    from enrolment.models import Programme

    programme = (
        Programme.objects.published()
        .filter(Exists(CertificateType.objects.filter(programme=OuterRef("pk"))))
        .annotate(n=Count("groups__memberships", distinct=True))
        .filter(n__gt=0)
        .order_by("-n", "code")
        .first()
    )
    if programme is None:
        raise ScenarioError("no published programme with courses and a certificate type to import results for")
    return programme


def _school_actor(school):
    from django.contrib.auth import get_user_model

    from schools.models import Membership

    membership = (
        Membership.objects.filter(school=school, role=Membership.Role.SCHOOL_ADMIN).select_related("user").first()
    )
    if membership is not None:
        return membership.user
    user = get_user_model().objects.filter(is_superuser=True).order_by("pk").first()
    if user is None:
        raise ScenarioError(f"nobody administers {school.slug} to record results")
    return user


def _free_learners(programme, count: int) -> tuple[list, int]:
    """``count`` learners never enrolled in ``programme``; makes the shortfall.

    Never enrolled, not merely without a live enrolment: a learner who completed the programme
    in an earlier run already holds its certificate request, and would open none this time.
    """
    from django.contrib.auth import get_user_model

    from enrolment.models import Enrolment, Learner
    from enrolment.services import learner_register

    enrolled = Enrolment.objects.filter(learner=OuterRef("pk"), programme=programme)
    learners = list(
        Learner.objects.filter(~Exists(enrolled)).exclude(user__is_staff=True).select_related("user").order_by("pk")[:count]
    )
    created = 0
    user_model = get_user_model()
    taken = set(
        user_model.objects.filter(email__endswith=f"@{BENCH_DOMAIN}").values_list("email", flat=True)
    )
    number = 0
    while len(learners) < count:
        number += 1
        email = f"bench-learner{number:06d}@{BENCH_DOMAIN}"
        if email in taken:
            continue
        with transaction.atomic():
            user = user_model.objects.create_user(email=email, password=None, name=f"Bench learner {number}")
            learners.append(learner_register(user=user))
        created += 1
    return learners, created


def _new_intake(programme, *, capacity: int):
    from enrolment.models import Intake, Season
    from enrolment.services import intake_save
    from schools.models import LearningCentre

    centre = LearningCentre.objects.order_by("pk").first()
    if centre is None:
        raise ScenarioError("no learning centre to hold the import's intake")
    used = set(
        Intake.objects.filter(programme=programme, centre=centre, season=Season.values[0]).values_list(
            "year", flat=True
        )
    )
    year = next((y for y in range(2001, 2101) if y not in used), None)
    if year is None:
        raise ScenarioError(f"no free term left for another bench intake of {programme.code}")
    now = timezone.now()
    return intake_save(
        intake=Intake(
            programme=programme,
            year=year,
            season=Season.values[0],
            centre=centre,
            opens_at=now - datetime.timedelta(days=120),
            closes_at=now - datetime.timedelta(days=90),
            starts_on=(now - datetime.timedelta(days=80)).date(),
            capacity=capacity,
            requires_approval=True,
        )
    )


def _admit(intake, learners, *, actor) -> list:
    """Studying (active) enrolments for ``learners`` in ``intake``, with their history rows.

    Set-up only, not measured: thousands of applications one by one through ``enrolment_apply``
    and the decisions after them would take longer than the import itself, so the rows those
    services leave are written in bulk, the same ones (accepted, then studying, with who and
    when). Active, because only a studying learner completes the programme when the credit
    bank's audit finds every requirement met, as happens in production after a results upload.
    """
    from enrolment.models import Enrolment, EnrolmentStatus, EnrolmentStatusChange

    now = timezone.now()
    reason = "bench: admitted for the results import"
    with transaction.atomic():
        enrolments = Enrolment.objects.bulk_create(
            [
                Enrolment(
                    learner=learner,
                    intake=intake,
                    programme_id=intake.programme_id,
                    status=EnrolmentStatus.ACTIVE,
                    applied_at=now,
                    status_changed_at=now,
                )
                for learner in learners
            ],
            batch_size=2000,
        )
        EnrolmentStatusChange.objects.bulk_create(
            [
                EnrolmentStatusChange(
                    enrolment=e, from_status=before, to_status=after, actor=actor, at=now, reason=reason
                )
                for e in enrolments
                for before, after in (("", EnrolmentStatus.ACCEPTED), (EnrolmentStatus.ACCEPTED, EnrolmentStatus.ACTIVE))
            ],
            batch_size=2000,
        )
    return enrolments


def _csv(rows: list[tuple[str, str, str, str]]) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["learner_email", "course_code", "score", "assessed_on"])
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def plan_import(*, rows: int, seed: int = 2026) -> ImportPlan:
    """Intakes of admitted learners and the CSV files of ``rows`` results for them.

    Each learner gets a result in every course of the programme; most pass, so their credits are
    deposited and many complete the programme. Files stay under RESULTS_CSV_MAX_BYTES, one per
    intake, as a school would upload them.
    """
    from enrolment.models import GroupCourse

    programme = _import_programme()
    courses = sorted(
        set(GroupCourse.objects.filter(programme=programme).values_list("course__code", flat=True))
    )
    actor = _school_actor(programme.school)
    learners_needed = math.ceil(rows / len(courses))
    learners, created = _free_learners(programme, learners_needed)
    # A row is about 55 bytes; keep each file at most half the upload limit.
    per_intake = max(1, settings.RESULTS_CSV_MAX_BYTES // 2 // (60 * len(courses)))
    plan = ImportPlan(programme_code=programme.code, courses=courses, learners_created=created, actor=actor)
    generator = random.Random(seed)
    assessed_on = (timezone.localdate() - datetime.timedelta(days=30)).isoformat()
    remaining = rows
    for start in range(0, len(learners), per_intake):
        group = learners[start : start + per_intake]
        intake = _new_intake(programme, capacity=len(group))
        enrolments = _admit(intake, group, actor=actor)
        lines = []
        for enrolment in enrolments:
            for code in courses:
                if remaining == 0:
                    break
                # About one result in twenty-five fails (a score under 60).
                score = generator.randint(30, 59) if generator.random() < 0.04 else generator.randint(60, 100)
                lines.append((enrolment.learner.user.email, code, f"{score}.00", assessed_on))
                remaining -= 1
        plan.files.append((intake, _csv(lines)))
        plan.rows += len(lines)
    return plan


def run_import(plan: ImportPlan) -> dict:
    """Import every file of ``plan`` through the results upload's own service; time it whole."""
    from certificates.models import CertificateRequest
    from creditbank.models import LedgerEntry
    from enrolment.models import Enrolment, EnrolmentStatus
    from enrolment.results import results_import_csv

    intakes = [intake for intake, _data in plan.files]
    entries_before = LedgerEntry.objects.count()
    requests_before = CertificateRequest.objects.count()
    created = 0
    started = time.perf_counter()
    for intake, data in plan.files:
        report = results_import_csv(intake=intake, data=data, actor=plan.actor)
        if not report.ok:
            first = report.errors[0]
            raise ScenarioError(
                f"the bench's CSV for {intake} was refused: line {first.line}: {first.message} "
                f"({len(report.errors)} errors)"
            )
        created += report.created
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "rows": plan.rows,
        "results_created": created,
        "files": len(plan.files),
        "programme": plan.programme_code,
        "courses": len(plan.courses),
        "bytes": sum(len(data) for _intake, data in plan.files),
        "ledger_entries_created": LedgerEntry.objects.count() - entries_before,
        "enrolments_completed": Enrolment.objects.filter(
            intake__in=intakes, status=EnrolmentStatus.COMPLETED
        ).count(),
        "certificate_requests_opened": CertificateRequest.objects.count() - requests_before,
        "learners_created_for_import": plan.learners_created,
        "rows_per_s": plan.rows / seconds if seconds else None,
    }


# --- Certificate issuing with one worker --------------------------------------------------------


@dataclass
class IssuePlan:
    association: object
    reviewer: object
    request_ids: list[int]


def plan_issuing(*, count: int) -> IssuePlan:
    """``count`` open requests of the association with the most of them, and one of its reviewers."""
    from django.contrib.auth import get_user_model

    from certificates.models import CertificateRequest, RequestStatus
    from schools.models import Membership, PartnerAssociation
    from schools.services import membership_grant

    open_requests = CertificateRequest.objects.filter(status=RequestStatus.REQUESTED)
    busiest = (
        open_requests.values("type__association").annotate(n=Count("pk")).order_by("-n").first()
    )
    if busiest is None:
        raise ScenarioError("no certificate request waits for review: nothing to issue")
    association = PartnerAssociation.objects.get(pk=busiest["type__association"])
    ids = list(
        open_requests.filter(type__association=association).order_by("pk").values_list("pk", flat=True)[:count]
    )
    membership = (
        Membership.objects.filter(association=association, role=Membership.Role.REVIEWER)
        .select_related("user")
        .first()
    )
    if membership is not None:
        reviewer = membership.user
    else:
        reviewer, _created = get_user_model().objects.get_or_create(
            email=f"bench.reviewer.{association.slug}@{BENCH_DOMAIN}"[:254],
            defaults={"name": "Bench reviewer", "is_staff": True},
        )
        membership_grant(user=reviewer, role=Membership.Role.REVIEWER, association=association)
    return IssuePlan(association=association, reviewer=reviewer, request_ids=ids)


def run_issuing(plan: IssuePlan, *, worker_alive, timeout: float) -> dict:
    """Approve the plan's requests as one batch and wait until the worker has issued them all."""
    from certificates.models import Certificate, CertificateRequest, RequestStatus
    from certificates.services import requests_bulk_decide

    ids = plan.request_ids
    started = time.perf_counter()
    requests_bulk_decide(
        reviewer=plan.reviewer, association=plan.association, request_ids=ids, decision="approve"
    )
    approved_in = time.perf_counter() - started
    issued = 0
    while True:
        issued = CertificateRequest.objects.filter(pk__in=ids, status=RequestStatus.ISSUED).count()
        failed = CertificateRequest.objects.filter(pk__in=ids, issue_failed_at__isnull=False).count()
        elapsed = time.perf_counter() - started
        if issued == len(ids) or failed or elapsed > timeout or not worker_alive():
            break
        time.sleep(0.1)
    if issued != len(ids):
        reason = (
            f"{failed} failed" if failed else ("the worker died" if not worker_alive() else f"{timeout:.0f} s passed")
        )
        raise ScenarioError(f"only {issued} of {len(ids)} certificates were issued: {reason}")
    ready = Certificate.objects.filter(request_id__in=ids, credential__isnull=False).exclude(pdf="").count()
    return {
        "certificates": len(ids),
        "seconds": elapsed,
        "approval_seconds": approved_in,
        "per_s": len(ids) / elapsed,
        "with_credential_and_pdf": ready,
        "association": plan.association.slug,
    }
