"""The Django admin: a school administrator sees and edits only their own school's rows; the
superuser sees everything; memberships go through the services."""

from __future__ import annotations

import pytest
from django.urls import reverse

from schools.models import IndustrySchool, Membership, PartnerAssociation
from tests import factories

pytestmark = pytest.mark.django_db


def url(model: str, view: str, *args) -> str:
    return reverse(f"admin:schools_{model}_{view}", args=args)


def listed(response) -> set:
    assert response.status_code == 200, response.status_code
    return set(response.context["cl"].result_list)


@pytest.fixture
def rows(cast):
    """Agreements and centres of both schools, and a centre both schools teach at."""
    own_centre = factories.LearningCentreFactory(code="own-centre")
    own_centre.schools.add(cast.school)
    other_centre = factories.LearningCentreFactory(code="other-centre")
    other_centre.schools.add(cast.other_school)
    shared_centre = factories.LearningCentreFactory(code="shared-centre")
    shared_centre.schools.add(cast.school, cast.other_school)
    return {
        "own_agreement": factories.CooperationAgreementFactory(
            school=cast.school, association=cast.association
        ),
        "other_agreement": factories.CooperationAgreementFactory(
            school=cast.other_school, association=cast.other_association
        ),
        # Signed for a centre, not a school (like BAIC's): it belongs to the centre's schools.
        "own_centre_agreement": factories.CooperationAgreementFactory(
            school=None, learning_centre=own_centre, association=cast.other_association
        ),
        "other_centre_agreement": factories.CooperationAgreementFactory(
            school=None, learning_centre=other_centre, association=cast.association
        ),
        "own_centre": own_centre,
        "other_centre": other_centre,
        "shared_centre": shared_centre,
    }


@pytest.fixture
def school_admin_client(client, cast):
    client.force_login(cast.school_admin)
    return client


def test_school_admin_sees_only_their_school(school_admin_client, cast, rows):
    assert listed(school_admin_client.get(url("industryschool", "changelist"))) == {cast.school}
    assert listed(school_admin_client.get(url("cooperationagreement", "changelist"))) == {
        rows["own_agreement"],
        rows["own_centre_agreement"],
    }
    assert listed(school_admin_client.get(url("learningcentre", "changelist"))) == {
        rows["own_centre"],
        rows["shared_centre"],
    }


def test_superuser_sees_everything(client, cast, rows):
    client.force_login(cast.superuser)
    assert listed(client.get(url("industryschool", "changelist"))) == set(
        IndustrySchool.objects.all()
    )
    assert len(listed(client.get(url("cooperationagreement", "changelist")))) == 4
    assert len(listed(client.get(url("learningcentre", "changelist")))) == 3
    assert client.get(url("membership", "changelist")).status_code == 200


@pytest.mark.parametrize(
    "model, target",
    [
        ("industryschool", lambda cast, rows: cast.other_school),
        ("cooperationagreement", lambda cast, rows: rows["other_agreement"]),
        ("cooperationagreement", lambda cast, rows: rows["other_centre_agreement"]),
        ("learningcentre", lambda cast, rows: rows["other_centre"]),
    ],
)
def test_another_schools_row_cannot_be_opened(school_admin_client, cast, rows, model, target):
    obj = target(cast, rows)
    response = school_admin_client.get(url(model, "change", obj.pk))
    assert response.status_code != 200
    assert response.status_code == 302 and response["Location"] == reverse("admin:index")

    response = school_admin_client.get(url(model, "history", obj.pk))
    assert response.status_code != 200


def test_another_schools_row_cannot_be_changed(school_admin_client, cast):
    other = cast.other_school
    response = school_admin_client.post(
        url("industryschool", "change", other.pk),
        {"name_en": "Taken over", "name_zh": "", "description_en": "", "description_zh": ""},
    )
    assert response.status_code == 302
    other.refresh_from_db()
    assert other.name_en == "School of Coal Industry"


def test_school_admin_edits_their_own_school(school_admin_client, cast):
    school = cast.school
    page = school_admin_client.get(url("industryschool", "change", school.pk))
    assert page.status_code == 200
    assert page.context["has_change_permission"]
    assert "slug" not in page.context["adminform"].form.fields  # shown, not editable

    response = school_admin_client.post(
        url("industryschool", "change", school.pk),
        {
            "slug": "renamed",  # read-only: ignored
            "name_en": "OUC School of Mechanical Industry",
            "name_zh": "国家开放大学机械学院",
            "description_en": "Numerical Control Technology since 2005.",
            "description_zh": "自2005年起开设数控技术专业。",
        },
    )

    assert response.status_code == 302
    school.refresh_from_db()
    assert school.name_en == "OUC School of Mechanical Industry"
    assert school.description_zh == "自2005年起开设数控技术专业。"
    assert school.slug == "mechanical"


def test_school_admin_cannot_add_or_delete_schools(school_admin_client, cast):
    assert school_admin_client.get(url("industryschool", "add")).status_code == 403
    response = school_admin_client.post(
        url("industryschool", "add"),
        {"slug": "new", "name_en": "New", "industry": "coal", "founded_on": "2024-01-01"},
    )
    assert response.status_code == 403
    assert (
        school_admin_client.get(url("industryschool", "delete", cast.school.pk)).status_code == 403
    )
    assert IndustrySchool.objects.count() == 2


def test_school_admin_never_sees_memberships(school_admin_client):
    assert school_admin_client.get(url("membership", "changelist")).status_code == 403
    index = school_admin_client.get(reverse("admin:index"))
    models = {m["object_name"] for app in index.context["app_list"] for m in app["models"]}
    assert models == {
        "IndustrySchool",
        "PartnerAssociation",
        "CooperationAgreement",
        "LearningCentre",
    }


def test_partners_are_view_only_for_a_school_admin(school_admin_client, cast):
    partner = cast.other_association
    page = school_admin_client.get(url("partnerassociation", "change", partner.pk))
    assert page.status_code == 200
    assert not page.context["has_change_permission"]

    response = school_admin_client.post(
        url("partnerassociation", "change", partner.pk),
        {"slug": partner.slug, "name_en": "Renamed", "kind": partner.kind},
    )
    assert response.status_code == 403
    partner.refresh_from_db()
    assert partner.name_en != "Renamed"
    assert school_admin_client.get(url("partnerassociation", "add")).status_code == 403


def test_form_choices_are_limited_to_their_schools(school_admin_client, cast, rows):
    page = school_admin_client.get(url("cooperationagreement", "change", rows["own_agreement"].pk))
    fields = page.context["adminform"].form.fields
    assert set(fields["school"].queryset) == {cast.school}
    assert set(fields["learning_centre"].queryset) == {rows["own_centre"], rows["shared_centre"]}
    assert set(fields["association"].queryset) == set(PartnerAssociation.objects.all())

    page = school_admin_client.get(url("learningcentre", "change", rows["own_centre"].pk))
    assert set(page.context["adminform"].form.fields["schools"].queryset) == {cast.school}


def test_an_agreement_cannot_be_moved_to_another_school(school_admin_client, cast, rows):
    agreement = rows["own_agreement"]
    response = school_admin_client.post(
        url("cooperationagreement", "change", agreement.pk),
        {
            "school": cast.other_school.pk,
            "association": agreement.association.pk,
            "signed_on": "2013-11-26",
            "title_en": agreement.title_en,
            "signatories-TOTAL_FORMS": "0",
            "signatories-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 200  # the form again, with an error
    assert "school" in response.context["adminform"].form.errors
    agreement.refresh_from_db()
    assert agreement.school == cast.school


def test_editing_a_shared_centre_keeps_the_other_schools_link(school_admin_client, cast, rows):
    centre = rows["shared_centre"]
    response = school_admin_client.post(
        url("learningcentre", "change", centre.pk),
        {
            "schools": [cast.school.pk],
            "province": centre.province,
            "name_en": "Shared centre, renamed",
        },
    )
    assert response.status_code == 302
    centre.refresh_from_db()
    assert centre.name_en == "Shared centre, renamed"
    assert set(centre.schools.all()) == {cast.school, cast.other_school}


def test_staff_without_a_school_see_no_network_rows(client, cast):
    client.force_login(cast.reviewer)  # is_staff, a reviewer, no Django permissions
    assert client.get(url("industryschool", "changelist")).status_code == 403
    assert client.get(url("cooperationagreement", "changelist")).status_code == 403


def test_superuser_grants_a_membership_through_the_service(client, cast):
    client.force_login(cast.superuser)
    person = factories.UserFactory(is_staff=True)

    response = client.post(
        url("membership", "add"),
        {"user": person.pk, "role": Membership.Role.SCHOOL_ADMIN, "school": cast.other_school.pk},
    )

    assert response.status_code == 302
    membership = Membership.objects.get(user=person)
    assert membership.school == cast.other_school
    assert membership.granted_by == cast.superuser


def test_superuser_cannot_grant_a_scope_that_does_not_fit(client, cast):
    client.force_login(cast.superuser)
    person = factories.UserFactory(is_staff=True)

    response = client.post(
        url("membership", "add"),
        {"user": person.pk, "role": Membership.Role.REVIEWER, "school": cast.school.pk},
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert response.status_code == 200
    assert "a reviewer an association" in str(response.context["adminform"].form.errors)
    assert not Membership.objects.filter(user=person).exists()


def test_superuser_revokes_a_membership(client, cast):
    client.force_login(cast.superuser)
    membership = Membership.objects.get(user=cast.school_admin)

    response = client.post(url("membership", "delete", membership.pk), {"post": "yes"})

    assert response.status_code == 302
    assert not Membership.objects.filter(pk=membership.pk).exists()
    # Only the role went: the person and the school stay.
    assert IndustrySchool.objects.filter(pk=cast.school.pk).exists()
    cast.school_admin.refresh_from_db()
