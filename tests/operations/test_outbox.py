"""The outbox: queued work is recorded with the action; a broker that refuses it loses nothing;
a task that fails for good is marked where staff see it, and can be sent again."""

from __future__ import annotations

import datetime
from unittest import mock

import pytest
from celery.signals import task_failure
from django.urls import reverse
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError

from enrolment.models import Enrolment, EnrolmentStatus
from ouc_portal.outbox import services as outbox
from ouc_portal.outbox.models import OutboxTask
from tests import factories

pytestmark = pytest.mark.django_db

BROKER_DOWN = BrokerError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")


@pytest.fixture
def applicant(client):
    learner = factories.LearnerFactory(user__email="wang.fang@example.org")
    client.force_login(learner.user)
    return learner


def age(rows, seconds: int = 120) -> None:
    """Make rows old enough for reconciliation (it leaves the youngest to their own publish)."""
    for row in rows:
        OutboxTask.objects.filter(pk=row.pk).update(
            created_at=timezone.now() - datetime.timedelta(seconds=seconds)
        )


def test_an_application_while_the_broker_is_down_succeeds_and_its_email_follows(
    client, applicant, mailoutbox, eager, django_capture_on_commit_callbacks
):
    intake = factories.IntakeFactory()
    with (
        mock.patch("celery.app.task.Task.apply_async", side_effect=BROKER_DOWN),
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = client.post(reverse("enrolment:intake_apply", args=[intake.public_id]))
    enrolment = Enrolment.objects.get(learner=applicant)
    assert response.status_code == 302 and enrolment.status == EnrolmentStatus.APPLIED
    assert mailoutbox == []
    row = OutboxTask.objects.get(task="enrolment.tasks.send_enrolment_status_email")
    assert row.published_at is None and row.publish_attempts == 1
    assert "Connection refused" in row.last_error

    # Still down at the next run: nothing is lost, the row keeps waiting.
    age([row])
    with mock.patch("celery.app.task.Task.apply_async", side_effect=BROKER_DOWN):
        assert outbox.reconcile() == {"waiting": 1, "published": 0}
    # Back: the email goes out, once.
    assert outbox.reconcile() == {"waiting": 1, "published": 1}
    assert [m.to for m in mailoutbox] == [["wang.fang@example.org"]]
    row.refresh_from_db()
    assert row.published_at is not None and row.last_error == "" and row.publish_attempts == 3
    assert outbox.reconcile() == {"waiting": 0, "published": 0}


def test_work_of_a_rolled_back_action_is_never_sent(applicant, eager):
    from django.db import transaction

    from ouc_portal.accounts.tasks import send_welcome_email

    with pytest.raises(RuntimeError), transaction.atomic():
        outbox.enqueue(send_welcome_email, applicant.user.pk)
        raise RuntimeError("the action failed")
    assert not OutboxTask.objects.exists()


def test_a_task_that_fails_for_good_is_marked_and_staff_send_it_again(
    client, cast, eager, mailoutbox, django_capture_on_commit_callbacks
):
    from ouc_portal.accounts.tasks import send_welcome_email

    # Handed to a worker, which (as far as this test goes) never managed to send it.
    with django_capture_on_commit_callbacks(execute=False):
        row = outbox.enqueue(send_welcome_email, cast.learner.pk)
    OutboxTask.objects.filter(pk=row.pk).update(published_at=timezone.now())
    # What Celery's worker says when the task's own retries are spent:
    task_failure.send(sender=send_welcome_email, task_id=row.celery_id,
                      exception=ConnectionRefusedError("SMTP server refused"))  # fmt: skip
    row.refresh_from_db()
    assert row.failed_at is not None and "SMTP server refused" in row.failure
    # A task of no outbox row (or a malformed id) changes nothing.
    for task_id in ("3f2a-celery-uuid", "outbox-x", ""):
        task_failure.send(sender=send_welcome_email, task_id=task_id, exception=ValueError())

    client.force_login(cast.superuser)
    changelist = reverse("admin:outbox_outboxtask_changelist")
    failed = client.get(changelist, {"state": "failed"})
    assert list(failed.context["cl"].result_list) == [row]
    assert "SMTP server refused" in failed.content.decode()
    sent = client.post(changelist, {"action": "send_again_action", "_selected_action": [row.pk]})
    assert sent.status_code == 302
    row.refresh_from_db()
    assert row.failed_at is None and row.failure == "" and row.published_at is not None
    assert [m.to for m in mailoutbox] == [[cast.learner.email]]
    # Nobody edits or deletes the record of queued work by hand.
    change = reverse("admin:outbox_outboxtask_change", args=[row.pk])
    assert client.post(change, {"task": "x"}).status_code == 403
    assert client.get(reverse("admin:outbox_outboxtask_add")).status_code == 403


def test_staff_without_the_superuser_flag_do_not_see_queued_work(client, cast):
    client.force_login(cast.school_admin)
    assert client.get(reverse("admin:outbox_outboxtask_changelist")).status_code in (302, 403)
