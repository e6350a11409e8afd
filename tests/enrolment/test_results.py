import datetime
from decimal import Decimal

import pytest
from django.test import override_settings

from enrolment.models import CourseResult, Enrolment, EnrolmentStatus
from enrolment.results import result_record, results_import_csv
from enrolment.services import EnrolmentError
from enrolment.signals import results_recorded
from tests import factories

S = EnrolmentStatus
pytestmark = pytest.mark.django_db
YESTERDAY = (datetime.date.today() - datetime.timedelta(days=1)).isoformat()
HEADER = "learner_email,course_code,score,assessed_on\n"


@pytest.fixture
def setting():
    programme = factories.ProgrammeFactory()
    group = factories.RequirementGroupFactory(programme=programme)
    factories.add_course(group, code="NC101")
    factories.add_course(group, code="NC102")
    intake = factories.IntakeFactory(programme=programme)
    learners = [factories.LearnerFactory(user__email=f"worker{i}@baic.example") for i in range(3)]
    for learner in learners:
        Enrolment.objects.create(learner=learner, intake=intake, programme=programme, status=S.ACTIVE)
    admin = factories.UserFactory()
    return intake, learners, admin


def run(setting, text, **kwargs):
    intake, _learners, admin = setting
    data = text.encode("utf-8") if isinstance(text, str) else text
    return results_import_csv(intake=intake, data=data, actor=admin, **kwargs)


def test_a_good_file_is_written_whole_and_announced(setting):
    received = []
    results_recorded.connect(lambda sender, results, **kw: received.extend(results), weak=False, dispatch_uid="t")
    try:
        report = run(setting, HEADER + f"worker0@baic.example,NC101,95,{YESTERDAY}\nWORKER1@baic.example,NC101,59.5,{YESTERDAY}\n")
    finally:
        results_recorded.disconnect(dispatch_uid="t")
    assert report.ok and report.created == 2
    first, second = CourseResult.objects.order_by("enrolment__learner__user__email")
    assert (first.score, first.grade, first.passed) == (Decimal("95.00"), "A", True)
    assert (second.score, second.grade, second.passed) == (Decimal("59.50"), "F", False)
    assert len(received) == 2


def test_the_same_file_again_changes_nothing(setting):
    text = HEADER + f"worker0@baic.example,NC101,80,{YESTERDAY}\n"
    assert run(setting, text).created == 1
    again = run(setting, text)
    assert (again.ok, again.created, again.unchanged) == (True, 0, 1)
    assert CourseResult.objects.count() == 1


def test_an_excel_byte_order_mark_is_accepted(setting):
    assert run(setting, b"\xef\xbb\xbf" + (HEADER + f"worker0@baic.example,NC101,80,{YESTERDAY}\n").encode()).created == 1


@pytest.mark.parametrize(
    "row, message",
    [
        (f"ghost@baic.example,NC101,80,{YESTERDAY}", "unknown learner ghost@baic.example"),
        (f"worker0@baic.example,XX999,80,{YESTERDAY}", "unknown course XX999"),
        (f"worker0@baic.example,NC101,101,{YESTERDAY}", "outside 0–100"),
        (f"worker0@baic.example,NC101,-1,{YESTERDAY}", "outside 0–100"),
        (f"worker0@baic.example,NC101,eighty,{YESTERDAY}", "is not a number"),
        (f"worker0@baic.example,NC101,NaN,{YESTERDAY}", "outside 0–100"),
        (f"worker0@baic.example,NC101,80.555,{YESTERDAY}", "more than two decimal places"),
        ("worker0@baic.example,NC101,80,23/11/2026", "is not YYYY-MM-DD"),
        ("worker0@baic.example,NC101,80,2999-01-01", "in the future"),
        ("worker0@baic.example,NC101,80", "expected 4 columns, found 3"),
        (f"worker0@baic.example,NC101,80,{YESTERDAY},extra", "expected 4 columns, found 5"),
    ],
)
def test_every_bad_row_is_named_with_its_line_and_nothing_is_written(setting, row, message):
    text = HEADER + f"worker1@baic.example,NC101,70,{YESTERDAY}\n" + row + "\n"
    report = run(setting, text)
    assert not report.ok
    assert [(e.line, message in e.message) for e in report.errors] == [(3, True)], report.errors
    assert not CourseResult.objects.exists()


def test_duplicate_rows_name_the_first_line(setting):
    text = HEADER + f"worker0@baic.example,NC101,70,{YESTERDAY}\nworker0@baic.example,NC101,75,{YESTERDAY}\n"
    report = run(setting, text)
    assert [(e.line, e.message) for e in report.errors] == [(3, "duplicate of line 2 (same learner and course)")]
    assert not CourseResult.objects.exists()


def test_all_bad_rows_are_reported_at_once(setting):
    text = HEADER + f"ghost@x.example,NC101,70,{YESTERDAY}\nworker0@baic.example,NC101,700,{YESTERDAY}\nworker1@baic.example,NC101,70,{YESTERDAY}\n"
    assert [e.line for e in run(setting, text).errors] == [2, 3]


def test_a_different_result_for_a_recorded_course_is_refused(setting):
    run(setting, HEADER + f"worker0@baic.example,NC101,70,{YESTERDAY}\n")
    report = run(setting, HEADER + f"worker0@baic.example,NC101,90,{YESTERDAY}\n")
    assert "a different result (70.00" in report.errors[0].message
    assert CourseResult.objects.get().score == Decimal("70.00")


def test_learners_not_admitted_cannot_get_results(setting):
    intake, learners, _admin = setting
    Enrolment.objects.filter(learner=learners[2]).update(status=S.WITHDRAWN)
    report = run(setting, HEADER + f"worker2@baic.example,NC101,70,{YESTERDAY}\n")
    assert "unknown learner" in report.errors[0].message


@pytest.mark.parametrize(
    "data, message",
    [
        (b"", "The file is empty"),
        (HEADER.encode(), "no results"),
        (b"email,course,score\nx,y,z\n", "Line 1 must be the header learner_email,course_code,score,assessed_on"),
        ("learner_email,course_code,score,assessed_on\n王,NC101,80,2020-01-01\n".encode("gb18030"), "not UTF-8"),
        (b"learner_email,course_code,score,assessed_on\n\x00\x00,NC101,1,2020-01-01\n", "NUL bytes"),
    ],
)
def test_files_that_are_not_results_csv_are_refused_whole(setting, data, message):
    with pytest.raises(EnrolmentError, match=message):
        run(setting, data)
    assert not CourseResult.objects.exists()


@override_settings(RESULTS_CSV_MAX_BYTES=2048)
def test_an_oversized_file_is_refused_before_it_is_read(setting):
    big = HEADER + "".join(f"worker0@baic.example,NC101,80,{YESTERDAY}\n" for _ in range(100))
    with pytest.raises(EnrolmentError, match="the limit is 2048 bytes"):
        run(setting, big)


def test_recording_one_result_twice_writes_one_row(setting):
    intake, learners, admin = setting
    enrolment = learners[0].enrolments.get()
    course = intake.programme.groups.get().courses.get(code="NC101")
    day = datetime.date.today()
    _, created = result_record(enrolment=enrolment, course=course, score=Decimal("77"), assessed_on=day, actor=admin)
    _, again = result_record(enrolment=enrolment, course=course, score=Decimal("77"), assessed_on=day, actor=admin)
    assert (created, again) == (True, False)
    with pytest.raises(EnrolmentError, match="different result"):
        result_record(enrolment=enrolment, course=course, score=Decimal("78"), assessed_on=day, actor=admin)
    with pytest.raises(EnrolmentError, match="outside"):
        result_record(enrolment=enrolment, course=course, score=Decimal("101"), assessed_on=day, actor=admin)
    assert CourseResult.objects.count() == 1


def test_a_completed_learner_reads_as_recorded_but_takes_no_new_results(setting):
    run(setting, HEADER + f"worker0@baic.example,NC101,80,{YESTERDAY}\n")
    Enrolment.objects.filter(learner__user__email="worker0@baic.example").update(status=S.COMPLETED)
    again = run(setting, HEADER + f"worker0@baic.example,NC101,80,{YESTERDAY}\n")
    assert (again.ok, again.unchanged) == (True, 1)
    new = run(setting, HEADER + f"worker0@baic.example,NC102,80,{YESTERDAY}\n")
    assert "has completed the programme" in new.errors[0].message
