"""``manage.py check_pdf_tools``: one line saying what the PDFs need that this machine lacks (Pango,
Chinese fonts, hb-subset) and the Debian command that installs it. ``make run`` prints it before
it loads the demo; it never fails, the portal runs without them."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from certificates import pdf_fonts


class Command(BaseCommand):
    help = "Say in one line what the certificate PDFs need that is missing here, and how to install it."

    requires_system_checks = []

    def handle(self, *args, **options) -> None:
        missing = pdf_fonts.missing_tools()
        style = self.style.WARNING if missing else self.style.SUCCESS
        self.stdout.write(style(pdf_fonts.missing_tools_line(missing)))
