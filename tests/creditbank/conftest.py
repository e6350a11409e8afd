"""A small world for credit-bank tests: a programme with a compulsory group and an elective group,
a learner studying it, an accredited CNC certificate, and a rule that replaces a course."""

from dataclasses import dataclass
from decimal import Decimal

import pytest

from creditbank import services
from enrolment.models import Enrolment, EnrolmentStatus
from tests import factories


@dataclass
class World:
    programme: object
    compulsory: object
    elective: object
    cnc: object  # course replaced by the rule
    drawing: object
    robots: object  # elective course
    learner: object
    enrolment: object
    standard: object
    rule: object
    officer: object
    certificate: object  # submitted, not yet accredited


@pytest.fixture
def world(db, cast):
    programme = factories.ProgrammeFactory(school=cast.school, total_credits=Decimal("16"))
    compulsory = factories.RequirementGroupFactory(programme=programme)
    cnc = factories.add_course(compulsory, code="NC201", credits=Decimal("4"), level=5)
    drawing = factories.add_course(compulsory, code="ME101", credits=Decimal("4"), level=5)
    elective = factories.RequirementGroupFactory(
        programme=programme, name_en="Electives", kind="elective", min_credits=Decimal("8"), position=1
    )
    robots = factories.add_course(elective, code="MT204", credits=Decimal("4"), level=5)
    factories.add_course(elective, code="GE101", credits=Decimal("4"), level=5)
    learner = cast.learner.learner
    enrolment = Enrolment.objects.create(
        learner=learner, intake=factories.IntakeFactory(programme=programme), programme=programme,
        status=EnrolmentStatus.ACTIVE,
    )
    standard = factories.RecognitionStandardFactory(code="CNC-OP", level=4, credit_value=Decimal("8"))
    rule = factories.ConversionRuleFactory(code="NCT-CNC", standard=standard, programme=programme, credits=Decimal("4"))
    rule.courses.set([cnc])
    certificate = factories.LearningOutcomeFactory(account=services.account_for(learner))
    return World(programme, compulsory, elective, cnc, drawing, robots, learner, enrolment, standard, rule,
                 cast.credit_officer, certificate)


@pytest.fixture
def accredited(world):
    services.outcome_accredit(
        outcome=world.certificate, standard=world.standard, officer=world.officer, reason="Certificate checked"
    )
    world.certificate.refresh_from_db()
    return world.certificate
