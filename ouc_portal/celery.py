"""The portal's Celery application.

Broker: Redis from REDIS_URL. Without REDIS_URL the settings make every task eager, so the
portal runs on a bare machine. Tasks are queued with ``enqueue_on_commit`` so a worker never
reads a row whose transaction has not committed yet.
"""

import os
from collections.abc import Callable

from celery import Celery
from celery.signals import worker_process_init, worker_ready

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ouc_portal.settings")

app = Celery("ouc_portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.task(name="ouc_portal.ping")
def ping() -> str:
    """Answer 'pong' from a worker: used by readiness checks and tests of the wiring."""
    return "pong"


# What a worker loads before its first task, registered by the apps that need it (their
# AppConfig.ready calls ``register_warm_up``): the kernel imports no domain app.
_warm_ups: list[Callable[[], None]] = []


def register_warm_up(hook: Callable[[], None]) -> None:
    """Run ``hook`` when a worker process starts (registering twice is once)."""
    if hook not in _warm_ups:
        _warm_ups.append(hook)


@worker_process_init.connect
@worker_ready.connect
def warm_up(**kwargs) -> None:
    """Run the registered warm-ups (the certificates app's: the URL configuration, the PDF
    stylesheets and fonts) before the first task needs them.

    Prefork children warm up after the fork (worker_process_init); a solo worker when it is ready.
    """
    for hook in _warm_ups:
        hook()
