"""Every way into a staff desk needs the second factor (issue 14), tried as someone holding a staff
member's password and nothing else would try it.

An outside probe signed in through Django admin's own log-in form with the password alone, reached
every desk, then showed the recovery codes after typing the password again, and so held lasting
two-factor access. The permission matrix did not see it: it walked the portal's routes, not the
framework's log-in forms. So these tests find every authentication endpoint the URL resolver knows
(the admin's, allauth's, any other app's, a future one's), post the password to each, and prove
that none opens a desk, a staff API, the recovery codes or a new partner API key.
"""

from __future__ import annotations

import re
import time

import pytest
from allauth.account.authentication import AUTHENTICATION_METHODS_SESSION_KEY
from allauth.account.models import EmailAddress
from django.contrib.auth.views import LoginView as DjangoLoginView
from django.test import Client
from django.urls import reverse

from schools.models import PartnerToken
from tests import factories
from tests.conftest import password_only_login
from tests.test_permission_matrix import walk

pytestmark = pytest.mark.django_db

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-hans"}
# Route names and paths that take credentials, whatever app they come from.
AUTH_ROUTE = re.compile(r"log_?in|sign_?in|authenticat|token", re.IGNORECASE)
# What the resolver must at least offer today: if one disappears the walk is checked again.
KNOWN_WAYS_IN = {"admin:login", "account_login", "account_reauthenticate", "mfa_authenticate",
                 "mfa_reauthenticate"}  # fmt: skip


def ways_in() -> list[str]:
    """Every named route that takes a log-in: by name or path, or by its view's class."""
    from allauth.account.views import LoginView as AllauthLoginView

    found = set()
    for route in walk():
        if re.search(r"<[^>]+>|\(\?P<", route.pattern):
            continue  # a page about one object (an authenticator, a token) takes no log-in
        view_class = getattr(route.callback, "view_class", None)
        is_login_view = isinstance(view_class, type) and issubclass(
            view_class, (DjangoLoginView, AllauthLoginView)
        )
        text = f"{route.name or ''} {route.pattern}"
        if route.name and (is_login_view or AUTH_ROUTE.search(text)):
            found.add(route.name)
    return sorted(found)


def test_the_walk_finds_the_known_ways_in():
    assert KNOWN_WAYS_IN <= set(ways_in()), ways_in()


def staff_member(cast, kind: str):
    """A superuser (the strongest account) or a reviewer, each with an authenticator app and a
    confirmed address, exactly as a real staff member is."""
    from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes

    user = cast.superuser if kind == "superuser" else cast.reviewer
    factories.give_second_factor(user)
    RecoveryCodes.activate(user)  # allauth makes them with the app; the factory does not
    EmailAddress.objects.get_or_create(user=user, email=user.email, defaults={"verified": True, "primary": True})
    return user


def desks(cast) -> list[str]:
    """What a password alone must never open."""
    return [
        reverse("admin:index"),
        reverse("admin:accounts_user_changelist"),
        reverse("review:queue"),
        reverse("review:tokens"),
        reverse("review:token_create"),
        reverse("manage:home"),
        reverse("creditbank:home"),
        reverse("mfa_view_recovery_codes"),
        reverse("mfa_index"),
        "/api/v1/review/requests/",
        f"/api/v1/manage/schools/{cast.school.slug}/enrolments/",
    ]


def opens(response) -> bool:
    """A desk opened: a 200 that is not a log-in or code prompt."""
    return response.status_code == 200


def credentials(user) -> dict[str, str]:
    """Every field name a log-in form here or in a framework might read."""
    return {"login": user.email, "email": user.email, "username": user.email,
            "password": factories.PASSWORD}  # fmt: skip


@pytest.mark.parametrize("kind", ["superuser", "reviewer"])
@pytest.mark.parametrize("name", ways_in())
def test_no_way_in_opens_a_desk_with_the_password_alone(cast, name, kind):
    user = staff_member(cast, kind)
    client = Client(**EN)
    url = reverse(name)
    client.get(url)
    client.post(url, credentials(user))
    # The password was right: allauth may have moved on to ask for the code. Nothing more.
    for desk in desks(cast):
        response = client.get(desk)
        assert not opens(response), f"{desk} opened after posting the password to {url}"
    assert not PartnerToken.objects.exists()
    client.post(reverse("review:token_create"), {"name": "probe"})
    assert not PartnerToken.objects.exists()


def test_the_admin_form_takes_no_password_and_sends_people_to_the_real_log_in(cast):
    user = staff_member(cast, "superuser")
    client = Client(**EN)
    response = client.post(reverse("admin:login"), credentials(user) | {"next": "/admin/"})
    assert response.status_code == 405
    assert "_auth_user_id" not in client.session
    response = client.get(reverse("admin:login") + "?next=/admin/accounts/user/")
    assert response.status_code == 302
    assert response["Location"] == reverse("account_login") + "?next=%2Fadmin%2Faccounts%2Fuser%2F"
    # And the admin itself, asked by a visitor, goes the same way.
    response = client.get(reverse("admin:index"), follow=True)
    assert response.redirect_chain[-1][0].startswith(reverse("account_login"))
    # An address of another site is not followed.
    response = client.get(reverse("admin:login") + "?next=https://evil.example/")
    assert "evil.example" not in response["Location"]


def test_the_real_log_in_with_the_code_opens_the_admin(cast):
    user = staff_member(cast, "superuser")
    client = Client(**EN)
    response = client.post(reverse("account_login") + "?next=/admin/", credentials(user))
    assert response["Location"] == reverse("mfa_authenticate")
    response = client.post(reverse("mfa_authenticate"), {"code": factories.totp_code()})
    assert response.status_code == 302 and response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_the_probe_s_chain_password_only_then_reauthenticate_then_recovery_codes(cast):
    """The finding, step by step: a password-only session, the password typed again at allauth's
    re-authentication, then the recovery codes and a new API key. Each step is refused."""
    from allauth.mfa.recovery_codes.internal.flows import auto_generate_recovery_codes  # noqa: F401

    user = staff_member(cast, "reviewer")
    client = Client(**EN)
    password_only_login(client, user)

    response = client.get(reverse("review:queue"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("mfa_reauthenticate"))
    response = client.post(reverse("account_reauthenticate"), {"password": factories.PASSWORD})
    assert response.status_code == 302 and response["Location"].startswith(reverse("mfa_reauthenticate"))
    response = client.get(reverse("mfa_view_recovery_codes"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("mfa_reauthenticate"))
    client.post(reverse("review:token_create"), {"name": "probe"})
    assert not PartnerToken.objects.exists()
    response = client.get("/api/v1/review/requests/")
    assert response.status_code == 403
    assert "password only" in response.json()["detail"]

    # The code completes the session, and only the code.
    response = client.post(reverse("mfa_reauthenticate") + "?next=/review/", {"code": "000000"})
    assert response.status_code == 200
    assert client.get(reverse("review:queue")).status_code == 302
    response = client.post(reverse("mfa_reauthenticate") + "?next=/review/", {"code": factories.totp_code()})
    assert response.status_code == 302 and response["Location"] == "/review/"
    assert client.get(reverse("review:queue")).status_code == 200


def _age_second_factor(client, seconds: float) -> None:
    session = client.session
    session[AUTHENTICATION_METHODS_SESSION_KEY] = [
        {**record, "at": record["at"] - seconds} for record in session[AUTHENTICATION_METHODS_SESSION_KEY]
    ]
    session.save()


@pytest.mark.parametrize(
    ("name", "method", "data"),
    [
        ("mfa_view_recovery_codes", "get", None),
        ("mfa_download_recovery_codes", "get", None),
        ("mfa_generate_recovery_codes", "post", {}),
        ("mfa_deactivate_totp", "post", {}),
        ("review:token_create", "post", {"name": "partner system"}),
    ],
)
def test_sensitive_changes_need_a_fresh_code_not_the_password(cast, name, method, data):
    from allauth.mfa.models import Authenticator

    user = staff_member(cast, "reviewer")
    client = Client(**EN)
    client.force_login(user)
    _age_second_factor(client, 10 * 60)
    # The password typed again does not count: only a code does.
    client.post(reverse("account_reauthenticate"), {"password": factories.PASSWORD})
    authenticators = set(Authenticator.objects.filter(user=user).values_list("pk", "type"))
    url = reverse(name)
    response = getattr(client, method)(url, data) if data is not None else client.get(url)
    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_reauthenticate") + "?next=" + url.replace("/", "%2F")
    assert set(Authenticator.objects.filter(user=user).values_list("pk", "type")) == authenticators
    assert not PartnerToken.objects.exists()

    response = client.post(response["Location"], {"code": factories.totp_code()})
    assert response.status_code == 302 and response["Location"] == url
    assert client.get(url).status_code in (200, 302) and (
        client.get(url).status_code == 200 or not client.get(url)["Location"].startswith(reverse("mfa_reauthenticate"))
    )


# --- Log-in limits: a stranger cannot lock the owner out ------------------------------------------


def _try(client, user, password: str, address: str):
    return client.post(
        reverse("account_login"), {"login": user.email, "password": password}, REMOTE_ADDR=address
    )


def _refused_for_too_many(response) -> bool:
    if response.status_code == 429:
        return True
    form = response.context and response.context.get("form")
    return bool(form and any("Too many" in str(e) for e in form.non_field_errors()))


def test_a_stranger_s_wrong_passwords_do_not_lock_the_owner_out(cast, settings):
    user = staff_member(cast, "reviewer")
    stranger, owner = Client(**EN), Client(**EN)
    for _ in range(5):
        response = _try(stranger, user, "not-the-password", "203.0.113.7")
        assert response.status_code == 200 and not _refused_for_too_many(response)
    # The stranger's address is now refused for this account, even with the right password...
    assert _refused_for_too_many(_try(stranger, user, factories.PASSWORD, "203.0.113.7"))
    # ...but the owner, from their own address, signs in (and is asked for the code).
    response = _try(owner, user, factories.PASSWORD, "198.51.100.20")
    assert response.status_code == 302 and response["Location"] == reverse("mfa_authenticate")


def test_one_address_guessing_at_many_accounts_is_slowed_down(cast):
    client = Client(**EN)
    people = [factories.UserFactory() for _ in range(11)]
    answers = [_try(client, person, "wrong", "203.0.113.9") for person in people]
    assert not any(_refused_for_too_many(a) for a in answers[:10])
    assert _refused_for_too_many(answers[10])


def test_the_code_step_is_limited_per_account(cast):
    user = staff_member(cast, "reviewer")
    client = Client(**EN)
    _try(client, user, factories.PASSWORD, "198.51.100.20")
    for _ in range(5):
        response = client.post(reverse("mfa_authenticate"), {"code": "000000"})
        assert response.status_code == 200
    response = client.post(reverse("mfa_authenticate"), {"code": factories.totp_code()})
    assert "_auth_user_id" not in client.session


# --- The code page -----------------------------------------------------------------------------


def _at_code_step(cast, headers=EN) -> tuple[Client, object]:
    user = staff_member(cast, "reviewer")
    client = Client(**headers)
    _try(client, user, factories.PASSWORD, "198.51.100.20")
    return client, user


def test_the_code_field_opens_a_numeric_keypad_on_phones(cast):
    client, _ = _at_code_step(cast)
    html = client.get(reverse("mfa_authenticate")).content.decode()
    field = re.search(r"<input[^>]*name=\"code\"[^>]*>", html).group(0)
    assert 'inputmode="numeric"' in field
    assert 'autocomplete="one-time-code"' in field
    assert "Verification code" in html


def test_the_code_page_reads_verification_code_in_chinese(cast):
    client, _ = _at_code_step(cast, ZH)
    html = client.get(reverse("mfa_authenticate")).content.decode()
    assert "验证码" in html
    response = client.post(reverse("mfa_authenticate"), {"code": "000000"})
    html = response.content.decode()
    assert "验证码不正确" in html
    assert "错误代码" not in html


def test_a_code_just_used_says_so_instead_of_incorrect(cast):
    client, user = _at_code_step(cast)
    code = factories.totp_code()
    response = client.post(reverse("mfa_authenticate"), {"code": code})
    assert response.status_code == 302
    client.post(reverse("account_logout"))

    again = Client(**EN)
    _try(again, user, factories.PASSWORD, "198.51.100.20")
    response = again.post(reverse("mfa_authenticate"), {"code": code})
    html = response.content.decode()
    assert "This code has just been used" in html
    assert "not right" not in html
    response = again.post(reverse("mfa_authenticate"), {"code": "000000"})
    assert "That verification code is not right" in response.content.decode()


@pytest.mark.django_db(transaction=True)  # allauth announces the app on commit, as in a request
def test_setting_up_an_app_counts_as_the_session_s_second_factor(cast):
    """A new staff member who sets up the app in this session reaches the desk without typing a
    second code; a session allauth keeps no record of (not signed in through it) must."""
    from allauth.mfa.totp.internal.auth import SECRET_SESSION_KEY

    from schools.models import Membership

    user = factories.UserFactory(is_staff=True)
    factories.MembershipFactory(user=user, role=Membership.Role.CREDIT_OFFICER, school=None,
                                second_factor=False)  # fmt: skip
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    client = Client(**EN)
    _try(client, user, factories.PASSWORD, "198.51.100.20")
    set_up = reverse("mfa_activate_totp")
    response = client.get(set_up)
    if response.status_code == 302:
        client.post(response["Location"], {"password": factories.PASSWORD})
    client.get(set_up)
    secret = client.session[SECRET_SESSION_KEY]
    assert client.post(set_up, {"code": factories.totp_code(secret)}).status_code == 302
    assert client.get(reverse("creditbank:home")).status_code == 200
    records = client.session[AUTHENTICATION_METHODS_SESSION_KEY]
    assert [r["method"] for r in records][-1] == "mfa" and time.time() - records[-1]["at"] < 60


def test_the_code_prompt_offers_no_way_round_the_code(cast):
    """allauth's page offers the password or an e-mailed code instead; neither stands in for the
    code here, so offering them only sent people round in a circle (found from outside)."""
    user = staff_member(cast, "reviewer")
    client = Client(**EN)
    password_only_login(client, user)
    html = client.get(reverse("mfa_reauthenticate") + "?next=/review/").content.decode()
    assert 'name="code"' in html and 'inputmode="numeric"' in html
    assert reverse("account_reauthenticate") not in html
    assert "/accounts/reauthenticate/code/" not in html
