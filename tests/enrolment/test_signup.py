"""Sign-up through django-allauth: a learner is registered, the email address is verified, then
the person logs in. Bad input is refused with form errors and creates no one."""

from __future__ import annotations

import re
from html import unescape

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.urls import reverse

from enrolment.models import Learner
from ouc_portal.accounts.models import User
from tests import factories

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("eager")]  # allauth mails via the outbox

PASSWORD = "Granite-Lathe-7319-spindle"
CONFIRM_LINK = re.compile(r"https?://[^\s]+/accounts/confirm-email/([^/\s]+)/")
RESET_LINK = re.compile(r"https?://[^\s]+/accounts/password/reset/key/[^\s]+/")


def sign_up(client, email: str, password1: str = PASSWORD, password2: str | None = None):
    return client.post(
        reverse("account_signup"),
        {
            "email": email,
            "password1": password1,
            "password2": password1 if password2 is None else password2,
        },
    )


def log_in(client, email: str, password: str = PASSWORD):
    return client.post(reverse("account_login"), {"login": email, "password": password})


def confirmation_path(message: mail.EmailMessage) -> str:
    match = CONFIRM_LINK.search(message.body)
    assert match, f"no confirmation link in:\n{message.body}"
    return reverse("account_confirm_email", args=[match.group(1)])


def is_authenticated(client) -> bool:
    return "_auth_user_id" in client.session


def test_sign_up_verify_then_log_in(client, mailoutbox) -> None:
    response = sign_up(client, "Wang.Fang@Example.org")

    assert response.status_code == 302
    assert response["Location"] == reverse("account_email_verification_sent")
    user = User.objects.get()
    assert user.email == "wang.fang@example.org"
    assert user.check_password(PASSWORD)
    assert Learner.objects.filter(user=user).exists()
    assert not is_authenticated(client)

    # The verification email, and only that: the welcome email waits for the commit.
    assert len(mailoutbox) == 1
    verification = mailoutbox[0]
    assert verification.to == ["wang.fang@example.org"]
    assert verification.subject.startswith("[OUC] ")
    link = confirmation_path(verification)

    # Not yet verified: the log-in is refused and sent to the verification page.
    other = client.__class__()
    response = log_in(other, "wang.fang@example.org")
    assert response.status_code == 302
    assert response["Location"] == reverse("account_email_verification_sent")
    assert not is_authenticated(other)

    # GET only shows the confirmation (mail scanners follow links); POST confirms.
    response = other.get(link)
    assert response.status_code == 200
    assert not EmailAddress.objects.get(user=user).verified
    response = other.post(link)
    assert response.status_code == 302
    address = EmailAddress.objects.get(user=user)
    assert address.verified and address.primary

    fresh = client.__class__()
    response = log_in(fresh, "wang.fang@example.org")
    assert response.status_code == 302
    assert response["Location"] == reverse("schools:home")
    assert fresh.session["_auth_user_id"] == str(user.pk)

    # Log-in by email is case-insensitive, like sign-up.
    again = client.__class__()
    assert log_in(again, "WANG.FANG@example.ORG")["Location"] == reverse("schools:home")


def test_wrong_password_is_refused_after_verification(client, mailoutbox) -> None:
    sign_up(client, "li.na@example.org")
    client.post(confirmation_path(mailoutbox[0]))
    fresh = client.__class__()
    response = log_in(fresh, "li.na@example.org", "not-the-password-123")
    assert response.status_code == 200
    assert response.context["form"].errors
    assert not is_authenticated(fresh)


def assert_refused(response, field: str) -> None:
    assert response.status_code == 200, "a refused sign-up re-renders the form"
    form = response.context["form"]
    assert field in form.errors, form.errors


# allauth prevents account enumeration (ACCOUNT_PREVENT_ENUMERATION, on by default): a sign-up
# with a taken address looks like any other to the person at the keyboard, and the owner of the
# address is told by email instead. No second account exists either way.
@pytest.mark.parametrize("email", ["taken@example.org", "TAKEN@Example.org", " taken@example.org "])
def test_duplicate_email_creates_no_account_in_any_case(client, mailoutbox, email: str) -> None:
    owner = factories.UserFactory(email="taken@example.org")
    EmailAddress.objects.create(user=owner, email="taken@example.org", verified=True, primary=True)

    response = sign_up(client, email)

    assert response.status_code == 302
    assert response["Location"] == reverse("account_email_verification_sent")
    assert list(User.objects.values_list("email", flat=True)) == ["taken@example.org"]
    assert not Learner.objects.exists()
    assert EmailAddress.objects.count() == 1
    assert not is_authenticated(client)
    # The owner hears that someone tried; the message carries no confirmation link.
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["taken@example.org"]
    assert not CONFIRM_LINK.search(mailoutbox[0].body)
    owner.refresh_from_db()
    assert owner.check_password(factories.PASSWORD)


def test_duplicate_of_an_unverified_sign_up_creates_no_account(client, mailoutbox) -> None:
    # The first person never verified: the address is still theirs.
    assert sign_up(client, "zhang.wei@example.org").status_code == 302
    first = User.objects.get()
    other = client.__class__()
    response = sign_up(other, "Zhang.Wei@example.org", "Different-Pass-8812-x")
    assert response.status_code == 302
    assert list(User.objects.all()) == [first]
    assert Learner.objects.count() == 1
    first.refresh_from_db()
    assert first.check_password(PASSWORD)


def test_the_database_refuses_a_second_user_with_the_same_email(db) -> None:
    # The form's check has a database constraint under it: a race cannot create twins.
    from django.db import IntegrityError, transaction

    User.objects.create_user("twin@example.org", PASSWORD)
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create_user("TWIN@example.org", PASSWORD)
    assert User.objects.count() == 1


def test_mismatched_passwords_are_refused(client, mailoutbox) -> None:
    response = sign_up(client, "chen.jie@example.org", PASSWORD, PASSWORD + "x")
    assert_refused(response, "password2")
    assert not User.objects.exists()
    assert not Learner.objects.exists()
    assert mailoutbox == []


@pytest.mark.parametrize(
    "password", ["short", "12345678901", "password123", "chen.jie@example.org"]
)
def test_weak_password_is_refused(client, mailoutbox, password: str) -> None:
    response = sign_up(client, "chen.jie@example.org", password)
    assert_refused(response, "password1")
    assert not User.objects.exists()
    assert mailoutbox == []


@pytest.mark.parametrize("email", ["not-an-email", "a@", "@example.org", "a b@example.org", ""])
def test_malformed_email_is_refused(client, mailoutbox, email: str) -> None:
    response = sign_up(client, email)
    assert_refused(response, "email")
    assert not User.objects.exists()
    assert mailoutbox == []


def test_password_reset_sends_a_link_that_works(client, mailoutbox) -> None:
    user = factories.UserFactory(email="reset.me@example.org")
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)

    response = client.post(reverse("account_reset_password"), {"email": "Reset.Me@example.org"})

    assert response.status_code == 302
    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.to == ["reset.me@example.org"]
    match = RESET_LINK.search(message.body)
    assert match, message.body
    # The key link redirects once to a session-held URL, then shows the new-password form.
    response = client.get(match.group(0), follow=True)
    assert response.status_code == 200
    new_password = "Another-Strong-Pass-4471"
    response = client.post(
        response.redirect_chain[-1][0] if response.redirect_chain else match.group(0),
        {"password1": new_password, "password2": new_password},
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password(new_password)


def test_password_reset_for_an_unknown_address_creates_nothing(client, mailoutbox) -> None:
    response = client.post(reverse("account_reset_password"), {"email": "nobody@example.org"})
    assert response.status_code == 302
    assert not User.objects.exists()
    # allauth tells the unknown address that it has no account, without revealing others.
    assert all("nobody@example.org" in m.to for m in mailoutbox)


def verified_user_logged_in(client, email: str):
    user = factories.UserFactory(email=email, password=PASSWORD)
    EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    response = log_in(client, email)
    assert response.status_code == 302, response.content
    return user


def test_totp_two_factor_can_be_activated_and_is_asked_for(client) -> None:
    import pyotp
    from allauth.mfa.models import Authenticator

    from tests.factories import totp_code

    user = verified_user_logged_in(client, "mfa.user@example.org")

    response = client.get(reverse("mfa_index"))
    assert response.status_code == 200

    # Changing what protects an account asks for the password again, however recent the log-in.
    response = client.get(reverse("mfa_activate_totp"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_reauthenticate"))
    response = client.post(response["Location"], {"password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_activate_totp")

    response = client.get(reverse("mfa_activate_totp"))
    assert response.status_code == 200
    assert "code" in response.context["form"].fields
    assert response.context["totp_url"].startswith("otpauth://totp/")
    # The secret as the person's phone app gets it: from the otpauth:// address the page shows.
    secret = pyotp.parse_uri(response.context["totp_url"]).secret

    response = client.post(reverse("mfa_activate_totp"), {"code": "000000"})
    assert response.status_code == 200 and response.context["form"].errors
    assert not Authenticator.objects.filter(user=user).exists()

    response = client.post(reverse("mfa_activate_totp"), {"code": totp_code(secret)})
    assert response.status_code == 302
    assert Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()

    # From now on the password alone does not log in: allauth asks for the code.
    fresh = client.__class__()
    response = log_in(fresh, "mfa.user@example.org")
    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_authenticate")
    assert not is_authenticated(fresh)


def test_two_factor_pages_need_a_log_in(client) -> None:
    response = client.get(reverse("mfa_index"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def _language_next(response) -> str:
    form = re.search(r'<form class="lang-switch".*?</form>', response.content.decode(), re.S)
    return unescape(re.search(r'name="next" value="([^"]*)"', form.group(0)).group(1))


@pytest.mark.parametrize(
    "posted_next, expected",
    [
        ("/intakes/abc/apply/", "/accounts/signup/?next=%2Fintakes%2Fabc%2Fapply%2F"),
        # Somewhere else is not carried: the switch lands on the sign-up page alone.
        ("https://elsewhere.example/phish", "/accounts/signup/"),
        ("", "/accounts/signup/"),
    ],
)
def test_switching_language_on_a_refused_sign_up_keeps_where_the_person_was_going(
    client, posted_next, expected
) -> None:
    response = client.post(
        reverse("account_signup"),
        {"email": "li@example.org", "password1": PASSWORD, "password2": "x", "next": posted_next},
    )
    assert response.status_code == 200 and not User.objects.exists()
    # The refused page's address is the one the form posted to; the next was in the body.
    assert _language_next(response) == expected
    switched = client.post(
        "/i18n/setlang/", {"language": "zh-hans", "next": _language_next(response)}
    )
    assert switched.status_code == 302 and switched["Location"] == expected
