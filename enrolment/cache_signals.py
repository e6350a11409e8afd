"""Receivers that make the catalogue cache stale whenever something its pages show changes.

Connected in ``EnrolmentConfig.ready``. Every save and delete of these models, from a service,
the admin, a loader command or a test's ORM call, bumps the catalogue version
(``enrolment.cache.catalogue_changed``); queryset ``update()`` bypasses signals, so code that
updates these models in bulk must call ``catalogue_changed`` itself.
"""

from __future__ import annotations

from django.db.models.signals import m2m_changed, post_delete, post_save

from enrolment.cache import catalogue_changed, seats_changed
from enrolment.models import Course, Enrolment, GroupCourse, Intake, Programme, RequirementGroup
from schools.models import IndustrySchool, LearningCentre

# What /programmes/ and /programmes/<slug>/ show: programmes, their structure (groups and
# courses), intakes and their centres (the filters and the open badge), the schools' names.
CATALOGUE_MODELS = (
    Programme,
    Course,
    RequirementGroup,
    GroupCourse,
    Intake,
    IndustrySchool,
    LearningCentre,
)


def _changed(sender, using: str | None = None, **kwargs) -> None:
    catalogue_changed(using=using)


def _seats(sender, using: str | None = None, **kwargs) -> None:
    seats_changed(using=using)


def connect() -> None:
    """Connect the receivers (idempotent: each has a dispatch_uid)."""
    for model in CATALOGUE_MODELS:
        label = model._meta.label_lower
        post_save.connect(_changed, sender=model, dispatch_uid=f"catalogue-cache-save-{label}")
        post_delete.connect(_changed, sender=model, dispatch_uid=f"catalogue-cache-delete-{label}")
    # The programme page shows each intake's seats left: every enrolment saved or deleted.
    post_save.connect(_seats, sender=Enrolment, dispatch_uid="catalogue-cache-seats-save")
    post_delete.connect(_seats, sender=Enrolment, dispatch_uid="catalogue-cache-seats-delete")
    for through in (RequirementGroup.courses.through, LearningCentre.schools.through):
        m2m_changed.connect(
            _changed, sender=through, dispatch_uid=f"catalogue-cache-m2m-{through._meta.label_lower}"
        )
