"""Every list and dashboard page, and every API list endpoint, costs the same number of queries
whether it lists ten rows or a thousand.

Why a test and not a review rule: an N+1 query (a template or serializer reaching a relation per
row) is invisible with the dozen rows a developer has locally and takes a page down at the scale
of the real network (tens of thousands of learners). Each case below builds what its page lists,
counts the queries of a GET with 10 rows, grows the rows to 1,000 and counts again: the counts
must be equal, and under the case's ceiling. Paginated pages are counted on a later page too.

The routes come from the URL resolver: ``test_every_list_route_is_counted`` classifies every named
route of the portal's own apps, and a list or dashboard route that is neither counted here nor
excluded with a reason fails. A new list page cannot be forgotten.

Rows are made with ``bulk_create`` (no signals, no services): the counts are about reading, and a
thousand rows through the services would take minutes. What the rows hold is still what the
services would store (statuses, the programme copied onto an enrolment, ledger sequence numbers).
"""

from __future__ import annotations

import copy
import datetime
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from certificates.models import Certificate, CertificateRequest, CertificateType, RequestStatus
from creditbank.models import (
    Accreditation,
    ConversionRule,
    CreditAccount,
    EntryKind,
    LearningOutcome,
    LedgerEntry,
    OutcomeStatus,
    RecognitionStandard,
)
from enrolment.models import (
    Course,
    CourseResult,
    Enrolment,
    EnrolmentStatus,
    GroupCourse,
    Intake,
    Learner,
    Programme,
    ProgrammeStatus,
    Season,
)
from ouc_portal.accounts.models import User
from schools.models import CooperationAgreement, IndustrySchool, LearningCentre, PartnerAssociation
from tests import factories

SMALL, LARGE = 10, 1000
NOW = timezone.now()
TODAY = timezone.localdate()

# --- The world each case grows ---------------------------------------------------------------


@dataclass
class Scene:
    """The cast plus what the cases share: a published programme with a course, an open intake,
    the learner's enrolment in it, a certificate type of the reviewer's association, a standard."""

    cast: object
    programme: Programme
    course: Course
    centre: LearningCentre
    intake: Intake
    enrolment: Enrolment
    account: CreditAccount
    cert_type: CertificateType
    standard: RecognitionStandard
    counter: Iterator[int] = field(default_factory=lambda: iter(range(1, 10**9)))

    def n(self) -> int:
        """A number no row made by this scene has used yet (codes, slugs, sequence numbers)."""
        return next(self.counter)


@pytest.fixture
def scene(cast) -> Scene:
    programme = factories.ProgrammeFactory(
        school=cast.school, code="QC-PROG", slug="qc-prog", search_text="qc-prog machining"
    )
    group = factories.RequirementGroupFactory(programme=programme)
    course = factories.add_course(group, code="QC101")
    centre = factories.LearningCentreFactory(code="qc-centre")
    centre.schools.add(cast.school)
    intake = factories.IntakeFactory(programme=programme, centre=centre)
    learner = cast.learner.learner
    enrolment = Enrolment.objects.create(
        learner=learner, intake=intake, programme=programme, status=EnrolmentStatus.ACTIVE
    )
    return Scene(
        cast=cast,
        programme=programme,
        course=course,
        centre=centre,
        intake=intake,
        enrolment=enrolment,
        account=factories.credit_account(learner),
        cert_type=factories.CertificateTypeFactory(
            school=cast.school, association=cast.association, programme=programme, code="qc-type"
        ),
        standard=factories.RecognitionStandardFactory(code="QC-STD"),
    )


def _grow(model, filter_kwargs: dict, target: int, make: Callable[[int], list]) -> None:
    """Add rows until ``model.objects.filter(**filter_kwargs)`` holds ``target``: ``make(i)``
    returns the objects for the i-th new row (the row itself first, then what hangs on it)."""
    have = model.objects.filter(**filter_kwargs).count()
    batches: dict[type, list] = {}
    for _ in range(max(target - have, 0)):
        for obj in make(_):
            batches.setdefault(type(obj), []).append(obj)
    for cls, objs in batches.items():
        cls.objects.bulk_create(objs)


def _bulk_learners(scene: Scene, count: int) -> list[Learner]:
    """``count`` new learners with finished profiles (users first, then their learner rows)."""
    tag = scene.n()
    users = User.objects.bulk_create(
        [User(email=f"qc{tag}-{i}@example.org", password="!", name=f"QC {i}") for i in range(count)]
    )
    return Learner.objects.bulk_create(
        [
            Learner(user=u, legal_name=f"学员{tag}-{i}", phone="13800000000", employer="BAIC",
                    job_title="Fitter", industry="mechanical", province="BJ", privacy_consent_at=NOW)
            for i, u in enumerate(users)
        ]
    )  # fmt: skip


def _programmes(scene: Scene, count: int, *, school=None, with_intake: bool = True) -> list[Programme]:
    """``count`` published programmes of ``school`` (the cast's), each with an open intake."""
    school = school or scene.cast.school
    tag = scene.n()
    programmes = Programme.objects.bulk_create(
        [
            Programme(school=school, code=f"QC{tag}-{i}", slug=f"qc{tag}-{i}", name_en=f"Programme {tag}-{i}",
                      name_zh=f"专业{i}", kind="associate", qf_level=5, total_credits=Decimal("76"),
                      duration_months=30, delivery_mode="blended", status=ProgrammeStatus.PUBLISHED,
                      search_text=f"qc{tag}-{i} programme {tag}-{i} 专业{i} machining")
            for i in range(count)
        ]
    )  # fmt: skip
    if with_intake:
        Intake.objects.bulk_create(
            [
                Intake(programme=p, year=2026, season=Season.AUTUMN, centre=scene.centre,
                       opens_at=NOW - datetime.timedelta(days=7), closes_at=NOW + datetime.timedelta(days=30),
                       starts_on=TODAY + datetime.timedelta(days=45), capacity=30)
                for p in programmes
            ]
        )  # fmt: skip
    return programmes


# --- Growers: bring what a page lists to ``target`` rows --------------------------------------


def grow_schools(scene: Scene, target: int) -> None:
    tag = scene.n()
    missing = target - IndustrySchool.objects.count()
    schools = IndustrySchool.objects.bulk_create(
        [
            IndustrySchool(slug=f"qc{tag}-{i}", name_en=f"School {tag}-{i}", industry="software",
                           founded_on=datetime.date(2014, 1, 1))
            for i in range(max(missing, 0))
        ]
    )  # fmt: skip
    CooperationAgreement.objects.bulk_create(
        [
            CooperationAgreement(code=f"qc{tag}-{i}", school=s, association=scene.cast.association,
                                 signed_on=datetime.date(2014, 1, 1), title_en="Agreement")
            for i, s in enumerate(schools)
        ]
    )  # fmt: skip
    LearningCentre.schools.through.objects.bulk_create(
        [LearningCentre.schools.through(learningcentre=scene.centre, industryschool=s) for s in schools]
    )


def grow_associations(scene: Scene, target: int) -> None:
    tag = scene.n()
    missing = target - PartnerAssociation.objects.count()
    associations = PartnerAssociation.objects.bulk_create(
        [
            PartnerAssociation(slug=f"qc{tag}-{i}", name_en=f"Association {tag}-{i}", kind="enterprise")
            for i in range(max(missing, 0))
        ]
    )
    CooperationAgreement.objects.bulk_create(
        [
            CooperationAgreement(code=f"qca{tag}-{i}", school=scene.cast.school, learning_centre=scene.centre,
                                 association=a, signed_on=datetime.date(2014, 1, 1), title_en="Agreement")
            for i, a in enumerate(associations)
        ]
    )  # fmt: skip


def grow_centres(scene: Scene, target: int) -> None:
    tag = scene.n()
    missing = target - LearningCentre.objects.count()
    centres = LearningCentre.objects.bulk_create(
        [
            LearningCentre(code=f"qc{tag}-{i}", name_en=f"Centre {tag}-{i}", kind="teaching-point",
                           level="county", province="BJ", parent=scene.centre)
            for i in range(max(missing, 0))
        ]
    )  # fmt: skip
    LearningCentre.schools.through.objects.bulk_create(
        [LearningCentre.schools.through(learningcentre=c, industryschool=scene.cast.school) for c in centres]
    )


def grow_programmes(scene: Scene, target: int) -> None:
    """Published programmes of the cast's school, each with an open intake at the scene's centre."""
    _programmes(scene, max(target - Programme.objects.published().count(), 0))


def grow_courses(scene: Scene, target: int) -> None:
    """Courses in the scene programme's structure (what /api/v1/courses/ and the staff list show)."""
    group = scene.programme.groups.get()
    tag = scene.n()
    missing = target - Course.objects.filter(school=scene.cast.school).count()
    courses = Course.objects.bulk_create(
        [
            Course(school=scene.cast.school, code=f"QC{tag}-{i}", name_en=f"Course {i}", credits=Decimal("2"),
                   study_hours=36, level=5)
            for i in range(max(missing, 0))
        ]
    )  # fmt: skip
    GroupCourse.objects.bulk_create(
        [GroupCourse(group=group, course=c, programme=scene.programme) for c in courses]
    )


def grow_intakes(scene: Scene, target: int) -> None:
    """Intakes of the cast's school (one per new programme), as dashboards and reports list them."""
    _programmes(scene, max(target - Intake.objects.filter(programme__school=scene.cast.school).count(), 0))


def grow_administered_schools(scene: Scene, target: int) -> None:
    grow_schools(scene, target)


def grow_my_enrolments(scene: Scene, target: int) -> None:
    """The learner's enrolments (completed, one per programme) with a result in each."""
    learner = scene.cast.learner.learner
    missing = target - Enrolment.objects.filter(learner=learner).count()
    programmes = _programmes(scene, max(missing, 0))
    intakes = {i.programme_id: i for i in Intake.objects.filter(programme__in=programmes)}
    enrolments = Enrolment.objects.bulk_create(
        [
            Enrolment(learner=learner, intake=intakes[p.pk], programme=p, status=EnrolmentStatus.COMPLETED)
            for p in programmes
        ]
    )
    CourseResult.objects.bulk_create(
        [
            CourseResult(enrolment=e, course=scene.course, score=Decimal("80"), grade="B", passed=True,
                         assessed_on=TODAY, recorded_by=scene.cast.school_admin)
            for e in enrolments
        ]
    )  # fmt: skip


def grow_applications(scene: Scene, target: int) -> None:
    """Applications waiting in the scene intake: what a school's queue lists."""
    missing = target - Enrolment.objects.filter(intake=scene.intake, status=EnrolmentStatus.APPLIED).count()
    Enrolment.objects.bulk_create(
        [
            Enrolment(learner=learner, intake=scene.intake, programme=scene.programme,
                      status=EnrolmentStatus.APPLIED)
            for learner in _bulk_learners(scene, max(missing, 0))
        ]
    )  # fmt: skip


def grow_results(scene: Scene, target: int) -> None:
    """Learners studying in the scene intake, half of them with a result already recorded."""
    missing = target - Enrolment.objects.filter(intake=scene.intake).count()
    enrolments = Enrolment.objects.bulk_create(
        [
            Enrolment(learner=learner, intake=scene.intake, programme=scene.programme,
                      status=EnrolmentStatus.ACTIVE)
            for learner in _bulk_learners(scene, max(missing, 0))
        ]
    )  # fmt: skip
    CourseResult.objects.bulk_create(
        [
            CourseResult(enrolment=e, course=scene.course, score=Decimal("70"), grade="C", passed=True,
                         assessed_on=TODAY, recorded_by=scene.cast.school_admin)
            for e in enrolments[::2]
        ]
    )  # fmt: skip


def grow_review_queue(scene: Scene, target: int) -> None:
    """Certificate requests of the reviewer's association, each on a completed enrolment."""
    missing = target - CertificateRequest.objects.filter(type__association=scene.cast.association).count()
    learners = _bulk_learners(scene, max(missing, 0))
    enrolments = Enrolment.objects.bulk_create(
        [
            Enrolment(learner=learner, intake=scene.intake, programme=scene.programme,
                      status=EnrolmentStatus.COMPLETED)
            for learner in learners
        ]
    )  # fmt: skip
    CertificateRequest.objects.bulk_create(
        [
            CertificateRequest(learner=e.learner, type=scene.cert_type, enrolment=e,
                               status=RequestStatus.REQUESTED if i % 3 else RequestStatus.UNDER_REVIEW,
                               requested_at=NOW - datetime.timedelta(minutes=i))
            for i, e in enumerate(enrolments)
        ]
    )  # fmt: skip


def grow_certificates(scene: Scene, target: int) -> None:
    """Certificates issued for the reviewer's association."""
    missing = target - Certificate.objects.count()
    learners = _bulk_learners(scene, max(missing, 0))
    requests = CertificateRequest.objects.bulk_create(
        [CertificateRequest(learner=learner, type=scene.cert_type, status=RequestStatus.ISSUED) for learner in learners]
    )
    tag = scene.n()
    Certificate.objects.bulk_create(
        [
            Certificate(request=r, school=scene.cast.school, year=2000 + tag % 100, number=tag * 10_000 + i,
                        serial=f"QC-{tag}-{i}", verification_code=uuid.uuid4().hex, issued_on=TODAY)
            for i, r in enumerate(requests)
        ]
    )  # fmt: skip


def grow_tokens(scene: Scene, target: int) -> None:
    """Partner-system API tokens of the reviewer's association, each with its service user."""
    from schools.models import PartnerToken

    missing = target - PartnerToken.objects.filter(association=scene.cast.association).count()
    tag = scene.n()
    users = User.objects.bulk_create(
        [User(email=f"qc-token{tag}-{i}@partner-tokens.invalid", password="!", name=f"Token {i}")
         for i in range(max(missing, 0))]
    )  # fmt: skip
    PartnerToken.objects.bulk_create(
        [
            PartnerToken(association=scene.cast.association, name=f"System {tag}-{i}", user=u,
                         prefix=f"oucpt_q{tag}{i:07d}", key_digest=f"{tag:08d}{i:056d}",
                         created_by=scene.cast.reviewer,
                         revoked_at=NOW if i % 4 == 0 else None, revoked_by=scene.cast.reviewer if i % 4 == 0 else None)
            for i, u in enumerate(users)
        ]
    )  # fmt: skip


def grow_my_requests(scene: Scene, target: int) -> None:
    """The learner's certificate requests, each for its own type (one open request per type)."""
    learner = scene.cast.learner.learner
    missing = target - CertificateRequest.objects.filter(learner=learner).count()
    tag = scene.n()
    types = CertificateType.objects.bulk_create(
        [
            CertificateType(code=f"qc{tag}-{i}", school=scene.cast.school, association=scene.cast.association,
                            kind="completion", name_en=f"Certificate {i}", programme=scene.programme)
            for i in range(max(missing, 0))
        ]
    )  # fmt: skip
    CertificateRequest.objects.bulk_create(
        [
            CertificateRequest(learner=learner, type=t, enrolment=scene.enrolment,
                               status=RequestStatus.REQUESTED if i % 2 else RequestStatus.REJECTED)
            for i, t in enumerate(types)
        ]
    )  # fmt: skip


def _outcomes(scene: Scene, account: CreditAccount, count: int, status: str) -> list[LearningOutcome]:
    tag = scene.n()
    return LearningOutcome.objects.bulk_create(
        [
            LearningOutcome(account=account, kind="vocational", title=f"Certificate {tag}-{i}",
                            issuing_body=scene.cast.association, issuing_body_name="MIEDC",
                            achieved_on=TODAY - datetime.timedelta(days=i), level=4,
                            certificate_number=f"QC{tag}-{i}", status=status,
                            submitted_at=NOW - datetime.timedelta(minutes=i))
            for i in range(count)
        ]
    )  # fmt: skip


def grow_ledger(scene: Scene, target: int) -> None:
    """The learner's ledger: an accredited outcome and an accreditation entry for each line."""
    account = scene.account
    have = LedgerEntry.objects.filter(account=account).count()
    missing = max(target - have, 0)
    outcomes = _outcomes(scene, account, missing, OutcomeStatus.ACCREDITED)
    Accreditation.objects.bulk_create(
        [
            Accreditation(outcome=o, standard=scene.standard, credits=Decimal("4"),
                          officer=scene.cast.credit_officer, reason="Checked")
            for o in outcomes
        ]
    )  # fmt: skip
    LedgerEntry.objects.bulk_create(
        [
            LedgerEntry(account=account, seq=have + i + 1, kind=EntryKind.ACCREDITATION, amount=Decimal("4"),
                        balance_after=Decimal("4") * (have + i + 1), level=4, outcome=o,
                        actor=scene.cast.credit_officer, at=NOW, reason="Accredited",
                        idempotency_key=f"qc-{have + i}", prev_hash="0" * 64, hash="0" * 64)
            for i, o in enumerate(outcomes)
        ]
    )  # fmt: skip


def grow_officer_queue(scene: Scene, target: int) -> None:
    """Outcomes waiting for an officer, from as many learners."""
    missing = max(target - LearningOutcome.objects.filter(status=OutcomeStatus.SUBMITTED).count(), 0)
    learners = _bulk_learners(scene, missing)
    tag = scene.n()
    accounts = CreditAccount.objects.bulk_create(
        [CreditAccount(learner=learner, number=f"QC{tag}-{i}") for i, learner in enumerate(learners)]
    )
    outcomes = []
    for account in accounts:
        outcomes += [
            LearningOutcome(account=account, kind="vocational", title="CNC operator", issuing_body_name="MIEDC",
                            achieved_on=TODAY, level=4, status=OutcomeStatus.SUBMITTED)
        ]  # fmt: skip
    LearningOutcome.objects.bulk_create(outcomes)


def grow_learner_outcomes(scene: Scene, target: int) -> None:
    """One learner's outcomes, as the officers' learner desk lists them (accredited, with credits)."""
    grow_ledger(scene, target)


def grow_standards(scene: Scene, target: int) -> None:
    tag = scene.n()
    missing = target - RecognitionStandard.objects.count()
    standards = RecognitionStandard.objects.bulk_create(
        [
            RecognitionStandard(code=f"QC{tag}-{i}", title_en=f"Standard {i}", outcome_kinds=["vocational"],
                                level=4, credit_value=Decimal("8"), effective_from=datetime.date(2020, 1, 1))
            for i in range(max(missing, 0))
        ]
    )  # fmt: skip
    RecognitionStandard.accepted_bodies.through.objects.bulk_create(
        [
            RecognitionStandard.accepted_bodies.through(
                recognitionstandard=s, partnerassociation=scene.cast.association
            )
            for s in standards
        ]
    )


def grow_rules(scene: Scene, target: int) -> None:
    tag = scene.n()
    missing = target - ConversionRule.objects.count()
    rules = ConversionRule.objects.bulk_create(
        [
            ConversionRule(code=f"QC{tag}-{i}", standard=scene.standard, programme=scene.programme,
                           credits=Decimal("4"), effective_from=datetime.date(2020, 1, 1),
                           approving_body=scene.cast.association)
            for i in range(max(missing, 0))
        ]
    )  # fmt: skip
    ConversionRule.courses.through.objects.bulk_create(
        [ConversionRule.courses.through(conversionrule=r, course=scene.course) for r in rules]
    )


def grow_audit(scene: Scene, target: int) -> None:
    """Courses in the scene programme's structure, each with the learner's passed result."""
    grow_courses(scene, target)
    done = set(CourseResult.objects.filter(enrolment=scene.enrolment).values_list("course_id", flat=True))
    CourseResult.objects.bulk_create(
        [
            CourseResult(enrolment=scene.enrolment, course=c, score=Decimal("90"), grade="A", passed=True,
                         assessed_on=TODAY, recorded_by=scene.cast.school_admin)
            for c in Course.objects.filter(school=scene.cast.school).exclude(pk__in=done)
        ]
    )  # fmt: skip


# --- The cases -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """One page or endpoint: who asks, what it lists, and at most how many queries it may cost."""

    route: str
    grow: Callable[[Scene, int], None]
    ceiling: int
    user: str | None = None  # an attribute of the cast; None: a visitor
    kwargs: Callable[[Scene], dict] = lambda scene: {}
    query: str = ""
    # A second page to count, for paginated pages and endpoints ("" when the page lists all).
    page_param: str = ""
    label: str = ""

    @property
    def id(self) -> str:
        return self.label or self.route


SCHOOL = {"school_slug": "mechanical"}  # the cast's school


def _school(scene: Scene) -> dict:
    return dict(SCHOOL)


CASES: list[Case] = [
    # Visitors.
    Case("schools:home", grow_schools, 8),
    Case("schools:school_list", grow_schools, 4),
    Case("schools:association_list", grow_associations, 4),
    Case("schools:centre_list", grow_centres, 5, page_param="page"),
    Case("schools-api:school-list", grow_schools, 5, page_param="page"),
    Case("schools-api:association-list", grow_associations, 5, page_param="page"),
    Case("schools-api:centre-list", grow_centres, 5, page_param="page"),
    Case("enrolment:programme_list", grow_programmes, 7, page_param="page"),
    Case(
        "enrolment:programme_list", grow_programmes, 7, page_param="page",
        query="q=machining&industry=mechanical&kind=associate&level=5&delivery=blended"
              "&province=BJ&open_now=on&sort=-credits",
        label="enrolment:programme_list(filtered)",
    ),  # fmt: skip
    Case("enrolment-api:programme-list", grow_programmes, 6, page_param="page"),
    Case(
        "enrolment-api:programme-list", grow_programmes, 6, page_param="page",
        query="q=machining&school=mechanical&province=BJ&open_now=true&sort=newest",
        label="enrolment-api:programme-list(filtered)",
    ),  # fmt: skip
    Case("enrolment-api:course-list", grow_courses, 4, page_param="page"),
    Case("enrolment-api:intake-list", grow_intakes, 4, page_param="page"),
    # The learner.
    Case("enrolment:my_dashboard", grow_my_enrolments, 8, user="learner"),
    Case("me:data", grow_my_enrolments, 16, user="learner"),
    Case("enrolment-api:my-enrolment-list", grow_my_enrolments, 9, user="learner", page_param="page"),
    Case("certs:home", grow_my_requests, 11, user="learner"),
    Case("credits:home", grow_ledger, 12, user="learner", page_param="page"),
    Case("credits:lifelong_file", grow_ledger, 17, user="learner"),
    Case(
        "credits:audit", grow_audit, 13, user="learner",
        kwargs=lambda scene: {"public_id": scene.enrolment.public_id},
    ),  # fmt: skip
    Case("creditbank-api:my-credit-account", grow_ledger, 6, user="learner"),
    Case("creditbank-api:my-ledger-list", grow_ledger, 6, user="learner", page_param="page"),
    Case("creditbank-api:my-outcome-list", grow_ledger, 6, user="learner", page_param="page"),
    # School staff.
    Case("manage:home", grow_administered_schools, 6, user="superuser"),
    Case("manage:school", grow_intakes, 9, user="school_admin", kwargs=_school),
    Case("manage:course_list", grow_courses, 7, user="school_admin", kwargs=_school),
    Case("manage:application_queue", grow_applications, 9, user="school_admin", kwargs=_school,
         page_param="page"),
    Case(
        "manage:intake_results", grow_results, 12, user="school_admin", query="course=QC101",
        kwargs=lambda scene: {**SCHOOL, "intake_id": scene.intake.public_id},
    ),  # fmt: skip
    Case("manage:reports", grow_intakes, 7, user="school_admin", kwargs=_school),
    Case("enrolment-api:school-enrolment-list", grow_applications, 8, user="school_admin",
         kwargs=_school, page_param="page"),
    # Partner-association reviewers.
    Case("review:queue", grow_review_queue, 11, user="reviewer", page_param="page"),
    Case("review:certificates", grow_certificates, 8, user="reviewer", page_param="page"),
    Case("review:tokens", grow_tokens, 8, user="reviewer", page_param="page"),
    Case("certificates-api:review-request-list", grow_review_queue, 8, user="reviewer", page_param="page"),
    Case("certificates-api:review-certificate-list", grow_certificates, 8, user="reviewer", page_param="page"),
    # Credit-bank officers.
    Case("creditbank:home", grow_officer_queue, 7, user="credit_officer", page_param="page"),
    Case("creditbank:standard_list", grow_standards, 6, user="credit_officer"),
    Case("creditbank:rule_list", grow_rules, 7, user="credit_officer"),
    Case(
        "creditbank:learner", grow_learner_outcomes, 23, user="credit_officer",
        kwargs=lambda scene: {"public_id": scene.cast.learner.learner.public_id},
    ),  # fmt: skip
    Case("creditbank-api:standard-list", grow_standards, 8, user="credit_officer", page_param="page"),
    Case("creditbank-api:rule-list", grow_rules, 8, user="credit_officer", page_param="page"),
    Case("creditbank-api:officer-outcome-list", grow_officer_queue, 8, user="credit_officer",
         page_param="page"),
]

# Routes the classifier below calls a list or a dashboard that are not counted, each with why.
EXCLUDED: dict[str, str] = {
    "healthz": "liveness probe: no database at all",
    "readyz": "readiness probe: one fixed `SELECT 1`, lists nothing",
    "verify:lookup": "a form that redirects to one certificate's page; lists nothing",
    "me:close": "the account-closing confirmation form; lists nothing",
    "admin:login": "a redirect to the portal's log-in (ouc_portal.accounts.views.admin_login); no query",
    "creditbank-api:conversion-list": "POST only (the router names the collection route -list); no GET",
    "creditbank-api:transfer-list": "POST only (the router names the collection route -list); no GET",
}

# Detail and form routes that nevertheless list rows, and are counted above.
COUNTED_DESPITE_PARAMETERS = {"credits:audit", "creditbank:learner", "manage:intake_results"}


# --- Route classification --------------------------------------------------------------------

OWN_APPS = ("schools.", "enrolment.", "creditbank.", "certificates.", "ouc_portal.")
# Captured parameters that scope a list (a school's queue) rather than name one object.
SCOPE_PARAMETERS = {"school_slug"}
FORM_WORDS = re.compile(
    r"(^|[_-])(new|create|edit|delete|remove|add|apply|upload|bulk|request|submit|revoke|"
    r"withdraw|decide|profile|accredit|reject|start-review|what-if|new-version|status|progress|"
    r"template|download|pdf|credential)([_-]|$)"
)


def _named_routes() -> dict[str, tuple[str, set[str]]]:
    """Every named route of the portal's own apps: name -> (view module, captured parameters)."""
    routes: dict[str, tuple[str, set[str]]] = {}

    def walk(patterns, namespace: str, regex: str) -> None:
        for p in patterns:
            if isinstance(p, URLResolver):
                ns = f"{namespace}:{p.namespace}".strip(":") if p.namespace else namespace
                walk(p.url_patterns, ns, regex + str(p.pattern.regex.pattern))
            elif isinstance(p, URLPattern) and p.name:
                callback = p.callback
                module = getattr(callback, "__module__", "") or ""
                if not module.startswith(OWN_APPS):
                    continue
                full = regex + str(p.pattern.regex.pattern)
                params = set(re.findall(r"\(\?P<(\w+)>", full))
                routes[f"{namespace}:{p.name}".strip(":")] = (module, params)

    walk(get_resolver().url_patterns, "", "")
    return routes


def classify(name: str, params: set[str]) -> str:
    """list, dashboard, detail or form, from the route's name and what its address captures."""
    short = name.rsplit(":", 1)[-1]
    if short.endswith("-list"):
        return "list"
    if short.endswith("-detail") or params - SCOPE_PARAMETERS:
        return "detail"
    if FORM_WORDS.search(short):
        return "form"
    if short in {"home", "school", "my_dashboard", "my-credit-account"}:
        return "dashboard"
    return "list"


def test_every_list_route_is_counted() -> None:
    routes = _named_routes()
    counted = {case.route for case in CASES}
    unknown = (counted | set(EXCLUDED) | COUNTED_DESPITE_PARAMETERS) - set(routes)
    assert not unknown, f"cases or exclusions name routes that no longer exist: {sorted(unknown)}"
    assert COUNTED_DESPITE_PARAMETERS <= counted
    missing = sorted(
        name
        for name, (_module, params) in routes.items()
        if classify(name, params) in {"list", "dashboard"}
        and name not in counted
        and name not in EXCLUDED
    )
    assert not missing, (
        "these list or dashboard routes have no query-count case in tests/test_query_counts.py "
        f"and no reason in EXCLUDED: {missing}"
    )
    both = sorted(counted & set(EXCLUDED))
    assert not both, f"routes both counted and excluded: {both}"


def test_classifier_knows_the_kinds_of_route() -> None:
    """The classifier's verdict on routes whose kind is plain, so a change to it is noticed."""
    routes = _named_routes()
    expect = {
        "review:queue": "list",
        "enrolment-api:programme-list": "list",
        "manage:application_queue": "list",
        "enrolment:my_dashboard": "dashboard",
        "manage:school": "dashboard",
        "review:request": "detail",
        "enrolment-api:programme-detail": "detail",
        "manage:course_create": "form",
        "certs:transcript_request": "form",
    }
    assert {name: classify(name, routes[name][1]) for name in expect} == expect


# --- Counting --------------------------------------------------------------------------------


@pytest.fixture
def fresh_cache(settings) -> Callable[[], None]:
    """Start the cache empty (a new key prefix): a cached page would count zero queries, and what
    is counted here is the cost of building the page."""

    def reset() -> None:
        caches = copy.deepcopy(settings.CACHES)
        caches["default"]["KEY_PREFIX"] = f"qc:{uuid.uuid4().hex}"
        settings.CACHES = caches

    return reset


def _get(client, url: str, fresh_cache) -> tuple[int, list[str], object]:
    fresh_cache()
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200, f"GET {url} answered {response.status_code}"
    return len(queries), [q["sql"] for q in queries.captured_queries], response


def _listed(response) -> int | None:
    """How many rows the response says it lists (a paginator's count, an API page's count)."""
    if response.get("Content-Type", "").startswith("application/json"):
        body = response.json()
        return body.get("count") if isinstance(body, dict) else None
    page = (response.context or {}).get("page_obj")
    return page.paginator.count if page is not None else None


def _differences(small: list[str], large: list[str]) -> str:
    shape = re.compile(r"\d+")
    small_shapes = [shape.sub("N", sql) for sql in small]
    extra = [sql for sql in large if shape.sub("N", sql) not in small_shapes]
    repeated = {}
    for sql in large:
        key = shape.sub("N", sql)
        repeated[key] = repeated.get(key, 0) + 1
    worst = sorted(repeated.items(), key=lambda kv: -kv[1])[:3]
    return "\n".join(
        ["queries only at scale:", *extra[:5], "most repeated:", *(f"{n}x {sql[:300]}" for sql, n in worst)]
    )


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_page_costs_the_same_with_10_and_1000_rows(
    case: Case, scene: Scene, client, fresh_cache, django_assert_max_num_queries
) -> None:
    if case.user:
        client.force_login(getattr(scene.cast, case.user))
    url = reverse(case.route, kwargs=case.kwargs(scene)) + (f"?{case.query}" if case.query else "")

    case.grow(scene, SMALL)
    _get(client, url, fresh_cache)  # warm: first-request work (session, language) is not the page's
    small, small_sql, _ = _get(client, url, fresh_cache)

    case.grow(scene, LARGE)
    with django_assert_max_num_queries(case.ceiling):
        large, large_sql, response = _get(client, url, fresh_cache)
    assert large == small, (
        f"{case.id}: {small} queries with {SMALL} rows, {large} with {LARGE}\n"
        + _differences(small_sql, large_sql)
    )
    listed = _listed(response)
    if listed is not None:
        assert listed >= LARGE, f"{case.id} lists {listed} rows, not the {LARGE} made"

    if case.page_param:
        sep = "&" if "?" in url else "?"
        later, later_sql, _ = _get(client, f"{url}{sep}{case.page_param}=3", fresh_cache)
        assert later == small, (
            f"{case.id}: page 3 costs {later} queries, page 1 {small}\n"
            + _differences(small_sql, later_sql)
        )
