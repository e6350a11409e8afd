import pytest
from django.db import IntegrityError, transaction
from django.http import Http404

from schools.models import Membership
from schools.roles import ANONYMOUS, require_reviewer, require_school_admin, roles_for
from tests import factories


def test_each_role_reaches_only_its_own_scope(cast):
    admin = roles_for(cast.school_admin)
    assert admin.administers(cast.school.pk)
    assert not admin.administers(cast.other_school.pk)
    assert not admin.reviews_for(cast.association.pk)
    assert not admin.is_credit_officer()

    reviewer = roles_for(cast.reviewer)
    assert reviewer.reviews_for(cast.association.pk)
    assert not reviewer.reviews_for(cast.other_association.pk)
    assert not reviewer.administers(cast.school.pk)

    assert roles_for(cast.credit_officer).is_credit_officer()
    assert not roles_for(cast.learner).is_staff_role
    root = roles_for(cast.superuser)
    assert root.administers(cast.other_school.pk) and root.reviews_for(cast.other_association.pk)


def test_anonymous_and_inactive_people_hold_no_role(cast, django_user_model):
    from django.contrib.auth.models import AnonymousUser

    assert roles_for(AnonymousUser()) is ANONYMOUS
    cast.school_admin.is_active = False
    assert roles_for(cast.school_admin) is ANONYMOUS


def test_roles_are_read_once_per_request(cast, django_assert_num_queries):
    user = cast.school_admin
    with django_assert_num_queries(1):
        roles_for(user)
        roles_for(user)
        roles_for(user)


def test_out_of_scope_access_is_a_404(cast):
    with pytest.raises(Http404):
        require_school_admin(cast.school_admin, cast.other_school.pk)
    with pytest.raises(Http404):
        require_reviewer(cast.reviewer, cast.other_association.pk)
    assert require_school_admin(cast.school_admin, cast.school.pk).is_school_admin


@pytest.mark.parametrize(
    "role, with_school, with_association",
    [
        (Membership.Role.SCHOOL_ADMIN, False, False),
        (Membership.Role.SCHOOL_ADMIN, True, True),
        (Membership.Role.REVIEWER, True, False),
        (Membership.Role.REVIEWER, False, False),
        (Membership.Role.CREDIT_OFFICER, True, False),
        (Membership.Role.CREDIT_OFFICER, False, True),
    ],
)
def test_database_refuses_a_membership_whose_scope_does_not_fit_its_role(
    db, role, with_school, with_association
):
    user = factories.UserFactory()
    school = factories.IndustrySchoolFactory() if with_school else None
    association = factories.PartnerAssociationFactory() if with_association else None
    with pytest.raises(IntegrityError), transaction.atomic():
        Membership.objects.create(user=user, role=role, school=school, association=association)
    assert not Membership.objects.filter(user=user).exists()


def test_the_same_membership_cannot_be_held_twice(cast):
    with pytest.raises(IntegrityError), transaction.atomic():
        Membership.objects.create(
            user=cast.school_admin, role=Membership.Role.SCHOOL_ADMIN, school=cast.school
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        Membership.objects.create(user=cast.credit_officer, role=Membership.Role.CREDIT_OFFICER)
