"""Celery tasks of the certificates app: each takes ids, loads the rows and calls a service."""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.db import InterfaceError, OperationalError
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from certificates import services
from certificates.errors import CertificateError
from certificates.models import Certificate, Transcript
from ouc_portal.outbox.policy import mail_retry

logger = logging.getLogger(__name__)
# Worth another try: the database or the file store was briefly away.
TRANSIENT = (OperationalError, InterfaceError, ConnectionError, TimeoutError, OSError)


def _backoff(retries: int) -> int:
    return min(2**retries * 5, 300)


@shared_task(bind=True, max_retries=5, acks_late=True, name="certificates.issue_certificate")
def issue_certificate(self, request_id: int) -> str:
    """Issue one approved request. Safe to run twice: the request holds at most one certificate.

    Transient failures retry with a capped exponential backoff; after the last try (or at once,
    for a failure that another try cannot mend) the request is marked failed for staff, who can
    retry it from the review desk.
    """
    try:
        certificate = services.certificate_issue(request_id=request_id)
    except TRANSIENT as exc:
        if self.request.retries >= self.max_retries:
            services.request_issue_failed(request_id=request_id, error=repr(exc))
            logger.error("certificate request %s: issuing gave up: %r", request_id, exc)
            raise
        raise self.retry(exc=exc, countdown=_backoff(self.request.retries)) from exc
    except CertificateError as exc:  # not approved (any more): nothing to issue
        logger.warning("certificate request %s: not issued: %s", request_id, exc)
        return "not issued"
    except Exception as exc:
        services.request_issue_failed(request_id=request_id, error=repr(exc))
        logger.exception("certificate request %s: issuing failed", request_id)
        raise
    return certificate.serial


@shared_task(bind=True, max_retries=5, acks_late=True, name="certificates.build_transcript")
def build_transcript(self, transcript_id: int) -> str:
    """Build one queued transcript; retried like issuing, marked failed when it gives up."""
    try:
        transcript = services.transcript_build(transcript_id=transcript_id)
    except Transcript.DoesNotExist:
        return "gone"
    except TRANSIENT as exc:
        if self.request.retries >= self.max_retries:
            services.transcript_failed(transcript_id=transcript_id, error=repr(exc))
            raise
        raise self.retry(exc=exc, countdown=_backoff(self.request.retries)) from exc
    except Exception as exc:
        services.transcript_failed(transcript_id=transcript_id, error=repr(exc))
        logger.exception("transcript %s: building failed", transcript_id)
        raise
    return str(transcript.public_id)


def _bilingual(template: str, context: dict) -> tuple[str, str]:
    parts = []
    subject = ""
    for language in ("zh-hans", "en"):
        with translation.override(language):
            parts.append(render_to_string(f"{template}.txt", context).strip())
            if language == "en":
                subject = render_to_string(f"{template}_subject.txt", context).strip()
    return subject, "\n\n----\n\n".join(parts)


# An SMTP server that is away is retried for hours (settings: MAIL_*; ouc_portal/outbox/policy.py).
@shared_task(**mail_retry(), name="certificates.send_certificate_issued")
def send_certificate_issued(certificate_id: int) -> str:
    """Tell the learner the certificate is issued, with the links to download and to share it."""
    certificate = (
        Certificate.objects.select_related("request__learner__user", "request__type").filter(pk=certificate_id).first()
    )
    if certificate is None:
        return "gone"
    if not certificate.request.learner.user.is_active:
        return "account closed"  # nobody reads closed-…@closed.invalid
    context = {
        "certificate": certificate,
        "type": certificate.request.type,
        "learner": certificate.request.learner,
        "verify_url": settings.SITE_URL + reverse("verify:page", args=[certificate.verification_code]),
        "mine_url": settings.SITE_URL + reverse("certs:home"),
    }
    subject, body = _bilingual("certificates/email/certificate_issued", context)
    send_mail(subject, body, None, [certificate.request.learner.user.email])
    return "sent"


# An SMTP server that is away is retried for hours (settings: MAIL_*; ouc_portal/outbox/policy.py).
@shared_task(**mail_retry(), name="certificates.send_transcript_ready")
def send_transcript_ready(transcript_id: int) -> str:
    """Tell the learner the transcript they asked for is ready."""
    transcript = Transcript.objects.select_related("learner__user").filter(pk=transcript_id).first()
    if transcript is None:
        return "gone"
    if not transcript.learner.user.is_active:
        return "account closed"
    context = {
        "transcript": transcript,
        "learner": transcript.learner,
        "verify_url": settings.SITE_URL + reverse("verify:page", args=[transcript.verification_code]),
        "mine_url": settings.SITE_URL + reverse("certs:home"),
    }
    subject, body = _bilingual("certificates/email/transcript_ready", context)
    send_mail(subject, body, None, [transcript.learner.user.email])
    return "sent"
