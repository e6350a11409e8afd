"""Check a credential file offline, as a verifier would: its JSON Schema and its proof.

    manage.py verify_credential credential.json

Exit status 0 when both pass, 1 otherwise; each check is printed in words.
"""

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from certificates.credentials import validation
from certificates.credentials.builders import verify_credential


class Command(BaseCommand):
    help = "Check a signed credential file (Open Badges 3.0 or CLR 2.0): its JSON Schema and its proof."

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)

    def handle(self, *args, file: Path, **options):
        try:
            document = json.loads(file.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise CommandError(f"{file}: not a readable JSON file: {exc}") from None
        if not isinstance(document, dict):
            raise CommandError(f"{file}: a credential is a JSON object")
        types = document.get("type") or []
        schema = validation.CLR_CREDENTIAL if "ClrCredential" in types else validation.ACHIEVEMENT_CREDENTIAL
        problems = validation.errors(document, schema)
        self.stdout.write(f"schema {schema}: " + ("valid" if not problems else "INVALID"))
        for problem in problems:
            self.stdout.write(f"  {problem}")
        proof_ok = verify_credential(document)
        self.stdout.write("proof eddsa-rdfc-2022: " + ("verifies" if proof_ok else "DOES NOT VERIFY"))
        if problems or not proof_ok:
            raise CommandError("the credential does not pass", returncode=1)
