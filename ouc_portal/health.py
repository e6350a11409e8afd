"""Liveness and readiness probes.

/healthz/ answers as long as the process serves requests and touches nothing else.
/readyz/ checks what a request needs: the database and, when one is configured, the broker.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

logger = logging.getLogger(__name__)


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


def check_database() -> str | None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any driver error means "not ready"
        logger.warning("readiness: database unreachable: %s", exc)
        return f"unreachable: {type(exc).__name__}"
    return None


def check_broker() -> str | None:
    if not settings.REDIS_URL:
        return None
    import redis

    try:
        client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2, socket_timeout=2)
        client.ping()
    except Exception as exc:
        logger.warning("readiness: broker unreachable: %s", exc)
        return f"unreachable: {type(exc).__name__}"
    return None


@never_cache
@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    failures = {
        name: problem
        for name, problem in (("database", check_database()), ("broker", check_broker()))
        if problem
    }
    checks = {
        "database": failures.get("database", "ok"),
        "broker": failures.get("broker", "ok" if settings.REDIS_URL else "eager (no broker)"),
    }
    status = 503 if failures else 200
    return JsonResponse({"status": "unavailable" if failures else "ok", "checks": checks}, status=status)
