"""Writing and publishing outbox rows."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from celery import Task, current_app
from celery.exceptions import Retry
from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
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


def enqueue(
    task: Task, *args: Any, using: str | None = None, sensitive: bool = False, on_commit: bool = True, **kwargs: Any
) -> OutboxTask:
    """Record ``task(*args, **kwargs)`` with the current transaction; publish it after the commit.

    ``sensitive``: the arguments hold a secret (a rendered email with a confirmation key or a
    reset link): the broker's logs and events get a placeholder, and the row's arguments are
    blanked once the task is done. ``on_commit=False`` publishes at once (eager Celery: the task
    runs in the request)."""
    row = OutboxTask.objects.using(using or "default").create(
        task=task.name, args=list(args), kwargs=kwargs, sensitive=sensitive
    )
    if on_commit:
        transaction.on_commit(lambda: publish(row), using=using)
    else:
        publish(row)
    return row


def publish(row: OutboxTask) -> bool:
    """Hand ``row``'s task to the broker. False (and the error kept on the row) when it is down."""
    task = current_app.tasks[row.task]
    # What Celery logs and reports of the arguments (received, failed, events): never a secret.
    hidden = {"argsrepr": "(hidden)", "kwargsrepr": "{hidden}"} if row.sensitive else {}
    try:
        task.apply_async(
            row.args, row.kwargs, task_id=row.celery_id, retry=True, retry_policy=PUBLISH_RETRY_POLICY, **hidden
        )
    except Retry as retry:
        # Eager Celery (no Redis: ``make run``): the task ran here and asks to be tried later, but
        # no worker will. The action goes on; the row is failed, for staff to send again.
        logger.warning("outbox %s: %s could not run here and needs a retry: %s", row.pk, row.task, retry.exc)
        mark_failed(row.celery_id, retry.exc or retry)
        OutboxTask.objects.filter(pk=row.pk).update(
            published_at=timezone.now(), publish_attempts=F("publish_attempts") + 1
        )
        return False
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


def lost_after() -> timedelta:
    """How long a handed-over task may go without a word from a worker before it counts as lost.

    Redis gives a message a worker took but never acknowledged back to the queue after the
    visibility timeout, and a retrying task is heard from at least every MAIL_RETRY_BACKOFF_MAX
    seconds; a row silent for longer than both was lost with the broker (a crash that did not
    save its queue)."""
    visibility = settings.CELERY_BROKER_TRANSPORT_OPTIONS.get("visibility_timeout", 3600)
    return timedelta(seconds=max(visibility, getattr(settings, "MAIL_RETRY_BACKOFF_MAX", 0)))


def may_send_again(*, now=None) -> Q:
    """The rows staff may send again: failed, still waiting for the broker, or lost with it."""
    silent_since = (now or timezone.now()) - lost_after()
    lost = (
        Q(done_at__isnull=True, published_at__lt=silent_since)
        & (Q(retried_at__isnull=True) | Q(retried_at__lt=silent_since))
    )
    return Q(failed_at__isnull=False) | Q(published_at__isnull=True) | lost


def send_again(row: OutboxTask) -> bool:
    """A failed task (or one waiting for the broker, or lost with it), sent again by staff: the
    failure is cleared and the task published. A task a worker holds (handed over, retrying) or
    has done is not sent: two copies in flight would send its email twice. False when not sent."""
    from ouc_portal.audit.services import record

    with transaction.atomic():
        # Compare-and-set: of two staff members pressing at once, one sends.
        cleared = OutboxTask.objects.filter(may_send_again(), pk=row.pk).update(
            failed_at=None, failure="", published_at=None, done_at=None, retry_error="", retried_at=None
        )
        if cleared:
            record(action="outbox.sent_again", obj=row, summary=f"{row} ({row.failure or row.last_error})")
    if not cleared:
        return False
    row.refresh_from_db()
    return publish(row)


def _row_pk(task_id: str | None) -> int | None:
    """The outbox row a Celery task id names ("outbox-<pk>"), or None for any other task."""
    from ouc_portal.outbox.models import TASK_ID_PREFIX

    if not task_id or not task_id.startswith(TASK_ID_PREFIX):
        return None
    pk = task_id.removeprefix(TASK_ID_PREFIX)
    return int(pk) if pk.isdigit() else None


def _error(exc: BaseException | None) -> str:
    return f"{type(exc).__name__}: {exc}"[:2000]


def mark_retrying(task_id: str | None, exc: BaseException | None) -> int:
    """The task of an outbox row failed and is retried (an SMTP server away): count it on the row."""
    pk = _row_pk(task_id)
    if pk is None:
        return 0
    return OutboxTask.objects.filter(pk=pk, failed_at__isnull=True).update(
        retries=F("retries") + 1, retry_error=_error(exc), retried_at=timezone.now()
    )


def mark_done(task_id: str | None) -> int:
    """The task of an outbox row ran to its end. A row whose arguments hold a secret has them
    blanked: the email is sent, and the key or link in it is kept nowhere but in the mailbox."""
    pk = _row_pk(task_id)
    if pk is None:
        return 0
    with transaction.atomic():
        done = OutboxTask.objects.filter(pk=pk).update(done_at=timezone.now(), failed_at=None, failure="")
        OutboxTask.objects.filter(pk=pk, sensitive=True).update(args=[], kwargs={})
    return done


def mark_failed(task_id: str | None, exc: BaseException) -> int:
    """The task of an outbox row failed for good (after its own retries): say so on the row."""
    pk = _row_pk(task_id)
    if pk is None:
        return 0
    return OutboxTask.objects.filter(pk=pk).update(failed_at=timezone.now(), failure=_error(exc))


def enqueue_many(task: Task, calls: list[tuple], *, using: str | None = None) -> list[OutboxTask]:
    """``enqueue(task, *args)`` for each ``args`` of ``calls`` (a results import's emails): the
    rows in one INSERT per 500 with the current transaction, each published after the commit."""
    rows = OutboxTask.objects.using(using or "default").bulk_create(
        [OutboxTask(task=task.name, args=list(args), kwargs={}) for args in calls], batch_size=500
    )
    if rows:
        transaction.on_commit(lambda: publish_many(rows), using=using)
    return rows


def publish_many(rows: list[OutboxTask]) -> int:
    """``publish`` for many rows, with one UPDATE for all those handed over instead of one each.
    At the first refusal (the broker down, an eager task asking for a retry) that row and the
    rest go through ``publish`` one by one, which records on each why. Returns how many went."""
    handed: list[int] = []
    for index, row in enumerate(rows):
        hidden = {"argsrepr": "(hidden)", "kwargsrepr": "{hidden}"} if row.sensitive else {}
        try:
            current_app.tasks[row.task].apply_async(
                row.args, row.kwargs, task_id=row.celery_id, retry=True, retry_policy=PUBLISH_RETRY_POLICY, **hidden
            )
        except (Retry, *BROKER_ERRORS):
            rest = rows[index:]
            break
        handed.append(row.pk)
    else:
        rest = []
    if handed:
        OutboxTask.objects.filter(pk__in=handed).update(
            published_at=timezone.now(), publish_attempts=F("publish_attempts") + 1, last_error=""
        )
    return len(handed) + sum(publish(row) for row in rest)
