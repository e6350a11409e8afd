"""Staff must use a second factor.

Anyone who holds a role beyond learner (school administrator, reviewer, credit-bank officer,
superuser) works only with an authenticator app (TOTP) set up. allauth then asks for its code at
every log-in, so a staff session is always a two-factor session: a password alone reaches nothing
but the page that sets the app up.

``StaffSecondFactorMiddleware`` enforces it on every request: a signed-in staff member without an
authenticator is sent to allauth's set-up page (a page) or refused with 403 (the API), wherever
they were going, until they have one. The account pages themselves (log-out, the set-up, email
and password), the language switch and the health checks stay reachable. Partner-system tokens
are not people and never pass here: DRF authenticates them inside the API views, after this.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _

from schools.roles import roles_for

_CACHE_ATTR = "_ouc_has_second_factor"
# Paths a staff member without a second factor may still reach.
OPEN_PREFIXES = ("/accounts/", "/i18n/", "/healthz/", "/readyz/", "/static/", "/favicon")


def has_second_factor(user) -> bool:
    """Whether ``user`` has an authenticator app set up (read once per request)."""
    cached = getattr(user, _CACHE_ATTR, None)
    if cached is None:
        from allauth.mfa.models import Authenticator

        cached = Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()
        setattr(user, _CACHE_ATTR, cached)
    return cached


def needs_second_factor(user) -> bool:
    """A signed-in person whose role requires a second factor they have not set up."""
    if user is None or not user.is_authenticated:
        return False
    return roles_for(user).is_staff_role and not has_second_factor(user)


class StaffSecondFactorMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith(OPEN_PREFIXES) or not needs_second_factor(request.user):
            return self.get_response(request)
        message = _(
            "Your role in the portal needs a second factor. Set up an authenticator app to continue."
        )
        if request.path.startswith("/api/"):
            return JsonResponse({"detail": message}, status=403)
        messages.warning(request, message)
        return redirect(reverse("mfa_activate_totp"))
