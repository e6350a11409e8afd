"""Each issuer's own Ed25519 keys: derived from the master key, published by version.

An issuer (a school, ``credit-bank``, ``ouc``) signs with the newest ``IssuerKey`` that is in use.
Its private key is ``HKDF-SHA256(master seed, salt, "<slug>/<version>")``: nothing secret is
stored beyond ``CREDENTIAL_SIGNING_KEY``, one issuer's key says nothing about another's, and a
rotation is a new version (decision 0006). The stored public key is what verifies: if the master
key is changed, the keys it derived stay published and keep verifying; signing refuses until the
issuers' keys are rotated onto the new master (``manage.py credential_key rotate --all``).
"""

from __future__ import annotations

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from django.db import IntegrityError, transaction
from django.utils import timezone

from certificates.models import IssuerKey

from . import keys

HKDF_SALT = b"ouc-portal credential issuer key v1"


class IssuerKeyError(keys.SigningKeyError):
    """An issuer has no key that may sign, or its key does not match the master key."""


class NoIssuerKey(IssuerKeyError):
    """The issuer has signed nothing yet, and this caller (a GET) may not make its first key."""


def derive_private_key(master: Ed25519PrivateKey, issuer: str, version: int) -> Ed25519PrivateKey:
    """The private key of ``issuer``'s key ``version``, derived from the master key's seed."""
    if not issuer or "/" in issuer or version < 1:
        raise IssuerKeyError(f"no key can be derived for issuer {issuer!r}, version {version}")
    seed = master.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=HKDF_SALT, info=f"{issuer}/{version}".encode())
    return Ed25519PrivateKey.from_private_bytes(derived.derive(seed))


def _master() -> Ed25519PrivateKey:
    return keys.load_signing_key()


def _create(issuer: str, version: int, master: Ed25519PrivateKey) -> IssuerKey:
    public = keys.public_key_multibase(derive_private_key(master, issuer, version))
    return IssuerKey.objects.create(issuer=issuer, version=version, public_key_multibase=public)


def signing_key(issuer: str, *, create: bool = True) -> tuple[IssuerKey, Ed25519PrivateKey]:
    """The key ``issuer`` signs with now, and its private key; the first key is made on first use.

    Two processes making the first key at once: the unique (issuer, version) lets one win and the
    other read the winner's row. ``create=False`` (what a GET signs: status lists) raises
    ``NoIssuerKey`` instead of writing: an issuer that has signed no credential has no list
    anyone needs.
    """
    master = _master()
    key = IssuerKey.objects.filter(issuer=issuer, retired_at__isnull=True, revoked_at__isnull=True).order_by("-version").first()
    if key is None:
        if not create:
            raise NoIssuerKey(f"issuer {issuer!r} has no key yet")
        if IssuerKey.objects.filter(issuer=issuer).exists():
            raise IssuerKeyError(
                f"every key of issuer {issuer!r} is retired or revoked: run `manage.py credential_key rotate {issuer}`"
            )
        try:
            with transaction.atomic():
                key = _create(issuer, 1, master)
        except IntegrityError:
            key = IssuerKey.objects.get(issuer=issuer, version=1)
    private = derive_private_key(master, issuer, key.version)
    if keys.public_key_multibase(private) != key.public_key_multibase:
        raise IssuerKeyError(
            f"{issuer}'s key {key.version} was not derived from the configured CREDENTIAL_SIGNING_KEY "
            "(was the master key changed?): run `manage.py credential_key rotate --all`"
        )
    return key, private


@transaction.atomic
def issuer_key_rotate(*, issuer: str, revoke: bool = False) -> IssuerKey:
    """Retire (or, if compromised, revoke) ``issuer``'s keys in use and make the next version.

    Retired keys stay published and keep verifying what they signed; revoked keys are published
    as revoked and verify nothing, so credentials they signed must be issued again.
    """
    master = _master()
    now = timezone.now()
    current = list(IssuerKey.objects.select_for_update().filter(issuer=issuer).order_by("version"))
    in_use = [k for k in current if k.in_use]
    for key in in_use:
        key.retired_at = now
    if revoke:
        for key in in_use:
            key.revoked_at = now
    IssuerKey.objects.bulk_update(in_use, ["retired_at", "revoked_at"])
    return _create(issuer, (current[-1].version if current else 0) + 1, master)


def issuer_key_revoke(*, issuer: str, version: int) -> IssuerKey:
    """Mark one key compromised: published with ``revoked``, trusted for nothing from now on."""
    with transaction.atomic():
        key = IssuerKey.objects.select_for_update().get(issuer=issuer, version=version)
        if key.revoked_at is None:
            key.revoked_at = timezone.now()
            key.retired_at = key.retired_at or key.revoked_at
            key.save(update_fields=["revoked_at", "retired_at"])
    return key


def published_keys(issuer: str) -> list[IssuerKey]:
    """Every key of ``issuer`` ever made, oldest first: all of them stay published."""
    return list(IssuerKey.objects.filter(issuer=issuer).order_by("version"))
