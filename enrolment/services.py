"""Writes on learners and enrolment: one function a use case, each in one transaction."""

from __future__ import annotations

from django.db import transaction

from enrolment.models import Learner


@transaction.atomic
def learner_register(*, user) -> Learner:
    """Make ``user`` a learner; registering the same person again returns the same learner."""
    learner, _created = Learner.objects.get_or_create(user=user)
    return learner
