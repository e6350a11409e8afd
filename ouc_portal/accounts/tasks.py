from __future__ import annotations

import logging
from typing import Any

from celery import shared_task
from django.conf import settings
from django.core.mail import EmailMessage, EmailMultiAlternatives, send_mail
from django.template.loader import render_to_string
from django.utils import translation

from ouc_portal.accounts import services
from ouc_portal.accounts.models import User
from ouc_portal.outbox.policy import mail_retry

logger = logging.getLogger(__name__)


def message_data(message: EmailMessage) -> dict[str, Any]:
    """An email rendered in the request, as JSON for the outbox and the broker (no attachments:
    allauth's emails have none)."""
    if message.attachments:
        raise ValueError("an email with attachments cannot be queued as rendered text")
    return {
        "subject": message.subject,
        "body": message.body,
        "from_email": message.from_email,
        "to": list(message.to),
        "cc": list(message.cc),
        "bcc": list(message.bcc),
        "reply_to": list(message.reply_to),
        "headers": dict(message.extra_headers),
        "content_subtype": message.content_subtype,
        "alternatives": [[content, mimetype] for content, mimetype in getattr(message, "alternatives", [])],
    }


def message_from_data(data: dict[str, Any]) -> EmailMultiAlternatives:
    message = EmailMultiAlternatives(
        subject=data["subject"], body=data["body"], from_email=data["from_email"], to=data["to"],
        cc=data.get("cc"), bcc=data.get("bcc"), reply_to=data.get("reply_to"), headers=data.get("headers"),
    )  # fmt: skip
    message.content_subtype = data.get("content_subtype", "plain")
    for content, mimetype in data.get("alternatives", []):
        message.attach_alternative(content, mimetype)
    return message


# An SMTP server that is away is retried for hours (settings: MAIL_*; ouc_portal/outbox/policy.py).
@shared_task(bind=True, **mail_retry(), name="accounts.send_rendered_email")
def send_rendered_email(self, message: dict[str, Any]) -> str:
    """Send an email allauth rendered in the request (sign-up confirmation, password reset, email
    change, second-factor notices): queued through the outbox (accounts.adapter), so an SMTP
    server that is away costs the user nothing and the email is retried, visible to staff.

    Its text holds secrets (confirmation keys, reset links): it is never logged, and the outbox
    row forgets it once sent. A message the broker delivers again after the row is done (a worker
    lost between sending and acknowledging) is not sent twice."""
    from ouc_portal.outbox.models import OutboxTask
    from ouc_portal.outbox.services import _row_pk

    pk = _row_pk(self.request.id)
    if pk is not None and OutboxTask.objects.filter(pk=pk, done_at__isnull=False).exists():
        return "already-sent"
    message_from_data(message).send()
    logger.info("account email sent (task %s, %d recipient(s))", self.request.id, len(message["to"]))
    return "sent"


# An SMTP server that is away is retried for hours (settings: MAIL_*; ouc_portal/outbox/policy.py).
@shared_task(bind=True, **mail_retry())
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
