"""Demo credit-bank story for `make run` (local use only), told through the services:

learner1 (studying Numerical Control Technology) brings a senior CNC lathe operator certificate issued by
the Education Development Center of Mechanical Industry; the officer accredits it, and the
"Replacement of Courses" rule exempts CNC Programming. learner2's certificate waits in the queue.
"""

import datetime

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from creditbank import services
from creditbank.models import ConversionRule, LearningOutcome, RecognitionStandard
from enrolment.models import Course, Enrolment, Learner
from ouc_portal.accounts.models import User
from schools.models import Membership, PartnerAssociation

# A one-page PDF: enough for the evidence checks (the content is read, not the name).
DEMO_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)


class Command(BaseCommand):
    help = "Demo certificates in the credit bank (needs seed_demo_enrolments and load_recognition)."

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="run even with DEBUG off")

    def handle(self, *args, force: bool, **options):
        if not settings.DEBUG and not force:
            raise CommandError("Demo data is for local use: DEBUG is off (use --force to insist).")
        officer = User.objects.filter(memberships__role=Membership.Role.CREDIT_OFFICER).first()
        body = PartnerAssociation.objects.filter(slug="mechanical-industry-education-development-centre").first()
        standard = RecognitionStandard.objects.filter(code="VQ-CNC-LATHE-5").order_by("-version").first()
        rule = ConversionRule.objects.filter(code="NCT-RC-CNC").order_by("-version").first()
        learners = {person.user.email: person for person in Learner.objects.select_related("user").filter(user__email__in=["learner1@ouc.example", "learner2@ouc.example"])}
        if not (officer and body and standard and rule and len(learners) == 2):
            raise CommandError("Run seed_demo, seed_demo_enrolments and load_recognition first.")
        created = 0
        for email, number in (("learner1@ouc.example", "MIEDC-2024-000117"), ("learner2@ouc.example", "MIEDC-2023-004512")):
            if LearningOutcome.objects.filter(certificate_number=number).exists():
                continue
            with transaction.atomic():
                outcome = services.outcome_submit(
                    learner=learners[email],
                    files=[SimpleUploadedFile(f"{number}.pdf", DEMO_PDF, content_type="application/pdf")],
                    kind="vocational", title="CNC lathe operator (senior)", issuing_body=body,
                    issuing_body_name=body.name_en, achieved_on=datetime.date(2024, 6, 20), level=5,
                    grade="Pass", certificate_number=number,
                )
                if email == "learner1@ouc.example":
                    services.outcome_accredit(
                        outcome=outcome, standard=standard, officer=officer,
                        reason="Certificate number verified with the issuing body.",
                    )
                    enrolment = Enrolment.objects.get(learner=learners[email], programme=rule.programme)
                    services.conversion_apply(
                        outcome=outcome, enrolment=enrolment, officer=officer, rule=rule,
                        course=Course.objects.get(school=rule.programme.school, code="NC201"),
                    )
            created += 1
        self.stdout.write(self.style.SUCCESS(f"Demo credit-bank outcomes: {created} created."))
