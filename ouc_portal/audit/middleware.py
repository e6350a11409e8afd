"""Every request carries its origin (for audit events written while serving it), and every
changing request of a signed-in person (POST, PUT, PATCH, DELETE) is itself an audit event:
who, when, which address, what path, and the answer it got."""

from __future__ import annotations

import ipaddress
import logging

from django.conf import settings
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse

from ouc_portal.audit.context import Origin, current
from ouc_portal.audit.services import record

logger = logging.getLogger(__name__)

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
# Requests that change nothing anybody else relies on: choosing the page's language.
NOT_ACTIONS = ("/i18n/",)


def client_ip(request: HttpRequest) -> str | None:
    """The client's address, from the same request header the rate limits trust."""
    raw = request.META.get(getattr(settings, "RATELIMIT_IP_META_KEY", "REMOTE_ADDR"), "")
    candidate = raw.split(",")[0].strip()
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return None


class AuditMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = current.set(Origin(client_ip(request), request.method, request.path, request))
        try:
            response = self.get_response(request)
            if request.method not in SAFE_METHODS and not request.path.startswith(NOT_ACTIONS):
                self._record_action(request, response)
            return response
        finally:
            current.reset(token)

    @staticmethod
    def _record_action(request: HttpRequest, response: HttpResponse) -> None:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return
        match = getattr(request, "resolver_match", None)
        try:
            record(
                action=f"http.{request.method.lower()}",
                actor=user,
                summary=match.view_name if match else "",
                status_code=response.status_code,
            )
        except DatabaseError:  # the action itself is done: its audit line must not undo it
            logger.exception("audit: could not record %s %s", request.method, request.path)
