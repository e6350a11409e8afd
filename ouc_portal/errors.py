"""The error pages a person sees when the server fails, rendered without touching the database.

Django calls ``handler500`` inside its ``except`` block for any exception a view or middleware
let through (with DEBUG off). When the exception says the database cannot be reached, the answer
is a 503 that says so and when to try again, not a 500: nothing is wrong with the request, and
load balancers and API clients treat 503 + Retry-After as "retry later". Both pages are plain
templates rendered with no request context, so no context processor, session or user lookup can
touch the database that just failed.
"""

from __future__ import annotations

import logging
import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import loader

logger = logging.getLogger(__name__)

# Seconds a client is asked to wait before retrying while the database is unreachable.
RETRY_AFTER = 30


def database_unavailable(exc: BaseException | None) -> bool:
    """The database failed to answer: a lost or refused connection, a timeout, a server restart."""
    return isinstance(exc, OperationalError | InterfaceError)


def server_error(request: HttpRequest, template_name: str = "500.html") -> HttpResponse:
    exc = sys.exc_info()[1]
    api = request.path.startswith("/api/")
    if database_unavailable(exc):
        logger.error("database unavailable while serving %s: %s", request.path, exc)
        if api:
            response = JsonResponse(
                {"detail": "The service is temporarily unavailable. Try again shortly."},
                status=503,
            )
        else:
            response = HttpResponse(loader.get_template("503.html").render(), status=503)
        response["Retry-After"] = str(RETRY_AFTER)
        return response
    if api:
        return JsonResponse({"detail": "Server error."}, status=500)
    return HttpResponse(loader.get_template(template_name).render(), status=500)
