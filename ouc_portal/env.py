"""Strict readers for settings taken from the environment.

Every reader raises ImproperlyConfigured naming the variable when its value is malformed, so a
typo in a deployment stops start-up instead of silently falling back to a default.
"""

from __future__ import annotations

import os
import re
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


_QUEUE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,99}")


def env_queue_name(name: str, default: str, *, environ: Mapping[str, str] | None = None) -> str:
    """A Celery queue name: letters, digits and ``._:-``, so it is also a safe Redis key."""
    value = _raw(name, environ) or default
    if not _QUEUE_NAME.fullmatch(value):
        raise ImproperlyConfigured(
            f"{name}={value!r} is not a queue name: use letters, digits, '.', '_', ':' or '-'."
        )
    return value


# S3-compatible object storage for uploaded evidence and issued PDFs (django-storages).
S3_VARIABLES = (
    "S3_BUCKET",
    "S3_ENDPOINT_URL",
    "S3_REGION",
    "S3_ACCESS_KEY_ID",
    "S3_SECRET_ACCESS_KEY",
    "S3_CUSTOM_DOMAIN",
    "S3_LOCATION",
    "S3_ADDRESSING_STYLE",
)
_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
S3_BACKEND = "storages.backends.s3.S3Storage"


def env_s3_storage(*, environ: Mapping[str, str] | None = None) -> dict | None:
    """The ``STORAGES["default"]`` entry for S3 when S3_BUCKET is set; None when no S3_* is set.

    Every web and worker container must reach the same files, so a deployment of more than one
    machine keeps them in a bucket. Objects stay private (no public ACL, signed URLs only): the
    portal streams evidence and PDFs through its own views, which check who is asking. A
    half-made configuration (a key without its secret, an endpoint without a bucket) stops
    start-up naming what is missing, instead of quietly writing files to one container's disk.
    """
    values = {key: _raw(key, environ) for key in S3_VARIABLES}
    bucket = values["S3_BUCKET"]
    if bucket is None:
        given = [key for key, value in values.items() if value is not None]
        if given:
            raise ImproperlyConfigured(
                f"S3_BUCKET must be set when {', '.join(given)} is set (or unset those to keep "
                "files in MEDIA_ROOT)."
            )
        return None
    if not _BUCKET.fullmatch(bucket):
        raise ImproperlyConfigured(f"S3_BUCKET={bucket!r} is not a valid bucket name.")
    key_id, secret = values["S3_ACCESS_KEY_ID"], values["S3_SECRET_ACCESS_KEY"]
    if bool(key_id) != bool(secret):
        missing = "S3_SECRET_ACCESS_KEY" if key_id else "S3_ACCESS_KEY_ID"
        raise ImproperlyConfigured(
            f"{missing} must be set together with "
            f"{'S3_ACCESS_KEY_ID' if key_id else 'S3_SECRET_ACCESS_KEY'} (or leave both unset to "
            "use the machine's own credentials, e.g. an instance role)."
        )
    endpoint = values["S3_ENDPOINT_URL"]
    if endpoint is not None:
        parts = urlsplit(endpoint)
        if parts.scheme not in {"http", "https"} or not parts.netloc:
            raise ImproperlyConfigured(
                f"S3_ENDPOINT_URL={endpoint!r} must be an http:// or https:// URL."
            )
    style = values["S3_ADDRESSING_STYLE"]
    if style is not None and style not in {"auto", "path", "virtual"}:
        raise ImproperlyConfigured(
            f"S3_ADDRESSING_STYLE={style!r} is not one of ['auto', 'path', 'virtual']."
        )
    options: dict = {
        "bucket_name": bucket,
        # Private objects, URLs only ever signed and short-lived, never overwrite a stored file.
        "default_acl": "private",
        "querystring_auth": True,
        "querystring_expire": 300,
        "file_overwrite": False,
        "location": (values["S3_LOCATION"] or "").strip("/"),
    }
    optional = {
        "endpoint_url": endpoint,
        "region_name": values["S3_REGION"],
        "access_key": key_id,
        "secret_key": secret,
        "custom_domain": values["S3_CUSTOM_DOMAIN"],
        "addressing_style": style,
    }
    options.update({key: value for key, value in optional.items() if value is not None})
    return {"BACKEND": S3_BACKEND, "OPTIONS": options}
