"""The Content Security Policy every response carries.

Django 5.2 has no CSP of its own (it arrives in 6.0), and the policy this portal needs is one
header built from a dict: a small middleware here rather than another dependency (django-csp 4
would bring its own settings format and reporting machinery for the same one header). The policy
is ``settings.CONTENT_SECURITY_POLICY``, the same for every page.

No page of the portal has an inline script, style or event handler (tests/ouc_portal/
test_security.py scans the templates). A third-party page that cannot do without an inline block
(Swagger UI's initialising script needs the request's CSRF token) marks it with
``nonce="{{ request.csp_nonce }}"``: the nonce is made on first use, is new for every response,
and is added to ``script-src`` and ``style-src`` of that response only, so it cannot be replayed
and a page that uses none keeps the plain policy.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping, Sequence

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.functional import SimpleLazyObject

HEADER = "Content-Security-Policy"
REPORT_ONLY_HEADER = "Content-Security-Policy-Report-Only"
Policy = Mapping[str, Sequence[str]]


def build_policy(policy: Policy, *, nonce: str | None = None) -> str:
    """The header value of ``policy``: ``directive source source; …`` in the dict's order.

    With a ``nonce`` (the page used one), ``'nonce-…'`` joins ``script-src`` and ``style-src``
    (unless the directive allows 'unsafe-inline', which a nonce would switch off).
    A directive with no sources (``upgrade-insecure-requests``) is written alone.
    """
    parts = []
    for directive, sources in policy.items():
        values = list(sources)
        # A nonce would make the browser ignore 'unsafe-inline' where a page needs it.
        if nonce and directive in {"script-src", "style-src"} and "'unsafe-inline'" not in values:
            values.append(f"'nonce-{nonce}'")
        parts.append(" ".join([directive, *values]))
    return "; ".join(parts)


class ContentSecurityPolicyMiddleware:
    """Add the Content-Security-Policy header to every response that has none of its own.

    With DEBUG on, Django's technical error pages (inline styles and scripts of their own) go
    without a policy so they stay readable; they never reach production, where DEBUG is off.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        used: list[str] = []

        def make_nonce() -> str:
            used.append(secrets.token_urlsafe(18))
            return used[0]

        request.csp_nonce = SimpleLazyObject(make_nonce)
        response = self.get_response(request)
        if settings.DEBUG and response.status_code >= 400 and _is_technical_page(response):
            return response
        header = REPORT_ONLY_HEADER if settings.CONTENT_SECURITY_POLICY_REPORT_ONLY else HEADER
        if HEADER not in response and REPORT_ONLY_HEADER not in response:
            policy = settings.CONTENT_SECURITY_POLICY
            response[header] = build_policy(policy, nonce=used[0] if used else None)
        return response


def _is_technical_page(response: HttpResponse) -> bool:
    """Django's debug 404 and 500 pages (DEBUG on only), recognised by their own markup."""
    if response.streaming or not response.get("Content-Type", "").startswith("text/html"):
        return False
    return b'<meta name="robots" content="NONE,NOARCHIVE">' in response.content


FORM_TYPES = ("application/x-www-form-urlencoded",)
NULL_REFUSED = "A request may not contain NUL (0x00) characters."


class RejectNullCharactersMiddleware:
    """Answer 400 to a query string or form with a NUL character, before any view sees it.

    PostgreSQL cannot store or compare a string with NUL in it: psycopg2 raises ValueError, which
    would surface as a server error wherever a raw parameter reaches a query (schemathesis found
    one in the API's intake filters). Django's form fields refuse NUL already; this covers every
    other path at once. Multipart bodies are left to the forms that read them (parsing them here
    would read every upload before CSRF and the view's own limits).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if self._has_null(request):
            if request.path.startswith("/api/"):
                from django.http import JsonResponse

                return JsonResponse({"detail": NULL_REFUSED}, status=400)
            return HttpResponse(NULL_REFUSED, status=400, content_type="text/plain; charset=utf-8")
        return self.get_response(request)

    @staticmethod
    def _has_null(request: HttpRequest) -> bool:
        if "\x00" in request.path or "%00" in request.META.get("QUERY_STRING", ""):
            return True
        if any("\x00" in key or "\x00" in value for key, value in request.GET.items()):
            return True
        if request.method == "POST" and request.content_type in FORM_TYPES:
            return any(
                "\x00" in key or any("\x00" in v for v in values)
                for key, values in request.POST.lists()
            )
        return False


# Desks and personal areas: their answers hold someone's data even when nobody is signed in to
# see them yet (a redirect, an error naming the page).
PERSONAL_PREFIXES = ("/me/", "/manage/", "/review/", "/credit-bank/", "/accounts/", "/admin/",
                     "/api/v1/me/", "/api/v1/manage/", "/api/v1/review/", "/api/v1/credit-bank/")  # fmt: skip


class PrivateResponsesMiddleware:
    """``Cache-Control: private, no-store`` on every answer to a signed-in person or a partner
    system, and on every answer under a personal prefix: a shared proxy or the browser's disk
    must not keep one person's page (a learner's ledger on a learning centre's shared computer,
    a reviewer's queue in a corporate proxy). Public pages seen by nobody signed in keep their
    own caching (ouc_portal.pagecache).

    A view that said ``public`` or gave a ``max-age`` for such an answer is overruled.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # Read before the view too: an API view without authentication classes puts an anonymous
        # user on the request, though the browser sent a signed-in session.
        session_signed_in = _signed_in(request)
        response = self.get_response(request)
        if session_signed_in or _signed_in(request) or request.path.startswith(PERSONAL_PREFIXES):
            from django.utils.cache import patch_cache_control

            existing = response.get("Cache-Control", "")
            if "public" in existing or "max-age" in existing or "s-maxage" in existing:
                del response["Cache-Control"]
            patch_cache_control(response, private=True, no_store=True)
        return response


def _signed_in(request: HttpRequest) -> bool:
    user = getattr(request, "user", None)
    return user is not None and user.is_authenticated
