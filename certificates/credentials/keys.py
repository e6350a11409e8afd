"""The portal's Ed25519 signing key, from a setting or the environment.

The value is either a hex seed (64 hex characters = 32 bytes; 128 hex characters = the 64-byte
``seed || public key`` form some tools print, checked for consistency) or a Multikey
``secretKeyMultibase`` (``z…``, multicodec 0x1300).
"""

from __future__ import annotations

import os
import re

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from .dataintegrity import (
    DataIntegrityError,
    private_key_from_multibase,
    public_key_to_multibase,
)

SETTING_NAME = "CREDENTIAL_SIGNING_KEY"
_HEX = re.compile(r"^[0-9a-fA-F]+$")


class SigningKeyError(DataIntegrityError):
    """The configured signing key is missing or malformed."""


def parse_private_key(value: str) -> Ed25519PrivateKey:
    """Parse a hex seed (32 or 64 bytes) or a ``z…`` secret Multikey."""
    if not isinstance(value, str) or not value.strip():
        raise SigningKeyError("the Ed25519 signing key is empty")
    value = value.strip()
    if value.startswith("z"):
        try:
            return private_key_from_multibase(value)
        except (DataIntegrityError, ValueError) as exc:
            raise SigningKeyError(f"signing key is not an Ed25519 secret Multikey: {exc}") from exc
    if value.lower().startswith("0x"):
        value = value[2:]
    if not _HEX.match(value) or len(value) not in (64, 128):
        raise SigningKeyError(
            "signing key must be a 32-byte hex seed (64 hex digits), a 64-byte hex "
            "seed+public key (128 hex digits) or a z… secret Multikey"
        )
    raw = bytes.fromhex(value)
    key = Ed25519PrivateKey.from_private_bytes(raw[:32])
    if len(raw) == 64:
        derived = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        if derived != raw[32:]:
            raise SigningKeyError("the 64-byte key's public half does not match its seed")
    return key


def load_signing_key(value: str | None = None) -> Ed25519PrivateKey:
    """The signing key from ``value``, else the Django setting, else the environment."""
    if value is None:
        value = _from_settings()
    if value is None:
        value = os.environ.get(SETTING_NAME)
    if value is None:
        raise SigningKeyError(
            f"no credential signing key: set {SETTING_NAME} in the settings or the environment"
        )
    return parse_private_key(value)


def _from_settings() -> str | None:
    try:
        from django.conf import settings
        from django.core.exceptions import ImproperlyConfigured
    except ImportError:  # pragma: no cover - Django is always installed in the portal
        return None
    try:
        return getattr(settings, SETTING_NAME, None)
    except ImproperlyConfigured:
        return None


def public_key_multibase(private_key: Ed25519PrivateKey) -> str:
    """``publicKeyMultibase`` (``z6Mk…``) of the signing key, for the issuer profile."""
    return public_key_to_multibase(private_key.public_key())
