import pytest
from django.core.management import CommandError, call_command

from enrolment.models import CourseResult, Enrolment, EnrolmentStatus

pytestmark = pytest.mark.django_db


def test_demo_learners_get_applications_once(settings):
    settings.DEBUG = True
    for command in ("load_network", "load_catalogue", "seed_demo"):
        call_command(command, verbosity=0)
    call_command("seed_demo_enrolments")
    statuses = dict(Enrolment.objects.values_list("learner__user__email", "status"))
    assert statuses == {
        "learner1@ouc.example": EnrolmentStatus.ACTIVE,
        "learner2@ouc.example": EnrolmentStatus.APPLIED,
        "learner3@ouc.example": EnrolmentStatus.APPLIED,
        "learner4@ouc.example": EnrolmentStatus.ACCEPTED,
        "learner5@ouc.example": EnrolmentStatus.APPLIED,
    }
    assert CourseResult.objects.count() == 3
    call_command("seed_demo_enrolments")
    assert Enrolment.objects.count() == 5 and CourseResult.objects.count() == 3


def test_demo_enrolments_refuse_a_production_site_and_missing_prerequisites(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG is off"):
        call_command("seed_demo_enrolments")
    settings.DEBUG = True
    with pytest.raises(CommandError, match="load_network and seed_demo first"):
        call_command("seed_demo_enrolments")
