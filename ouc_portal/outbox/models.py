from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# Celery task ids of outbox rows: "outbox-<pk>", so a worker can name the row a task came from.
TASK_ID_PREFIX = "outbox-"


class OutboxTask(models.Model):
    task = models.CharField(_("task"), max_length=200)
    args = models.JSONField(_("arguments"), default=list, blank=True)
    kwargs = models.JSONField(_("keyword arguments"), default=dict, blank=True)
    created_at = models.DateTimeField(_("queued"), default=timezone.now)
    published_at = models.DateTimeField(_("handed to the broker"), null=True, blank=True)
    publish_attempts = models.PositiveIntegerField(_("attempts to hand over"), default=0)
    last_error = models.TextField(_("last hand-over error"), blank=True)
    # What the worker reports (Celery's task_retry / task_success / task_failure signals): an
    # email whose SMTP server is away retries, and staff see it retrying before it gives up.
    retries = models.PositiveIntegerField(_("retries by the worker"), default=0)
    retry_error = models.TextField(_("last error before a retry"), blank=True)
    retried_at = models.DateTimeField(_("last retried"), null=True, blank=True)
    done_at = models.DateTimeField(_("done"), null=True, blank=True)
    failed_at = models.DateTimeField(_("failed"), null=True, blank=True)
    failure = models.TextField(_("failure"), blank=True)
    # The arguments hold a secret (an account email rendered with its confirmation key or reset
    # link): never shown or logged, and blanked once the task is done (services.mark_done).
    sensitive = models.BooleanField(_("holds a secret"), default=False)

    class Meta:
        verbose_name = _("queued task")
        verbose_name_plural = _("queued tasks")
        ordering = ["-created_at", "-pk"]
        indexes = [
            # What reconciliation reads: the rows never handed over, oldest first.
            models.Index(
                fields=["created_at"], condition=Q(published_at__isnull=True),
                name="outbox_waiting",
            ),  # fmt: skip
            models.Index(fields=["-failed_at"], condition=Q(failed_at__isnull=False), name="outbox_failed"),
        ]

    def __str__(self) -> str:
        return f"{self.task}(…)" if self.sensitive else f"{self.task}{tuple(self.args)}"

    @property
    def celery_id(self) -> str:
        return f"{TASK_ID_PREFIX}{self.pk}"

    @property
    def state(self) -> str:
        if self.failed_at:
            return _("Failed")
        if self.done_at:
            return _("Done")
        if self.retry_error:
            return _("Retrying")
        if self.published_at:
            return _("Handed to a worker")
        return _("Waiting for the broker")
