from __future__ import annotations

from celery import shared_task

from ouc_portal.outbox import services


@shared_task(name="outbox.reconcile", ignore_result=True)
def reconcile() -> dict[str, int]:
    """Every minute (beat): hand the broker what it missed while it was down."""
    return services.reconcile()
