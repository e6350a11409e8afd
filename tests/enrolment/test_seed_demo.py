"""``manage.py seed_demo``: one account per role, created once, able to log in at once."""

from __future__ import annotations

from io import StringIO

import pytest
from allauth.account.models import EmailAddress
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from enrolment.management.commands.seed_demo import DEMO_ACCOUNTS, DEMO_PASSWORD
from enrolment.models import Learner
from ouc_portal.accounts.models import User
from schools.models import Membership
from schools.roles import roles_for

pytestmark = pytest.mark.django_db

STAFF = [a.email for a in DEMO_ACCOUNTS if a.staff]
LEARNERS = [a.email for a in DEMO_ACCOUNTS if not a.staff]


def call(command: str, *args: str) -> str:
    out = StringIO()
    call_command(command, *args, stdout=out)
    return out.getvalue()


def seed(*args: str) -> str:
    out = StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def network(db):
    call_command("load_network", stdout=StringIO())


@pytest.fixture
def debug(settings):
    settings.DEBUG = True


def counts() -> dict[str, int]:
    return {
        "users": User.objects.count(),
        "addresses": EmailAddress.objects.count(),
        "memberships": Membership.objects.count(),
        "learners": Learner.objects.count(),
    }


def test_every_role_gets_an_account(network, debug):
    output = seed()

    assert DEMO_PASSWORD in output
    assert len(LEARNERS) == 5
    assert counts() == {"users": 11, "addresses": 11, "memberships": 5, "learners": 5}
    assert User.objects.get(email="admin@ouc.example").is_superuser
    assert set(User.objects.filter(is_staff=True).values_list("email", flat=True)) == set(STAFF)

    mech = roles_for(User.objects.get(email="mech.admin@ouc.example"))
    auto = roles_for(User.objects.get(email="auto.admin@ouc.example"))
    reviewer = User.objects.get(email="reviewer@ouc.example").memberships.get()
    auto_reviewer = User.objects.get(email="auto.reviewer@ouc.example").memberships.get()
    officer = roles_for(User.objects.get(email="officer@ouc.example"))
    mechanical_school = Membership.objects.get(user__email="mech.admin@ouc.example").school
    assert mechanical_school.slug == "mechanical"
    assert mech.school_ids == {mechanical_school.pk}
    assert Membership.objects.get(school_id__in=auto.school_ids).school.slug == "automobile-repair"
    assert reviewer.association.name_en == "Education Development Center of Mechanical Industry"
    assert (
        auto_reviewer.association.name_en == "China Association of Automobile Maintenance Industry"
    )
    assert officer.credit_officer and not officer.is_school_admin

    learners = Learner.objects.filter(user__email__in=LEARNERS).select_related("user")
    assert learners.count() == 5
    assert all(learner.user.name and not learner.user.is_staff for learner in learners)


def test_running_twice_creates_nothing_twice(network, debug):
    seed()
    before = counts()
    changed = User.objects.get(email="mech.admin@ouc.example")
    changed.set_password("my-own-new-password")
    changed.save()

    output = seed()

    assert counts() == before
    assert "created" not in output
    assert output.count("unchanged") == len(DEMO_ACCOUNTS)
    # A password someone changed is not reset.
    assert User.objects.get(email="mech.admin@ouc.example").check_password("my-own-new-password")


@pytest.mark.parametrize("email", STAFF + LEARNERS[:1])
def test_demo_accounts_log_in_at_once(network, debug, client, email):
    seed()
    address = EmailAddress.objects.get(email=email)
    assert address.verified and address.primary

    assert client.login(email=email, password=DEMO_PASSWORD)


def test_demo_staff_log_in_through_allauth_without_a_confirmation_email(
    network, debug, client, mailoutbox
):
    seed()

    response = client.post(
        reverse("account_login"), {"login": "mech.admin@ouc.example", "password": DEMO_PASSWORD}
    )

    # Staff: the password leads to the second factor, answered with the demo authenticator's code.
    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_authenticate")
    assert "_auth_user_id" not in client.session
    code = call("demo_code").split()[0]
    response = client.post(reverse("mfa_authenticate"), {"code": code})
    assert response.status_code == 302
    assert response["Location"] != reverse("account_email_verification_sent")
    assert "_auth_user_id" in client.session
    assert mailoutbox == []
    assert client.get(reverse("admin:index")).status_code == 200


def fresh_totp_code(secret: str) -> str:
    """pyotp's code for ``secret``, read at least two seconds before it rolls over.

    allauth accepts only the current period's code (MFA_TOTP_TOLERANCE is 0)."""
    import time

    import pyotp

    app = pyotp.TOTP(secret)  # pyotp's defaults: 30 s, 6 digits, SHA-1
    if app.interval - time.time() % app.interval < 2:
        time.sleep(2)
    return app.now()


def test_a_pyotp_code_takes_demo_staff_through_allauths_second_factor_page(network, debug, client):
    """No private allauth module computes the demo code: pyotp's code must be what allauth accepts,
    through allauth's real log-in and second-factor pages."""
    from allauth.mfa import app_settings

    from enrolment.management.commands.seed_demo import DEMO_TOTP_SECRET

    # pyotp's defaults are the settings allauth checks codes with.
    assert (app_settings.TOTP_PERIOD, app_settings.TOTP_DIGITS) == (30, 6)
    seed()
    login = {"login": "reviewer@ouc.example", "password": DEMO_PASSWORD}

    response = client.post(reverse("account_login"), login)
    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_authenticate")
    # A code from another secret is refused, and the session stays signed out.
    response = client.post(
        reverse("mfa_authenticate"), {"code": fresh_totp_code("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")}
    )
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session

    response = client.post(reverse("mfa_authenticate"), {"code": fresh_totp_code(DEMO_TOTP_SECRET)})
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(User.objects.get(email=login["login"]).pk)
    assert client.get(reverse("review:queue")).status_code == 200


def test_demo_staff_have_the_published_authenticator(network, debug):
    from allauth.mfa.models import Authenticator

    seed()
    staff = {account.email for account in DEMO_ACCOUNTS if account.staff}
    with_app = set(
        Authenticator.objects.filter(type=Authenticator.Type.TOTP).values_list(
            "user__email", flat=True
        )
    )
    assert with_app == staff
    # Seeding again leaves each one as it was.
    seed()
    assert Authenticator.objects.filter(type=Authenticator.Type.TOTP).count() == len(staff)


def test_demo_code_refuses_with_debug_off(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="refuses to run with DEBUG off"):
        call("demo_code")


def test_demo_code_is_what_the_app_shows(debug):
    import time

    from enrolment.management.commands.seed_demo import DEMO_TOTP_SECRET
    from tests.factories import totp_code

    printed = call("demo_code").split()[0]
    # The code may roll over between the two readings: either moment's code is right.
    assert printed in {totp_code(DEMO_TOTP_SECRET, at=time.time() - 30 * k) for k in (0, 1)}


def test_refused_with_debug_off_unless_forced(network, settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="refuses to run with DEBUG off"):
        seed()
    assert User.objects.count() == 0

    seed("--force")
    assert User.objects.count() == len(DEMO_ACCOUNTS)


def test_needs_the_network_loaded(db, debug):
    with pytest.raises(CommandError, match="Run `manage.py load_network` first"):
        seed()
    assert User.objects.count() == 0
