from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.utils import translation

from enrolment.models import EnrolmentStatusChange
from ouc_portal.outbox.policy import mail_retry

logger = logging.getLogger(__name__)


# An SMTP server that is away is retried for hours (settings: MAIL_*; ouc_portal/outbox/policy.py).
@shared_task(**mail_retry())
def send_enrolment_status_email(change_id: int) -> str:
    """Tell the learner their enrolment changed state (one email per history row)."""
    change = (
        EnrolmentStatusChange.objects.select_related(
            "enrolment__learner__user", "enrolment__intake__programme", "enrolment__intake__centre"
        )
        .filter(pk=change_id)
        .first()
    )
    if change is None:
        return "gone"
    enrolment = change.enrolment
    user = enrolment.learner.user
    if not user.is_active:
        return "account closed"  # nobody reads closed-…@closed.invalid
    context = {
        "change": change,
        "enrolment": enrolment,
        "programme": enrolment.intake.programme,
        "intake": enrolment.intake,
        "url": settings.SITE_URL + enrolment.get_absolute_url(),
    }
    parts = []
    for language in ("zh-hans", "en"):
        with translation.override(language):
            parts.append(render_to_string("enrolment/email/status_changed.txt", context).strip())
            if language == "en":
                subject = render_to_string("enrolment/email/status_changed_subject.txt", context).strip()
    send_mail(subject, "\n\n----\n\n".join(parts), None, [user.email])
    logger.info("enrolment %s: status email for change %s sent", enrolment.pk, change_id)
    return "sent"
