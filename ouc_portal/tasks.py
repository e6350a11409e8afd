"""Helpers every app uses to queue Celery work safely."""

from __future__ import annotations

from typing import Any

from celery import Task
from django.db import transaction


def enqueue_on_commit(task: Task, *args: Any, using: str | None = None, **kwargs: Any) -> None:
    """Queue ``task`` once the current transaction commits (at once when there is none).

    A task queued inside an open transaction could run before the commit and miss its row, or run
    for a row that a rollback then removes.
    """
    transaction.on_commit(lambda: task.delay(*args, **kwargs), using=using)
