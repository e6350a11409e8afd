"""Writes on learners, programmes and enrolment: one function a use case, each in one transaction.

Seats are decided under a row lock on the intake (``select_for_update``): two learners applying at
once for the last seat are serialised there, so an intake never holds more seats than its capacity.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from enrolment.models import (
    ENROLMENT_TRANSITIONS,
    LIVE_STATES,
    SEAT_STATES,
    Course,
    CourseResult,
    Enrolment,
    EnrolmentStatus,
    EnrolmentStatusChange,
    GroupCourse,
    Intake,
    Learner,
    Programme,
    ProgrammeStatus,
    RequirementGroup,
)
from enrolment.signals import enrolment_completed, enrolments_completed, learner_registered
from ouc_portal.tasks import enqueue_on_commit

S = EnrolmentStatus


class EnrolmentError(ValidationError):
    """A refused enrolment action; its message is shown to the person as it is."""


# --- Learners -----------------------------------------------------------------------------------


@transaction.atomic
def learner_register(*, user) -> Learner:
    """Make ``user`` a learner; registering the same person again returns the same learner."""
    learner, created = Learner.objects.get_or_create(user=user)
    if created:
        # The credit bank opens the learner's account in this same transaction.
        learner_registered.send(sender=Learner, learner=learner)
    return learner


# The personal fields of a learner profile: what the learner fills in, and what closing their
# account erases (the records stay). One tuple, so a new field is both edited and erased.
PROFILE_FIELDS = ("legal_name", "phone", "employer", "job_title", "industry", "province", "centre")


@transaction.atomic
def learner_profile_save(*, user, consent: bool, **fields) -> Learner:
    """Save the person's learner profile, making them a learner first if they are not one yet:
    the explicit act that makes a record. A refused profile makes nothing (one transaction)."""
    return learner_update_profile(learner=learner_register(user=user), consent=consent, **fields)


@transaction.atomic
def learner_update_profile(*, learner: Learner, consent: bool, **fields) -> Learner:
    unknown = set(fields) - set(PROFILE_FIELDS)
    if unknown:
        raise ValueError(f"Not profile fields: {sorted(unknown)}")
    learner = Learner.objects.select_for_update().get(pk=learner.pk)
    for name, value in fields.items():
        setattr(learner, name, value)
    if consent and learner.privacy_consent_at is None:
        learner.privacy_consent_at = timezone.now()
    if not consent:
        raise EnrolmentError(_("Agree to the privacy notice to keep a learner profile."))
    learner.full_clean()
    learner.save()
    return learner


# --- Programmes ---------------------------------------------------------------------------------


def programme_search_text(programme: Programme) -> str:
    parts = [
        programme.code,
        programme.name_en,
        programme.name_zh,
        programme.school.name_en,
        programme.school.name_zh,
        programme.get_kind_display(),
    ]
    return " ".join(p for p in parts if p).lower()


@transaction.atomic
def programme_save(*, programme: Programme) -> Programme:
    """Create or update a programme after validating it; keeps the search text in step."""
    programme.full_clean(exclude=["search_text"])
    programme.search_text = programme_search_text(programme)
    programme.save()
    return programme


PROGRAMME_TRANSITIONS = {
    ProgrammeStatus.DRAFT: {ProgrammeStatus.PUBLISHED, ProgrammeStatus.ARCHIVED},
    ProgrammeStatus.PUBLISHED: {ProgrammeStatus.ARCHIVED},
    ProgrammeStatus.ARCHIVED: {ProgrammeStatus.PUBLISHED},
}


@transaction.atomic
def programme_set_status(*, programme: Programme, status: str) -> Programme:
    programme = Programme.objects.select_for_update().get(pk=programme.pk)
    if status not in PROGRAMME_TRANSITIONS.get(programme.status, set()):
        raise EnrolmentError(
            _("A %(from)s programme cannot be made %(to)s.")
            % {"from": programme.get_status_display(), "to": ProgrammeStatus(status).label}
        )
    if status == ProgrammeStatus.PUBLISHED and not programme.groups.exists():
        raise EnrolmentError(_("Give the programme its structure (at least one group) before publishing."))
    programme.status = status
    programme.save(update_fields=["status", "updated_at"])
    return programme


@transaction.atomic
def course_save(*, course: Course) -> Course:
    course.full_clean()
    course.save()
    return course


@transaction.atomic
def group_save(*, group: RequirementGroup) -> RequirementGroup:
    if group.kind == RequirementGroup.Kind.COMPULSORY:
        group.min_credits = Decimal("0")
    group.full_clean()
    group.save()
    return group


@transaction.atomic
def group_delete(*, group: RequirementGroup) -> None:
    if Enrolment.objects.filter(programme_id=group.programme_id).exists():
        raise EnrolmentError(_("Learners have enrolled in this programme: its structure can no longer lose a group."))
    group.delete()


@transaction.atomic
def group_add_course(*, group: RequirementGroup, course: Course) -> GroupCourse:
    group = RequirementGroup.objects.select_related("programme").get(pk=group.pk)
    if course.school_id != group.programme.school_id:
        raise EnrolmentError(_("%(code)s belongs to another school.") % {"code": course.code})
    if GroupCourse.objects.filter(programme_id=group.programme_id, course=course).exists():
        raise EnrolmentError(_("%(code)s is already part of this programme.") % {"code": course.code})
    return GroupCourse.objects.create(group=group, course=course, programme_id=group.programme_id)


@transaction.atomic
def group_remove_course(*, group: RequirementGroup, course: Course) -> None:
    if CourseResult.objects.filter(enrolment__programme_id=group.programme_id, course=course).exists():
        raise EnrolmentError(_("Results are recorded for %(code)s in this programme: it cannot be removed.") % {"code": course.code})
    GroupCourse.objects.filter(group=group, course=course).delete()


@transaction.atomic
def intake_save(*, intake: Intake) -> Intake:
    if intake.pk:
        taken = seats_taken(intake)
        if intake.capacity < taken:
            raise EnrolmentError(
                _("%(taken)s seats are already taken: the capacity cannot go below that.") % {"taken": taken}
            )
    intake.full_clean()
    intake.save()
    if intake.pk:
        # A larger capacity frees seats for the waitlist at once.
        _promote_waitlist(_lock_intake(intake.pk), now=timezone.now())
    return intake


# --- Enrolment state machine --------------------------------------------------------------------


def _record(enrolment: Enrolment, *, to: str, actor, reason: str, now) -> EnrolmentStatusChange:
    change = EnrolmentStatusChange.objects.create(
        enrolment=enrolment,
        from_status=enrolment.status if enrolment.pk and enrolment.status else "",
        to_status=to,
        actor=actor,
        reason=reason,
        at=now,
    )
    return change


def _notify(change: EnrolmentStatusChange) -> None:
    from enrolment.tasks import send_enrolment_status_email

    enqueue_on_commit(send_enrolment_status_email, change.pk)


def enrolment_transition(
    *, enrolment: Enrolment, to: str, actor, reason: str = "", now: datetime.datetime | None = None
) -> Enrolment:
    """Move a (locked) enrolment to ``to``, refusing any move the transition table does not allow.

    Callers hold the intake's lock and run inside a transaction. Writes the history row and queues
    the learner's email for after the commit.
    """
    now = now or timezone.now()
    allowed = ENROLMENT_TRANSITIONS.get(enrolment.status, frozenset())
    if to not in allowed:
        raise EnrolmentError(
            _("An enrolment that is %(from)s cannot become %(to)s.")
            % {"from": S(enrolment.status).label, "to": S(to).label}
        )
    change = _record(enrolment, to=to, actor=actor, reason=reason, now=now)
    enrolment.status = to
    enrolment.status_changed_at = now
    enrolment.save(update_fields=["status", "status_changed_at"])
    _notify(change)
    return enrolment


def _lock_intake(intake_id: int) -> Intake:
    return Intake.objects.select_for_update().select_related("programme").get(pk=intake_id)


def seats_taken(intake: Intake) -> int:
    return intake.enrolments.filter(status__in=SEAT_STATES).count()


def _seat_status(intake: Intake) -> str:
    return S.APPLIED if intake.requires_approval else S.ACCEPTED


@dataclass(frozen=True)
class ApplyOutcome:
    enrolment: Enrolment
    waitlist_position: int | None


def enrolment_apply(*, learner: Learner, intake: Intake, now: datetime.datetime | None = None) -> ApplyOutcome:
    """Apply for a seat: a free seat is taken (pending approval or accepted), else the waitlist.

    The time of the application is read once the intake is locked, and the waitlist place is
    counted before the lock is released: applications are ordered as they were decided, and the
    place each applicant is told is the place they hold, however many apply at once.
    """
    learner = Learner.objects.get(pk=learner.pk)
    if not learner.profile_complete:
        raise EnrolmentError(_("Finish your learner profile before you apply."))
    try:
        with transaction.atomic():
            intake = _lock_intake(intake.pk)
            now = now or timezone.now()
            programme = intake.programme
            if programme.status != ProgrammeStatus.PUBLISHED:
                raise EnrolmentError(_("This programme is not open for applications."))
            if not intake.is_open(now):
                raise EnrolmentError(
                    _("Applications for this intake are open from %(opens)s to %(closes)s.")
                    % {
                        "opens": timezone.localtime(intake.opens_at).strftime("%Y-%m-%d %H:%M"),
                        "closes": timezone.localtime(intake.closes_at).strftime("%Y-%m-%d %H:%M"),
                    }
                )
            if Enrolment.objects.filter(
                learner=learner, programme=programme, status__in=LIVE_STATES
            ).exists():
                raise EnrolmentError(_("You already have a live application for this programme."))
            status = _seat_status(intake) if seats_taken(intake) < intake.capacity else S.WAITLISTED
            enrolment = Enrolment(
                learner=learner,
                intake=intake,
                programme=programme,
                status="",
                applied_at=now,
                status_changed_at=now,
            )
            change_to = status
            enrolment.status = status
            enrolment.save()
            change = EnrolmentStatusChange.objects.create(
                enrolment=enrolment, from_status="", to_status=change_to, actor=learner.user, at=now
            )
            _notify(change)
            position = waitlist_position(enrolment) if enrolment.status == S.WAITLISTED else None
    except IntegrityError:
        # The partial unique index caught a second live application racing this one.
        raise EnrolmentError(_("You already have a live application for this programme.")) from None
    return ApplyOutcome(enrolment=enrolment, waitlist_position=position)


def waitlist_position(enrolment: Enrolment) -> int | None:
    if enrolment.status != S.WAITLISTED:
        return None
    ahead = Enrolment.objects.filter(
        intake_id=enrolment.intake_id, status=S.WAITLISTED, applied_at__lt=enrolment.applied_at
    ).count()
    ties = Enrolment.objects.filter(
        intake_id=enrolment.intake_id,
        status=S.WAITLISTED,
        applied_at=enrolment.applied_at,
        pk__lt=enrolment.pk,
    ).count()
    return ahead + ties + 1


def _promote_waitlist(intake: Intake, *, now) -> list[Enrolment]:
    """Fill free seats from the head of the waitlist (caller holds the intake lock)."""
    free = intake.capacity - seats_taken(intake)
    if free <= 0:
        return []
    promoted = list(
        Enrolment.objects.select_for_update()
        .filter(intake=intake, status=S.WAITLISTED)
        .order_by("applied_at", "pk")[:free]
    )
    for enrolment in promoted:
        enrolment_transition(
            enrolment=enrolment,
            to=_seat_status(intake),
            actor=None,
            reason=_("A seat became free."),
            now=now,
        )
    return promoted


def _locked_enrolment(enrolment: Enrolment) -> tuple[Enrolment, Intake]:
    intake = _lock_intake(enrolment.intake_id)
    return Enrolment.objects.select_for_update().get(pk=enrolment.pk), intake


def _leave(enrolment: Enrolment, *, to: str, actor, reason: str) -> Enrolment:
    """Move an enrolment out of the intake; a seat it held goes to the head of the waitlist."""
    enrolment, intake = _locked_enrolment(enrolment)
    held_seat = enrolment.holds_seat
    enrolment_transition(enrolment=enrolment, to=to, actor=actor, reason=reason)
    if held_seat:
        _promote_waitlist(intake, now=timezone.now())
    return enrolment


@transaction.atomic
def enrolment_withdraw(*, enrolment: Enrolment, actor, reason: str = "") -> Enrolment:
    return _leave(enrolment, to=S.WITHDRAWN, actor=actor, reason=reason)


@transaction.atomic
def enrolment_accept(*, enrolment: Enrolment, actor, reason: str = "") -> Enrolment:
    enrolment, intake = _locked_enrolment(enrolment)
    if enrolment.status == S.WAITLISTED and seats_taken(intake) >= intake.capacity:
        raise EnrolmentError(_("The intake is full: this learner stays on the waitlist."))
    return enrolment_transition(enrolment=enrolment, to=S.ACCEPTED, actor=actor, reason=reason)


@transaction.atomic
def enrolment_reject(*, enrolment: Enrolment, actor, reason: str) -> Enrolment:
    if not reason.strip():
        raise EnrolmentError(_("Give the learner a reason for the rejection."))
    return _leave(enrolment, to=S.REJECTED, actor=actor, reason=reason)


@transaction.atomic
def enrolment_activate(*, enrolment: Enrolment, actor, reason: str = "") -> Enrolment:
    enrolment, _intake = _locked_enrolment(enrolment)
    return enrolment_transition(enrolment=enrolment, to=S.ACTIVE, actor=actor, reason=reason)


@transaction.atomic
def enrolment_complete(*, enrolment: Enrolment, actor, reason: str = "") -> Enrolment:
    enrolment, _intake = _locked_enrolment(enrolment)
    enrolment = enrolment_transition(enrolment=enrolment, to=S.COMPLETED, actor=actor, reason=reason)
    # The certificates app opens the completion certificate request in this same transaction.
    enrolment_completed.send(sender=Enrolment, enrolment=enrolment)
    return enrolment


@transaction.atomic
def enrolments_complete(*, enrolments: list[Enrolment], actor, reason: str = "") -> list[Enrolment]:
    """``enrolment_complete`` for many enrolments at once (the learners a results import finishes).

    The same locks, history rows, audit events, emails and certificate requests as completing
    each alone, in a fixed number of statements per call instead of about twenty per learner:
    the intakes, then the enrolments, are locked in primary-key order, every move is checked
    against the transition table before anything is written, and the rows go in bulk.
    """
    from enrolment.cache import seats_changed
    from enrolment.tasks import send_enrolment_status_email
    from ouc_portal.audit.services import record_many, status_event
    from ouc_portal.outbox.services import enqueue_many

    ids = sorted({e.pk for e in enrolments})
    if not ids:
        return []
    intake_ids = sorted({e.intake_id for e in enrolments})
    list(Intake.objects.select_for_update().select_related("programme").filter(pk__in=intake_ids).order_by("pk"))
    locked = list(Enrolment.objects.select_for_update().filter(pk__in=ids).order_by("pk"))
    now = timezone.now()
    for enrolment in locked:
        if S.COMPLETED not in ENROLMENT_TRANSITIONS.get(enrolment.status, frozenset()):
            raise EnrolmentError(
                _("An enrolment that is %(from)s cannot become %(to)s.")
                % {"from": S(enrolment.status).label, "to": S.COMPLETED.label}
            )
    changes = EnrolmentStatusChange.objects.bulk_create(
        [
            EnrolmentStatusChange(
                enrolment=e, from_status=e.status, to_status=S.COMPLETED, actor=actor, reason=reason, at=now
            )
            for e in locked
        ],
        batch_size=500,
    )
    Enrolment.objects.filter(pk__in=ids).update(status=S.COMPLETED, status_changed_at=now)
    for enrolment in locked:
        enrolment.status, enrolment.status_changed_at = S.COMPLETED, now
    # An update and bulk_create send no post_save: what their receivers do, done here once.
    record_many(status_event(change) for change in changes)
    seats_changed()
    enqueue_many(send_enrolment_status_email, [(change.pk,) for change in changes])
    # The certificates app opens the completion certificate requests in this same transaction.
    enrolments_completed.send(sender=Enrolment, enrolments=locked)
    return locked


# --- Results ------------------------------------------------------------------------------------

PASS_MARK = Decimal("60")
GRADE_BANDS = ((Decimal("90"), "A"), (Decimal("80"), "B"), (Decimal("70"), "C"), (Decimal("60"), "D"))


def grade_for(score: Decimal) -> tuple[str, bool]:
    for floor, grade in GRADE_BANDS:
        if score >= floor:
            return grade, True
    return "F", False


def course_in_programme(course: Course, programme: Programme) -> bool:
    return course.group_memberships.filter(programme=programme).exists()


RESULT_STATES = frozenset({S.ACTIVE, S.ACCEPTED, S.COMPLETED})


# --- Decisions on many applications at once (school staff queue) -------------------------------


@dataclass
class BulkDecision:
    done: list[Enrolment]
    refused: list[tuple[Enrolment, str]]


ENROLMENT_DECISIONS = {
    "accept": enrolment_accept,
    "reject": enrolment_reject,
    "activate": enrolment_activate,
}


def enrolment_decide_many(*, enrolments, decision: str, actor, reason: str = "") -> BulkDecision:
    """Apply one decision to several enrolments, each through its own service and transaction.

    Deliberately not one transaction: a refusal (the intake is full, the state has moved on) must
    not undo the decisions already taken, and the staff member sees which ones were refused and why.
    Enrolments are decided oldest application first, so seats go in the order people applied.
    """
    service = ENROLMENT_DECISIONS.get(decision)
    if service is None:
        raise ValueError(f"Not a decision: {decision!r}")
    if decision == "reject" and not reason.strip():
        raise EnrolmentError(_("Give the learner a reason for the rejection."))
    outcome = BulkDecision(done=[], refused=[])
    for enrolment in sorted(enrolments, key=lambda e: (e.applied_at, e.pk)):
        try:
            decided = service(enrolment=enrolment, actor=actor, reason=reason)
        except EnrolmentError as exc:
            outcome.refused.append((enrolment, exc.message))
        else:
            outcome.done.append(decided)
    return outcome


def learner_erase(*, learner: Learner) -> None:
    """Erase the personal fields of ``learner``'s profile (closing the account); enrolments,
    results and their history stay, as records of the schools, no longer naming the person."""
    for name in PROFILE_FIELDS:
        setattr(learner, name, None if name == "centre" else "")
    learner.save(update_fields=list(PROFILE_FIELDS))
