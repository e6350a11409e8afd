"""System checks: a deployment that cannot sign credentials must not start issuing them."""

from __future__ import annotations

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
