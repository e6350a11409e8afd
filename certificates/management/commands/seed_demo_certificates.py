"""Demo certificates for `make run` (local use only), told through the services.

learner2 (李娜) takes the CNC teacher-training programme at the OUC Education and Training Centre,
passes its three courses, and so completes it: the completion opens her certificate request, the
Education Development Center of Mechanical Industry's reviewer approves it, and (Celery being eager
under `make run`) it is issued at once, with its PDF and signed credential. She also asks for a
transcript. Her certificate's verification page is the one to open first.
"""

import datetime
from decimal import Decimal

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from certificates import services
from certificates.models import Certificate, CertificateRequest
from certificates.tasks import issue_certificate
from enrolment import results
from enrolment import services as enrolment_services
from enrolment.models import Enrolment, Intake, Learner
from ouc_portal.accounts.models import User
from ouc_portal.outbox.models import OutboxTask
from schools.models import Membership

PROGRAMME = "cnc-teacher-training"
LEARNER = "learner2@ouc.example"
SCORES = {"TT301": "88", "TT302": "91", "TT303": "79"}


class Command(BaseCommand):
    help = "A demo certificate and transcript (needs seed_demo_enrolments and load_certificate_types)."

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="run even with DEBUG off")

    def handle(self, *args, force: bool, **options):
        if not settings.DEBUG and not force:
            raise CommandError("Demo data is for local use: DEBUG is off (use --force to insist).")
        learner = Learner.objects.filter(user__email=LEARNER).first()
        admin = User.objects.filter(is_superuser=True).order_by("pk").first()
        reviewer = User.objects.filter(
            memberships__role=Membership.Role.REVIEWER,
            memberships__association__slug="mechanical-industry-education-development-centre",
        ).first()
        intake = Intake.objects.filter(programme__slug=PROGRAMME).order_by("-opens_at").first()
        if not (learner and admin and reviewer and intake):
            raise CommandError("Run seed_demo, load_catalogue, seed_demo_enrolments and load_certificate_types first.")
        if Enrolment.objects.filter(learner=learner, programme=intake.programme).exists():
            self.stdout.write(self.style.SUCCESS("Demo certificates: 0 created."))
            return
        with transaction.atomic():
            enrolment = enrolment_services.enrolment_apply(learner=learner, intake=intake).enrolment
            enrolment_services.enrolment_accept(enrolment=enrolment, actor=admin, reason="Demo: entry requirements met.")
            enrolment_services.enrolment_activate(enrolment=enrolment, actor=admin)
            day = timezone.localdate() - datetime.timedelta(days=2)
            for course in intake.programme.groups.all()[0].courses.order_by("code"):
                results.result_record(
                    enrolment=enrolment, course=course, score=Decimal(SCORES.get(course.code, "80")), assessed_on=day,
                    actor=admin,
                )
        enrolment.refresh_from_db()
        request = CertificateRequest.objects.filter(learner=learner, enrolment=enrolment).first()
        if request is None:
            raise CommandError(f"Completing {PROGRAMME} opened no certificate request: run load_certificate_types first.")
        error = ""
        try:
            services.request_approve(request=request, reviewer=reviewer, reason="Demo: all three courses passed.")
        except Exception as exc:  # issuing ran eagerly and failed: the portal still serves
            services.request_issue_failed(request_id=request.pk, error=repr(exc))
            error = repr(exc)
        request.refresh_from_db()
        if not error:
            # Run eagerly, a transient failure asks Celery for a retry that cannot come later: the
            # outbox marks the task failed, with the reason, and the request is not issued.
            row = OutboxTask.objects.filter(task=issue_certificate.name, args=[request.pk]).order_by("-pk").first()
            if request.issue_failed_at:
                error = request.issue_error
            elif row is not None and row.failed_at:
                error = row.failure or "issuing failed"
        if error:
            # Most likely the PDF tools are missing on this machine. The request stays approved
            # and marked failed, with a retry button on the review desk once they are installed.
            if not request.issue_failed_at:
                services.request_issue_failed(request_id=request.pk, error=error)
            self.stderr.write(
                f"The demo certificate was approved but not issued ({error}). Its PDF "
                "needs Pango and Chinese fonts: apt-get install libpango-1.0-0 libpangoft2-1.0-0 "
                "libharfbuzz-subset0 fonts-noto-cjk, then retry it from /review/."
            )
            return
        certificate = Certificate.objects.filter(request=request).first()
        transcript = services.transcript_request(learner=learner)
        transcript.refresh_from_db()  # built already when tasks run eagerly
        where = f"{settings.SITE_URL}/verify/{certificate.verification_code}/" if certificate else "(queued)"
        self.stdout.write(
            self.style.SUCCESS(f"Demo certificates: 1 created ({where}); transcript {transcript.status}.")
        )
