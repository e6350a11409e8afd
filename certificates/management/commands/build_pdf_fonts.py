"""``manage.py build_pdf_fonts``: cut the Noto CJK faces down for the PDFs (certificates.pdf_fonts).

Run once per machine or image (the Dockerfile does); without it the first PDF a process renders
builds them (about half a second a face). Prints each face and its file, and fails when a face
cannot be built here, naming what is missing.
"""

from __future__ import annotations

import shutil

from django.core.management.base import BaseCommand, CommandError

from certificates import pdf_fonts


class Command(BaseCommand):
    help = "Build the cut-down Chinese faces the certificate and transcript PDFs embed."

    def handle(self, *args, **options) -> None:
        missing = [tool for tool in ("hb-subset", "fc-match") if shutil.which(tool) is None]
        if missing:
            raise CommandError(
                f"{' and '.join(missing)} not found: install Debian's libharfbuzz-bin and fontconfig."
            )
        for face in pdf_fonts.FACES:
            path = pdf_fonts.build(face)
            if path is None:
                raise CommandError(
                    f"Could not build {face.family} from {face.source}: is fonts-noto-cjk installed?"
                )
            self.stdout.write(f"{face.family}: {path} ({path.stat().st_size:,} bytes)")
