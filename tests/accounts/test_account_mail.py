"""allauth's emails (sign-up confirmation, password reset, …) go through the outbox (issue 8):
rendered in the request, sent by a task with the mail retry policy, the row's copy of the message
(it holds the confirmation key or reset link) blanked once sent and never shown or logged.

The round trip on the real stack, SMTP down then back, is in tests/operations/test_email_down.py;
here the task runs in this process."""

from __future__ import annotations

import importlib
import logging
import re
import smtplib
from collections.abc import Iterator
from types import SimpleNamespace

import pytest
from allauth.account.models import EmailAddress
from django.apps import apps
from django.core.mail.backends.base import BaseEmailBackend
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from ouc_portal.accounts.models import User
from ouc_portal.accounts.tasks import send_rendered_email
from ouc_portal.celery import app
from ouc_portal.outbox.models import OutboxTask
from ouc_portal.outbox.services import send_again
from tests import factories

PASSWORD = "Granite-Lathe-7319-spindle"
CONFIRM_LINK = re.compile(r"https?://[^\s]+(/accounts/confirm-email/[^/\s]+/)")
RESET_LINK = re.compile(r"https?://[^\s]+(/accounts/password/reset/key/[^\s]+/)")
TASK = "accounts.send_rendered_email"


class SmtpDownBackend(BaseEmailBackend):
    """An SMTP server that is away."""

    def send_messages(self, email_messages):
        raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")


@pytest.fixture
def queued() -> Iterator[None]:
    """Celery not eager, as with a worker: the adapter queues after the commit; nothing publishes
    here (the callbacks are not run), so each test runs the task itself."""
    previous = app.conf.task_always_eager
    app.conf.task_always_eager = False
    yield
    app.conf.task_always_eager = previous


def english() -> Client:
    return Client(HTTP_ACCEPT_LANGUAGE="en")


def sign_up(client: Client, email: str):
    return client.post(reverse("account_signup"), {"email": email, "password1": PASSWORD, "password2": PASSWORD})


def run(row: OutboxTask) -> str:
    """What a worker does with the row's task: the same id, so its reports land on the row."""
    return send_rendered_email.apply(args=row.args, kwargs=row.kwargs, task_id=row.celery_id).get()


def confirms(client: Client, body: str, user: User) -> bool:
    path = CONFIRM_LINK.search(body).group(1)
    assert client.post(path).status_code == 302
    return EmailAddress.objects.get(user=user).verified


@pytest.mark.django_db
def test_with_eager_celery_the_confirmation_is_sent_in_the_request_and_the_row_forgets_it(
    mailoutbox, eager
):
    client = english()
    response = sign_up(client, "zhou.min@example.org")
    assert response.status_code == 302
    user = User.objects.get(email="zhou.min@example.org")

    [message] = mailoutbox
    assert message.to == ["zhou.min@example.org"]
    assert message.subject == "[OUC] Please Confirm Your Email Address"
    # Rendered in the request: its links are the request's site.
    assert CONFIRM_LINK.search(message.body).group(0).startswith("http://testserver/")
    [row] = OutboxTask.objects.filter(task=TASK)
    assert row.sensitive and row.done_at is not None and row.published_at is not None
    assert row.args == [] and row.kwargs == {}
    assert confirms(client, message.body, user)


@pytest.mark.django_db
def test_queued_confirmation_waits_for_a_worker_then_is_sent_once_and_blanked(
    mailoutbox, queued, django_capture_on_commit_callbacks, caplog
):
    client = english()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = sign_up(client, "qian.yu@example.org")
    assert response.status_code == 302
    assert response["Location"] == reverse("account_email_verification_sent")
    user = User.objects.get(email="qian.yu@example.org")
    assert callbacks and mailoutbox == []  # nothing sent in the request
    [row] = OutboxTask.objects.filter(task=TASK)
    assert row.sensitive and row.published_at is None
    [message] = row.args
    assert message["to"] == ["qian.yu@example.org"]
    link = CONFIRM_LINK.search(message["body"]).group(1)
    # The secret stays out of what staff and the audit log see of the row.
    assert link not in str(row) and "qian.yu" not in str(row)

    with caplog.at_level(logging.DEBUG):
        assert run(row) == "sent"
    [sent] = mailoutbox
    assert sent.subject == message["subject"] and sent.to == ["qian.yu@example.org"]
    assert link in sent.body
    assert link not in caplog.text and message["body"] not in caplog.text
    row.refresh_from_db()
    assert row.done_at is not None and row.args == [] and row.kwargs == {}

    # The broker delivering the same message again (a worker lost before acknowledging) sends
    # nothing more.
    assert send_rendered_email.apply(args=[message], task_id=row.celery_id).get() == "already-sent"
    assert len(mailoutbox) == 1
    assert confirms(client, sent.body, user)


@pytest.mark.django_db
def test_queued_password_reset_is_sent_by_the_task_and_its_link_sets_the_password(
    mailoutbox, queued, django_capture_on_commit_callbacks
):
    user = factories.UserFactory(email="sun.wei@example.org", password=PASSWORD)
    client = english()
    with django_capture_on_commit_callbacks(execute=False):
        response = client.post(reverse("account_reset_password"), {"email": "sun.wei@example.org"})
    assert response.status_code == 302 and mailoutbox == []
    [row] = OutboxTask.objects.filter(task=TASK)
    assert row.sensitive

    assert run(row) == "sent"
    [sent] = mailoutbox
    assert sent.to == ["sun.wei@example.org"]
    row.refresh_from_db()
    assert row.args == [] and row.done_at is not None

    response = client.get(RESET_LINK.search(sent.body).group(1), follow=True)
    assert response.status_code == 200
    new_password = "Another-Strong-Pass-4471"
    response = client.post(response.redirect_chain[-1][0], {"password1": new_password, "password2": new_password})
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password(new_password)


@pytest.mark.django_db
def test_a_task_that_gives_up_keeps_its_message_for_sending_again(
    mailoutbox, queued, settings, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        assert sign_up(english(), "li.hua@example.org").status_code == 302
    [row] = OutboxTask.objects.filter(task=TASK)
    settings.EMAIL_BACKEND = f"{__name__}.SmtpDownBackend"
    app.conf.task_eager_propagates = False
    try:  # its last retry used: this failure is for good
        result = send_rendered_email.apply(args=row.args, task_id=row.celery_id, retries=send_rendered_email.max_retries)
    finally:
        app.conf.task_eager_propagates = True
    assert result.failed() and mailoutbox == []
    row.refresh_from_db()
    # Failed for good: the message is kept, for staff to send again.
    assert row.failed_at is not None and row.done_at is None and row.args and row.args[0]["to"]


@pytest.mark.django_db
def test_with_eager_celery_and_smtp_down_the_sign_up_still_succeeds(mailoutbox, eager, settings):
    settings.EMAIL_BACKEND = f"{__name__}.SmtpDownBackend"
    response = sign_up(english(), "he.jun@example.org")
    assert response.status_code == 302
    assert response["Location"] == reverse("account_email_verification_sent")
    assert User.objects.filter(email="he.jun@example.org").exists() and mailoutbox == []
    [row] = OutboxTask.objects.filter(task=TASK)
    # No worker to retry it: failed, its message kept, the error shown, for staff to send again.
    assert row.done_at is None and row.failed_at is not None and row.args
    assert row.failure == "SMTPServerDisconnected: Connection unexpectedly closed"

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert send_again(row) is True
    [sent] = mailoutbox
    assert sent.to == ["he.jun@example.org"]
    row.refresh_from_db()
    assert row.failed_at is None and row.done_at is not None and row.args == []


@pytest.mark.django_db
def test_the_admin_never_shows_a_secret_rows_arguments(cast, queued, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        sign_up(english(), "ma.li@example.org")
    [row] = OutboxTask.objects.filter(task=TASK)
    link = CONFIRM_LINK.search(row.args[0]["body"]).group(1)
    admin = english()
    admin.force_login(cast.superuser)
    for url in (reverse("admin:outbox_outboxtask_changelist"), reverse("admin:outbox_outboxtask_change", args=[row.pk])):
        page = admin.get(url).content.decode()
        assert "hidden: an account email with its confirmation key or link" in page
        assert link not in page and "confirm-email" not in page


# --- Rows handed over before the outbox recorded "done" (migration 0004) ----------------------


@pytest.mark.django_db
def test_the_migration_marks_rows_handed_over_before_done_was_recorded_done():
    migration = importlib.import_module("ouc_portal.outbox.migrations.0004_handed_over_rows_done")
    now = timezone.now()
    an_hour_ago = now - timezone.timedelta(hours=1)
    handed_over = OutboxTask.objects.create(task="x", published_at=an_hour_ago)
    waiting = OutboxTask.objects.create(task="x")
    failed = OutboxTask.objects.create(task="x", published_at=an_hour_ago, failed_at=now, failure="E")
    retrying = OutboxTask.objects.create(task="x", published_at=an_hour_ago, retried_at=now, retry_error="E")
    done = OutboxTask.objects.create(task="x", published_at=an_hour_ago, done_at=now)

    migration.mark_handed_over_done(apps, SimpleNamespace(connection=connection))

    rows = {row.pk: row for row in OutboxTask.objects.all()}
    assert rows[handed_over.pk].done_at == an_hour_ago
    assert rows[waiting.pk].done_at is None
    assert rows[failed.pk].done_at is None and rows[failed.pk].failed_at == now
    assert rows[retrying.pk].done_at is None
    assert rows[done.pk].done_at == now
