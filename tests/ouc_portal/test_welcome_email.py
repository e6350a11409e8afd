"""The welcome email: queued when the sign-up commits, sent once however often the task runs."""

from __future__ import annotations

import smtplib

import pytest
from celery.exceptions import Retry
from django.urls import reverse

from ouc_portal.accounts import services
from ouc_portal.accounts.models import User
from ouc_portal.accounts.tasks import send_welcome_email

pytestmark = pytest.mark.django_db

PASSWORD = "Granite-Lathe-7319-spindle"
WELCOME_SUBJECT = "Welcome to the OUC industry schools"


def sign_up(client, email: str):
    return client.post(
        reverse("account_signup"), {"email": email, "password1": PASSWORD, "password2": PASSWORD}
    )


def welcome_messages(mailoutbox) -> list:
    return [m for m in mailoutbox if WELCOME_SUBJECT in m.subject]


def test_sign_up_sends_the_welcome_email_once_after_commit(
    client, mailoutbox, django_capture_on_commit_callbacks, eager
) -> None:
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = sign_up(client, "Sun.Li@example.org")
    assert response.status_code == 302
    user = User.objects.get()
    # Nothing is sent while the sign-up's transaction is open.
    assert welcome_messages(mailoutbox) == []
    assert user.welcome_sent_at is None
    assert callbacks, "the welcome email was not queued on commit"

    for callback in callbacks:
        callback()

    welcome = welcome_messages(mailoutbox)
    assert len(welcome) == 1
    assert welcome[0].to == ["sun.li@example.org"]
    assert "欢迎来到国家开放大学行业学院" in welcome[0].subject
    assert "sun.li@example.org" in welcome[0].body
    assert "Start here:" in welcome[0].body  # the English half
    user.refresh_from_db()
    assert user.welcome_sent_at is not None
    first_sent_at = user.welcome_sent_at

    # Running the task again, as a redelivered message would, sends nothing more.
    assert send_welcome_email.delay(user.pk).get() == "already-sent"
    assert send_welcome_email.apply(args=[user.pk]).get() == "already-sent"
    assert len(welcome_messages(mailoutbox)) == 1
    user.refresh_from_db()
    assert user.welcome_sent_at == first_sent_at


def test_sign_up_with_on_commit_executed_sends_one_welcome(
    client, mailoutbox, django_capture_on_commit_callbacks, eager
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        sign_up(client, "zhou.min@example.org")
    assert len(welcome_messages(mailoutbox)) == 1
    # The verification email is the other message.
    assert len(mailoutbox) == 2


def test_refused_sign_up_queues_nothing(
    client, mailoutbox, django_capture_on_commit_callbacks, eager
) -> None:
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(
            reverse("account_signup"),
            {"email": "zhou.min@example.org", "password1": PASSWORD, "password2": "other"},
        )
    assert response.status_code == 200
    assert callbacks == []
    assert mailoutbox == []


def test_task_for_a_missing_user_does_nothing(mailoutbox, eager) -> None:
    assert send_welcome_email.delay(987654).get() == "no-user"
    assert mailoutbox == []


def test_failed_send_releases_the_claim_so_a_retry_sends(monkeypatch, mailoutbox, eager) -> None:
    user = User.objects.create_user("retry.me@example.org", PASSWORD)

    def broken_send_mail(*args, **kwargs):
        raise smtplib.SMTPServerDisconnected("connection lost")

    monkeypatch.setattr("ouc_portal.accounts.tasks.send_mail", broken_send_mail)
    # A transient SMTP error is retried (with backoff) rather than failing the task for good.
    with pytest.raises(Retry) as retry:
        send_welcome_email.apply(args=[user.pk], throw=True)
    assert isinstance(retry.value.exc, smtplib.SMTPException)
    user.refresh_from_db()
    assert user.welcome_sent_at is None

    monkeypatch.undo()
    assert send_welcome_email.delay(user.pk).get() == "sent"
    assert len(welcome_messages(mailoutbox)) == 1


def test_welcome_claim_is_compare_and_set() -> None:
    user = User.objects.create_user("claim@example.org", PASSWORD)
    assert services.welcome_claim(user_id=user.pk) is True
    assert services.welcome_claim(user_id=user.pk) is False
    services.welcome_release(user_id=user.pk)
    assert services.welcome_claim(user_id=user.pk) is True
