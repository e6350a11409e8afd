"""Writing and publishing outbox rows."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from celery import Task, current_app
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from kombu.exceptions import KombuError
from kombu.exceptions import OperationalError as BrokerError

from ouc_portal.outbox.models import OutboxTask

logger = logging.getLogger(__name__)

# With the broker down, a publish gives up within about a second: the user who approved or
# applied is waiting for the page, and the row will be published by reconciliation anyway.
PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.5}
# Rows younger than this are left to the publish their own commit triggers.
RECONCILE_AFTER = timedelta(seconds=30)
RECONCILE_BATCH = 1000
BROKER_ERRORS = (BrokerError, KombuError, ConnectionError, TimeoutError, OSError)


def enqueue(task: Task, *args: Any, using: str | None = None, **kwargs: Any) -> OutboxTask:
    """Record ``task(*args, **kwargs)`` with the current transaction; publish it after the commit."""
    row = OutboxTask.objects.using(using or "default").create(task=task.name, args=list(args), kwargs=kwargs)
    transaction.on_commit(lambda: publish(row), using=using)
    return row


def publish(row: OutboxTask) -> bool:
    """Hand ``row``'s task to the broker. False (and the error kept on the row) when it is down."""
    task = current_app.tasks[row.task]
    try:
        task.apply_async(
            row.args, row.kwargs, task_id=row.celery_id, retry=True, retry_policy=PUBLISH_RETRY_POLICY
        )
    except BROKER_ERRORS as exc:
        logger.warning("outbox %s: broker unavailable, %s waits for reconciliation: %s", row.pk, row.task, exc)
        OutboxTask.objects.filter(pk=row.pk).update(
            publish_attempts=F("publish_attempts") + 1, last_error=f"{type(exc).__name__}: {exc}"[:2000]
        )
        return False
    OutboxTask.objects.filter(pk=row.pk).update(
        published_at=timezone.now(), publish_attempts=F("publish_attempts") + 1, last_error=""
    )
    return True


def reconcile(*, now=None) -> dict[str, int]:
    """Publish every row still waiting (older than RECONCILE_AFTER), oldest first."""
    now = now or timezone.now()
    waiting = list(
        OutboxTask.objects.filter(published_at__isnull=True, created_at__lte=now - RECONCILE_AFTER)
        .order_by("created_at", "pk")[:RECONCILE_BATCH]
    )
    published = 0
    for row in waiting:
        if not publish(row):
            break  # the broker is still down: the next run tries again
        published += 1
    return {"waiting": len(waiting), "published": published}


def send_again(row: OutboxTask) -> bool:
    """A failed task, sent again by staff: the failure is cleared and the task published."""
    OutboxTask.objects.filter(pk=row.pk).update(failed_at=None, failure="", published_at=None)
    row.refresh_from_db()
    return publish(row)


def mark_failed(task_id: str, exc: BaseException) -> int:
    """The task of an outbox row failed for good (after its own retries): say so on the row."""
    from ouc_portal.outbox.models import TASK_ID_PREFIX

    if not task_id or not task_id.startswith(TASK_ID_PREFIX):
        return 0
    pk = task_id.removeprefix(TASK_ID_PREFIX)
    if not pk.isdigit():
        return 0
    return OutboxTask.objects.filter(pk=int(pk)).update(
        failed_at=timezone.now(), failure=f"{type(exc).__name__}: {exc}"[:2000]
    )
