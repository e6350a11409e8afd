"""The broker down when a reviewer approves: the approval succeeds, the work is recorded in the
outbox, and once Redis is back the reconciliation task hands it over and the worker issues the
certificate. On a Redis of the test's own (a real redis-server it stops and starts), so the
shared one the other tests use is never touched."""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator

import pytest
from django.test import Client
from django.urls import reverse

from certificates.models import Certificate, RequestStatus
from ouc_portal.celery import app
from ouc_portal.outbox import tasks as outbox_tasks
from ouc_portal.outbox.models import OutboxTask
from tests import factories
from tests.conftest import long_queue_for, start_celery_worker, wait_for
from tests.operations.server import free_port


class PrivateRedis:
    """A redis-server on a port of its own, stopped and started again on the same port."""

    def __init__(self, base) -> None:
        self.port = free_port()
        self.base = base
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server")
        assert binary, "redis-server is needed (Debian's redis-server package)"
        self.process = subprocess.Popen(  # noqa: S603 - the machine's own redis-server
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.base)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), 0.2):
                return
            time.sleep(0.05)
        pytest.fail(f"redis-server did not listen on {self.port}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()  # like a crash: nothing is saved
            self.process.wait(timeout=10)


@contextlib.contextmanager
def broker(url: str) -> Iterator[None]:
    """This process's Celery app talks to ``url`` for the block (its pools rebuilt both ways)."""
    previous = app.conf.broker_url

    def reset() -> None:
        # Forget the pools (as Celery does after a fork): the next use builds them for the URL
        # now configured. The old ones stay open in kombu's registry for when it comes back.
        app._after_fork()

    app.conf.broker_url = url
    reset()
    try:
        yield
    finally:
        app.conf.broker_url = previous
        reset()


@pytest.mark.needs_services
@pytest.mark.django_db(transaction=True)
def test_an_approval_while_redis_is_down_is_issued_once_redis_is_back(
    cast, settings, celery_test_queue, tmp_path
):
    redis = PrivateRedis(tmp_path)
    redis.start()
    queue = f"{celery_test_queue}-broker-down"
    try:
        with broker(redis.url), start_celery_worker(
            [queue, long_queue_for(queue)], hostname=f"{queue}@pytest", base=tmp_path,
            long_queue=long_queue_for(queue), redis_url=redis.url,
        ) as worker:  # fmt: skip
            from tests.conftest import use_queues

            use_queues(app, queue, long_queue_for(queue))
            try:
                settings.MEDIA_ROOT = worker.media_root
                cert_type = factories.CertificateTypeFactory(school=cast.school, association=cast.association)
                request = factories.completed_request(learner=cast.learner.learner, cert_type=cert_type)

                redis.stop()
                reviewer = Client(HTTP_ACCEPT_LANGUAGE="en")
                reviewer.force_login(cast.reviewer)
                response = reviewer.post(
                    reverse("review:request", args=[request.public_id]), {"action": "approve"}
                )
                # The reviewer's action succeeded and the work is recorded, not lost.
                assert response.status_code == 302
                request.refresh_from_db()
                assert request.status == RequestStatus.APPROVED
                waiting = OutboxTask.objects.get(task="certificates.issue_certificate")
                assert waiting.published_at is None and waiting.args == [request.pk]
                assert "Error" in waiting.last_error or "error" in waiting.last_error.lower()
                # Reconciliation while the broker is still down changes nothing.
                assert outbox_tasks.reconcile.run() == {"waiting": 0, "published": 0}  # too young
                OutboxTask.objects.filter(pk=waiting.pk).update(created_at=waiting.created_at.replace(year=2025))
                assert outbox_tasks.reconcile.run() == {"waiting": 1, "published": 0}

                redis.start()  # the broker is back; the worker reconnects by itself
                assert outbox_tasks.reconcile.run() == {"waiting": 1, "published": 1}

                def issued() -> bool:
                    request.refresh_from_db()
                    return request.status == RequestStatus.ISSUED

                wait_for(issued, "the certificate issued after the broker came back", worker, timeout=90)
                assert Certificate.objects.filter(request=request).count() == 1
                waiting.refresh_from_db()
                assert waiting.published_at is not None and waiting.failed_at is None
            finally:
                use_queues(app, celery_test_queue, long_queue_for(celery_test_queue))
    finally:
        redis.stop()


def test_the_reconciliation_runs_every_minute_on_beat(settings):
    entry = next(e for e in settings.CELERY_BEAT_SCHEDULE.values() if e["task"] == "outbox.reconcile")
    assert entry["schedule"] <= 60
