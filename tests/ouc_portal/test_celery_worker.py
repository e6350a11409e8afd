"""Celery round trips through Redis to a real worker process reading the test database."""

from __future__ import annotations

import pytest
import redis
from django.conf import settings
from django.urls import reverse

from enrolment.models import Learner
from ouc_portal.accounts.models import User
from ouc_portal.celery import app, ping
from tests.conftest import wait_for

pytestmark = [pytest.mark.needs_services, pytest.mark.django_db(transaction=True)]

PASSWORD = "Granite-Lathe-7319-spindle"
WELCOME_SUBJECT = "Welcome to the OUC industry schools"


def queue_length(queue: str) -> int:
    return redis.Redis.from_url(settings.REDIS_URL).llen(queue)


def test_the_test_process_queues_to_the_broker(celery_worker_process) -> None:
    # Without this the round trips below could pass by running the tasks in-process.
    assert app.conf.task_always_eager is False
    assert app.conf.task_default_queue == celery_worker_process.queue
    assert app.conf.broker_url == settings.REDIS_URL


def test_ping_is_consumed_by_the_worker(celery_worker_process) -> None:
    result = ping.delay()
    line = f"Task ouc_portal.ping[{result.id}] succeeded"
    wait_for(
        lambda: line in celery_worker_process.log(),
        "ping result in the worker log",
        celery_worker_process,
    )
    assert "'pong'" in next(x for x in celery_worker_process.log().splitlines() if line in x)
    assert queue_length(celery_worker_process.queue) == 0


def test_welcome_email_is_sent_by_the_worker_after_sign_up(
    client, mailoutbox, celery_worker_process
) -> None:
    response = client.post(
        reverse("account_signup"),
        {"email": "Worker.Test@example.org", "password1": PASSWORD, "password2": PASSWORD},
    )
    assert response.status_code == 302
    user = User.objects.get(email="worker.test@example.org")
    assert Learner.objects.filter(user=user).exists()

    def welcome_mail() -> list:
        return [
            message
            for message in celery_worker_process.mail()
            if message["To"] == "worker.test@example.org" and WELCOME_SUBJECT in message["Subject"]
        ]

    sent = wait_for(
        welcome_mail, "welcome email in the worker's mail directory", celery_worker_process
    )
    assert len(sent) == 1
    body = sent[0].get_content()
    assert "worker.test@example.org" in body
    assert "欢迎来到国家开放大学行业学院" in sent[0]["Subject"]
    assert "Start here:" in body

    def claimed() -> bool:
        user.refresh_from_db()
        return user.welcome_sent_at is not None

    wait_for(claimed, "welcome_sent_at in the database", celery_worker_process)
    # The test process sent nothing: the welcome and, through the outbox, allauth's verification
    # email came from the worker.
    assert mailoutbox == []
    verification = wait_for(
        lambda: [m for m in celery_worker_process.mail() if "/accounts/confirm-email/" in m.get_content()],
        "the verification email in the worker's mail directory",
        celery_worker_process,
    )
    assert [m["To"] for m in verification] == ["worker.test@example.org"]
    assert "succeeded" in celery_worker_process.log()

    # A redelivered message is harmless: the worker runs the task again and sends nothing more.
    from ouc_portal.accounts.tasks import send_welcome_email

    result = send_welcome_email.delay(user.pk)
    line = f"Task ouc_portal.accounts.tasks.send_welcome_email[{result.id}] succeeded"
    wait_for(
        lambda: line in celery_worker_process.log(),
        "second run in the worker log",
        celery_worker_process,
    )
    assert "'already-sent'" in next(
        x for x in celery_worker_process.log().splitlines() if line in x
    )
    assert len(welcome_mail()) == 1
