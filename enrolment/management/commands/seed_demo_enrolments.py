"""Give the demo learners (from ``seed_demo``) profiles, applications and a few results.

Idempotent: a learner who already has an enrolment in the programme is left as they are.
Everything goes through the enrolment services, as a real learner's and administrator's clicks do.
"""

import datetime
from decimal import Decimal

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from enrolment import results, services
from enrolment.models import Enrolment, Intake, Learner
from ouc_portal.accounts.models import User
from schools.models import LearningCentre

PROFILES = {
    "learner1@ouc.example": ("张伟", "13800000001", "BAIC Motor, Beijing plant", "CNC machinist", "mechanical"),
    "learner2@ouc.example": ("李娜", "13800000002", "BAIC Motor, Beijing plant", "Quality inspector", "mechanical"),
    "learner3@ouc.example": ("王芳", "13800000003", "Beijing Hyundai service centre", "Maintenance technician", "automobile-repair"),
    "learner4@ouc.example": ("刘洋", "13800000004", "BAIC Foton", "Assembly worker", "automobile-repair"),
    "learner5@ouc.example": ("陈静", "13800000005", "Jingdong Logistics", "Warehouse supervisor", "logistics"),
}
# learner → (programme slug, what happens to the application)
PLAN = {
    "learner1@ouc.example": ("numerical-control-technology", "studying"),
    "learner2@ouc.example": ("numerical-control-technology", "applied"),
    "learner3@ouc.example": ("automobile-testing-and-maintenance", "applied"),
    "learner4@ouc.example": ("automobile-testing-and-maintenance", "accepted"),
    "learner5@ouc.example": ("logistics-management", "applied"),
}
RESULTS = {"learner1@ouc.example": [("ME101", "86"), ("ME102", "78.5"), ("NC202", "92")]}


class Command(BaseCommand):
    help = "Profiles, applications and results for the demo learners (local use; needs seed_demo and load_catalogue)."

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="run even with DEBUG off")

    def handle(self, *args, force: bool, **options):
        if not settings.DEBUG and not force:
            raise CommandError("Demo data is for local use: DEBUG is off (use --force to insist).")
        baic = LearningCentre.objects.filter(code="baic-learning-centre").first()
        admin = User.objects.filter(is_superuser=True).order_by("pk").first()
        if baic is None or admin is None:
            raise CommandError("Run load_network and seed_demo first.")
        created = 0
        for email, (name, phone, employer, job, industry) in PROFILES.items():
            learner = Learner.objects.filter(user__email=email).first()
            if learner is None:
                raise CommandError(f"{email} is missing: run seed_demo first.")
            if not learner.profile_complete:
                services.learner_update_profile(
                    learner=learner, consent=True, legal_name=name, phone=phone, employer=employer,
                    job_title=job, industry=industry, province="BJ", centre=baic,
                )
            slug, fate = PLAN[email]
            if Enrolment.objects.filter(learner=learner, programme__slug=slug).exists():
                continue
            intake = Intake.objects.filter(programme__slug=slug).order_by("-opens_at").first()
            if intake is None or not intake.is_open():
                raise CommandError(f"No open intake for {slug}: run load_catalogue first.")
            with transaction.atomic():
                enrolment = services.enrolment_apply(learner=learner, intake=intake).enrolment
                if fate in {"accepted", "studying"}:
                    services.enrolment_accept(enrolment=enrolment, actor=admin, reason="Demo: entry requirements met.")
                if fate == "studying":
                    services.enrolment_activate(enrolment=enrolment, actor=admin)
                    day = timezone.localdate() - datetime.timedelta(days=3)
                    course_by_code = {c.code: c for c in intake.programme.groups.all()[0].courses.all()}
                    for code, score in RESULTS.get(email, []):
                        results.result_record(
                            enrolment=enrolment, course=course_by_code[code], score=Decimal(score),
                            assessed_on=day, actor=admin,
                        )
            created += 1
        self.stdout.write(self.style.SUCCESS(f"Demo enrolments: {created} created."))
