"""Staff must use a second factor (ouc_portal/accounts/second_factor.py).

Each staff role without an authenticator app reaches nothing but the pages that set one up: a page
redirects there with a message, the API answers 403 with the reason, and nothing is written. With
an app set up, allauth asks for its code at every log-in, and a wrong code keeps them out.
"""

from __future__ import annotations

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.urls import reverse

from certificates.models import CertificateRequest
from schools.models import Membership
from schools.services import membership_grant
from tests import factories

pytestmark = pytest.mark.django_db

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
SET_UP = reverse("mfa_activate_totp")
MESSAGE = "Your role in the portal needs a second factor"


def staff_without_app(role: str, cast) -> object:
    user = factories.UserFactory(is_staff=True)
    if role == "superuser":
        user.is_superuser = True
        user.save(update_fields=["is_superuser"])
        Authenticator.objects.filter(user=user).delete()
        return user
    scope = {
        Membership.Role.SCHOOL_ADMIN: {"school": cast.school},
        Membership.Role.REVIEWER: {"school": None, "association": cast.association},
        Membership.Role.CREDIT_OFFICER: {"school": None},
    }[role]
    factories.MembershipFactory(user=user, role=role, second_factor=False, **scope)
    return user


ROLES_AND_DESKS = [
    (Membership.Role.SCHOOL_ADMIN, "manage:home"),
    (Membership.Role.REVIEWER, "review:queue"),
    (Membership.Role.CREDIT_OFFICER, "creditbank:home"),
    ("superuser", "admin:index"),
]


@pytest.mark.parametrize(("role", "desk"), ROLES_AND_DESKS)
def test_staff_without_an_app_are_sent_to_set_one_up(client, cast, role, desk):
    user = staff_without_app(role, cast)
    client.force_login(user)

    for url in (reverse(desk), reverse("schools:home"), reverse("enrolment:programme_list")):
        response = client.get(url, **EN)
        assert response.status_code == 302, url
        assert response["Location"] == SET_UP

    page = client.get(reverse(desk), follow=True, **EN)
    assert MESSAGE in page.content.decode()


@pytest.mark.parametrize(("role", "desk"), ROLES_AND_DESKS)
def test_with_an_app_the_same_staff_reach_their_desk(client, cast, role, desk):
    user = staff_without_app(role, cast)
    factories.give_second_factor(user)
    client.force_login(user)
    assert reaches(client, reverse(desk))


def test_the_api_refuses_with_the_reason(client, cast):
    client.force_login(staff_without_app(Membership.Role.SCHOOL_ADMIN, cast))
    response = client.get("/api/v1/manage/schools/mechanical/enrolments/", **EN)
    assert response.status_code == 403
    assert MESSAGE in response.json()["detail"]


def test_nothing_is_written_by_a_staff_member_without_an_app(client, cast):
    """A reviewer without an app posting a decision: refused before the view, nothing changes."""
    learner = factories.LearnerFactory()
    request = factories.completed_request(learner=learner, association=cast.association)
    user = staff_without_app(Membership.Role.REVIEWER, cast)
    client.force_login(user)
    before = CertificateRequest.objects.get(pk=request.pk).status
    response = client.post(
        reverse("review:request", args=[request.public_id]), {"action": "start_review"}, **EN
    )
    assert response.status_code == 302 and response["Location"] == SET_UP
    assert CertificateRequest.objects.get(pk=request.pk).status == before


def test_account_pages_stay_open(client, cast):
    client.force_login(staff_without_app(Membership.Role.CREDIT_OFFICER, cast))
    # The set-up itself (it asks for the password again first), the language and log-out.
    response = client.get(SET_UP, **EN)
    assert response.status_code in (200, 302)
    assert response.get("Location", SET_UP) != SET_UP or response.status_code == 200
    assert client.get(reverse("mfa_index"), **EN).status_code == 200
    response = client.post(reverse("set_language"), {"language": "zh-hans", "next": "/"})
    assert response.status_code == 302
    assert client.post(reverse("account_logout")).status_code == 302
    assert "_auth_user_id" not in client.session


def test_learners_are_not_asked(client, cast):
    client.force_login(cast.learner)
    assert client.get(reverse("enrolment:my_dashboard"), **EN).status_code == 200


def test_a_learner_given_a_role_is_asked_from_their_next_request(client, cast):
    client.force_login(cast.learner)
    assert client.get(reverse("enrolment:my_dashboard"), **EN).status_code == 200
    membership_grant(user=cast.learner, role=Membership.Role.SCHOOL_ADMIN, school=cast.school)
    response = client.get(reverse("enrolment:my_dashboard"), **EN)
    assert response.status_code == 302 and response["Location"] == SET_UP


def test_removing_the_app_sends_them_back_to_set_up(client, cast):
    client.force_login(cast.credit_officer)
    assert client.get(reverse("creditbank:home"), **EN).status_code == 200
    Authenticator.objects.filter(user=cast.credit_officer).delete()
    response = client.get(reverse("creditbank:home"), **EN)
    assert response.status_code == 302 and response["Location"] == SET_UP


def reaches(client, url: str) -> bool:
    """The page opens (following the desk's own redirects), and it is not the set-up page."""
    response = client.get(url, follow=True, **EN)
    return response.status_code == 200 and all(hop != SET_UP for hop, _ in response.redirect_chain)


def _password_log_in(client, email: str):
    return client.post(reverse("account_login"), {"login": email, "password": factories.PASSWORD})


def test_the_full_way_in_password_then_set_up_then_the_desk(client, cast):
    """A new school administrator's first log-in: password, forced to set up the app (after the
    password again), then their desk; the next log-in asks for the code."""
    import pyotp

    user = staff_without_app(Membership.Role.SCHOOL_ADMIN, cast)
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)

    response = _password_log_in(client, user.email)
    assert response.status_code == 302
    assert client.get(reverse("manage:home"), **EN)["Location"] == SET_UP

    response = client.get(SET_UP, **EN)
    if response.status_code == 302:  # allauth asks for the password before changing a factor
        client.post(response["Location"], {"password": factories.PASSWORD})
        response = client.get(SET_UP, **EN)
    assert response.status_code == 200
    # The secret as the person's phone app gets it: from the otpauth:// address the page shows.
    secret = pyotp.parse_uri(response.context["totp_url"]).secret

    response = client.post(SET_UP, {"code": "000000"}, **EN)
    assert response.status_code == 200 and response.context["form"].errors
    assert client.get(reverse("manage:home"), **EN)["Location"] == SET_UP

    response = client.post(SET_UP, {"code": factories.totp_code(secret)}, **EN)
    assert response.status_code == 302
    assert reaches(client, reverse("manage:home"))

    # Next time the password alone is not enough, and a wrong code keeps them out.
    fresh = client.__class__()
    response = _password_log_in(fresh, user.email)
    assert response["Location"] == reverse("mfa_authenticate")
    response = fresh.post(reverse("mfa_authenticate"), {"code": "123456"}, **EN)
    assert response.status_code == 200 and "_auth_user_id" not in fresh.session
    response = fresh.post(reverse("mfa_authenticate"), {"code": factories.totp_code(secret)})
    assert response.status_code == 302 and "_auth_user_id" in fresh.session
    assert reaches(fresh, reverse("manage:home"))


def test_staff_from_the_factories_log_in_with_the_shared_secret(client, cast):
    EmailAddress.objects.create(
        user=cast.reviewer, email=cast.reviewer.email, verified=True, primary=True
    )
    response = _password_log_in(client, cast.reviewer.email)
    assert response["Location"] == reverse("mfa_authenticate")
    response = client.post(reverse("mfa_authenticate"), {"code": factories.totp_code()})
    assert response.status_code == 302
    assert client.get(reverse("review:queue"), **EN).status_code == 200
