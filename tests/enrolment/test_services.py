import datetime
import threading
from itertools import product

import pytest
from django.db import connection
from django.utils import timezone

from enrolment import services
from enrolment.models import (
    ENROLMENT_TRANSITIONS,
    Enrolment,
    EnrolmentStatus,
    EnrolmentStatusChange,
    ProgrammeStatus,
)
from enrolment.services import EnrolmentError
from tests import factories

S = EnrolmentStatus
pytestmark = pytest.mark.django_db


def apply(learner, intake, **kwargs):
    return services.enrolment_apply(learner=learner, intake=intake, **kwargs)


def test_a_free_seat_goes_to_the_approval_queue_and_is_recorded(django_capture_on_commit_callbacks, mailoutbox, eager):
    intake = factories.IntakeFactory(capacity=2)
    learner = factories.LearnerFactory()
    with django_capture_on_commit_callbacks(execute=True):
        outcome = apply(learner, intake)
    assert outcome.enrolment.status == S.APPLIED
    assert outcome.waitlist_position is None
    change = outcome.enrolment.history.get()
    assert (change.from_status, change.to_status, change.actor) == ("", S.APPLIED, learner.user)
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == [learner.user.email]
    assert intake.programme.name_en in mailoutbox[0].subject


def test_without_approval_a_free_seat_is_accepted_at_once():
    intake = factories.IntakeFactory(requires_approval=False)
    assert apply(factories.LearnerFactory(), intake).enrolment.status == S.ACCEPTED


def test_a_full_intake_waitlists_in_order_of_application():
    intake = factories.IntakeFactory(capacity=1)
    apply(factories.LearnerFactory(), intake)
    second = apply(factories.LearnerFactory(), intake)
    third = apply(factories.LearnerFactory(), intake)
    assert (second.enrolment.status, second.waitlist_position) == (S.WAITLISTED, 1)
    assert (third.enrolment.status, third.waitlist_position) == (S.WAITLISTED, 2)


def test_a_freed_seat_promotes_the_first_in_line(django_capture_on_commit_callbacks, mailoutbox, eager):
    intake = factories.IntakeFactory(capacity=1)
    first = apply(factories.LearnerFactory(), intake).enrolment
    second = apply(factories.LearnerFactory(), intake).enrolment
    third = apply(factories.LearnerFactory(), intake).enrolment
    with django_capture_on_commit_callbacks(execute=True):
        services.enrolment_withdraw(enrolment=first, actor=first.learner.user, reason="changed jobs")
    second.refresh_from_db()
    third.refresh_from_db()
    assert second.status == S.APPLIED
    assert third.status == S.WAITLISTED
    assert services.waitlist_position(third) == 1
    promoted = second.history.order_by("pk").last()
    assert (promoted.from_status, promoted.to_status, promoted.actor) == (S.WAITLISTED, S.APPLIED, None)
    assert {m.to[0] for m in mailoutbox} == {first.learner.user.email, second.learner.user.email}


def test_a_rejection_frees_the_seat_and_needs_a_reason():
    intake = factories.IntakeFactory(capacity=1)
    first = apply(factories.LearnerFactory(), intake).enrolment
    waiting = apply(factories.LearnerFactory(), intake).enrolment
    admin = factories.UserFactory()
    with pytest.raises(EnrolmentError, match="reason"):
        services.enrolment_reject(enrolment=first, actor=admin, reason="  ")
    first.refresh_from_db()
    assert first.status == S.APPLIED
    services.enrolment_reject(enrolment=first, actor=admin, reason="Entry requirements not met")
    waiting.refresh_from_db()
    assert waiting.status == S.APPLIED
    assert first.history.last().reason == "Entry requirements not met"


def test_a_waitlisted_learner_cannot_be_accepted_over_capacity():
    intake = factories.IntakeFactory(capacity=1)
    apply(factories.LearnerFactory(), intake)
    waiting = apply(factories.LearnerFactory(), intake).enrolment
    with pytest.raises(EnrolmentError, match="full"):
        services.enrolment_accept(enrolment=waiting, actor=factories.UserFactory())
    waiting.refresh_from_db()
    assert waiting.status == S.WAITLISTED


@pytest.mark.parametrize(
    "setup, message",
    [
        ("before_window", "open from"),
        ("after_window", "open from"),
        ("unpublished", "not open for applications"),
        ("archived", "not open for applications"),
        ("twice", "already have a live application"),
        ("twice_other_intake", "already have a live application"),
        ("no_profile", "Finish your learner profile"),
        ("no_consent", "Finish your learner profile"),
    ],
)
def test_refused_applications_say_why_and_store_nothing(setup, message):
    intake = factories.IntakeFactory()
    learner = factories.LearnerFactory()
    now = timezone.now()
    if setup == "before_window":
        now = intake.opens_at - datetime.timedelta(seconds=1)
    elif setup == "after_window":
        now = intake.closes_at
    elif setup == "unpublished":
        intake.programme.status = ProgrammeStatus.DRAFT
        intake.programme.save()
    elif setup == "archived":
        intake.programme.status = ProgrammeStatus.ARCHIVED
        intake.programme.save()
    elif setup == "twice":
        apply(learner, intake)
    elif setup == "twice_other_intake":
        other = factories.IntakeFactory(programme=intake.programme, season="spring")
        apply(learner, other)
    elif setup == "no_profile":
        learner.employer = ""
        learner.save()
    elif setup == "no_consent":
        learner.privacy_consent_at = None
        learner.save()
    before = (Enrolment.objects.count(), EnrolmentStatusChange.objects.count())
    with pytest.raises(EnrolmentError, match=message):
        apply(learner, intake, now=now)
    assert (Enrolment.objects.count(), EnrolmentStatusChange.objects.count()) == before


def test_a_withdrawn_learner_may_apply_again():
    intake = factories.IntakeFactory()
    learner = factories.LearnerFactory()
    first = apply(learner, intake).enrolment
    services.enrolment_withdraw(enrolment=first, actor=learner.user)
    assert apply(learner, intake).enrolment.status == S.APPLIED


ILLEGAL = [
    (src, dst)
    for src, dst in product(S.values, S.values)
    if dst not in ENROLMENT_TRANSITIONS[src]
]


@pytest.mark.parametrize("src, dst", ILLEGAL)
def test_every_move_outside_the_table_is_refused(src, dst):
    enrolment = Enrolment.objects.create(
        learner=factories.LearnerFactory(),
        intake=(intake := factories.IntakeFactory()),
        programme=intake.programme,
        status=src,
    )
    with pytest.raises(EnrolmentError, match="cannot become"):
        services.enrolment_transition(enrolment=enrolment, to=dst, actor=None)
    enrolment.refresh_from_db()
    assert enrolment.status == src
    assert not enrolment.history.exists()


def test_the_full_life_cycle_leaves_a_complete_history():
    intake = factories.IntakeFactory()
    learner = factories.LearnerFactory()
    admin = factories.UserFactory()
    enrolment = apply(learner, intake).enrolment
    services.enrolment_accept(enrolment=enrolment, actor=admin)
    services.enrolment_activate(enrolment=enrolment, actor=admin)
    services.enrolment_complete(enrolment=enrolment, actor=admin)
    moves = list(enrolment.history.order_by("pk").values_list("from_status", "to_status"))
    assert moves == [("", S.APPLIED), (S.APPLIED, S.ACCEPTED), (S.ACCEPTED, S.ACTIVE), (S.ACTIVE, S.COMPLETED)]


def test_fifty_learners_applying_at_once_for_ten_seats(require_postgres):
    intake = factories.IntakeFactory(capacity=10)
    learners = factories.LearnerFactory.create_batch(50)
    barrier = threading.Barrier(len(learners))
    errors: list[BaseException] = []

    def run(learner):
        try:
            barrier.wait(timeout=30)
            apply(learner, intake)
        except BaseException as exc:  # collected and re-raised in the test thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(learner,)) for learner in learners]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    statuses = list(Enrolment.objects.filter(intake=intake).values_list("status", flat=True))
    assert statuses.count(S.APPLIED) == 10
    assert statuses.count(S.WAITLISTED) == 40
    waitlist = Enrolment.objects.filter(intake=intake, status=S.WAITLISTED)
    positions = sorted(services.waitlist_position(e) for e in waitlist)
    assert positions == list(range(1, 41))
    order = list(waitlist.order_by("applied_at", "pk").values_list("pk", flat=True))
    assert [services.waitlist_position(Enrolment.objects.get(pk=pk)) for pk in order] == list(range(1, 41))
