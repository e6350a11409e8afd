"""What the enrolment app holds about a person: their learner profile, enrolments and results.

Registered with the kernel's personal-data registry (``ouc_portal.accounts.personal_data``) in
``EnrolmentConfig.ready``: the export's ``learner_profile`` and ``enrolments`` sections, the
summary's counts, and what closing the account erases here (the profile's personal fields;
enrolments and results stay, as the schools' records).
"""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch

from enrolment import services
from enrolment.models import CourseResult, Enrolment, EnrolmentStatusChange, Learner
from ouc_portal.accounts.personal_data import PersonalDataPart, history_rows


def _learner(user) -> Learner | None:
    """The person's learner profile, without creating one."""
    return Learner.objects.select_related("centre").filter(user=user).first()


def _enrolments(learner: Learner, user) -> list[dict[str, Any]]:
    enrolments = (
        Enrolment.objects.filter(learner=learner)
        .select_related("programme", "intake__centre")
        .prefetch_related(
            Prefetch("history", queryset=EnrolmentStatusChange.objects.order_by("at", "pk")),
            Prefetch(
                "results",
                queryset=CourseResult.objects.select_related("course").order_by("course__code"),
            ),
        )
        .order_by("applied_at", "pk")
    )
    return [
        {
            "id": e.public_id,
            "programme": {"code": e.programme.code, "name_en": e.programme.name_en,
                          "name_zh": e.programme.name_zh},
            "intake": {"year": e.intake.year, "term": e.intake.season,
                       "learning_centre": e.intake.centre.name_en},
            "status": e.status,
            "applied_at": e.applied_at,
            "status_changed_at": e.status_changed_at,
            "history": history_rows(e.history.all(), user),
            "results": [
                {
                    "course": {"code": r.course.code, "name_en": r.course.name_en,
                               "name_zh": r.course.name_zh},
                    "score": r.score,
                    "grade": r.grade,
                    "passed": r.passed,
                    "assessed_on": r.assessed_on,
                    "recorded_at": r.recorded_at,
                }
                for r in e.results.all()
            ],
        }
        for e in enrolments
    ]  # fmt: skip


def export(user) -> dict[str, Any]:
    learner = _learner(user)
    if learner is None:
        return {"learner_profile": None, "enrolments": []}
    profile: dict[str, Any] = {"id": learner.public_id, "registered_at": learner.registered_at}
    # The fields the learner fills in (and closing erases): one tuple, so none is left out here.
    for name in services.PROFILE_FIELDS:
        if name == "centre":
            profile["learning_centre"] = learner.centre.name_en if learner.centre else None
        else:
            profile[name] = getattr(learner, name)
    profile["privacy_consent_at"] = learner.privacy_consent_at
    return {"learner_profile": profile, "enrolments": _enrolments(learner, user)}


def count(user) -> dict[str, int]:
    return {
        "enrolments": Enrolment.objects.filter(learner__user=user).count(),
        "results": CourseResult.objects.filter(enrolment__learner__user=user).count(),
    }


def erase(user) -> dict[str, int]:
    # Locked first: the credit bank's eraser, after this one, reads the same profile.
    learner = Learner.objects.select_for_update().filter(user=user).first()
    if learner is not None:
        services.learner_erase(learner=learner)
    return {}


PART = PersonalDataPart(app="enrolment", export=export, count=count, erase=erase)
