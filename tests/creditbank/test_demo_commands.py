import pytest
from django.core.management import CommandError, call_command

from creditbank import audit
from creditbank.models import Conversion, ConversionRule, LearningOutcome, RecognitionStandard
from enrolment.models import Enrolment

pytestmark = pytest.mark.django_db


def test_the_demo_certificate_exempts_cnc_programming_once(settings, tmp_path):
    settings.DEBUG = True
    settings.MEDIA_ROOT = tmp_path
    for command in ("load_network", "load_catalogue", "seed_demo", "seed_demo_enrolments", "load_recognition", "seed_demo_credits"):
        call_command(command, verbosity=0)
    assert RecognitionStandard.objects.count() == 4 and ConversionRule.objects.count() == 4
    conversion = Conversion.objects.get()
    assert (conversion.course.code, str(conversion.rule)) == ("NC201", "NCT-RC-CNC v1")
    enrolment = Enrolment.objects.get(learner__user__email="learner1@ouc.example")
    line = next(c for g in audit.programme_audit(enrolment).groups for c in g.courses if c.course.code == "NC201")
    assert line.state == "exempted" and line.entry_seqs
    assert LearningOutcome.objects.filter(status="submitted").count() == 1  # learner2's, in the queue

    for command in ("load_recognition", "seed_demo_credits"):
        call_command(command, verbosity=0)
    assert (RecognitionStandard.objects.count(), Conversion.objects.count(), LearningOutcome.objects.exclude(kind="course-result").count()) == (4, 1, 2)
    call_command("verify_ledger", verbosity=0)


def test_demo_credits_need_their_prerequisites_and_a_local_site(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG is off"):
        call_command("seed_demo_credits")
    settings.DEBUG = True
    with pytest.raises(CommandError, match="first"):
        call_command("seed_demo_credits")
    with pytest.raises(CommandError, match="nothing changed"):
        call_command("load_recognition")  # no programmes yet
