"""The portal's Celery application.

Broker: Redis from REDIS_URL. Without REDIS_URL the settings make every task eager, so the
portal runs on a bare machine. Tasks are queued with ``enqueue_on_commit`` so a worker never
reads a row whose transaction has not committed yet.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ouc_portal.settings")

app = Celery("ouc_portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.task(name="ouc_portal.ping")
def ping() -> str:
    """Answer 'pong' from a worker: used by readiness checks and tests of the wiring."""
    return "pong"
