"""Helpers every app uses to queue Celery work safely."""

from __future__ import annotations

from typing import Any

from celery import Task


def enqueue_on_commit(task: Task, *args: Any, using: str | None = None, **kwargs: Any) -> None:
    """Queue ``task`` once the current transaction commits (at once when there is none).

    A task queued inside an open transaction could run before the commit and miss its row, or run
    for a row that a rollback then removes. The task is recorded in the outbox with the
    transaction, so a broker that is down at the commit loses nothing: ``outbox.reconcile``
    publishes it when the broker is back (ouc_portal/outbox).
    """
    from ouc_portal.outbox.services import enqueue

    enqueue(task, *args, using=using, **kwargs)
