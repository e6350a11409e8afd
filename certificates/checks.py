"""System checks: a deployment that cannot sign credentials must not start issuing them."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import Error, Tags, register


@register(Tags.security, deploy=True)
def signing_key_configured(app_configs, **kwargs) -> list[Error]:
    from certificates.credentials.keys import SigningKeyError, parse_private_key

    value = getattr(settings, "CREDENTIAL_SIGNING_KEY", None)
    if not value:
        return [
            Error(
                "CREDENTIAL_SIGNING_KEY is not set: certificates and transcripts cannot be signed.",
                hint="Set it to a 32-byte hex Ed25519 seed (e.g. `openssl rand -hex 32`), kept secret.",
                id="certificates.E001",
            )
        ]
    try:
        parse_private_key(value)
    except SigningKeyError as exc:
        return [Error(f"CREDENTIAL_SIGNING_KEY is malformed: {exc}", id="certificates.E002")]
    return []


def site_url_problem(value: str | None) -> str | None:
    """Why ``value`` cannot be the public origin signed into credentials, or None if it can.

    Every credential, key, status list and achievement id is ``SITE_URL`` + a path, and a signed
    id can never be changed: a deployment that signs ``http://127.0.0.1:8000/…`` issues
    credentials no one else can resolve, for good.
    """
    if not value:
        return "it is not set"
    parts = urlsplit(value)
    if parts.scheme != "https":
        return "it is not an https:// address"
    host = (parts.hostname or "").rstrip(".").lower()
    if not host:
        return "it names no host"
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username or parts.password:
        return "it must be an origin only (scheme, host and port), without path, query or user"
    if host == "localhost" or host.endswith(".localhost"):
        return "it names localhost"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return None
    if address.is_loopback or address.is_unspecified or address.is_link_local:
        return "it names a loopback or local-only address"
    return None


@register(Tags.security, deploy=True)
def site_url_public(app_configs, **kwargs) -> list[Error]:
    value = getattr(settings, "SITE_URL", None)
    problem = site_url_problem(value)
    if problem is None:
        return []
    return [
        Error(
            f"SITE_URL ({value!r}) cannot be signed into credentials: {problem}.",
            hint="Set SITE_URL to the portal's public https:// origin, e.g. https://portal.example "
            "(docs/deployment.md). Every credential id, key and status-list URL starts with it.",
            id="certificates.E003",
        )
    ]
