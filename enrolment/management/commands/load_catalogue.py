from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from enrolment.catalogue_loader import DATA_FILE, CatalogueDataError, catalogue_load, read_catalogue


class Command(BaseCommand):
    help = "Load the demo programme catalogue (idempotent). Needs load_network first."

    def add_arguments(self, parser):
        parser.add_argument("--file", type=Path, default=DATA_FILE, help="catalogue JSON (default: the demo data)")

    def handle(self, *args, file: Path, **options):
        try:
            counts = catalogue_load(data=read_catalogue(file), today=timezone.localdate())
        except CatalogueDataError as exc:
            raise CommandError(f"Catalogue not loaded, nothing changed: {exc}") from None
        summary = ", ".join(f"{n} {what}" for what, n in sorted(counts.items())) or "nothing to change"
        self.stdout.write(self.style.SUCCESS(f"Catalogue: {summary}."))
