"""Load recognition standards and conversion rules (idempotent; a standard or rule that exists is
left as it is: once in use it is frozen, and a change is a new version made by an officer)."""

import datetime
import json
from decimal import Decimal
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from creditbank import services
from creditbank.models import ConversionRule, RecognitionStandard
from enrolment.models import Programme
from schools.models import PartnerAssociation

DATA_FILE = Path(__file__).resolve().parents[2] / "data" / "recognition.json"


class Command(BaseCommand):
    help = "Load recognition standards and conversion rules (needs load_network and load_catalogue)."

    def add_arguments(self, parser):
        parser.add_argument("--file", type=Path, default=DATA_FILE)

    def handle(self, *args, file: Path, **options):
        try:
            data = json.loads(file.read_text(encoding="utf-8"))
            with transaction.atomic():
                created = self._load(data)
        except (OSError, ValueError, KeyError, ValidationError, Programme.DoesNotExist, PartnerAssociation.DoesNotExist) as exc:
            raise CommandError(f"Recognition data not loaded, nothing changed: {exc!r}") from None
        self.stdout.write(self.style.SUCCESS(f"Recognition: {created['standards']} standards and {created['rules']} rules created."))

    def _load(self, data):
        bodies = {a.slug: a for a in PartnerAssociation.objects.all()}
        created = {"standards": 0, "rules": 0}
        standards = {}
        for row in data["standards"]:
            standard = RecognitionStandard.objects.filter(code=row["code"]).order_by("-version").first()
            if standard is None:
                standard = services.standard_save(
                    standard=RecognitionStandard(
                        code=row["code"], title_en=row["title_en"], title_zh=row["title_zh"],
                        outcome_kinds=row["outcome_kinds"], level=row["level"], credit_value=Decimal(row["credit_value"]),
                        currency_years=row["currency_years"], criteria_en=row["criteria_en"], criteria_zh=row["criteria_zh"],
                        effective_from=datetime.date.fromisoformat(row["effective_from"]),
                    ),
                    accepted_bodies=[bodies[slug] for slug in row["accepted_bodies"]],
                )
                created["standards"] += 1
            standards[row["code"]] = standard
        for row in data["rules"]:
            if ConversionRule.objects.filter(code=row["code"]).exists():
                continue
            programme = Programme.objects.get(slug=row["programme"])
            courses = list(programme.school.courses.filter(code__in=row["courses"]))
            if len(courses) != len(row["courses"]):
                raise ValueError(f"rule {row['code']}: unknown course among {row['courses']}")
            services.rule_save(
                rule=ConversionRule(
                    code=row["code"], standard=standards[row["standard"]],
                    second_standard=standards.get(row.get("second_standard", "")), programme=programme,
                    mode=row["mode"], credits=Decimal(row["credits"]),
                    effective_from=datetime.date.fromisoformat(row["effective_from"]),
                    approving_body=bodies.get(row.get("approving_body", "")),
                ),
                courses=courses,
            )
            created["rules"] += 1
        return created
