"""In the worker: a task of an outbox row that fails for good is marked on its row."""

from __future__ import annotations

import logging

from celery.signals import task_failure
from django.db import DatabaseError

from ouc_portal.outbox.services import mark_failed

logger = logging.getLogger(__name__)


@task_failure.connect(dispatch_uid="outbox-task-failure")
def task_failed(sender=None, task_id=None, exception=None, **kwargs) -> None:
    try:
        mark_failed(task_id or "", exception)
    except DatabaseError:
        logger.exception("outbox: could not mark task %s failed", task_id)
