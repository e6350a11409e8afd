"""Strict readers for settings taken from the environment.

Every reader raises ImproperlyConfigured naming the variable when its value is malformed, so a
typo in a deployment stops start-up instead of silently falling back to a default.
"""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _raw(name: str, environ: Mapping[str, str] | None) -> str | None:
    value = (os.environ if environ is None else environ).get(name)
    if value is None:
        return None
    value = value.strip()
    return value or None


def env_str(name: str, default: str | None = None, *, environ: Mapping[str, str] | None = None) -> str | None:
    value = _raw(name, environ)
    return default if value is None else value


def env_bool(name: str, default: bool, *, environ: Mapping[str, str] | None = None) -> bool:
    value = _raw(name, environ)
    if value is None:
        return default
    lowered = value.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ImproperlyConfigured(
        f"{name}={value!r} is not a boolean: use one of {sorted(_TRUE | _FALSE)}."
    )


def env_int(
    name: str,
    default: int,
    *,
    minimum: int | None = None,
    maximum: int | None = None,
    environ: Mapping[str, str] | None = None,
) -> int:
    value = _raw(name, environ)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={value!r} is not a whole number.") from None
    if minimum is not None and number < minimum:
        raise ImproperlyConfigured(f"{name}={number} is below the minimum of {minimum}.")
    if maximum is not None and number > maximum:
        raise ImproperlyConfigured(f"{name}={number} is above the maximum of {maximum}.")
    return number


def env_list(name: str, default: list[str], *, environ: Mapping[str, str] | None = None) -> list[str]:
    value = _raw(name, environ)
    if value is None:
        return list(default)
    items = [item.strip() for item in value.split(",")]
    if any(not item for item in items):
        raise ImproperlyConfigured(f"{name}={value!r} has an empty item in its comma-separated list.")
    return items


def env_choice(
    name: str, default: str, choices: set[str], *, environ: Mapping[str, str] | None = None
) -> str:
    value = _raw(name, environ)
    if value is None:
        return default
    if value not in choices:
        raise ImproperlyConfigured(f"{name}={value!r} is not one of {sorted(choices)}.")
    return value


def env_database(
    name: str, default: str, *, conn_max_age: int, environ: Mapping[str, str] | None = None
) -> dict:
    value = _raw(name, environ) or default
    try:
        config = dj_database_url.parse(value, conn_max_age=conn_max_age, conn_health_checks=True)
    except (ValueError, KeyError) as exc:
        raise ImproperlyConfigured(f"{name} is not a usable database URL: {exc}") from None
    engine = config.get("ENGINE", "")
    if engine not in {"django.db.backends.postgresql", "django.db.backends.sqlite3"}:
        raise ImproperlyConfigured(
            f"{name} must be a postgres:// or sqlite:// URL, not {engine or 'an unknown scheme'}."
        )
    if not config.get("NAME"):
        raise ImproperlyConfigured(f"{name} names no database.")
    return config


def env_redis_url(name: str, *, environ: Mapping[str, str] | None = None) -> str | None:
    value = _raw(name, environ)
    if value is None:
        return None
    if not value.startswith(("redis://", "rediss://", "unix://")):
        raise ImproperlyConfigured(f"{name}={value!r} must start with redis://, rediss:// or unix://.")
    return value


def redis_url_for_db(url: str, db: int) -> str:
    """The same Redis server as ``url``, database ``db`` (keeps credentials, host and options)."""
    parts = urlsplit(url)
    if parts.scheme == "unix":
        raise ImproperlyConfigured("Set CACHE_URL explicitly when REDIS_URL is a unix socket.")
    return urlunsplit(parts._replace(path=f"/{db}"))


def env_decimal(
    name: str,
    default: str,
    *,
    minimum: str | None = None,
    maximum: str | None = None,
    environ: Mapping[str, str] | None = None,
):
    from decimal import Decimal, InvalidOperation

    value = _raw(name, environ) or default
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise ImproperlyConfigured(f"{name}={value!r} is not a decimal number.") from None
    if not number.is_finite():
        raise ImproperlyConfigured(f"{name}={value!r} is not a finite number.")
    if minimum is not None and number < Decimal(minimum):
        raise ImproperlyConfigured(f"{name}={number} is below the minimum of {minimum}.")
    if maximum is not None and number > Decimal(maximum):
        raise ImproperlyConfigured(f"{name}={number} is above the maximum of {maximum}.")
    return number


def development_signing_key(path: Path) -> str:
    """A development-only Ed25519 seed (hex), made once at ``path`` and read back afterwards.

    Several processes (test workers, a Celery worker) may start at once: the file is created
    exclusively, and a process that loses the race reads the winner's key.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        for _attempt in range(50):
            value = path.read_text(encoding="ascii").strip()
            if len(value) == 64:
                return value
            time.sleep(0.02)  # the winner is still writing
        raise ImproperlyConfigured(f"{path} does not hold a 64-digit hex key; delete it to make a new one") from None
    value = secrets.token_hex(32)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(value + "\n")
    return value
