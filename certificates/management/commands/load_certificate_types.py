"""Load certificate types (idempotent: a type whose code exists is left as it is).

Every programme of the catalogue gets its completion certificate, approved by the partner
association its school signed its first cooperation agreement with; programmes of the
non-degree-training, vocational and "1+X" kinds give certificates of that kind. The data file adds
the types earned by a credit-bank route (a conversion rule) instead of a programme.
"""

import json
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils.text import slugify

from certificates.models import CertificateKind, CertificateType
from creditbank.models import ConversionRule
from enrolment.models import Programme, ProgrammeKind
from schools.models import CooperationAgreement, IndustrySchool, PartnerAssociation

DATA_FILE = Path(__file__).resolve().parents[2] / "data" / "certificate_types.json"
KIND_OF_PROGRAMME = {
    ProgrammeKind.TRAINING: CertificateKind.TRAINING,
    ProgrammeKind.VOCATIONAL: CertificateKind.VOCATIONAL,
    ProgrammeKind.ONE_PLUS_X: CertificateKind.ONE_PLUS_X,
}


class Command(BaseCommand):
    help = "Load certificate types (needs load_network, load_catalogue and load_recognition)."

    def add_arguments(self, parser):
        parser.add_argument("--file", type=Path, default=DATA_FILE)

    def handle(self, *args, file: Path, **options):
        try:
            data = json.loads(file.read_text(encoding="utf-8"))
            with transaction.atomic():
                created = self._load(data)
        except (OSError, ValueError, KeyError, TypeError, ValidationError, ObjectMissing) as exc:
            raise CommandError(f"Certificate types not loaded, nothing changed: {exc}") from None
        self.stdout.write(self.style.SUCCESS(f"Certificate types: {created} created."))

    def _load(self, data) -> int:
        created = 0
        first_partner = {}
        for agreement in CooperationAgreement.objects.filter(association__isnull=False).order_by("signed_on", "code"):
            first_partner.setdefault(agreement.school_id, agreement.association_id)
        for programme in Programme.objects.select_related("school").order_by("school_id", "code"):
            association_id = first_partner.get(programme.school_id)
            if association_id is None:
                continue  # a school without a partner association has nobody to approve its certificates
            code = f"{slugify(programme.slug or programme.code)}-completion"[:60]
            if CertificateType.objects.filter(code=code).exists():
                continue
            completion = CertificateType(
                code=code,
                school=programme.school,
                association_id=association_id,
                kind=KIND_OF_PROGRAMME.get(programme.kind, CertificateKind.COMPLETION),
                name_en=f"{programme.name_en}: certificate of completion",
                name_zh=f"{programme.name_zh}结业证书" if programme.name_zh else "",
                programme=programme,
            )
            completion.full_clean()
            completion.save()
            created += 1
        for row in data["types"]:
            if CertificateType.objects.filter(code=row["code"]).exists():
                continue
            rule = ConversionRule.objects.filter(code=row["rule"]).order_by("-version").first()
            school = IndustrySchool.objects.filter(slug=row["school"]).first()
            association = PartnerAssociation.objects.filter(slug=row["association"]).first()
            for name, value in (("rule", rule), ("school", school), ("association", association)):
                if value is None:
                    raise ObjectMissing(f"{row['code']}: no {name} {row[name]!r}")
            cert_type = CertificateType(
                code=row["code"], school=school, association=association, kind=row["kind"],
                name_en=row["name_en"], name_zh=row.get("name_zh", ""), rule=rule,
                validity_years=row.get("validity_years"),
            )
            cert_type.full_clean()
            cert_type.save()
            created += 1
        return created


class ObjectMissing(Exception):
    """A row names a school, association or rule that is not loaded."""
