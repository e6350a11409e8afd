"""``manage.py seed_scale``: the benchmark dataset is consistent with what the services would write.

Small runs (a few dozen learners) on whatever database the run uses: SQLite takes the
bulk_create path, PostgreSQL the COPY path. The rows must pass the portal's own checks: the
ledger verifies, the credit audit agrees with every enrolment's status, the seeded people log in,
a signed certificate verifies, and the next certificate issued for real takes a fresh serial and
status-list index.
"""

from __future__ import annotations

import io
import re

import pytest
from django.contrib.auth.hashers import check_password
from django.core.management import CommandError, call_command
from django.db.models import Count, Max, Min, Q
from django.urls import reverse
from django.utils import timezone

from certificates import scale, services
from certificates.models import (
    Certificate,
    CertificateRequest,
    RequestStatus,
    SerialCounter,
    StatusListCounter,
)
from creditbank.audit import programme_audit
from creditbank.models import Accreditation, Conversion, CreditAccount, LearningOutcome, LedgerEntry
from enrolment.models import SEAT_STATES, CourseResult, Enrolment, EnrolmentStatus, Intake, Learner
from ouc_portal.accounts.models import User
from schools.models import Membership
from tests import factories
from tests.certificates.test_credentials import stub_pdf

LEARNERS = 30
HEAVY = 1000
LAST_LINE = re.compile(r"^seed_scale: (\d+) rows in (\d+\.\d) s \((\d+) rows/s\)$")


def seed(*args: str, learners: int = LEARNERS) -> str:
    out = io.StringIO()
    call_command(
        "seed_scale", "--learners", str(learners), "--heavy-entries", str(HEAVY),
        "--signed-certificates", "2", "--chunk-size", "7", *args, stdout=out,
    )
    return out.getvalue()


@pytest.fixture
def seeded(db, monkeypatch, settings, tmp_path) -> str:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    stub_pdf(monkeypatch)  # PDFs cost a second each here; the credential is signed for real
    return seed()


def scale_users():
    return User.objects.filter(email__endswith=f"@{scale.DOMAIN}")


def test_counts_agree_and_the_report_ends_with_the_rate_line(seeded):
    lines = seeded.strip().splitlines()
    match = LAST_LINE.match(lines[-1])
    assert match, lines[-1]
    learners = Learner.objects.filter(user__email__endswith=f"@{scale.DOMAIN}")
    assert learners.count() == LEARNERS + 1  # and the heavy learner
    assert CreditAccount.objects.filter(learner__in=learners).count() == LEARNERS + 1
    assert all(re.fullmatch(r"CB\d{4}-\d{9}-\d", n) for n in CreditAccount.objects.values_list("number", flat=True))
    # Staff who recorded, reviewed and accredited: one admin a school, one reviewer an association.
    assert Membership.objects.filter(user__in=scale_users()).count() >= 3
    # Every row the report counts is in the database.
    assert int(match.group(1)) >= (
        scale_users().count() + learners.count() + Enrolment.objects.count() + LedgerEntry.objects.count()
    )
    assert "certificates, 2 signed" in seeded
    # Every learner has a complete profile and a verified, primary email address.
    assert all(learner.profile_complete for learner in learners)
    from allauth.account.models import EmailAddress

    assert EmailAddress.objects.filter(user__in=scale_users(), verified=True, primary=True).count() == scale_users().count()


def test_the_ledger_verifies_and_each_entry_has_its_source(seeded):
    call_command("verify_ledger", stdout=io.StringIO())  # raises CommandError on any break
    assert LedgerEntry.objects.aggregate(m=Min("balance_after"))["m"] >= 0
    duplicates = LedgerEntry.objects.values("account", "idempotency_key").annotate(n=Count("pk")).filter(n__gt=1)
    assert not duplicates.exists()
    passed = CourseResult.objects.filter(passed=True)
    assert LearningOutcome.objects.filter(course_result__in=passed).count() == passed.count()
    assert LedgerEntry.objects.filter(kind="deposit").count() == passed.count()
    assert not LearningOutcome.objects.filter(course_result__passed=False).exists()
    assert LedgerEntry.objects.filter(kind="accreditation").count() == Accreditation.objects.count()
    assert LedgerEntry.objects.filter(kind="conversion").count() == Conversion.objects.count()
    entries = LedgerEntry.objects.values("account").annotate(n=Count("pk"))
    assert sum(e["n"] for e in entries) / (LEARNERS + 1) > 5
    heavy = LedgerEntry.objects.filter(account__learner__user__email=scale.HEAVY_EMAIL)
    assert heavy.count() >= HEAVY
    assert Enrolment.objects.filter(learner__user__email=scale.HEAVY_EMAIL).values("programme").distinct().count() >= 3


def test_enrolment_states_agree_with_the_audit_and_their_history(seeded):
    enrolments = Enrolment.objects.filter(learner__user__email__endswith=f"@{scale.DOMAIN}")
    assert {e.status for e in enrolments} >= {EnrolmentStatus.COMPLETED, EnrolmentStatus.ACTIVE}
    for enrolment in enrolments.prefetch_related("history"):
        history = sorted(enrolment.history.all(), key=lambda h: (h.at, h.pk))
        assert history[0].from_status == ""
        assert history[-1].to_status == enrolment.status
        for before, after in zip(history, history[1:], strict=False):
            assert after.from_status == before.to_status
        if enrolment.status == EnrolmentStatus.COMPLETED:
            assert programme_audit(enrolment).complete, enrolment
            assert CertificateRequest.objects.filter(enrolment=enrolment).exists()
        elif enrolment.status == EnrolmentStatus.ACTIVE:
            assert not programme_audit(enrolment).complete, enrolment
    # No intake holds more seats than it has.
    seats = Count("enrolments", filter=Q(enrolments__status__in=sorted(SEAT_STATES)))
    for intake in Intake.objects.annotate(seats=seats):
        assert intake.seats <= intake.capacity, intake


def test_every_learner_logs_in_with_the_one_password(seeded, client):
    hashes = set(scale_users().values_list("password", flat=True))
    assert len(hashes) == 1
    assert check_password(scale.PASSWORD, hashes.pop())
    assert client.login(email=f"learner000001@{scale.DOMAIN}", password=scale.PASSWORD)
    assert client.get(reverse("certs:home")).status_code == 200  # issued but unsigned certificates too


def test_a_signed_certificate_verifies_and_the_others_are_not_ready(seeded, client):
    signed = Certificate.objects.filter(credential__isnull=False)
    assert signed.count() == 2
    certificate = signed.first()
    response = client.get(reverse("verify:page", args=[certificate.verification_code]), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert "Valid: this certificate is genuine and in force." in response.content.decode()
    unsigned = Certificate.objects.filter(credential__isnull=True).first()
    assert unsigned is not None and not unsigned.is_ready
    assert client.get(reverse("verify:page", args=[unsigned.verification_code])).status_code == 404
    issued = CertificateRequest.objects.filter(status__in=[RequestStatus.ISSUED, RequestStatus.REVOKED])
    assert Certificate.objects.count() == issued.count()


def test_the_next_real_issue_takes_a_fresh_serial_and_status_index(seeded, eager, django_capture_on_commit_callbacks):
    year = timezone.localdate().year
    used = set(Certificate.objects.values_list("serial", flat=True))
    sample = Certificate.objects.filter(year=year).first() or Certificate.objects.order_by("-year").first()
    school, association = sample.school, sample.request.type.association
    # Status indexes are the school's own (issue 17): the next continues after its seeded ones.
    indexes = Certificate.objects.filter(status_issuer=school.slug).aggregate(m=Max("status_index"))["m"]
    school_id = school.pk
    reviewer = scale_users().get(memberships__role=Membership.Role.REVIEWER, memberships__association=association)
    cert_type = factories.CertificateTypeFactory(school=school, association=association)
    request = factories.completed_request(learner=factories.LearnerFactory(), cert_type=cert_type)
    with django_capture_on_commit_callbacks(execute=True):
        services.request_approve(request=request, reviewer=reviewer)
    fresh = Certificate.objects.get(request=request)
    assert fresh.is_ready
    assert fresh.serial not in used
    seeded_max = Certificate.objects.filter(school_id=school_id, year=year).exclude(pk=fresh.pk).aggregate(m=Max("number"))["m"]
    assert fresh.number == (seeded_max or 0) + 1
    assert fresh.status_index == indexes + 1
    assert SerialCounter.objects.get(school_id=school_id, year=year).last == fresh.number
    assert fresh.status_issuer == school.slug
    assert StatusListCounter.objects.get(purpose=f"issuer:{school.slug}").last == fresh.status_index


def test_running_twice_is_refused_and_changes_nothing(seeded):
    before = User.objects.count(), LedgerEntry.objects.count()
    with pytest.raises(CommandError, match="already seeded; use a fresh database"):
        seed()
    assert (User.objects.count(), LedgerEntry.objects.count()) == before


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--learners", "0"], "--learners must be at least 1"),
        (["--learners", "-3"], "--learners must be at least 1"),
        (["--learners", "many"], "invalid int value"),
        (["--learners", "5", "--heavy-entries", "0"], "--heavy-entries must be at least 1"),
        (["--learners", "5", "--signed-certificates", "-1"], "--signed-certificates cannot be negative"),
        (["--learners", "5", "--chunk-size", "0"], "--chunk-size must be at least 1"),
    ],
)
def test_bad_arguments_are_refused_before_anything_is_written(db, args, message):
    with pytest.raises(CommandError, match=message):
        call_command("seed_scale", *args, stdout=io.StringIO())
    assert not User.objects.exists()


def test_the_learners_option_is_required(db):
    with pytest.raises(CommandError, match="--learners"):
        call_command("seed_scale", stdout=io.StringIO())


@pytest.mark.usefixtures("require_postgres")
def test_postgres_copies_rows_and_checks_foreign_keys(monkeypatch, settings, tmp_path):
    """The COPY path: keys from the sequences, rows by COPY, foreign keys checked set-wise, and
    certificates signed by worker processes once the seed has committed."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    stub_pdf(monkeypatch)
    checked = []
    original = scale._CopyWriter._check_foreign_keys
    monkeypatch.setattr(scale._CopyWriter, "_check_foreign_keys", lambda self: checked.append(1) or original(self))
    seed("--signed-certificates", "25", learners=40)  # enough to share among worker processes
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('is_superuser') = 'on'")
        superuser = cursor.fetchone()[0]
    assert checked == ([1] if superuser else [])
    call_command("verify_ledger", stdout=io.StringIO())
    signed = Certificate.objects.filter(credential__isnull=False).exclude(pdf="")
    assert signed.count() == 25
    # The sequences moved past every key used: the next ORM insert does not collide.
    learner = factories.LearnerFactory()
    assert learner.pk > Learner.objects.exclude(pk=learner.pk).aggregate(m=Max("pk"))["m"]
