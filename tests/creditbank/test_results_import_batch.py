"""A results CSV import deposits its credits in bulk: the same ledger as one posting at a time,
in a number of queries that does not grow with the rows of the file (issue 7)."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from certificates.models import CertificateRequest
from creditbank import ledger
from creditbank.models import CreditAccount, EntryKind, LearningOutcome, LedgerEntry, OutcomeKind
from enrolment.models import CourseResult, Enrolment, EnrolmentStatus, EnrolmentStatusChange
from enrolment.results import results_import_csv
from tests import factories

pytestmark = pytest.mark.django_db
S = EnrolmentStatus
YESTERDAY = (datetime.date.today() - datetime.timedelta(days=1)).isoformat()
HEADER = "learner_email,course_code,score,assessed_on\n"


class Setting:
    """An intake of studying learners in a programme of ``courses`` compulsory courses."""

    def __init__(
        self, *, learners: int, courses: int, with_certificate: bool = False, prefix: str = "batch"
    ) -> None:
        programme = factories.ProgrammeFactory()
        group = factories.RequirementGroupFactory(programme=programme)
        self.courses = [factories.add_course(group, code=f"{prefix[:2].upper()}{i:03d}") for i in range(courses)]
        if with_certificate:
            factories.CertificateTypeFactory(programme=programme, school=programme.school)
        self.intake = factories.IntakeFactory(programme=programme, capacity=learners + 1)
        self.learners = [factories.LearnerFactory(user__email=f"{prefix}{i}@baic.example") for i in range(learners)]
        for learner in self.learners:
            factories.credit_account(learner)
            Enrolment.objects.create(learner=learner, intake=self.intake, programme=programme, status=S.ACTIVE)
        self.admin = factories.UserFactory()

    def csv(self, *, courses: int | None = None, score: int = 80) -> bytes:
        """Every learner's result in the first ``courses`` courses (all by default)."""
        lines = [
            f"{learner.user.email},{course.code},{score},{YESTERDAY}\n"
            for learner in self.learners
            for course in self.courses[: courses if courses is not None else len(self.courses)]
        ]
        return (HEADER + "".join(lines)).encode("utf-8")

    def run(self, data: bytes):
        return results_import_csv(intake=self.intake, data=data, actor=self.admin)


def everything() -> dict:
    """What an import may write, to compare before and after."""
    return {
        "results": list(CourseResult.objects.order_by("pk").values_list("pk", "score", "assessed_on")),
        "outcomes": list(LearningOutcome.objects.order_by("pk").values_list("pk", "course_result_id")),
        "entries": list(LedgerEntry.objects.order_by("pk").values_list("pk", "seq", "balance_after", "hash")),
        "enrolments": list(Enrolment.objects.order_by("pk").values_list("pk", "status")),
        "history": EnrolmentStatusChange.objects.count(),
        "requests": CertificateRequest.objects.count(),
    }


def import_queries(rows_per_learner: int) -> tuple[int, int]:
    """(statements other than INSERT, INSERT statements) of an import of 5 learners' rows."""
    # One course more than the file holds, so nobody completes and both imports do the same
    # per-enrolment work: what differs is only the number of rows.
    setting = Setting(learners=5, courses=41, prefix=f"q{rows_per_learner}-")
    with CaptureQueriesContext(connection) as queries:
        report = setting.run(setting.csv(courses=rows_per_learner))
    assert report.ok and report.created == 5 * rows_per_learner
    assert LedgerEntry.objects.filter(account__learner__in=setting.learners).count() == 5 * rows_per_learner
    inserts = sum(1 for q in queries.captured_queries if q["sql"].lstrip().upper().startswith("INSERT"))
    return len(queries) - inserts, inserts


def test_an_import_pays_the_same_queries_for_10_rows_as_for_200():
    small, small_inserts = import_queries(2)  # 10 rows
    large, large_inserts = import_queries(40)  # 200 rows
    assert large == small, f"10 rows took {small} queries besides inserts, 200 rows {large}"
    # Inserts are bulk: one statement per table (results, outcomes, entries) and chunk. SQLite's
    # 999-parameter limit cuts 200 rows into a few chunks; PostgreSQL takes 2,000 rows at once.
    assert small_inserts == 3
    assert large_inserts == 3 if connection.vendor == "postgresql" else large_inserts <= 12


def test_a_big_import_leaves_every_ledger_chain_intact(capsys):
    setting = Setting(learners=30, courses=12)
    # A learner whose account already has an entry: the batch continues that chain.
    first = setting.learners[0]
    with transaction.atomic():
        outcome = factories.LearningOutcomeFactory(account=CreditAccount.objects.get(learner=first))
        ledger.post(
            account=outcome.account, kind=EntryKind.ACCREDITATION, amount=Decimal("3"), outcome=outcome,
            key="before-the-import", reason="accredited before",
        )
    report = setting.run(setting.csv())
    assert report.ok and report.created == 360
    assert LedgerEntry.objects.filter(kind=EntryKind.DEPOSIT).count() == 360
    call_command("verify_ledger")
    assert "every ledger chain is intact" in capsys.readouterr().out
    chain = list(LedgerEntry.objects.filter(account__learner=first).order_by("seq"))
    assert [e.seq for e in chain] == list(range(1, 14))
    assert chain[1].prev_hash == chain[0].hash and chain[-1].balance_after == Decimal("3") + 12 * Decimal("4")


def test_a_learner_with_two_results_in_one_file_gets_two_chained_entries():
    setting = Setting(learners=1, courses=3)
    report = setting.run(setting.csv(courses=2, score=75))
    assert report.ok and report.created == 2
    first, second = LedgerEntry.objects.filter(account__learner=setting.learners[0]).order_by("seq")
    assert (first.seq, second.seq) == (1, 2)
    assert first.prev_hash == ledger.GENESIS and second.prev_hash == first.hash
    assert (first.balance_after, second.balance_after) == (Decimal("4.0"), Decimal("8.0"))
    assert {first.idempotency_key, second.idempotency_key} == {
        f"result:{r.pk}" for r in CourseResult.objects.all()
    }
    assert ledger.verify_account(first.account) is None
    outcome = first.outcome
    assert (outcome.kind, outcome.status, outcome.grade) == (OutcomeKind.COURSE_RESULT, "accredited", "C")
    assert outcome.course_result.enrolment.learner == setting.learners[0]
    assert first.reason == f"Passed {outcome.course_result.course.code} with 75.00"


def test_failed_results_are_stored_but_deposit_nothing():
    setting = Setting(learners=2, courses=2)
    report = setting.run(setting.csv(score=45))
    assert report.ok and report.created == 4
    assert not LearningOutcome.objects.exists() and not LedgerEntry.objects.exists()


def test_the_same_file_again_changes_nothing():
    setting = Setting(learners=4, courses=3, with_certificate=True)
    data = setting.csv(courses=2)
    assert setting.run(data).created == 8
    before = everything()
    again = setting.run(data)
    assert (again.ok, again.created, again.unchanged) == (True, 0, 8)
    assert everything() == before


def test_a_learner_who_passes_everything_completes_once_and_gets_one_request():
    setting = Setting(learners=3, courses=4, with_certificate=True)
    data = setting.csv()
    report = setting.run(data)
    assert report.ok and report.created == 12
    for learner in setting.learners:
        enrolment = Enrolment.objects.get(learner=learner)
        assert enrolment.status == S.COMPLETED
        assert enrolment.history.filter(to_status=S.COMPLETED).count() == 1
        assert CertificateRequest.objects.filter(learner=learner).count() == 1
    before = everything()
    assert setting.run(data).unchanged == 12
    assert everything() == before


def test_a_bad_row_anywhere_writes_nothing():
    setting = Setting(learners=20, courses=5)
    data = setting.csv() + f"ghost@baic.example,BA000,80,{YESTERDAY}\n".encode()
    before = everything()
    report = setting.run(data)
    assert not report.ok and "unknown learner ghost@baic.example" in report.errors[0].message
    assert everything() == before


def test_a_conversion_counts_toward_completion_in_an_import(world, accredited, cast):
    from creditbank import services

    services.conversion_apply(
        outcome=accredited, enrolment=world.enrolment, course=world.cnc, rule=world.rule, officer=world.officer
    )  # NC201 exempted
    email = world.learner.user.email
    rows = "".join(f"{email},{code},70,{YESTERDAY}\n" for code in ("ME101", "MT204", "GE101"))
    report = results_import_csv(intake=world.enrolment.intake, data=(HEADER + rows).encode(), actor=cast.school_admin)
    assert report.ok and report.created == 3
    world.enrolment.refresh_from_db()
    assert world.enrolment.status == S.COMPLETED
    assert world.enrolment.history.filter(to_status=S.COMPLETED).count() == 1


def test_only_learners_who_may_have_finished_are_audited(monkeypatch):
    from creditbank import audit

    audited = []
    real = audit.programme_audit
    monkeypatch.setattr(audit, "programme_audit", lambda enrolment, **kw: audited.append(enrolment.pk) or real(enrolment, **kw))
    setting = Setting(learners=3, courses=2)
    passer, failer, partial = setting.learners
    a, b = (c.code for c in setting.courses)
    rows = [
        f"{passer.user.email},{a},90,{YESTERDAY}", f"{passer.user.email},{b},90,{YESTERDAY}",
        f"{failer.user.email},{a},90,{YESTERDAY}", f"{failer.user.email},{b},20,{YESTERDAY}",
        f"{partial.user.email},{a},90,{YESTERDAY}",
    ]
    assert setting.run((HEADER + "\n".join(rows) + "\n").encode()).created == 5
    assert audited == [Enrolment.objects.get(learner=passer).pk]
    statuses = dict(Enrolment.objects.values_list("learner_id", "status"))
    assert statuses == {passer.pk: S.COMPLETED, failer.pk: S.ACTIVE, partial.pk: S.ACTIVE}
