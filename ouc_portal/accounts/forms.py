"""The second-factor forms, in the portal's words: allauth's forms with a field a phone opens its
numeric keypad for, a label that reads "verification code" in both languages, and a refused code
that says why — a code just used is told apart from a wrong one.

Wired in through allauth's ``MFA_FORMS`` setting; allauth still checks the code, counts the tries
and records the authentication.
"""

from __future__ import annotations

from allauth.mfa import app_settings
from allauth.mfa.adapter import get_adapter
from allauth.mfa.base.forms import AuthenticateForm, ReauthenticateForm
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.forms import ActivateTOTPForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from ouc_portal.accounts.totp import totp

CODE_LABEL = pgettext_lazy("second factor", "Verification code")
CODE_HELP = _("The six digits your authenticator app shows now.")
CODE_USED = _("This code has just been used. Wait for your app to show the next one, then enter that.")


def code_widget_attrs(field) -> None:
    """A numeric keypad on phones, the code offered from an SMS or app where the phone can."""
    field.label = CODE_LABEL
    field.help_text = CODE_HELP
    field.widget.attrs.update(
        {
            "inputmode": "numeric",
            "autocomplete": "one-time-code",
            "autocapitalize": "off",
            "spellcheck": "false",
            "placeholder": "123456",
            "maxlength": "32",  # recovery codes are longer than six digits
        }
    )


def code_was_just_used(user, code: str) -> bool:
    """Whether ``code`` is right for ``user``'s app now, so that allauth refused it only because
    it was used already (allauth lets each code in once)."""
    code = (code or "").strip().replace(" ", "")
    if not code.isdigit() or len(code) != app_settings.TOTP_DIGITS:
        return False
    authenticator = Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).first()
    if authenticator is None:
        return False
    secret = get_adapter().decrypt(authenticator.data["secret"])
    return totp(secret).verify(code, valid_window=app_settings.TOTP_TOLERANCE)


class _CodeForm:
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        code_widget_attrs(self.fields["code"])

    def clean_code(self) -> str:
        try:
            return super().clean_code()
        except ValidationError as error:
            if error.code == "incorrect_code" and code_was_just_used(self.user, self.data.get("code", "")):
                raise ValidationError(CODE_USED, code="code_used") from None
            raise


class SecondFactorForm(_CodeForm, AuthenticateForm):
    """The code asked for at log-in."""


class SecondFactorAgainForm(_CodeForm, ReauthenticateForm):
    """The code asked for again: a session signed in with the password only, or a fresh code
    before a sensitive change (second_factor.RECENT_CODE_VIEWS)."""


class SetUpAppForm(ActivateTOTPForm):
    """The code that proves a new app works."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        code_widget_attrs(self.fields["code"])
        self.fields["code"].help_text = _("The six digits the app shows after you add the key.")
