"""``manage.py load_network [--file PATH]``: put the real network into the database.

Running it again changes nothing (every row is found by its slug or code, and an unchanged row is
not saved). A malformed file is refused as a whole: the command exits non-zero, names every problem
and stores nothing.
"""

from __future__ import annotations

import json
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from schools.network import NETWORK_FILE, network_data
from schools.services import network_load

LABELS = {
    "schools": "industry schools",
    "partners": "partner organisations",
    "centres": "learning centres",
    "centre_schools": "centre–school links",
    "agreements": "cooperation agreements",
    "signatories": "agreement signatories",
}


class Command(BaseCommand):
    help = (
        "Load the industry schools, partners, learning centres and agreements from the seed data."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--file",
            type=Path,
            default=NETWORK_FILE,
            help=f"the network data file (default: {NETWORK_FILE})",
        )

    def handle(self, *args, file: Path, **options) -> None:
        try:
            data = network_data(file)
        except OSError as error:
            raise CommandError(f"Cannot read {file}: {error.strerror or error}") from error
        except json.JSONDecodeError as error:
            raise CommandError(
                f"{file} is not valid JSON (line {error.lineno}, column {error.colno}: {error.msg}); "
                "nothing was stored."
            ) from error
        try:
            counts = network_load(data=data)
        except ValidationError as error:
            problems = "\n".join(f"  - {message}" for message in error.messages)
            raise CommandError(f"{file} was refused; nothing was stored:\n{problems}") from error
        for name, label in LABELS.items():
            tally = counts[name]
            self.stdout.write(
                f"{label}: {tally['created']} created, {tally['updated']} updated, "
                f"{tally['unchanged']} unchanged"
            )
