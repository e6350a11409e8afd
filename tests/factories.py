"""factory_boy factories shared by every app's tests."""

from __future__ import annotations

import datetime

import factory

from enrolment.models import Learner
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


class LearnerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Learner

    user = factory.SubFactory(UserFactory)


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

    user = factory.SubFactory(UserFactory)
    role = Membership.Role.SCHOOL_ADMIN
    school = factory.SubFactory(IndustrySchoolFactory)
    association = None
