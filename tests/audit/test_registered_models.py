"""Each app registers what it audits (in its AppConfig.ready); the kernel imports none of them.

The history tables of the three state machines and the staff memberships are audited; a row
saved or removed is the event the portal has always written.
"""

from __future__ import annotations

import pytest
from django.db.models.signals import post_delete, post_save
from django.dispatch.dispatcher import _make_id

from certificates.models import RequestStatusChange
from creditbank import services as creditbank
from creditbank.models import OutcomeStatusChange
from enrolment.models import Enrolment, EnrolmentStatus, EnrolmentStatusChange
from ouc_portal.audit.models import AuditEvent
from schools.models import Membership
from tests import factories


def _uids(signal, model) -> set[str]:
    return {key[0] for key, *_ in signal.receivers if key[1] == _make_id(model)}


@pytest.mark.parametrize(
    ("signal", "model", "uid"),
    [
        (post_save, EnrolmentStatusChange, "audit-enrolment-status"),
        (post_save, OutcomeStatusChange, "audit-outcome-status"),
        (post_save, RequestStatusChange, "audit-certificate-request-status"),
        (post_save, Membership, "audit-membership-saved"),
        (post_delete, Membership, "audit-membership-removed"),
    ],
)
def test_each_app_registered_its_audited_model_once(signal, model, uid):
    assert uid in _uids(signal, model)
    assert len([r for r in signal.receivers if r[0] == (uid, _make_id(model))]) == 1


def events(action: str, obj) -> int:
    return AuditEvent.objects.filter(action=action, object_id=str(obj.pk)).count()


@pytest.mark.django_db
def test_a_new_history_row_of_each_machine_is_one_event(cast):
    learner = cast.learner.learner
    intake = factories.IntakeFactory()
    enrolment = Enrolment.objects.create(learner=learner, intake=intake, programme=intake.programme)
    EnrolmentStatusChange.objects.create(
        enrolment=enrolment, to_status=EnrolmentStatus.APPLIED, actor=cast.learner
    )
    outcome = factories.LearningOutcomeFactory(account=creditbank.account_for(learner))
    OutcomeStatusChange.objects.create(outcome=outcome, to_status="submitted", actor=cast.learner)
    request = factories.completed_request(learner=learner)
    before = events("certificates.certificaterequest.status", request)
    RequestStatusChange.objects.create(
        request=request, from_status="requested", to_status="approved"
    )

    assert events("enrolment.enrolment.status", enrolment) == 1
    assert events("creditbank.learningoutcome.status", outcome) == 1
    assert events("certificates.certificaterequest.status", request) - before == 1


@pytest.mark.django_db
def test_a_changed_membership_is_an_event(cast):
    membership = factories.MembershipFactory(
        user=factories.UserFactory(), role=Membership.Role.SCHOOL_ADMIN, school=cast.other_school
    )
    membership.school = cast.school
    membership.save()
    actions = list(
        AuditEvent.objects.filter(object_type="schools.membership", object_id=str(membership.pk))
        .order_by("pk").values_list("action", flat=True)
    )  # fmt: skip
    assert actions == ["schools.membership.granted", "schools.membership.changed"]
