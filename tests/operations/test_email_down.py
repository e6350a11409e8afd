"""The mail server down (issue 8): an email that cannot be sent never costs a certificate or an
enrolment; it is retried, staff see it retrying or failed in the admin's queued work, and it is
delivered exactly once when the server is back, by the worker's own retries or by "send again".

On the real stack: a Celery worker sending with Django's SMTP backend to a real SMTP server of
the test's own (tests/operations/smtp_sink.py), which does not listen until the test starts it.
The worker retries with a backoff capped at one second (MAIL_RETRY_BACKOFF_MAX) so the test is
quick; how many retries it has (MAIL_MAX_RETRIES) decides whether it outlasts the outage.
At the end, stack-free checks of the outbox's bookkeeping of what a worker reports."""

from __future__ import annotations

import contextlib
import datetime
import os
import re
from collections.abc import Iterator
from types import SimpleNamespace

import pytest
from allauth.account.models import EmailAddress
from celery.signals import task_retry, task_success
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from certificates.models import Certificate, RequestStatus
from enrolment.models import Enrolment, EnrolmentStatus
from ouc_portal.accounts.models import User
from ouc_portal.audit.models import AuditEvent
from ouc_portal.celery import app
from ouc_portal.outbox.models import OutboxTask
from tests import factories
from tests.conftest import CeleryWorker, long_queue_for, start_celery_worker, use_queues, wait_for
from tests.operations.smtp_sink import SmtpSink

CERTIFICATE_EMAIL = "certificates.send_certificate_issued"
ACCOUNT_EMAIL = "accounts.send_rendered_email"
PASSWORD = "Granite-Lathe-7319-spindle"
CONFIRM_PATH = re.compile(r"https?://[^\s]+(/accounts/confirm-email/[^/\s]+/)")
RESET_PATH = re.compile(r"https?://[^\s]+(/accounts/password/reset/key/[^\s]+/)")
ENROLMENT_EMAIL = "enrolment.tasks.send_enrolment_status_email"
# Enough retries, one second apart at most, to outlast any outage these tests make.
OUTLASTS_THE_OUTAGE = 60


@contextlib.contextmanager
def mail_worker(base, queue: str, sink: SmtpSink, *, max_retries: int) -> Iterator[CeleryWorker]:
    """A worker whose mail goes to ``sink`` by SMTP; this process queues to it meanwhile."""
    long_queue = long_queue_for(queue)
    previous = app.conf.task_default_queue
    extra_env = {
        **sink.env, "MAIL_RETRY_BACKOFF": "1", "MAIL_RETRY_BACKOFF_MAX": "1", "MAIL_MAX_RETRIES": str(max_retries)
    }  # fmt: skip
    with start_celery_worker(
        [queue, long_queue], hostname=f"{queue}@pytest", base=base, long_queue=long_queue, extra_env=extra_env
    ) as worker:
        use_queues(app, queue, long_queue)
        try:
            yield worker
        finally:
            use_queues(app, previous, long_queue_for(previous))


@pytest.fixture(scope="module")
def module_sink() -> Iterator[SmtpSink]:
    sink = SmtpSink()
    yield sink
    sink.stop()


@pytest.fixture
def sink(module_sink: SmtpSink) -> Iterator[SmtpSink]:
    """The SMTP server, down when the test begins (nothing listens on its port)."""
    module_sink.stop()
    module_sink.clear()
    yield module_sink
    module_sink.stop()


@pytest.fixture(scope="module")
def patient_worker(django_db_setup, celery_test_queue, tmp_path_factory, module_sink) -> Iterator[CeleryWorker]:
    """A worker whose mail tasks retry for longer than the tests keep the server down."""
    with mail_worker(
        tmp_path_factory.mktemp("mail-worker"), f"{celery_test_queue}-mail", module_sink,
        max_retries=OUTLASTS_THE_OUTAGE,
    ) as worker:  # fmt: skip
        yield worker


def client_of(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def outbox_row(task: str, pk: int) -> OutboxTask | None:
    return OutboxTask.objects.filter(task=task, args=[pk]).first()


def approve_and_issue(cast, worker: CeleryWorker) -> Certificate:
    """A reviewer approves a completed request; the worker issues its certificate."""
    cert_type = factories.CertificateTypeFactory(school=cast.school, association=cast.association)
    request = factories.completed_request(learner=cast.learner.learner, cert_type=cert_type)
    response = client_of(cast.reviewer).post(
        reverse("review:request", args=[request.public_id]), {"action": "approve"}
    )
    assert response.status_code == 302

    def issued() -> Certificate | None:
        request.refresh_from_db()
        return Certificate.objects.filter(request=request).first() if request.status == RequestStatus.ISSUED else None

    return wait_for(issued, "the certificate issued", worker)


def retried(task: str, pk: int):
    def condition() -> OutboxTask | None:
        row = outbox_row(task, pk)
        return row if row is not None and row.retries >= 1 else None

    return condition


def done(task: str, pk: int):
    def condition() -> OutboxTask | None:
        row = outbox_row(task, pk)
        return row if row is not None and row.done_at is not None else None

    return condition


def state(row: OutboxTask) -> str:
    with translation.override("en"):
        return str(row.state)


def changelist(client: Client, state: str):
    response = client.get(reverse("admin:outbox_outboxtask_changelist"), {"state": state})
    assert response.status_code == 200
    return list(response.context["cl"].result_list), response.content.decode()


@pytest.mark.needs_services
@pytest.mark.django_db(transaction=True)
def test_a_certificate_approved_while_smtp_is_down_is_issued_and_its_email_follows_once(
    cast, settings, sink, patient_worker
):
    settings.MEDIA_ROOT = patient_worker.media_root
    certificate = approve_and_issue(cast, patient_worker)
    # Issued whatever the mail server does: the row, its signed credential and its PDF.
    assert certificate.credential and certificate.pdf
    assert (patient_worker.media_root / certificate.pdf.name).is_file()

    row = wait_for(retried(CERTIFICATE_EMAIL, certificate.pk), "the issued email retried", patient_worker)
    assert "ConnectionRefusedError" in row.retry_error
    assert row.failed_at is None and sink.received == []
    # Staff see it retrying, with the error, among the queued work.
    rows, page = changelist(client_of(cast.superuser), "retrying")
    assert row in rows
    assert "Retrying" in page and "ConnectionRefusedError" in page

    sink.start()
    row = wait_for(done(CERTIFICATE_EMAIL, certificate.pk), "the issued email sent", patient_worker)
    assert row.failed_at is None and state(row) == "Done"
    [received] = sink.received
    assert received.recipients == [cast.learner.email]
    assert received.message["To"] == cast.learner.email
    assert received.message["Subject"] == f"Your certificate {certificate.serial} is issued"
    assert certificate.verification_code in received.message.get_body(("plain",)).get_content()
    assert Certificate.objects.filter(request=certificate.request).count() == 1
    assert row in changelist(client_of(cast.superuser), "done")[0]


@pytest.mark.needs_services
@pytest.mark.django_db(transaction=True)
def test_an_application_and_its_acceptance_while_smtp_is_down_are_saved_and_both_emails_follow(
    cast, sink, patient_worker
):
    intake = factories.IntakeFactory(programme__school=cast.school)
    learner = client_of(cast.learner)
    assert learner.post(reverse("enrolment:intake_apply", args=[intake.public_id])).status_code == 302
    enrolment = Enrolment.objects.get(learner=cast.learner.learner, intake=intake)
    accept = reverse(
        "manage:enrolment_detail", kwargs={"school_slug": cast.school.slug, "public_id": enrolment.public_id}
    )
    assert client_of(cast.school_admin).post(accept, {"action": "accept", "reason": ""}).status_code == 302

    # Both state changes are stored, whatever the mail server does.
    enrolment.refresh_from_db()
    assert enrolment.status == EnrolmentStatus.ACCEPTED
    changes = list(enrolment.history.order_by("at", "pk"))
    assert [c.to_status for c in changes] == [EnrolmentStatus.APPLIED, EnrolmentStatus.ACCEPTED]
    for change in changes:
        row = wait_for(retried(ENROLMENT_EMAIL, change.pk), "the status email retried", patient_worker)
        assert "ConnectionRefusedError" in row.retry_error and state(row) == "Retrying"
    assert sink.received == []

    sink.start()
    for change in changes:
        wait_for(done(ENROLMENT_EMAIL, change.pk), "the status email sent", patient_worker)
    received = sink.received
    assert [r.recipients for r in received] == [[cast.learner.email]] * 2
    with translation.override("en"):
        expected = {
            f"{intake.programme.name_en}: your application is now {status.label}"
            for status in (EnrolmentStatus.APPLIED, EnrolmentStatus.ACCEPTED)
        }
    assert {r.message["Subject"] for r in received} == expected  # one of each, none twice
    enrolment.refresh_from_db()
    assert enrolment.status == EnrolmentStatus.ACCEPTED and enrolment.history.count() == 2


@pytest.mark.needs_services
@pytest.mark.django_db(transaction=True)
def test_an_email_that_gives_up_is_marked_failed_and_staff_send_it_again_once(
    cast, settings, sink, celery_test_queue, tmp_path
):
    with mail_worker(tmp_path, f"{celery_test_queue}-mail-gives-up", sink, max_retries=1) as worker:
        settings.MEDIA_ROOT = worker.media_root
        certificate = approve_and_issue(cast, worker)

        def failed() -> OutboxTask | None:
            row = outbox_row(CERTIFICATE_EMAIL, certificate.pk)
            return row if row is not None and row.failed_at else None

        row = wait_for(failed, "the issued email marked failed", worker)
        assert row.retries == 1 and row.done_at is None and state(row) == "Failed"
        assert "ConnectionRefusedError" in row.failure
        assert sink.received == []

        superuser = client_of(cast.superuser)
        rows, page = changelist(superuser, "failed")
        assert rows == [row] and "ConnectionRefusedError" in page

        sink.start()
        admin_url = reverse("admin:outbox_outboxtask_changelist")
        response = superuser.post(
            admin_url, {"action": "send_again_action", "_selected_action": [row.pk]}, follow=True
        )
        assert "1 task sent again." in response.content.decode()
        assert AuditEvent.objects.filter(action="outbox.sent_again", object_id=str(row.pk)).count() == 1
        row = wait_for(done(CERTIFICATE_EMAIL, certificate.pk), "the email sent again", worker)
        assert row.failed_at is None and row.failure == "" and state(row) == "Done"
        [received] = sink.received
        assert received.recipients == [cast.learner.email]
        assert received.message["Subject"] == f"Your certificate {certificate.serial} is issued"

        # Sent: pressing "send again" once more sends nothing (the task is done, not failed).
        response = superuser.post(
            admin_url, {"action": "send_again_action", "_selected_action": [row.pk]}, follow=True
        )
        assert "0 tasks sent again." in response.content.decode()
        again = OutboxTask.objects.get(pk=row.pk)
        assert again.published_at == row.published_at and again.done_at == row.done_at
        assert len(sink.received) == 1

        # The certificate never changed through any of it.
        after = Certificate.objects.get(request=certificate.request)
        assert (after.pk, after.serial, after.verification_code, after.pdf.name) == (
            certificate.pk, certificate.serial, certificate.verification_code, certificate.pdf.name,
        )  # fmt: skip
        after.request.refresh_from_db()
        assert after.request.status == RequestStatus.ISSUED


def account_email(predicate):
    """The outbox row of an account email (allauth's, through the outbox) once ``predicate`` holds."""

    def condition() -> OutboxTask | None:
        row = OutboxTask.objects.filter(task=ACCOUNT_EMAIL).order_by("pk").last()
        return row if row is not None and predicate(row) else None

    return condition


def retrying_and_kept(row: OutboxTask) -> bool:
    return row.retries >= 1


def sent_and_blanked(row: OutboxTask) -> bool:
    return row.done_at is not None


def body(received) -> str:
    return received.message.get_body(("plain",)).get_content()


@pytest.mark.needs_services
@pytest.mark.django_db(transaction=True)
def test_a_sign_up_while_smtp_is_down_succeeds_and_its_confirmation_follows_and_confirms(sink, patient_worker):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    response = client.post(
        reverse("account_signup"), {"email": "zhao.lei@example.org", "password1": PASSWORD, "password2": PASSWORD}
    )
    # The request answers as ever, whatever the mail server does; the account is there.
    assert response.status_code == 302
    assert response["Location"] == reverse("account_email_verification_sent")
    user = User.objects.get(email="zhao.lei@example.org")
    assert not EmailAddress.objects.get(user=user).verified

    row = wait_for(account_email(retrying_and_kept), "the confirmation email retried", patient_worker)
    assert "ConnectionRefusedError" in row.retry_error and state(row) == "Retrying"
    assert row.sensitive and row.failed_at is None and sink.received == []
    link = CONFIRM_PATH.search(row.args[0]["body"]).group(1)

    sink.start()
    row = wait_for(account_email(sent_and_blanked), "the confirmation email sent", patient_worker)
    # Sent: the outbox forgets the message and its key.
    assert row.args == [] and row.kwargs == {} and state(row) == "Done"
    # The confirmation, once (the welcome email, the portal's own, follows on its own row).
    [received] = [r for r in sink.received if "Confirm" in r.message["Subject"]]
    assert received.recipients == ["zhao.lei@example.org"]
    assert received.message["Subject"] == "[OUC] Please Confirm Your Email Address"
    assert CONFIRM_PATH.search(body(received)).group(1) == link
    # Never in the worker's log.
    assert link not in patient_worker.log()

    # The link in the email confirms the address.
    assert client.post(link).status_code == 302
    assert EmailAddress.objects.get(user=user).verified


@pytest.mark.needs_services
@pytest.mark.django_db(transaction=True)
def test_a_password_reset_while_smtp_is_down_is_answered_and_its_link_follows_and_works(sink, patient_worker):
    user = factories.UserFactory(email="lin.tao@example.org", password=PASSWORD)
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    response = client.post(reverse("account_reset_password"), {"email": "lin.tao@example.org"})
    assert response.status_code == 302

    row = wait_for(account_email(retrying_and_kept), "the reset email retried", patient_worker)
    assert "ConnectionRefusedError" in row.retry_error and sink.received == []

    sink.start()
    row = wait_for(account_email(sent_and_blanked), "the reset email sent", patient_worker)
    assert row.args == []
    [received] = sink.received
    assert received.recipients == ["lin.tao@example.org"]
    link = RESET_PATH.search(body(received)).group(1)
    assert link not in patient_worker.log()

    response = client.get(link, follow=True)
    assert response.status_code == 200
    new_password = "Another-Strong-Pass-4471"
    response = client.post(response.redirect_chain[-1][0], {"password1": new_password, "password2": new_password})
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password(new_password)


# --- The outbox's bookkeeping of what the worker reports, without the stack --------------------


@pytest.fixture
def mail_row(db, django_capture_on_commit_callbacks) -> OutboxTask:
    """An outbox row of a certificate email, handed to a worker (nothing runs it here)."""
    from certificates.tasks import send_certificate_issued
    from ouc_portal.outbox.services import enqueue

    with django_capture_on_commit_callbacks(execute=False):
        row = enqueue(send_certificate_issued, 41)
    OutboxTask.objects.filter(pk=row.pk).update(published_at=timezone.now())
    row.refresh_from_db()
    return row


def test_the_workers_reports_move_a_row_through_retrying_to_done(mail_row, cast):
    from celery.exceptions import Retry

    from certificates.tasks import send_certificate_issued

    def report_retry(task_id: str) -> None:
        task_retry.send(sender=send_certificate_issued, request=SimpleNamespace(id=task_id),
                        reason=Retry(exc=ConnectionRefusedError(111, "Connection refused")))  # fmt: skip

    report_retry(mail_row.celery_id)
    report_retry(mail_row.celery_id)
    for other in ("3f2a-celery-uuid", "outbox-x", ""):  # not an outbox row's task: nothing changes
        report_retry(other)
    mail_row.refresh_from_db()
    assert mail_row.retries == 2 and mail_row.retried_at is not None
    assert mail_row.retry_error == "ConnectionRefusedError: [Errno 111] Connection refused"
    assert state(mail_row) == "Retrying"
    superuser = client_of(cast.superuser)
    assert changelist(superuser, "retrying")[0] == [mail_row]
    assert changelist(superuser, "published")[0] == changelist(superuser, "done")[0] == []

    send_certificate_issued.push_request(id=mail_row.celery_id)
    try:
        task_success.send(sender=send_certificate_issued, result="sent")
    finally:
        send_certificate_issued.pop_request()
    mail_row.refresh_from_db()
    assert mail_row.done_at is not None and state(mail_row) == "Done"
    assert changelist(superuser, "done")[0] == [mail_row]
    assert changelist(superuser, "retrying")[0] == []


def test_send_again_sends_only_what_no_worker_holds(mail_row, eager):
    from ouc_portal.outbox.services import lost_after, send_again

    published = mail_row.published_at
    # Handed over a moment ago, retrying, or done: a worker has it; a second copy would send twice.
    assert send_again(mail_row) is False
    OutboxTask.objects.filter(pk=mail_row.pk).update(retries=1, retried_at=timezone.now(), retry_error="x")
    assert send_again(mail_row) is False
    OutboxTask.objects.filter(pk=mail_row.pk).update(done_at=timezone.now(), retry_error="")
    assert send_again(mail_row) is False
    mail_row.refresh_from_db()
    assert mail_row.published_at == published and not AuditEvent.objects.filter(action="outbox.sent_again")

    # Handed over, never done and silent for longer than the broker keeps an unacknowledged
    # task: lost with the broker, so staff may send it again.
    long_ago = timezone.now() - lost_after() - datetime.timedelta(minutes=1)
    OutboxTask.objects.filter(pk=mail_row.pk).update(done_at=None, published_at=long_ago, retried_at=long_ago)
    assert send_again(mail_row) is True  # the certificate is gone here: the task says so and ends
    mail_row.refresh_from_db()
    assert mail_row.published_at > long_ago and mail_row.retried_at is None and mail_row.done_at is not None
    assert AuditEvent.objects.filter(action="outbox.sent_again", object_id=str(mail_row.pk)).count() == 1


def test_mail_retries_keep_their_production_defaults_unless_set():
    from certificates.tasks import send_certificate_issued, send_transcript_ready
    from enrolment.tasks import send_enrolment_status_email
    from ouc_portal.accounts.tasks import send_rendered_email, send_welcome_email
    from ouc_portal.outbox.policy import MAIL_ERRORS, retry_span

    if any(name in os.environ for name in ("MAIL_MAX_RETRIES", "MAIL_RETRY_BACKOFF_MAX", "MAIL_RETRY_BACKOFF")):
        pytest.fail("this run sets MAIL_* itself: the defaults cannot be checked")
    mail_tasks = (
        send_certificate_issued, send_transcript_ready, send_enrolment_status_email, send_welcome_email,
        send_rendered_email,
    )  # fmt: skip
    assert {
        (t.retry_backoff, t.retry_backoff_max, t.max_retries, t.retry_jitter, t.autoretry_for) for t in mail_tasks
    } == {(60, 1800, 16, True, MAIL_ERRORS)}
    # An outage of hours is outlasted: three hours of trying on average, about six at most
    # (each wait is random up to its bound: Celery's full jitter).
    expected, longest = retry_span(backoff=60, backoff_max=1800, max_retries=16)
    assert (round(expected / 60), round(longest / 60)) == (180, 361)
