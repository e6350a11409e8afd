"""A person downloads everything the portal holds about them, and closes their account.

Closing erases or anonymises personal data and keeps the records others rely on: the ledger
still verifies, an issued certificate still verifies at /verify/<code>/ and its signed
credential still verifies. Every refused attempt changes nothing.
"""

from __future__ import annotations

import datetime
import json
from decimal import Decimal
from io import StringIO

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.models import Session
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from certificates.credentials import builders
from certificates.models import Certificate
from creditbank import services as creditbank
from creditbank.ledger import verify_account
from creditbank.models import LedgerEntry, OutcomeEvidence
from enrolment.models import CourseResult, Enrolment, EnrolmentStatus, EnrolmentStatusChange
from ouc_portal.accounts.models import User
from ouc_portal.accounts.personal_data import closed_email
from ouc_portal.audit import services as audit
from ouc_portal.audit.models import AuditEvent
from tests import factories
from tests.certificates.test_credentials import build_transcript, issue, stub_pdf

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
DATA_URL = "/me/data/"
EXPORT_URL = "/me/data/export.json"
CLOSE_URL = "/me/close/"


@pytest.fixture(autouse=True)
def english(client):
    """Pages in English unless a test asks for another language (the portal's default is Chinese)."""
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"


@pytest.fixture(autouse=True)
def quick_pdf(monkeypatch, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    stub_pdf(monkeypatch)


def submit_outcome(learner, *, title: str, file_name: str):
    return creditbank.outcome_submit(
        learner=learner,
        files=[SimpleUploadedFile(file_name, PDF)],
        kind="vocational",
        title=title,
        issuing_body_name="Education Development Center of Mechanical Industry",
        achieved_on=timezone.localdate() - datetime.timedelta(days=30),
        level=5,
    )


@pytest.fixture
def world(cast, eager, django_capture_on_commit_callbacks):
    """The learner with one of everything; the other learner with records that must not leak."""
    learner = cast.learner.learner
    account = creditbank.account_for(learner)
    # A ledger entry: an accredited outcome.
    accredited = factories.LearningOutcomeFactory(account=account, title="CNC Lathe Operator")
    standard = factories.RecognitionStandardFactory()
    creditbank.outcome_accredit(
        outcome=accredited, standard=standard, officer=cast.credit_officer, reason="Checked"
    )
    # Evidence on file, waiting for review.
    submitted = submit_outcome(learner, title="Mould Fitter", file_name="my-mould-certificate.pdf")
    # A completed enrolment, its request, the certificate issued from it, a result, a transcript.
    certificate = issue(cast, django_capture_on_commit_callbacks, name_en="NCT completion")
    enrolment = certificate.request.enrolment
    CourseResult.objects.create(
        enrolment=enrolment, course=factories.CourseFactory(school=cast.school, code="NC101"),
        score=Decimal("88"), grade="A", passed=True, assessed_on=timezone.localdate(),
        recorded_by=cast.school_admin,
    )  # fmt: skip
    transcript = build_transcript(learner, django_capture_on_commit_callbacks)
    EmailAddress.objects.create(user=cast.learner, email=cast.learner.email, verified=True, primary=True)
    Authenticator.objects.create(user=cast.learner, type=Authenticator.Type.TOTP, data={"secret": "x"})
    audit.record(action="profile.viewed", actor=cast.learner, summary="learner did something")

    # The other learner's records.
    other = cast.other_learner.learner
    other_outcome = factories.LearningOutcomeFactory(
        account=creditbank.account_for(other), title="Stranger's welding certificate",
        certificate_number="SECRET-777",
    )  # fmt: skip
    creditbank.outcome_accredit(
        outcome=other_outcome, standard=standard, officer=cast.credit_officer, reason="Stranger ok"
    )
    submit_outcome(other, title="Stranger's forklift licence", file_name="stranger-scan.pdf")
    audit.record(action="stranger.acted", actor=cast.other_learner, summary="stranger's own action")
    return {
        "learner": learner,
        "account": account,
        "accredited": accredited,
        "submitted": submitted,
        "certificate": certificate,
        "transcript": transcript,
        "enrolment": enrolment,
        "other": other,
    }


def export(client, user) -> dict:
    client.force_login(user)
    response = client.get(EXPORT_URL)
    assert response.status_code == 200
    return json.loads(response.content)


# --- Export ---------------------------------------------------------------------------------------


def test_the_export_holds_everything_about_the_person(client, cast, world):
    client.force_login(cast.learner)
    response = client.get(EXPORT_URL)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert response["Content-Disposition"].startswith('attachment; filename="ouc-portal-my-data-')
    assert "no-store" in response["Cache-Control"]
    data = json.loads(response.content)
    learner = world["learner"]

    assert data["account"]["email"] == "learner@example.org"
    assert data["account"]["name"] == cast.learner.name
    assert data["account"]["date_joined"]
    assert data["account"]["email_addresses"] == [
        {"email": "learner@example.org", "verified": True, "primary": True}
    ]
    assert [f["type"] for f in data["account"]["second_factors"]] == ["totp"]
    profile = data["learner_profile"]
    assert profile["legal_name"] == learner.legal_name
    assert profile["phone"] == learner.phone
    assert profile["employer"] == "BAIC Motor"
    assert profile["job_title"] == "CNC machinist"

    [enrolment] = data["enrolments"]
    assert enrolment["id"] == str(world["enrolment"].public_id)
    assert enrolment["status"] == "completed"
    assert [r["course"]["code"] for r in enrolment["results"]] == ["NC101"]
    assert enrolment["results"][0]["score"] == "88.00"

    outcomes = {o["title"]: o for o in data["learning_outcomes"]}
    assert set(outcomes) == {"CNC Lathe Operator", "Mould Fitter"}
    assert outcomes["CNC Lathe Operator"]["accreditation"]["reason"] == "Checked"
    [evidence] = outcomes["Mould Fitter"]["evidence"]
    evidence_row = world["submitted"].evidence.get()
    assert evidence["file_name"] == "my-mould-certificate.pdf"
    assert evidence["download_url"].endswith(
        reverse("credits:evidence_download", kwargs={"public_id": evidence_row.public_id})
    )
    assert "content" not in evidence  # a link, not the file

    ledger = data["credit_account"]
    assert ledger["number"] == world["account"].number
    assert [e["seq"] for e in ledger["ledger"]] == list(
        LedgerEntry.objects.filter(account=world["account"]).order_by("seq").values_list("seq", flat=True)
    )
    assert ledger["balance"] == str(
        LedgerEntry.objects.filter(account=world["account"]).order_by("-seq").first().balance_after
    )

    [request] = data["certificate_requests"]
    assert request["status"] == "issued"
    assert [h["to"] for h in request["history"]][-1] == "issued"
    [certificate] = data["certificates"]
    assert certificate["serial"] == world["certificate"].serial
    assert certificate["verification_url"].endswith(
        reverse("verify:page", args=[world["certificate"].verification_code])
    )
    [transcript] = data["transcripts"]
    assert transcript["verification_url"].endswith(
        reverse("verify:page", args=[world["transcript"].verification_code])
    )
    actions = [e["action"] for e in data["audit_events"]]
    assert "profile.viewed" in actions


def test_the_export_never_holds_another_persons_data(client, cast, world):
    text = json.dumps(export(client, cast.learner), ensure_ascii=False)
    other = world["other"]
    for secret in (
        "other.learner@example.org", other.legal_name, other.phone, "Stranger's welding certificate",
        "SECRET-777", "Stranger's forklift licence", "stranger-scan.pdf", "stranger's own action",
        str(other.public_id), other.credit_account.number,
    ):
        assert secret not in text, secret
    # Staff who acted on the learner's records are named nowhere either.
    for staff in ("officer@example.org", "reviewer@example.org", "admin@example.org"):
        assert staff not in text, staff


def test_staff_without_a_learner_profile_get_their_account_and_actions(client, cast):
    audit.record(action="manage.something", actor=cast.school_admin, summary="admin acted")
    data = export(client, cast.school_admin)
    assert data["account"]["email"] == "admin@example.org"
    assert data["learner_profile"] is None
    assert data["enrolments"] == [] and data["credit_account"] is None
    actions = [e["action"] for e in data["audit_events"]]
    # Their own log-in to download the file is one of their actions too.
    assert [a for a in actions if not a.startswith("auth.")] == ["manage.something"]
    assert "auth.login" in actions


def _grow(learner, recorder, course, intake, n: int) -> None:
    for _ in range(n):
        enrolment = Enrolment.objects.create(
            learner=learner, intake=intake, programme=intake.programme, status=EnrolmentStatus.COMPLETED
        )
        EnrolmentStatusChange.objects.create(enrolment=enrolment, to_status=EnrolmentStatus.APPLIED)
        EnrolmentStatusChange.objects.create(
            enrolment=enrolment, from_status=EnrolmentStatus.APPLIED, to_status=EnrolmentStatus.COMPLETED
        )
        CourseResult.objects.create(
            enrolment=enrolment, course=course, score=Decimal("70"), grade="C", passed=True,
            assessed_on=timezone.localdate(), recorded_by=recorder,
        )  # fmt: skip
        outcome = submit_outcome(learner, title="Growing outcome", file_name="grow.pdf")
        audit.record(action="grow", actor=learner.user, obj=outcome)


def _export_queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(EXPORT_URL)
    assert response.status_code == 200
    return len(queries)


def test_the_export_costs_the_same_queries_with_1_and_20_enrolments(client, cast):
    learner = cast.learner.learner
    intake = factories.IntakeFactory()
    course = factories.CourseFactory(school=intake.programme.school)
    client.force_login(cast.learner)
    client.get(DATA_URL)  # first-request work (session, language) is not the export's
    _grow(learner, cast.school_admin, course, intake, 1)
    one = _export_queries(client)
    _grow(learner, cast.school_admin, course, intake, 19)
    twenty = _export_queries(client)
    assert one == twenty
    assert len(export(client, cast.learner)["enrolments"]) == 20


def test_the_data_page_explains_and_links_the_download(client, cast, world):
    client.force_login(cast.learner)
    for language, words in (("en", "Download my data"), ("zh-hans", 'lang="zh-hans"')):
        response = client.get(DATA_URL, HTTP_ACCEPT_LANGUAGE=language)
        assert response.status_code == 200
        assert words in response.content.decode()
    assert response.context["counts"]["enrolments"] == 1
    assert response.context["counts"]["evidence"] == 1
    assert EXPORT_URL in response.content.decode()
    assert CLOSE_URL in response.content.decode()


def test_the_dashboard_links_the_data_page(client, cast):
    client.force_login(cast.learner)
    assert DATA_URL in client.get(reverse("enrolment:my_dashboard")).content.decode()


@pytest.mark.parametrize("url", [DATA_URL, EXPORT_URL, CLOSE_URL])
def test_a_visitor_is_sent_to_log_in(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
    assert client.post(url)["Location"].startswith(reverse("account_login"))


# --- Closing --------------------------------------------------------------------------------------


def snapshot(user: User) -> dict:
    user.refresh_from_db()
    learner = user.learner
    return {
        "user": (user.email, user.name, user.password, user.is_active),
        "learner": (learner.legal_name, learner.phone, learner.employer, learner.job_title,
                    learner.industry, learner.province, learner.centre_id),
        "evidence": sorted(OutcomeEvidence.objects.filter(outcome__account__learner=learner)
                           .values_list("original_name", "file")),
        "files": sorted(e.file.name for e in OutcomeEvidence.objects.all()
                        if default_storage.exists(e.file.name)),
        "emails": EmailAddress.objects.filter(user=user).count(),
        "factors": Authenticator.objects.filter(user=user).count(),
        "sessions": Session.objects.count(),
        "closed_events": AuditEvent.objects.filter(action="account.closed").count(),
        "ledger": list(LedgerEntry.objects.order_by("pk").values_list("pk", "hash")),
    }  # fmt: skip


def close(client, *, password=factories.PASSWORD, confirm=True, capture=None):
    body = {"password": password}
    if confirm:
        body["confirm"] = "on"
    if capture is None:
        return client.post(CLOSE_URL, body)
    with capture(execute=True):
        return client.post(CLOSE_URL, body)


def test_closing_erases_personal_data_and_keeps_the_records(
    client, cast, world, django_capture_on_commit_callbacks
):
    user = cast.learner
    learner = world["learner"]
    old_email, old_name, old_legal_name = user.email, user.name, learner.legal_name
    evidence = world["submitted"].evidence.get()
    evidence_path = evidence.file.name
    assert default_storage.exists(evidence_path)
    ledger_before = list(LedgerEntry.objects.order_by("pk").values_list("pk", "hash", "amount"))
    other_phone = Client()
    other_phone.force_login(user)  # a second signed-in device
    client.force_login(user)
    assert client.get(CLOSE_URL).status_code == 200

    response = close(client, capture=django_capture_on_commit_callbacks)

    assert response.status_code == 200
    assert "Your account is closed" in response.content.decode()
    user.refresh_from_db()
    assert user.email == closed_email(user.pk) == f"closed-{user.pk}@closed.invalid"
    assert user.name == ""
    assert not user.has_usable_password()
    assert user.is_active is False
    assert user.date_joined  # kept: when the record began
    learner.refresh_from_db()
    assert (learner.legal_name, learner.phone, learner.employer, learner.job_title) == ("", "", "", "")
    assert (learner.industry, learner.province, learner.centre_id) == ("", "", None)
    assert not EmailAddress.objects.filter(user=user).exists()
    assert not EmailAddress.objects.filter(email=old_email).exists()
    assert not Authenticator.objects.filter(user=user).exists()
    assert not [
        s for s in Session.objects.all() if str(s.get_decoded().get(SESSION_KEY)) == str(user.pk)
    ]
    evidence.refresh_from_db()
    assert evidence.original_name == ""
    assert not default_storage.exists(evidence_path)
    event = AuditEvent.objects.get(action="account.closed")
    assert event.actor_id == user.pk and event.object_id == str(user.pk)
    assert old_email not in event.summary and old_legal_name not in event.summary

    # Signed out here and on the other device; and the records are all still there.
    assert client.get(DATA_URL)["Location"].startswith(reverse("account_login"))
    assert other_phone.get(DATA_URL)["Location"].startswith(reverse("account_login"))
    assert Enrolment.objects.filter(learner=learner).count() == 1
    assert CourseResult.objects.filter(enrolment__learner=learner).count() == 1
    assert Certificate.objects.filter(request__learner=learner).count() == 1
    assert list(LedgerEntry.objects.order_by("pk").values_list("pk", "hash", "amount")) == ledger_before
    assert not User.objects.filter(email=old_email).exists()
    assert old_name and not User.objects.filter(name=old_name).exists()


def test_after_closing_the_ledger_and_the_certificate_still_verify(
    client, cast, world, django_capture_on_commit_callbacks
):
    certificate = world["certificate"]
    signed_name = certificate.credential["credentialSubject"].get("name")
    client.force_login(cast.learner)
    assert close(client, capture=django_capture_on_commit_callbacks).status_code == 200

    assert verify_account(world["account"]) is None
    out = StringIO()
    call_command("verify_ledger", stdout=out)  # raises CommandError on a broken chain

    page = Client().get(reverse("verify:page", args=[certificate.verification_code]),
                        HTTP_ACCEPT_LANGUAGE="en")  # fmt: skip
    assert page.status_code == 200
    html = page.content.decode()
    assert "Valid: this certificate is genuine and in force." in html
    assert certificate.serial in html
    assert "learner@example.org" not in html
    # The page names the holder as the credential does: an issued claim, not the erased profile.
    assert signed_name and signed_name in html and "Name not recorded" not in html
    # The signed credential is immutable: it still verifies, with the name it was signed with.
    credential = Client().get(reverse("verify:credential", args=[certificate.verification_code]))
    assert credential.status_code == 200
    document = json.loads(credential.content)
    assert builders.verify_credential(document)
    assert document["credentialSubject"].get("name") == signed_name
    certificate.refresh_from_db()
    assert certificate.credential == document
    transcript = world["transcript"]
    assert Client().get(reverse("verify:page", args=[transcript.verification_code])).status_code == 200


def test_the_closed_person_cannot_sign_in(client, cast, world, django_capture_on_commit_callbacks):
    client.force_login(cast.learner)
    close(client, capture=django_capture_on_commit_callbacks)
    user = User.objects.get(pk=cast.learner.pk)
    for login in ("learner@example.org", user.email):
        fresh = Client()
        assert not fresh.login(username=login, password=factories.PASSWORD)
        fresh.post(reverse("account_login"), {"login": login, "password": factories.PASSWORD})
        assert SESSION_KEY not in fresh.session
        assert fresh.get(DATA_URL).status_code == 302


@pytest.mark.parametrize(
    ("password", "confirm", "field", "message"),
    [
        ("wrong-password-123", True, "password", "This is not your password."),
        ("", True, "password", "Type your password"),
        (factories.PASSWORD, False, "confirm", "Tick the box"),
    ],
)
def test_bad_input_is_refused_next_to_the_field_and_changes_nothing(
    client, cast, world, password, confirm, field, message
):
    client.force_login(cast.learner)
    before = snapshot(cast.learner)
    response = close(client, password=password, confirm=confirm)
    assert response.status_code == 200
    form = response.context["form"]
    assert message in " ".join(form.errors[field])
    assert f'id="id_{field}_error"' in response.content.decode()
    assert snapshot(cast.learner) == before
    assert client.get(DATA_URL).status_code == 200  # still signed in


@pytest.mark.parametrize("who", ["school_admin", "reviewer", "credit_officer", "superuser"])
def test_staff_cannot_close_their_own_account_here(client, cast, who):
    user = getattr(cast, who)
    client.force_login(user)
    page = client.get(CLOSE_URL)
    assert page.status_code == 200
    assert "Ask a portal administrator" in page.content.decode()
    before = (user.email, user.password, user.is_active)
    response = close(client)
    assert response.status_code == 200
    assert "Ask a portal administrator" in " ".join(response.context["form"].non_field_errors())
    user.refresh_from_db()
    assert (user.email, user.password, user.is_active) == before
    assert not AuditEvent.objects.filter(action="account.closed").exists()


def test_a_staff_flag_alone_is_enough_to_refuse(client):
    user = factories.UserFactory(is_staff=True)
    client.force_login(user)
    close(client)
    user.refresh_from_db()
    assert user.is_active


def test_the_close_page_says_what_is_erased_and_kept(client, cast):
    client.force_login(cast.learner)
    for language in ("en", "zh-hans"):
        response = client.get(CLOSE_URL, HTTP_ACCEPT_LANGUAGE=language)
        assert response.status_code == 200
    client.get(CLOSE_URL, HTTP_ACCEPT_LANGUAGE="en")
    html = client.get(CLOSE_URL, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    for words in ("What is erased", "What is kept", "keep verifying", 'name="password"', 'name="confirm"'):
        assert words in html, words
