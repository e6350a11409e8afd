"""A worker killed in the middle of issuing a certificate: the task comes back (late
acknowledgement, then the broker's visibility timeout) to another worker, which finishes it, and
exactly one certificate exists, with the serial the first run allocated."""

from __future__ import annotations

import signal
import time

import pytest

from certificates.credentials.builders import verify_credential
from certificates.models import Certificate, RequestStatus
from certificates.services import request_approve
from ouc_portal.celery import app
from tests import factories
from tests.conftest import long_queue_for, start_celery_worker, use_queues, wait_for

VISIBILITY = 5  # seconds before an unacknowledged task goes back to its queue


@pytest.mark.needs_services
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_while_issuing_leaves_exactly_one_certificate(
    cast, settings, celery_test_queue, tmp_path
):
    queue = f"{celery_test_queue}-killed"
    queues = [queue, long_queue_for(queue)]
    env = {"CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY)}
    cert_type = factories.CertificateTypeFactory(school=cast.school, association=cast.association)
    request = factories.completed_request(learner=cast.learner.learner, cert_type=cert_type)
    use_queues(app, queue, long_queue_for(queue))
    try:
        first_base, second_base = tmp_path / "first", tmp_path / "second"
        first_base.mkdir()
        second_base.mkdir()
        with start_celery_worker(
            queues, hostname=f"{queue}-1@pytest", base=first_base, long_queue=queues[1],
            module="tests.operations.slow_worker", extra_env={**env, "SLOW_PDF_SECONDS": "120"},
        ) as first:  # fmt: skip
            request_approve(request=request, reviewer=cast.reviewer)  # queued on commit
            allocated = wait_for(
                lambda: Certificate.objects.filter(request=request).first(),
                "the certificate's row allocated by the first worker", first, timeout=60,
            )  # fmt: skip
            assert not allocated.is_ready  # in the middle: serial made, credential and PDF not
            first.process.send_signal(signal.SIGKILL)
            first.process.wait(timeout=10)
            killed_at = time.monotonic()

        request.refresh_from_db()
        assert request.status == RequestStatus.APPROVED
        assert Certificate.objects.filter(request=request).count() == 1
        # The unacknowledged task is visible again only after the timeout: let it pass.
        time.sleep(max(0.0, VISIBILITY + 1 - (time.monotonic() - killed_at)))
        with start_celery_worker(
            queues, hostname=f"{queue}-2@pytest", base=second_base, long_queue=queues[1],
            extra_env=env,
        ) as second:  # fmt: skip
            settings.MEDIA_ROOT = second.media_root

            def issued() -> bool:
                request.refresh_from_db()
                return request.status == RequestStatus.ISSUED

            wait_for(issued, "the certificate finished by the second worker", second, timeout=90)
        certificates = list(Certificate.objects.filter(request=request))
        assert len(certificates) == 1
        (certificate,) = certificates
        assert certificate.serial == allocated.serial and certificate.pk == allocated.pk
        assert certificate.is_ready and verify_credential(certificate.credential)
    finally:
        use_queues(app, celery_test_queue, long_queue_for(celery_test_queue))
