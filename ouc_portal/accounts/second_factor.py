"""Staff must use a second factor, and a staff session is one that passed it.

Anyone who holds a role beyond learner (school administrator, reviewer, credit-bank officer,
superuser, or Django's staff flag) works only with an authenticator app (TOTP). What counts is not
that the person *owns* an app but that *this session* passed its code: allauth keeps a record of
every way the session was authenticated (``get_authentication_records``), and a staff session
needs an ``mfa`` record among them. However a session came to be signed in (allauth's log-in, a
confirmation link, Django's admin form, a test client), a password alone reaches no desk.

``StaffSecondFactorMiddleware`` enforces it on every request, after the URL is resolved:

- A staff member *without* an app reaches only the pages that set one up (the set-up, the
  password check it asks for first, the second-factor overview), log-out and the language
  switch. Other pages redirect to the set-up with the reason; the API answers 403 with it.
- A staff member *with* an app whose session skipped the code (it signed in with the password
  only) reaches only the code prompt (allauth's ``mfa_reauthenticate``), log-out and the
  language switch; everything else sends them there, and the API answers 403.
- Anyone with an app needs a *recent* code, not just the password, to show, regenerate or
  download recovery codes, add or remove an authenticator, or make a partner API token:
  ``RECENT_CODE_VIEWS``. The code prompt sends them back where they were going.

Partner-system tokens are not people and never pass here: DRF authenticates them inside the API
views, after this, and the Django user of a token request is anonymous.
"""

from __future__ import annotations

import time
from urllib.parse import urlencode

from allauth.account.authentication import (
    AUTHENTICATION_METHODS_SESSION_KEY,
    get_authentication_records,
)
from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _

from ouc_portal.accounts.roles import holds_staff_role

_CACHE_ATTR = "_ouc_has_second_factor"
MFA = "mfa"

# URL names reachable whatever the second factor says: log-out, the language switch, the checks.
ALWAYS_OPEN = frozenset({"account_logout", "set_language", "healthz", "readyz"})
# A staff member without an app: the way to set one up (allauth asks for the password first).
SET_UP_VIEWS = ALWAYS_OPEN | {"mfa_activate_totp", "mfa_index", "account_reauthenticate"}
# A staff member with an app whose session has not passed the code: the code prompt only.
CODE_PROMPT = "mfa_reauthenticate"
CODE_VIEWS = ALWAYS_OPEN | {CODE_PROMPT}
# Need a second-factor code entered within ACCOUNT_REAUTHENTICATION_TIMEOUT seconds.
RECENT_CODE_VIEWS = frozenset(
    {
        "mfa_view_recovery_codes",
        "mfa_generate_recovery_codes",
        "mfa_download_recovery_codes",
        "mfa_activate_totp",
        "mfa_deactivate_totp",
        "mfa_add_webauthn",
        "mfa_remove_webauthn",
        "mfa_edit_webauthn",
        "review:token_create",
        "review:token_revoke",
    }
)


def has_second_factor(user) -> bool:
    """Whether ``user`` has an authenticator app set up (read once per request)."""
    cached = getattr(user, _CACHE_ATTR, None)
    if cached is None:
        from allauth.mfa.models import Authenticator

        cached = Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()
        setattr(user, _CACHE_ATTR, cached)
    return cached


def must_use_second_factor(user) -> bool:
    """Whether ``user``'s role requires a second factor: any role beyond learner, and Django's
    own staff and superuser flags (the admin reads those, whatever the memberships say)."""
    if user is None or not user.is_authenticated:
        return False
    return user.is_superuser or user.is_staff or holds_staff_role(user)


def needs_second_factor(user) -> bool:
    """A signed-in person whose role requires a second factor they have not set up."""
    return must_use_second_factor(user) and not has_second_factor(user)


def second_factor_times(request: HttpRequest) -> list[float]:
    """When this session passed a second factor (allauth's records, oldest first)."""
    records = get_authentication_records(request, getattr(request, "user", None))
    return [float(record.get("at", 0)) for record in records if record.get("method") == MFA]


def session_passed_second_factor(request: HttpRequest) -> bool:
    return bool(second_factor_times(request))


def second_factor_is_recent(request: HttpRequest) -> bool:
    """A code entered within ``ACCOUNT_REAUTHENTICATION_TIMEOUT`` seconds (allauth's window for
    asking again, 300 by default)."""
    times = second_factor_times(request)
    window = getattr(settings, "ACCOUNT_REAUTHENTICATION_TIMEOUT", 300)
    return bool(times) and time.time() - max(times) <= window


def record_second_factor_set_up(request: HttpRequest, user, authenticator) -> None:
    """Setting up an app proves its code in this session: count it as the session's second factor,
    as allauth counts a code typed at log-in. Only a session allauth already keeps records for
    (signed in through its pages) is extended; any other must enter a code."""
    records = get_authentication_records(request, user)
    if not records:
        return
    records = [*records, {"method": MFA, "at": time.time(), "type": authenticator.type, "id": authenticator.pk, "set_up": True}]
    request.session[AUTHENTICATION_METHODS_SESSION_KEY] = records


def _code_prompt(request: HttpRequest) -> str:
    return f"{reverse(CODE_PROMPT)}?{urlencode({'next': request.get_full_path()})}"


def _refuse(request: HttpRequest, message: str, location: str) -> HttpResponse:
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": message}, status=403)
    messages.warning(request, message)
    return redirect(location)


class StaffSecondFactorMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs):
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        name = request.resolver_match.view_name if request.resolver_match else ""
        if must_use_second_factor(user):
            if not has_second_factor(user):
                if name in SET_UP_VIEWS:
                    return None
                return _refuse(
                    request,
                    _("Your role in the portal needs a second factor. Set up an authenticator app to continue."),
                    reverse("mfa_activate_totp"),
                )
            if not session_passed_second_factor(request):
                if name in CODE_VIEWS:
                    return None
                return _refuse(
                    request,
                    _("This session was signed in with the password only. Enter the code from your authenticator app to continue."),
                    _code_prompt(request),
                )
        if name in RECENT_CODE_VIEWS and has_second_factor(user) and not second_factor_is_recent(request):
            return _refuse(
                request,
                _("For this, enter a fresh code from your authenticator app first."),
                _code_prompt(request),
            )
        return None
