"""Whole-response cache of public pages for anonymous visitors (issue 7).

The public pages that everyone sees alike — the catalogue, a programme's page, a verification
page, the API's programme list — cost milliseconds of rendering (forms with hundreds of choices,
templates, serializers) for bytes that change only when their data does. An anonymous ``GET`` of
such a page is answered from the shared cache without reaching the view, the session, the
authentication or the messages.

Which pages: a view opts in with ``@public_page(policy)`` (a DRF viewset with a
``page_cache_actions = {"list": policy}`` attribute). The middleware resolves the URL and asks
the view for its policy; a view without one is never cached.

Who: only a request that can only be anonymous — no session cookie, no messages cookie, no
``Authorization`` header. A signed-in person always has a session cookie, so never gets a cached
page, and never stores one either. A request whose view writes the session or a cookie (other
than the CSRF cookie, which the CSRF middleware sets outside this one) is not stored.

Keys: ``page:<policy>:<policy's version>:<language>:<host>:<digest of the full path[, Accept]>``.
The version is the policy's: a counter the app bumps on every change of what the page shows
(``enrolment.cache.catalogue_version``, ``certificates.verify_cache.verify_version``), so the
next request in any process, in every language, misses and renders afresh. A policy may also
bound an entry's life by a moment (the next intake boundary, the next midnight).

CSRF: the header's language switch (and any other form) carries the visitor's own CSRF token.
A stored page keeps a placeholder where the tokens were; every answer from the cache has the
token of the visitor it answers (``get_token``, which also makes the CSRF middleware set that
visitor's cookie), never the token of whoever rendered it.

The cache failing (Redis away) never fails the page: it is rendered as if nothing were cached.
"""

from __future__ import annotations

import hashlib
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.urls import Resolver404, resolve
from django.utils import timezone, translation
from django.utils.cache import patch_vary_headers

logger = logging.getLogger(__name__)

TOKEN_FIELD = re.compile(rb'(name="csrfmiddlewaretoken" value=")([^"]+)(")')
PLACEHOLDER = b"\x00csrf-token\x00"
# Headers a stored page keeps (Content-Type, Content-Length, Vary, X-Frame-Options, CSP, ...):
# everything the view and the inner middleware set, except what belongs to one visitor.
NOT_STORED = frozenset({"set-cookie", "date"})
MARK = "X-Page-Cache"


@dataclass(frozen=True)
class PagePolicy:
    """How one public page is cached.

    ``version(request, kwargs)``: the version its key carries (a change bumps it), or None to
    neither serve nor store this request. ``valid_until()``: asked on a miss, the epoch second
    after which what is rendered now may be wrong (None: no such moment). ``max_age()``: the
    longest life in seconds (0: off). ``may_serve(request, kwargs)``: asked before a stored page
    is served; False sends the request to the view (a rate limit that refuses it).
    ``vary_accept``: the Accept header joins the key (the API negotiates its format).
    """

    name: str
    version: Callable[[HttpRequest, dict], str | None]
    max_age: Callable[[], int]
    valid_until: Callable[[], float | None] | None = None
    may_serve: Callable[[HttpRequest, dict], bool] | None = None
    vary_accept: bool = False


class VersionCounter:
    """A counter in the shared cache that a cache key carries: bumping it makes every entry
    stored under the old value stale, in every process, at once.

    Started from the clock, not 1: after a flush or an eviction the counter must not come back
    to a number whose old entries may still sit in the cache. ``changed`` bumps now (the writing
    process, and a test inside one transaction, see the change at once) and again after the
    commit (another process may have cached the old rows in between, under the first bump).
    """

    def __init__(self, key: str, what: str) -> None:
        self.key = key
        self.what = what

    def current(self) -> int:
        from django.core.cache import cache

        version = cache.get(self.key)
        if version is None:
            cache.add(self.key, time.time_ns(), timeout=None)
            version = cache.get(self.key)
        return int(version)

    def bump(self) -> None:
        from django.core.cache import cache

        try:
            cache.incr(self.key)
        except ValueError:  # no value yet: the next reader starts a new one, newer than any
            cache.add(self.key, time.time_ns(), timeout=None)
        except Exception:
            logger.warning("%s: could not bump the version", self.what, exc_info=True)

    def changed(self, *, using: str | None = None) -> None:
        self.bump()
        transaction.on_commit(self.bump, using=using)


def public_page(policy: PagePolicy) -> Callable:
    """Mark a view as a public page cached by ``PublicPageCacheMiddleware`` under ``policy``."""

    def mark(view: Callable) -> Callable:
        view.page_cache = policy
        return view

    return mark


def policy_for(func: Callable) -> PagePolicy | None:
    policy = getattr(func, "page_cache", None)
    if policy is not None:
        return policy
    cls, actions = getattr(func, "cls", None), getattr(func, "actions", None) or {}
    if cls is None or "get" not in actions:
        return None
    return (getattr(cls, "page_cache_actions", None) or {}).get(actions["get"])


def may_be_anonymous_only(request: HttpRequest) -> bool:
    """True when nothing in the request can make it anyone's but an anonymous visitor's."""
    cookies = request.COOKIES
    return not (
        settings.SESSION_COOKIE_NAME in cookies
        or getattr(settings, "MESSAGE_COOKIE_NAME", "messages") in cookies
        or "HTTP_AUTHORIZATION" in request.META
    )


def _now() -> float:
    # Through django.utils.timezone, as the pages read the clock (and tests move it).
    return timezone.now().timestamp()


class PublicPageCacheMiddleware:
    """Serve and store whole public pages for anonymous GETs (see the module's docstring).

    Sits after the locale middleware (the language is known) and the CSRF middleware (which
    reads the visitor's CSRF cookie before, and sets it after), before authentication.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method != "GET" or not may_be_anonymous_only(request):
            return self.get_response(request)
        try:
            match = resolve(request.path_info)
        except Resolver404:
            return self.get_response(request)
        policy = policy_for(match.func)
        if policy is None:
            return self.get_response(request)
        if policy.max_age() <= 0:
            return self.get_response(request)
        from django.core.cache import cache

        try:
            version = policy.version(request, match.kwargs)
            if version is None:
                return self.get_response(request)
            key = self._key(request, policy, version)
            entry = cache.get(key)
        except Exception:
            logger.warning("page cache unavailable; rendering %s", request.path, exc_info=True)
            return self.get_response(request)
        if entry is not None:
            expires, status, headers, content = entry
            if (expires is None or _now() < expires) and (
                policy.may_serve is None or policy.may_serve(request, match.kwargs)
            ):
                return self._answer(request, status, headers, content)
        valid_until = policy.valid_until() if policy.valid_until else None
        response = self.get_response(request)
        self._store(request, response, key=key, policy=policy, valid_until=valid_until)
        return response

    @staticmethod
    def _key(request: HttpRequest, policy: PagePolicy, version: str) -> str:
        parts = request.get_full_path()
        if policy.vary_accept:
            parts += "\n" + request.META.get("HTTP_ACCEPT", "")
        digest = hashlib.sha256(parts.encode()).hexdigest()[:40]
        return f"page:{policy.name}:{version}:{translation.get_language()}:{request.get_host()}:{digest}"

    @staticmethod
    def _answer(request: HttpRequest, status: int, headers: list, content: bytes) -> HttpResponse:
        if PLACEHOLDER in content:
            # This visitor's own token (and, through the CSRF middleware, their own cookie).
            content = content.replace(PLACEHOLDER, get_token(request).encode())
        response = HttpResponse(content, status=status)
        for name, value in headers:
            response[name] = value
        response["Content-Length"] = str(len(content))
        # A signed-in person gets another page at this address: caches downstream must know.
        patch_vary_headers(response, ("Cookie",))
        response[MARK] = "hit"
        return response

    @staticmethod
    def _store(
        request: HttpRequest, response: HttpResponse, *, key: str, policy: PagePolicy, valid_until: float | None
    ) -> None:
        if response.status_code != 200 or response.streaming or response.cookies:
            return
        session = getattr(request, "session", None)
        if session is not None and session.modified:
            return
        # The view's own messages (none on these pages) would belong to this visitor.
        storage = getattr(request, "_messages", None)
        if storage is not None and (getattr(storage, "_queued_messages", None) or getattr(storage, "used", False)):
            return
        user = getattr(request, "user", None)
        if user is not None and getattr(user, "is_authenticated", False):
            return
        content = response.content
        tokens = {m.group(2) for m in TOKEN_FIELD.finditer(content)}
        content = TOKEN_FIELD.sub(rb"\1" + PLACEHOLDER + rb"\3", content)
        if any(token in content for token in tokens) or (
            "CSRF_COOKIE" in request.META and request.META["CSRF_COOKIE"].encode() in content
        ):
            return  # a token somewhere else than a form field: not safe to share
        if "'nonce-" in response.get("Content-Security-Policy", ""):
            return  # a per-response nonce cannot be shared either
        now = _now()
        timeout = policy.max_age()
        if valid_until is not None:
            timeout = min(timeout, max(int(valid_until - now) + 1, 1))
        headers = [(name, value) for name, value in response.items() if name.lower() not in NOT_STORED]
        from django.core.cache import cache

        try:
            cache.set(key, (valid_until, response.status_code, headers, content), timeout)
        except Exception:
            logger.warning("page cache: could not store %s", request.path, exc_info=True)
            return
        response[MARK] = "miss"


# --- Fragments of signed-in pages ---------------------------------------------------------------


def cached_fragment(name: str, parts: tuple, build: Callable[[], str], *, timeout: int) -> str:
    """``build()``'s HTML from the cache under ``name``, the language and ``parts``, or built and
    stored. ``parts`` must hold everything the HTML depends on (whose it is, and a fingerprint
    of the rows it shows): an entry is never invalidated, only no longer asked for.
    The cache failing, or ``timeout`` 0, builds every time."""
    if timeout <= 0:
        return build()
    from django.core.cache import cache

    digest = hashlib.sha256(repr(parts).encode()).hexdigest()[:40]
    key = f"fragment:{name}:{translation.get_language()}:{digest}"
    try:
        value = cache.get(key)
    except Exception:
        logger.warning("fragment cache unavailable; rendering %s", name, exc_info=True)
        return build()
    if value is not None:
        return value
    value = build()
    try:
        cache.set(key, value, timeout)
    except Exception:
        logger.warning("fragment cache: could not store %s", name, exc_info=True)
    return value
