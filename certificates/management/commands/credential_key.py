"""The credential keys: the master key's seed, and each issuer's published keys.

    manage.py credential_key new               a fresh master seed (hex) for CREDENTIAL_SIGNING_KEY
    manage.py credential_key public            the public key (z6Mk…) of the configured master key,
                                               or of the key read from standard input with --stdin
    manage.py credential_key list [ISSUER]     every issuer key: version, state, public key, URL
    manage.py credential_key create ISSUER…    make an issuer's first key if it has none yet
    manage.py credential_key rotate ISSUER…    retire an issuer's key and make the next version
                         (--all: every issuer with a key; --revoke: the old key was compromised)

An issuer's private key is never stored: it is derived from the master key (decision 0006). The
rotation is described in docs/operations.md.
"""

from __future__ import annotations

import sys

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from django.core.management.base import BaseCommand, CommandError

from certificates.credentials import builders, issuer_keys, keys
from certificates.models import IssuerKey


class Command(BaseCommand):
    help = "Make a master key, print its public key, or list, create and rotate issuers' keys."

    def add_arguments(self, parser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        actions.add_parser("new", help="print a fresh Ed25519 master seed (hex) and its public key")
        public = actions.add_parser("public", help="print the public key (z6Mk…) of the master key")
        public.add_argument(
            "--stdin", action="store_true",
            help="read the signing key from standard input instead of the settings",
        )  # fmt: skip
        listing = actions.add_parser("list", help="list issuer keys")
        listing.add_argument("issuers", nargs="*", metavar="ISSUER")
        create = actions.add_parser("create", help="make an issuer's first key (nothing if it has one)")
        create.add_argument("issuers", nargs="+", metavar="ISSUER")
        rotate = actions.add_parser("rotate", help="retire an issuer's key in use and make the next version")
        rotate.add_argument("issuers", nargs="*", metavar="ISSUER")
        rotate.add_argument("--all", action="store_true", help="every issuer that has a key")
        rotate.add_argument("--revoke", action="store_true", help="publish the old key as revoked (compromised)")

    def handle(self, *args, action: str, **options) -> None:
        try:
            getattr(self, f"_{action}")(**options)
        except keys.SigningKeyError as exc:
            raise CommandError(str(exc)) from exc

    def _new(self, **options) -> None:
        key = Ed25519PrivateKey.generate()
        seed = key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption()).hex()
        self.stdout.write(f"CREDENTIAL_SIGNING_KEY={seed}")
        self.stdout.write(f"public key: {keys.public_key_multibase(key)}")

    def _public(self, *, stdin: bool = False, **options) -> None:
        key = keys.parse_private_key(sys.stdin.read()) if stdin else keys.load_signing_key()
        self.stdout.write(keys.public_key_multibase(key))

    @staticmethod
    def _check_issuers(issuers: list[str]) -> None:
        for slug in issuers:
            try:
                builders.issuer_profile(slug)
            except builders.UnknownIssuer:
                raise CommandError(f"no issuer {slug!r}: a school's slug, credit-bank or ouc") from None

    def _list(self, *, issuers: list[str], **options) -> None:
        rows = IssuerKey.objects.all()
        if issuers:
            rows = rows.filter(issuer__in=issuers)
        for key in rows:
            state = "revoked" if key.revoked_at else "retired" if key.retired_at else "in use"
            self.stdout.write(
                f"{key.issuer}\t{key.version}\t{state}\t{key.public_key_multibase}\t{builders.key_url(key.issuer, key.version)}"
            )

    def _create(self, *, issuers: list[str], **options) -> None:
        self._check_issuers(issuers)
        for slug in issuers:
            key, _private = issuer_keys.signing_key(slug)
            self.stdout.write(f"{slug}: key {key.version} {key.public_key_multibase}")

    def _rotate(self, *, issuers: list[str], all: bool = False, revoke: bool = False, **options) -> None:
        if all:
            issuers = sorted(set(IssuerKey.objects.values_list("issuer", flat=True)) | set(issuers))
        if not issuers:
            raise CommandError("name the issuers to rotate, or give --all")
        self._check_issuers(issuers)
        for slug in issuers:
            key = issuer_keys.issuer_key_rotate(issuer=slug, revoke=revoke)
            self.stdout.write(f"{slug}: key {key.version} {key.public_key_multibase}")
