from __future__ import annotations

import logging
import smtplib

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.utils import translation

from ouc_portal.accounts import services
from ouc_portal.accounts.models import User

logger = logging.getLogger(__name__)
# An SMTP server that is away is retried with a capped, jittered backoff (settings: MAIL_*).
MAIL_MAX_RETRIES = 5 if settings.MAIL_MAX_RETRIES is None else settings.MAIL_MAX_RETRIES


@shared_task(
    bind=True,
    autoretry_for=(smtplib.SMTPException, ConnectionError, TimeoutError),
    retry_backoff=True,
    retry_backoff_max=settings.MAIL_RETRY_BACKOFF_MAX,
    max_retries=MAIL_MAX_RETRIES,
)
def send_welcome_email(self, user_id: int) -> str:
    """Send the welcome email once; running it again sends nothing more."""
    user = User.objects.filter(pk=user_id).first()
    if user is None:
        return "no-user"
    if not user.is_active:
        return "account closed"
    if not services.welcome_claim(user_id=user_id):
        return "already-sent"
    try:
        # Bilingual on purpose: at sign-up we do not yet know which language the learner reads.
        context = {"user": user, "site_url": settings.SITE_URL}
        with translation.override("zh-hans"):
            body_zh = render_to_string("accounts/email/welcome.txt", context)
        with translation.override("en"):
            body_en = render_to_string("accounts/email/welcome.txt", context)
            subject = render_to_string("accounts/email/welcome_subject.txt", context).strip()
        send_mail(subject, f"{body_zh}\n\n----\n\n{body_en}", None, [user.email])
    except Exception:
        services.welcome_release(user_id=user_id)
        raise
    logger.info("welcome email sent to user %s", user_id)
    return "sent"
