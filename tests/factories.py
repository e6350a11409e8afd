"""factory_boy factories shared by every app's tests."""

from __future__ import annotations

import datetime
from decimal import Decimal

import factory
from django.utils import timezone

from enrolment.models import (
    Course,
    DeliveryMode,
    GroupCourse,
    Intake,
    Learner,
    Programme,
    ProgrammeKind,
    ProgrammeStatus,
    RequirementGroup,
    Season,
)
from ouc_portal.accounts.models import User
from schools.models import (
    AgreementSignatory,
    CooperationAgreement,
    Industry,
    IndustrySchool,
    LearningCentre,
    Membership,
    OperatingLevel,
    PartnerAssociation,
)
from schools.regions import Province

PASSWORD = "correct-horse-battery-staple-42"
# Every staff member a factory makes has an authenticator app with this secret (the portal refuses
# staff without one): ``totp_code()`` is what their app shows now.
STAFF_TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def give_second_factor(user) -> None:
    """An authenticator app for ``user``, stored as allauth stores one (once per person)."""
    from ouc_portal.accounts.totp import totp_authenticator_ensure

    totp_authenticator_ensure(user=user, secret=STAFF_TOTP_SECRET)


def totp_code(secret: str = STAFF_TOTP_SECRET, *, at: float | None = None) -> str:
    """The six digits an authenticator app with ``secret`` shows at time ``at`` (now)."""
    from ouc_portal.accounts.totp import totp_code as code

    return code(secret, at=at)


def record_authentications(client, user, methods: list[str]) -> None:
    """Write into ``client``'s session the records allauth keeps of how it was authenticated
    (``allauth.account.authentication``): "password", and "mfa" for a code that was entered."""
    import time

    from allauth.account.authentication import AUTHENTICATION_METHODS_SESSION_KEY

    now = time.time()
    records = [{"method": method, "at": now} for method in methods]
    for record in records:
        if record["method"] == "mfa":
            record["type"] = "totp"
    session = client.session
    session[AUTHENTICATION_METHODS_SESSION_KEY] = records
    # allauth keeps the records only for the user they were written for (its own key name).
    session["account_authentication_methods_user"] = str(user.pk)
    session.save()


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.org")
    name = factory.Sequence(lambda n: f"Person {n}")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def save_password(obj, create, extracted, **kwargs):
        if create:
            obj.save()
            if obj.is_superuser:
                give_second_factor(obj)


class LearnerFactory(factory.django.DjangoModelFactory):
    """A learner with a finished profile, ready to apply."""

    class Meta:
        model = Learner

    user = factory.SubFactory(UserFactory)
    legal_name = factory.Sequence(lambda n: f"王学员{n}")
    phone = factory.Sequence(lambda n: f"1380000{n:04d}")
    employer = "BAIC Motor"
    job_title = "CNC machinist"
    industry = "mechanical"
    province = "BJ"
    privacy_consent_at = factory.LazyFunction(timezone.now)


class IndustrySchoolFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = IndustrySchool

    slug = factory.Sequence(lambda n: f"school-{n}")
    name_en = factory.Sequence(lambda n: f"School of Industry {n}")
    name_zh = factory.Sequence(lambda n: f"行业学院{n}")
    industry = Industry.MECHANICAL
    founded_on = datetime.date(2013, 11, 26)


class PartnerAssociationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PartnerAssociation

    slug = factory.Sequence(lambda n: f"association-{n}")
    name_en = factory.Sequence(lambda n: f"National Association {n}")
    name_zh = factory.Sequence(lambda n: f"全国协会{n}")
    kind = PartnerAssociation.Kind.INDUSTRY_ASSOCIATION


class LearningCentreFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LearningCentre

    code = factory.Sequence(lambda n: f"centre-{n}")
    name_en = factory.Sequence(lambda n: f"Learning Centre {n}")
    name_zh = factory.Sequence(lambda n: f"学习中心{n}")
    kind = LearningCentre.Kind.LEARNING_CENTRE
    level = OperatingLevel.PREFECTURAL
    province = Province.BEIJING


class CooperationAgreementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CooperationAgreement

    code = factory.Sequence(lambda n: f"agreement-{n}")
    school = factory.SubFactory(IndustrySchoolFactory)
    association = factory.SubFactory(PartnerAssociationFactory)
    signed_on = datetime.date(2013, 11, 26)
    title_en = factory.Sequence(lambda n: f"Cooperation agreement {n}")


class AgreementSignatoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AgreementSignatory

    agreement = factory.SubFactory(CooperationAgreementFactory)
    side = AgreementSignatory.Side.PARTNER
    name_en = factory.Sequence(lambda n: f"Signatory {n}")
    title_en = "Deputy Chairman"


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership
        skip_postgeneration_save = True

    user = factory.SubFactory(UserFactory)
    role = Membership.Role.SCHOOL_ADMIN
    school = factory.SubFactory(IndustrySchoolFactory)
    association = None

    @factory.post_generation
    def second_factor(obj, create, extracted, **kwargs):
        # Every role a membership gives is a staff role. ``second_factor=False`` leaves the person
        # without one, to test what the portal does with them.
        if create and extracted is not False:
            give_second_factor(obj.user)


class ProgrammeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Programme

    school = factory.SubFactory(IndustrySchoolFactory)
    code = factory.Sequence(lambda n: f"P{n:04d}")
    slug = factory.Sequence(lambda n: f"programme-{n}")
    name_en = factory.Sequence(lambda n: f"Programme {n}")
    name_zh = factory.Sequence(lambda n: f"专业{n}")
    kind = ProgrammeKind.ASSOCIATE
    qf_level = 5
    total_credits = Decimal("76")
    duration_months = 30
    delivery_mode = DeliveryMode.BLENDED
    status = ProgrammeStatus.PUBLISHED
    search_text = factory.LazyAttribute(lambda p: f"{p.code} {p.name_en} {p.name_zh}".lower())


class CourseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Course

    school = factory.SubFactory(IndustrySchoolFactory)
    code = factory.Sequence(lambda n: f"C{n:04d}")
    name_en = factory.Sequence(lambda n: f"Course {n}")
    name_zh = factory.Sequence(lambda n: f"课程{n}")
    credits = Decimal("4")
    study_hours = 72
    level = 5


class RequirementGroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RequirementGroup

    programme = factory.SubFactory(ProgrammeFactory)
    name_en = "Compulsory courses"
    name_zh = "必修课"
    kind = RequirementGroup.Kind.COMPULSORY


def add_course(group: RequirementGroup, **course_fields) -> Course:
    course = CourseFactory(school=group.programme.school, **course_fields)
    GroupCourse.objects.create(group=group, course=course, programme=group.programme)
    return course


class IntakeFactory(factory.django.DjangoModelFactory):
    """An intake whose application window is open now."""

    class Meta:
        model = Intake

    programme = factory.SubFactory(ProgrammeFactory)
    year = 2026
    season = Season.AUTUMN
    centre = factory.SubFactory(LearningCentreFactory)
    opens_at = factory.LazyFunction(lambda: timezone.now() - datetime.timedelta(days=7))
    closes_at = factory.LazyFunction(lambda: timezone.now() + datetime.timedelta(days=30))
    starts_on = factory.LazyFunction(lambda: timezone.localdate() + datetime.timedelta(days=45))
    capacity = 30
    requires_approval = True


# --- Credit bank --------------------------------------------------------------------------------


def credit_account(learner):
    from creditbank.services import account_for

    return account_for(learner)


class RecognitionStandardFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "creditbank.RecognitionStandard"

    code = factory.Sequence(lambda n: f"RS{n:03d}")
    version = 1
    title_en = factory.Sequence(lambda n: f"CNC machinist, intermediate ({n})")
    title_zh = "数控车工（中级）"
    outcome_kinds = factory.LazyFunction(lambda: ["vocational", "1+x"])
    level = 4
    credit_value = Decimal("8")
    currency_years = 5
    effective_from = datetime.date(2020, 1, 1)


class LearningOutcomeFactory(factory.django.DjangoModelFactory):
    """A vocational certificate a learner submitted for accreditation."""

    class Meta:
        model = "creditbank.LearningOutcome"

    account = factory.LazyAttribute(lambda o: credit_account(LearnerFactory()))
    kind = "vocational"
    title = "CNC Lathe Operator (intermediate)"
    issuing_body_name = "Education Development Center of Mechanical Industry"
    achieved_on = factory.LazyFunction(lambda: timezone.localdate() - datetime.timedelta(days=400))
    level = 5
    grade = "B"
    certificate_number = factory.Sequence(lambda n: f"MIEDC-{n:06d}")
    status = "submitted"


class ConversionRuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "creditbank.ConversionRule"

    code = factory.Sequence(lambda n: f"CR{n:03d}")
    version = 1
    standard = factory.SubFactory(RecognitionStandardFactory)
    programme = factory.SubFactory(ProgrammeFactory)
    mode = "both"
    credits = Decimal("4")
    effective_from = datetime.date(2020, 1, 1)


# -- certificates ----------------------------------------------------------------------------


class CertificateTypeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "certificates.CertificateType"

    code = factory.Sequence(lambda n: f"certificate-type-{n}")
    school = factory.SubFactory(IndustrySchoolFactory)
    association = factory.SubFactory(PartnerAssociationFactory)
    kind = "completion"
    name_en = factory.Sequence(lambda n: f"Certificate of completion {n}")
    name_zh = "结业证书"
    programme = factory.SubFactory(ProgrammeFactory, school=factory.SelfAttribute("..school"))
    validity_years = None


def completed_request(*, learner: Learner, cert_type=None, **type_fields):
    """A learner's completed enrolment in the type's programme and the request it opened.

    Goes through the services, so the request and its history are exactly what the portal makes.
    """
    from certificates import services as certificate_services
    from enrolment.models import Enrolment, EnrolmentStatus

    cert_type = cert_type or CertificateTypeFactory(**type_fields)
    enrolment = Enrolment.objects.create(
        learner=learner,
        intake=IntakeFactory(programme=cert_type.programme),
        programme=cert_type.programme,
        status=EnrolmentStatus.COMPLETED,
    )
    return certificate_services.request_open(learner=learner, type=cert_type, enrolment=enrolment)


def partner_token(*, association, name: str = "Partner records sync", created_by=None):
    """A partner system's API token for ``association``, made through the service: its
    ``.token`` and its ``.key`` (the only time the key is known)."""
    from schools.tokens import partner_token_create

    return partner_token_create(association=association, name=name, created_by=created_by)
