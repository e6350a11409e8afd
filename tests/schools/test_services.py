"""Writes on the network: staff roles granted and revoked through the services, the network loaded
from data."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from schools.models import IndustrySchool, Membership
from schools.network import network_data
from schools.roles import roles_for
from schools.services import membership_grant, membership_revoke, network_load
from tests import factories

pytestmark = pytest.mark.django_db

SCHOOL_ADMIN = Membership.Role.SCHOOL_ADMIN
REVIEWER = Membership.Role.REVIEWER
CREDIT_OFFICER = Membership.Role.CREDIT_OFFICER


def test_grant_each_role_for_its_scope(cast):
    person = factories.UserFactory()

    admin = membership_grant(user=person, role=SCHOOL_ADMIN, school=cast.other_school)
    reviewer = membership_grant(user=person, role=REVIEWER, association=cast.other_association)
    officer = membership_grant(user=person, role=CREDIT_OFFICER, granted_by=cast.superuser)

    assert (admin.school, admin.association) == (cast.other_school, None)
    assert (reviewer.school, reviewer.association) == (None, cast.other_association)
    assert officer.granted_by == cast.superuser
    roles = roles_for(person)
    assert roles.administers(cast.other_school.pk) and not roles.administers(cast.school.pk)
    assert roles.reviews_for(cast.other_association.pk)
    assert roles.is_credit_officer()


def test_granting_twice_gives_the_role_once(cast):
    person = factories.UserFactory()
    first = membership_grant(user=person, role=SCHOOL_ADMIN, school=cast.school)
    second = membership_grant(user=person, role=SCHOOL_ADMIN, school=cast.school)

    assert first.pk == second.pk
    assert Membership.objects.filter(user=person).count() == 1


def test_a_grant_is_seen_at_once_by_cached_roles(cast):
    # roles_for caches on the user object; the service must drop that cache.
    person = factories.UserFactory()
    assert not roles_for(person).is_school_admin

    membership_grant(user=person, role=SCHOOL_ADMIN, school=cast.school)

    assert roles_for(person).administers(cast.school.pk)


@pytest.mark.parametrize(
    "role, with_school, with_association, message",
    [
        (SCHOOL_ADMIN, False, False, "A school administrator acts for one industry school"),
        (SCHOOL_ADMIN, True, True, "give a school and no partner association"),
        (REVIEWER, True, False, "A partner-association reviewer acts for one partner association"),
        (REVIEWER, False, False, "give an association and no school"),
        (CREDIT_OFFICER, True, False, "A credit-bank officer acts for the whole credit bank"),
        (CREDIT_OFFICER, False, True, "give neither a school nor an association"),
    ],
)
def test_a_scope_that_does_not_fit_the_role_is_refused(
    cast, role, with_school, with_association, message
):
    person = factories.UserFactory()
    with pytest.raises(ValidationError) as error:
        membership_grant(
            user=person,
            role=role,
            school=cast.school if with_school else None,
            association=cast.association if with_association else None,
        )
    assert message in error.value.messages[0]
    assert error.value.code == "scope_mismatch"
    assert not Membership.objects.filter(user=person).exists()


def test_an_unknown_role_is_refused(cast):
    with pytest.raises(ValidationError, match="Unknown role 'principal'"):
        membership_grant(user=cast.learner, role="principal", school=cast.school)
    assert not Membership.objects.filter(user=cast.learner).exists()


def test_an_inactive_account_gets_no_role(cast):
    person = factories.UserFactory(is_active=False, email="gone@example.org")
    with pytest.raises(ValidationError, match="gone@example.org is deactivated"):
        membership_grant(user=person, role=CREDIT_OFFICER)
    assert not Membership.objects.filter(user=person).exists()


def test_revoke_takes_the_role_away_once(cast):
    user = cast.school_admin
    assert roles_for(user).administers(cast.school.pk)

    assert membership_revoke(user=user, role=SCHOOL_ADMIN, school=cast.school) is True
    assert membership_revoke(user=user, role=SCHOOL_ADMIN, school=cast.school) is False

    assert not Membership.objects.filter(user=user).exists()
    assert not roles_for(user).administers(cast.school.pk)
    # Another person's membership of the same school is untouched.
    assert roles_for(cast.other_school_admin).administers(cast.other_school.pk)


def test_revoke_only_the_named_scope(cast):
    membership_grant(user=cast.reviewer, role=REVIEWER, association=cast.other_association)

    membership_revoke(user=cast.reviewer, role=REVIEWER, association=cast.association)

    assert list(
        Membership.objects.filter(user=cast.reviewer).values_list("association", flat=True)
    ) == [cast.other_association.pk]


def test_revoke_refuses_a_scope_that_does_not_fit(cast):
    with pytest.raises(
        ValidationError, match="A credit-bank officer acts for the whole credit bank"
    ):
        membership_revoke(user=cast.credit_officer, role=CREDIT_OFFICER, school=cast.school)
    assert Membership.objects.filter(user=cast.credit_officer).exists()


def test_network_load_returns_counts_and_updates_in_place(db):
    data = network_data()

    first = network_load(data=data)
    assert first["schools"] == {"created": 10, "updated": 0, "unchanged": 0}
    assert first["agreements"] == {"created": 14, "updated": 0, "unchanged": 0}
    assert first["signatories"] == {"created": 26, "updated": 0, "unchanged": 0}

    data["schools"][4]["name_zh"] = "国家开放大学机械工业学院"
    second = network_load(data=data)
    assert second["schools"] == {"created": 0, "updated": 1, "unchanged": 9}
    assert second["partners"] == {"created": 0, "updated": 0, "unchanged": 14}
    assert IndustrySchool.objects.get(slug="mechanical").name_zh == "国家开放大学机械工业学院"
    assert IndustrySchool.objects.count() == 10


def test_network_load_keeps_rows_it_does_not_know(cast):
    # The cast's schools share slugs with the real ones: loading updates them, and adds the rest.
    extra = factories.IndustrySchoolFactory(slug="nursing", name_en="School of Nursing")

    network_load(data=network_data())

    assert (
        IndustrySchool.objects.get(pk=cast.school.pk).name_en == "OUC School of Mechanical Industry"
    )
    assert IndustrySchool.objects.filter(pk=extra.pk).exists()
    assert IndustrySchool.objects.count() == 11


def test_network_load_refuses_bad_data_with_every_problem(db):
    data = network_data()
    data["schools"][0]["founded_on"] = "yesterday"
    data["centres"][0]["level"] = "global"

    with pytest.raises(ValidationError) as error:
        network_load(data=data)

    assert any("founded_on 'yesterday' is not a date" in m for m in error.value.messages)
    assert any(
        "level 'global' is not one of: national, provincial" in m for m in error.value.messages
    )
    assert not IndustrySchool.objects.exists()
