"""The retry policy every mail task shares (settings: MAIL_RETRY_BACKOFF, MAIL_RETRY_BACKOFF_MAX,
MAIL_MAX_RETRIES): an SMTP server that is away is tried again with an exponential, fully jittered
backoff, long enough to outlast a real outage (docs/operations.md), then the task fails and its
outbox row shows it failed, for staff to send again."""

from __future__ import annotations

import smtplib
from typing import Any

from django.conf import settings

# What an SMTP server that is away (or refuses for a while) raises.
MAIL_ERRORS = (smtplib.SMTPException, ConnectionError, TimeoutError)


def mail_retry() -> dict[str, Any]:
    """Keyword arguments for ``@shared_task`` of a task that sends an email."""
    return {
        "autoretry_for": MAIL_ERRORS,
        # An int is Celery's backoff factor: the n-th retry waits random(0, factor * 2**n), capped.
        "retry_backoff": settings.MAIL_RETRY_BACKOFF,
        "retry_backoff_max": settings.MAIL_RETRY_BACKOFF_MAX,
        "retry_jitter": True,
        "max_retries": settings.MAIL_MAX_RETRIES,
    }


def retry_span(*, backoff: int, backoff_max: int, max_retries: int) -> tuple[float, int]:
    """How long a mail task keeps trying: (the expected span, the longest), in seconds."""
    waits = [min(backoff_max, backoff * 2**n) for n in range(max_retries)]
    return sum(waits) / 2, sum(waits)
