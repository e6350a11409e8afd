"""Authenticator apps (TOTP) for accounts the portal makes itself: the demo staff and test staff.

allauth checks the codes; this module only gives an account an app with a known secret and says
what that app shows. The codes come from pyotp, a public RFC 6238 implementation, set to the
same period and number of digits as allauth's MFA settings, so they are the codes allauth
accepts (``tests/enrolment/test_seed_demo.py`` logs in with one through allauth's pages).
The secret is stored the way allauth stores one: through its MFA adapter's ``encrypt`` hook.
"""

from __future__ import annotations

import pyotp
from allauth.mfa import app_settings
from allauth.mfa.adapter import get_adapter
from allauth.mfa.models import Authenticator


def totp(secret: str) -> pyotp.TOTP:
    """The authenticator app holding ``secret``, as allauth is configured to check it."""
    return pyotp.TOTP(secret, digits=app_settings.TOTP_DIGITS, interval=app_settings.TOTP_PERIOD)


def totp_code(secret: str, *, at: float | None = None) -> str:
    """The code that app shows at time ``at`` (now when None)."""
    app = totp(secret)
    return app.now() if at is None else app.at(at)


def totp_authenticator_ensure(*, user, secret: str) -> bool:
    """Give ``user`` an authenticator app with ``secret`` unless they have one; True if added.

    An existing app is left alone: its owner may have replaced the published secret."""
    if Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists():
        return False
    Authenticator.objects.create(
        user=user, type=Authenticator.Type.TOTP, data={"secret": get_adapter().encrypt(secret)}
    )
    return True
