"""In the worker: what becomes of an outbox row's task is written on its row, for staff to see:
retried (an SMTP server away), done, or failed for good (after its own retries)."""

from __future__ import annotations

import logging

from celery.signals import task_failure, task_retry, task_success
from django.db import DatabaseError

from ouc_portal.outbox.services import mark_done, mark_failed, mark_retrying

logger = logging.getLogger(__name__)


@task_retry.connect(dispatch_uid="outbox-task-retry")
def task_retried(sender=None, request=None, reason=None, **kwargs) -> None:
    # ``reason`` is Celery's Retry; the error that caused it is its ``exc``.
    error = getattr(reason, "exc", None) or reason
    try:
        mark_retrying(getattr(request, "id", None), error)
    except DatabaseError:
        logger.exception("outbox: could not count a retry of task %s", getattr(request, "id", None))


@task_success.connect(dispatch_uid="outbox-task-success")
def task_succeeded(sender=None, **kwargs) -> None:
    task_id = getattr(getattr(sender, "request", None), "id", None)
    try:
        mark_done(task_id)
    except DatabaseError:
        logger.exception("outbox: could not mark task %s done", task_id)


@task_failure.connect(dispatch_uid="outbox-task-failure")
def task_failed(sender=None, task_id=None, exception=None, **kwargs) -> None:
    try:
        mark_failed(task_id or "", exception)
    except DatabaseError:
        logger.exception("outbox: could not mark task %s failed", task_id)
