"""Make and inspect the credential-signing key, for the rotation in docs/operations.md.

    manage.py credential_key new       a fresh Ed25519 seed (hex) and its public key
    manage.py credential_key public    the public key (z6Mk…) of the configured key, or of the
                                       key read from standard input with --stdin

The seed is the secret that goes in CREDENTIAL_SIGNING_KEY; the public key is what goes in
CREDENTIAL_RETIRED_PUBLIC_KEYS once the key is retired, so what it signed keeps verifying.
"""

from __future__ import annotations

import sys

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from django.core.management.base import BaseCommand, CommandError

from certificates.credentials import keys


class Command(BaseCommand):
    help = "Make a new credential-signing key, or print the public key of one."

    def add_arguments(self, parser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        actions.add_parser("new", help="print a fresh Ed25519 seed (hex) and its public key")
        public = actions.add_parser("public", help="print the public key (z6Mk…) of a signing key")
        public.add_argument(
            "--stdin", action="store_true",
            help="read the signing key from standard input instead of the settings",
        )  # fmt: skip

    def handle(self, *args, action: str, stdin: bool = False, **options) -> None:
        if action == "new":
            key = Ed25519PrivateKey.generate()
            seed = key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption()).hex()
            self.stdout.write(f"CREDENTIAL_SIGNING_KEY={seed}")
            self.stdout.write(f"public key: {keys.public_key_multibase(key)}")
            return
        try:
            key = keys.parse_private_key(sys.stdin.read()) if stdin else keys.load_signing_key()
        except keys.SigningKeyError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(keys.public_key_multibase(key))
