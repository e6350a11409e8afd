"""The learners a results import completes are completed in batches (issue 7): the programme
audits read set-wise, the completions, their history rows, the certificate requests they open,
the audit events and the emails are written in bulk, and the result is exactly what completing
them one at a time writes."""

from __future__ import annotations

import re

import pytest
from django.core.management import call_command
from django.db import connection, transaction

from certificates.models import CertificateRequest, RequestStatusChange
from creditbank import services as creditbank_services
from creditbank.models import LedgerEntry
from enrolment.models import Enrolment, EnrolmentStatus, EnrolmentStatusChange
from ouc_portal.audit.models import AuditEvent
from ouc_portal.outbox.models import OutboxTask
from tests.creditbank.test_results_import_batch import Setting

pytestmark = pytest.mark.django_db
S = EnrolmentStatus


def _one_at_a_time(enrolment_ids: list[int]) -> None:
    """The completion path before the batch: each possible finisher audited and completed alone."""
    from creditbank.services import _complete_if_audit_done, _may_be_complete

    studying = list(Enrolment.objects.filter(pk__in=sorted(enrolment_ids), status=S.ACTIVE).order_by("pk"))
    for enrolment in _may_be_complete(studying):
        _complete_if_audit_done(enrolment)


class Rollback(Exception):
    pass


def snapshot(setting: Setting) -> dict:
    """What the import wrote, by natural keys (emails, codes) rather than ids, which differ
    between two runs of the same file."""
    email = {e.pk: e.learner.user.email for e in Enrolment.objects.filter(intake=setting.intake).select_related("learner__user")}
    request_email = {r.pk: r.learner.user.email for r in CertificateRequest.objects.select_related("learner__user")}
    change_email = {c.pk: email.get(c.enrolment_id) for c in EnrolmentStatusChange.objects.all()}

    def subject(event: AuditEvent):
        if event.object_type == "enrolment.enrolment":
            return email.get(int(event.object_id))
        if event.object_type == "certificates.certificaterequest":
            return request_email.get(int(event.object_id))
        return event.object_id

    return {
        "enrolments": sorted((email[e.pk], e.status) for e in Enrolment.objects.filter(intake=setting.intake)),
        "history": sorted(
            (email[c.enrolment_id], c.from_status, c.to_status, c.actor_id, c.reason)
            for c in EnrolmentStatusChange.objects.filter(enrolment__intake=setting.intake)
        ),
        "requests": sorted(
            (request_email[r.pk], r.type.code, r.status, email.get(r.enrolment_id), r.batch_id)
            for r in CertificateRequest.objects.select_related("type")
        ),
        "request_history": sorted(
            (request_email[c.request_id], c.from_status, c.to_status, c.actor.email if c.actor else None, c.reason)
            for c in RequestStatusChange.objects.select_related("actor")
        ),
        "events": sorted(
            (e.action, e.actor.email if e.actor else None, e.object_type, subject(e), e.summary, e.ip, e.path)
            for e in AuditEvent.objects.select_related("actor")
        ),
        "outbox": sorted(
            (row.task, tuple(change_email.get(a, a) for a in row.args), tuple(sorted(row.kwargs.items())))
            for row in OutboxTask.objects.all()
        ),
        "ledger": sorted(
            (e.account.learner.user.email, e.seq, e.kind, e.amount, e.balance_after, e.reason)
            for e in LedgerEntry.objects.select_related("account__learner__user")
        ),
    }


def run_and_roll_back(setting: Setting, data: bytes) -> dict:
    try:
        with transaction.atomic():
            report = setting.run(data)
            assert report.ok, report.errors
            call_command("verify_ledger")
            taken = snapshot(setting)
            raise Rollback
    except Rollback:
        pass
    return taken


def test_the_batch_writes_what_completing_one_learner_at_a_time_writes(monkeypatch, capsys):
    setting = Setting(learners=7, courses=3, with_certificate=True, prefix="same")
    # Two learners already hold an open request (one stays open, nothing new for them), one fails
    # a course, one has only part of the programme in the file.
    passer, failer, partial = setting.learners[4:]
    rows = [
        f"{learner.user.email},{course.code},{score},{day}"
        for learner in setting.learners
        for course, score, day in zip(setting.courses, (91, 75, 60), ("2025-01-02", "2025-01-03", "2025-01-04"), strict=True)
        if not (learner == partial and course == setting.courses[2])
    ]
    rows = [r.replace(",60,", ",20,") if r.startswith(failer.user.email) else r for r in rows]
    from certificates.models import CertificateType

    kind = CertificateType.objects.get()
    for learner in setting.learners[:2]:
        CertificateRequest.objects.create(learner=learner, type=kind, enrolment=None)
    data = ("learner_email,course_code,score,assessed_on\n" + "\n".join(rows) + "\n").encode()

    batch = run_and_roll_back(setting, data)
    monkeypatch.setattr(creditbank_services, "_complete_many", _one_at_a_time)
    alone = run_and_roll_back(setting, data)

    assert batch == alone
    completed = {e for e, status in batch["enrolments"] if status == S.COMPLETED}
    assert completed == {learner.user.email for learner in setting.learners[:5]}
    assert len(batch["requests"]) == 2 + 3  # the two open ones, and one for each other finisher
    assert sum(1 for e in batch["events"] if e[0] == "enrolment.enrolment.status") == 5
    assert sum(1 for e in batch["events"] if e[0] == "certificates.certificaterequest.status") == 3
    assert len(batch["outbox"]) == 5


INSERT = re.compile(r'INSERT INTO (?P<table>\S+) \((?P<columns>[^)]*)\)')


class Statements:
    """Counts the statements sent, a bulk insert once: where the backend's cap on parameters a
    statement (SQLite's 999; PostgreSQL takes 65,535) splits one ``bulk_create`` into several,
    an insert that follows a full one into the same table and columns is its continuation, not
    another statement of the import's. An insert per row never fills a statement, so it counts."""

    def __init__(self) -> None:
        self.count = 0
        self._continues: str | None = None

    def __call__(self, execute, sql, params, many, context):
        insert = INSERT.match(sql)
        if not (insert and insert.group(0) == self._continues):
            self.count += 1
        self._continues = None
        if insert and params and not many:
            columns = insert.group("columns").split(",")
            rows = len(params) // len(columns)
            # Django's own batch size for these columns: the rows one statement takes at most.
            if rows == connection.ops.bulk_batch_size(columns, range(rows + 1)):
                self._continues = insert.group(0)
        return execute(sql, params, many, context)


def completion_statements(learners: int) -> int:
    """Statements of an import of ``learners`` learners' every result, all of them completing."""
    setting = Setting(learners=learners, courses=3, with_certificate=True, prefix=f"n{learners}-")
    statements = Statements()
    with connection.execute_wrapper(statements):
        report = setting.run(setting.csv())
    assert report.ok and report.created == 3 * learners
    assert Enrolment.objects.filter(intake=setting.intake, status=S.COMPLETED).count() == learners
    assert CertificateRequest.objects.filter(learner__in=setting.learners).count() == learners
    return statements.count


def test_completing_more_learners_in_one_file_costs_no_more_statements():
    assert completion_statements(3) == completion_statements(30)


def test_completing_the_same_enrolments_again_writes_nothing_twice():
    setting = Setting(learners=2, courses=1, with_certificate=True, prefix="twice")
    data = setting.csv()
    assert setting.run(data).created == 2
    before = snapshot(setting)
    creditbank_services._complete_many([e.pk for e in Enrolment.objects.filter(intake=setting.intake)])
    assert setting.run(data).unchanged == 2
    assert snapshot(setting) == before


def test_the_completion_emails_go_out_once_after_the_commit(eager, mailoutbox, django_capture_on_commit_callbacks):
    setting = Setting(learners=3, courses=1, prefix="mail")
    with django_capture_on_commit_callbacks(execute=True):
        assert setting.run(setting.csv()).created == 3
    rows = list(OutboxTask.objects.filter(task="enrolment.tasks.send_enrolment_status_email"))
    assert len(rows) == 3
    assert all(row.published_at is not None and row.publish_attempts == 1 and row.last_error == "" for row in rows)
    assert sorted(m.to[0] for m in mailoutbox) == sorted(learner.user.email for learner in setting.learners)


def test_a_broker_lost_halfway_through_the_emails_leaves_the_rest_waiting_with_the_reason(
    django_capture_on_commit_callbacks,
):
    from unittest import mock

    from kombu.exceptions import OperationalError as BrokerError

    down = BrokerError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")
    setting = Setting(learners=3, courses=1, prefix="down")
    with (
        mock.patch("celery.app.task.Task.apply_async", side_effect=[None, down, down, down]) as handed,
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert setting.run(setting.csv()).created == 3
    assert handed.call_count == 4  # the first, then the second and the third through ``publish``
    first, *rest = OutboxTask.objects.filter(task="enrolment.tasks.send_enrolment_status_email").order_by("pk")
    assert first.published_at is not None and first.publish_attempts == 1
    for row in rest:
        assert row.published_at is None and row.publish_attempts == 1 and "Connection refused" in row.last_error


def audit_lines(audit) -> list:
    return [
        (
            g.group.pk, g.required, g.earned, g.exempted, g.transferred, g.missing, [t.pk for t in g.transfers],
            [(c.course.pk, c.state, c.credits, c.result and c.result.pk, c.entry_seqs, c.rule_label) for c in g.courses],
        )
        for g in audit.groups
    ]


def test_audits_read_together_are_the_audits_read_one_at_a_time(world, accredited, cast):
    from creditbank import services
    from creditbank.audit import programme_audit, programme_audits
    from enrolment.results import results_import_csv

    services.conversion_apply(
        outcome=accredited, enrolment=world.enrolment, course=world.cnc, rule=world.rule, officer=world.officer
    )
    email = world.learner.user.email
    rows = "".join(f"{email},{code},{score},2025-03-0{day}\n" for day, (code, score) in enumerate((("ME101", 70), ("MT204", 40)), 1))
    assert results_import_csv(intake=world.enrolment.intake, data=("learner_email,course_code,score,assessed_on\n" + rows).encode(), actor=cast.school_admin).ok
    others = [factories_enrolment(world) for _ in range(2)]
    enrolments = [world.enrolment, *others]
    alone = {e.pk: programme_audit(e) for e in enrolments}
    together = programme_audits(enrolments)
    assert {pk: audit_lines(a) for pk, a in together.items()} == {pk: audit_lines(a) for pk, a in alone.items()}
    assert any(c[4] for g in audit_lines(together[world.enrolment.pk]) for c in g[-1])  # entries are cited
    numbers = programme_audits(enrolments, provenance=False)
    for pk, audit in alone.items():
        assert (numbers[pk].complete, numbers[pk].missing, numbers[pk].earned, numbers[pk].exempted) == (
            audit.complete, audit.missing, audit.earned, audit.exempted,
        )


def factories_enrolment(world) -> Enrolment:
    from tests import factories

    learner = factories.LearnerFactory()
    factories.credit_account(learner)
    return Enrolment.objects.create(learner=learner, intake=world.enrolment.intake, programme=world.enrolment.programme, status=S.ACTIVE)
