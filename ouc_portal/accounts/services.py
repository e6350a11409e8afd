"""Writes on accounts."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from ouc_portal.accounts.models import User


def welcome_claim(*, user_id: int) -> bool:
    """Mark the welcome email as sent; False when it already was (compare-and-set)."""
    return bool(
        User.objects.filter(pk=user_id, welcome_sent_at__isnull=True).update(
            welcome_sent_at=timezone.now()
        )
    )


def welcome_release(*, user_id: int) -> None:
    """Undo a claim whose email could not be sent, so a retry sends it."""
    User.objects.filter(pk=user_id).update(welcome_sent_at=None)


@transaction.atomic
def user_welcome_queue(*, user: User) -> None:
    from ouc_portal.accounts.tasks import send_welcome_email
    from ouc_portal.tasks import enqueue_on_commit

    enqueue_on_commit(send_welcome_email, user.pk)
