from __future__ import annotations

import logging

from celery import shared_task
from django.db import OperationalError

from certificates import services

logger = logging.getLogger(__name__)
TRANSIENT = (OperationalError, ConnectionError, TimeoutError, OSError)


@shared_task(bind=True, max_retries=5, acks_late=True, name="certificates.issue_certificate")
def issue_certificate(self, request_id: int) -> str:
    """Issue one approved request. Safe to run twice: the request holds at most one certificate.

    Transient failures retry with a capped exponential backoff; after the last try the request is
    marked failed for staff, who can retry it from the page.
    """
    try:
        certificate = services.certificate_issue(request_id=request_id)
    except TRANSIENT as exc:
        if self.request.retries >= self.max_retries:
            services.request_issue_failed(request_id=request_id, error=repr(exc))
            logger.error("certificate request %s: issuing gave up: %r", request_id, exc)
            raise
        raise self.retry(exc=exc, countdown=min(2 ** self.request.retries * 5, 300)) from exc
    return certificate.serial
