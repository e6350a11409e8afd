"""The credit-bank officers' pages (/credit-bank/) and the school's read-only audit page.

Who gets in, what every POST does through the services, and that every refusal names its reason
and leaves the ledger, the outcome and the rules as they were.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from creditbank import ledger, services
from creditbank.audit import programme_audit
from creditbank.models import (
    Accreditation,
    Conversion,
    ConversionRule,
    LearningOutcome,
    LedgerEntry,
    OutcomeEvidence,
    OutcomeStatusChange,
    RecognitionStandard,
    Transfer,
)
from enrolment.models import Enrolment, EnrolmentStatus
from tests import factories

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()
PDF = b"%PDF-1.4\n% a certificate scan\n"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def en(client):
    """Requests in English: the pages' messages are asserted in English."""
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def evidence_for(outcome: LearningOutcome, name: str = "cnc-certificate.pdf") -> OutcomeEvidence:
    return OutcomeEvidence.objects.create(
        outcome=outcome,
        file=SimpleUploadedFile(name, PDF, content_type="application/pdf"),
        original_name=name,
        content_type="application/pdf",
        size=len(PDF),
        sha256="0" * 64,
    )


def u(name: str, **kwargs) -> str:
    return reverse(f"creditbank:{name}", kwargs=kwargs)


def review_url(outcome) -> str:
    return u("outcome_review", public_id=outcome.public_id)


def learner_url(world) -> str:
    return u("learner", public_id=world.learner.public_id)


def audit_url(world, school=None) -> str:
    school = school or world.programme.school
    return u("school_audit", school_slug=school.slug, public_id=world.enrolment.public_id)


def officer_page_urls(world) -> list[str]:
    std = {"code": world.standard.code, "version": world.standard.version}
    rule = {"code": world.rule.code, "version": world.rule.version}
    evidence = evidence_for(world.certificate)
    return [
        u("home"),
        u("home") + "?status=under-review&kind=vocational",
        review_url(world.certificate),
        u("outcome_revoke", public_id=world.certificate.public_id),
        u("evidence_download", public_id=evidence.public_id),
        u("standard_list"),
        u("standard_create"),
        u("standard_edit", **std),
        u("standard_new_version", **std),
        u("rule_list"),
        u("rule_create"),
        u("rule_edit", **rule),
        u("rule_new_version", **rule),
        learner_url(world),
    ]


def officer_posts(world) -> list[tuple[str, dict]]:
    std = {"code": world.standard.code, "version": world.standard.version}
    rule = {"code": world.rule.code, "version": world.rule.version}
    hex_id = world.enrolment.public_id.hex
    return [
        (review_url(world.certificate), {"action": "start_review"}),
        (review_url(world.certificate), {"action": "reject", "reject-reason": "forged"}),
        (u("outcome_revoke", public_id=world.certificate.public_id), {"reason": "forged"}),
        (u("standard_create"), {"code": "X1", "title_en": "X", "level": 4, "credit_value": "1",
                                "currency_years": 5, "effective_from": "2024-01-01"}),
        (u("standard_edit", **std), {"title_en": "Hijacked", "level": 4, "credit_value": "1", "currency_years": 5,
                                     "effective_from": "2020-01-01"}),
        (u("standard_new_version", **std), {"effective_from": TODAY.isoformat(), "title_en": "Hijacked",
                                            "level": 4, "credit_value": "1", "currency_years": 5}),
        (u("rule_create"), {"code": "R-X"}),
        (u("rule_edit", **rule), {"credits": "1"}),
        (u("rule_new_version", **rule), {"effective_from": TODAY.isoformat(), "mode": "both", "credits": "1"}),
        (learner_url(world), {"form": f"transfer-{hex_id}", f"transfer-{hex_id}-credits": "1"}),
    ]  # fmt: skip


def messages_in(response) -> str:
    return response.content.decode()


def state(world) -> tuple:
    """What the officers' POSTs could change, to compare before and after a refused or foreign one."""
    world.certificate.refresh_from_db()
    return (
        world.certificate.status,
        LedgerEntry.objects.count(),
        Accreditation.objects.count(),
        Conversion.objects.count(),
        Transfer.objects.count(),
        OutcomeStatusChange.objects.count(),
        list(
            RecognitionStandard.objects.values_list(
                "code", "version", "title_en", "effective_to"
            ).order_by("pk")
        ),
        list(
            ConversionRule.objects.values_list(
                "code", "version", "credits", "effective_to"
            ).order_by("pk")
        ),
    )


# --- Who gets in ------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["credit_officer", "superuser"])
def test_every_officer_page_renders_for_an_officer_and_a_superuser(
    client, cast, world, accredited, who
):
    client.force_login(getattr(cast, who))
    for address in [*officer_page_urls(world), audit_url(world)]:
        response = client.get(address)
        assert response.status_code == 200, address


@pytest.mark.parametrize(
    "who", ["learner", "other_learner", "reviewer", "school_admin", "other_school_admin"]
)
def test_everyone_else_gets_404_on_every_officer_page_and_post_and_nothing_changes(
    client, cast, world, accredited, who
):
    client.force_login(getattr(cast, who))
    before = state(world)
    for address in officer_page_urls(world):
        assert client.get(address).status_code == 404, address
    for address, data in officer_posts(world):
        assert client.post(address, data).status_code == 404, address
    assert state(world) == before


def test_anonymous_visitors_are_sent_to_log_in(client, world, accredited):
    for address in [*officer_page_urls(world), audit_url(world)]:
        response = client.get(address)
        assert response.status_code == 302, address
        assert response["Location"].startswith(reverse("account_login")), address
    before = state(world)
    for address, _data in officer_posts(world):
        assert client.post(address, _data).status_code == 302, address
    assert state(world) == before


def test_evidence_is_served_as_an_attachment_that_the_browser_must_not_sniff(client, cast, world):
    evidence = evidence_for(world.certificate)
    client.force_login(cast.credit_officer)
    response = client.get(u("evidence_download", public_id=evidence.public_id))
    assert response.status_code == 200
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment")
    assert "cnc-certificate.pdf" in response["Content-Disposition"]
    assert b"".join(response.streaming_content) == PDF
    # The owner reads their own evidence on their own pages, not on the officers' desk.
    client.force_login(cast.learner)
    assert client.get(u("evidence_download", public_id=evidence.public_id)).status_code == 404


def test_the_review_page_links_the_evidence_and_the_learners_credit_page(en, cast, world):
    evidence = evidence_for(world.certificate)
    en.force_login(cast.credit_officer)
    body = en.get(review_url(world.certificate)).content.decode()
    assert u("evidence_download", public_id=evidence.public_id) in body
    assert learner_url(world) in body
    assert world.learner.employer in body  # the learner's profile summary


# --- The school's read-only audit -------------------------------------------------------------


def test_the_schools_admin_reads_the_audit_without_any_form_and_cannot_post(
    en, cast, world, accredited
):
    services.conversion_apply(
        outcome=accredited,
        enrolment=world.enrolment,
        course=world.cnc,
        rule=world.rule,
        officer=cast.credit_officer,
    )
    en.force_login(cast.school_admin)
    response = en.get(audit_url(world))
    assert response.status_code == 200
    body = response.content.decode()
    assert "NC201" in body and str(world.rule) in body and "Exempted" in body
    assert 'name="form"' not in body and 'name="reason"' not in body and 'name="action"' not in body
    # No way into the officers' desk from here.
    assert u("learner", public_id=world.learner.public_id) not in body
    before = state(world)
    assert en.post(audit_url(world), {"form": "x"}).status_code == 405
    assert state(world) == before


@pytest.mark.parametrize("who", ["other_school_admin", "learner", "reviewer"])
def test_another_schools_admin_and_other_people_get_404_on_the_audit(client, cast, world, who):
    client.force_login(getattr(cast, who))
    assert client.get(audit_url(world)).status_code == 404


def test_the_audit_is_not_found_under_another_schools_address(client, cast, world):
    client.force_login(cast.other_school_admin)
    assert client.get(audit_url(world, school=cast.other_school)).status_code == 404
    client.force_login(cast.credit_officer)
    assert client.get(audit_url(world, school=cast.other_school)).status_code == 404


# --- The queue ----------------------------------------------------------------------------------


def outcome_at(minutes_ago: int, **fields) -> LearningOutcome:
    outcome = factories.LearningOutcomeFactory(
        submitted_at=timezone.now() - datetime.timedelta(minutes=minutes_ago), **fields
    )
    evidence_for(outcome)
    return outcome


def test_the_queue_shows_waiting_outcomes_oldest_first_and_filters(en, cast, world):
    old = outcome_at(300, title="Old welding certificate", kind="1+x")
    new = outcome_at(5, title="New forklift licence")
    reviewing = outcome_at(60, title="Reviewed lathe certificate", status="under-review")
    outcome_at(30, title="Rejected award", status="rejected")
    en.force_login(cast.credit_officer)
    body = en.get(u("home")).content.decode()
    assert (
        body.index("Old welding certificate")
        < body.index("Reviewed lathe certificate")
        < body.index("New forklift licence")
    )
    assert "Rejected award" not in body
    assert old.account.learner.legal_name in body and old.issuing_body_name in body
    body = en.get(u("home") + "?status=under-review").content.decode()
    assert "Reviewed lathe certificate" in body and "Old welding certificate" not in body
    body = en.get(u("home") + "?kind=1%2Bx").content.decode()
    assert "Old welding certificate" in body and "New forklift licence" not in body
    assert reviewing and new  # all created


def queue_queries(client) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(u("home"))
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_the_queue_reads_the_same_number_of_queries_for_5_and_50_outcomes(client, cast, db):
    for i in range(5):
        outcome_at(i + 1)
    client.force_login(cast.credit_officer)
    few = queue_queries(client)
    for i in range(5, 50):
        outcome_at(i + 1)
    assert LearningOutcome.objects.count() == 50
    many = queue_queries(client)
    assert few == many


# --- Deciding on an outcome ---------------------------------------------------------------------


def accredit(
    client,
    outcome,
    standard,
    reason="Certificate number verified with the issuing body",
    credits="",
):
    return client.post(
        review_url(outcome),
        {
            "action": "accredit",
            "accredit-standard": standard.pk,
            "accredit-credits": credits,
            "accredit-reason": reason,
        },
    )


def test_accrediting_through_the_page_moves_the_status_and_the_ledger(en, cast, world):
    account = world.certificate.account
    en.force_login(cast.credit_officer)
    assert en.post(review_url(world.certificate), {"action": "start_review"}).status_code == 302
    world.certificate.refresh_from_db()
    assert world.certificate.status == "under-review"
    response = accredit(en, world.certificate, world.standard, credits="6")
    assert response.status_code == 302 and response["Location"] == review_url(world.certificate)
    world.certificate.refresh_from_db()
    assert world.certificate.status == "accredited"
    assert ledger.balance(account) == Decimal("6.0")
    entry = LedgerEntry.objects.get(account=account)
    assert entry.kind == "accreditation" and entry.actor == cast.credit_officer
    assert Accreditation.objects.get(outcome=world.certificate).standard == world.standard
    body = en.get(review_url(world.certificate)).content.decode()
    assert "is accredited" in body and "Certificate number verified" in body


def test_an_officer_cannot_decide_on_their_own_outcome(en, cast, world):
    own_learner = factories.LearnerFactory(user=cast.credit_officer)
    own = factories.LearningOutcomeFactory(account=services.account_for(own_learner))
    en.force_login(cast.credit_officer)
    page = en.get(review_url(own)).content.decode()
    assert "This is your own learning outcome" in page and 'name="accredit-reason"' not in page
    history = OutcomeStatusChange.objects.count()
    for data in (
        {
            "action": "accredit",
            "accredit-standard": world.standard.pk,
            "accredit-reason": "mine is fine",
        },
        {"action": "start_review"},
        {"action": "reject", "reject-reason": "never mind"},
    ):
        response = en.post(review_url(own), data)
        assert response.status_code == 200
        assert (
            "An officer never decides on their own learning outcome." in response.content.decode()
        )
    own.refresh_from_db()
    assert own.status == "submitted"
    assert not LedgerEntry.objects.filter(outcome=own).exists()
    assert not Accreditation.objects.filter(outcome=own).exists()
    assert OutcomeStatusChange.objects.count() == history


def test_rejecting_needs_a_reason(en, cast, world):
    en.force_login(cast.credit_officer)
    before = state(world)
    response = en.post(review_url(world.certificate), {"action": "reject", "reject-reason": "   "})
    assert response.status_code == 200
    assert "Give the learner a reason for the rejection." in response.content.decode()
    assert state(world) == before
    response = en.post(
        review_url(world.certificate),
        {"action": "reject", "reject-reason": "The scan is illegible."},
    )
    assert response.status_code == 302
    world.certificate.refresh_from_db()
    assert world.certificate.status == "rejected"
    assert world.certificate.history.last().reason == "The scan is illegible."


def test_accrediting_needs_a_reason_and_refusals_name_why(en, cast, world):
    demanding = factories.RecognitionStandardFactory(code="CNC-ADV", level=6)
    en.force_login(cast.credit_officer)
    before = state(world)
    response = accredit(en, world.certificate, world.standard, reason="")
    assert "Say why the outcome meets the standard." in response.content.decode()
    response = accredit(en, world.certificate, demanding)
    assert response.status_code == 200
    assert (
        "The outcome&#x27;s level (5) is below the standard&#x27;s (6)."
        in response.content.decode()
    )
    response = accredit(en, world.certificate, world.standard, credits="9")
    assert "Grant between 0 and 8.0 credits." in response.content.decode()
    assert state(world) == before
    expired = factories.LearningOutcomeFactory(
        account=world.certificate.account, expires_on=TODAY - datetime.timedelta(days=1)
    )
    response = accredit(en, expired, world.standard)
    assert (
        f"This outcome expired on {(TODAY - datetime.timedelta(days=1)).isoformat()}."
        in response.content.decode()
    )
    expired.refresh_from_db()
    assert expired.status == "submitted" and not LedgerEntry.objects.exists()


def test_a_standard_out_of_force_is_not_offered_and_not_accepted(en, cast, world):
    closed = factories.RecognitionStandardFactory(
        code="OLD", effective_to=TODAY - datetime.timedelta(days=1)
    )
    en.force_login(cast.credit_officer)
    page = en.get(review_url(world.certificate)).content.decode()
    assert f'value="{world.standard.pk}"' in page and f'value="{closed.pk}"' not in page
    before = state(world)
    response = accredit(en, world.certificate, closed)
    assert response.status_code == 200 and "Select a valid choice" in response.content.decode()
    assert state(world) == before


# --- Revoking -----------------------------------------------------------------------------------


def test_revoking_confirms_first_then_reverses_the_ledger_and_what_rested_on_it(
    en, cast, world, accredited
):
    officer = cast.credit_officer
    conversion = services.conversion_apply(
        outcome=accredited,
        enrolment=world.enrolment,
        course=world.cnc,
        rule=world.rule,
        officer=officer,
    )
    transfer = services.transfer_apply(
        outcome=accredited,
        enrolment=world.enrolment,
        group=world.elective,
        credits=Decimal("2"),
        officer=officer,
    )
    account = accredited.account
    assert ledger.balance(account) == Decimal("2.0")
    assert programme_audit(world.enrolment).exempted == Decimal("4.0")
    en.force_login(officer)
    revoke = u("outcome_revoke", public_id=accredited.public_id)
    page = en.get(revoke).content.decode()
    assert "NC201" in page and str(world.rule) in page and world.elective.name_en in page
    assert "-2.0" in page  # the balance change: +4 and +2 back, -8 out
    entries = LedgerEntry.objects.count()
    response = en.post(revoke, {"reason": ""})
    assert (
        response.status_code == 200
        and "Give a reason for the revocation." in response.content.decode()
    )
    assert LedgerEntry.objects.count() == entries
    response = en.post(revoke, {"reason": "The certificate was withdrawn by the issuing body."})
    assert response.status_code == 302 and response["Location"] == review_url(accredited)
    accredited.refresh_from_db()
    conversion.refresh_from_db()
    transfer.refresh_from_db()
    assert accredited.status == "revoked"
    assert conversion.status == "reversed" and transfer.status == "reversed"
    reversals = LedgerEntry.objects.filter(kind="reversal")
    assert reversals.count() == 3 and LedgerEntry.objects.count() == entries + 3
    assert ledger.balance(account) == Decimal("0.0")
    audit = programme_audit(world.enrolment)
    assert audit.exempted == Decimal("0.0") and audit.transferred == Decimal("0.0")
    assert en.get(review_url(accredited)).status_code == 200
    # Nothing left to revoke: the confirmation page sends the officer back.
    assert en.get(revoke).status_code == 302


# --- Standards ----------------------------------------------------------------------------------


def standard_data(**overrides) -> dict:
    data = {
        "code": "WELD-3",
        "title_en": "Welder, intermediate",
        "title_zh": "焊工（中级）",
        "outcome_kinds": ["vocational", "1+x"],
        "level": 4,
        "credit_value": "6",
        "criteria_en": "A national vocational qualification certificate at level 4.",
        "currency_years": 5,
        "effective_from": "2024-01-01",
    }
    data.update(overrides)
    return data


def test_an_officer_creates_a_standard_with_its_kinds_and_accepted_bodies(en, cast, world):
    en.force_login(cast.credit_officer)
    response = en.post(u("standard_create"), standard_data(accepted_bodies=[cast.association.pk]))
    assert response.status_code == 302
    standard = RecognitionStandard.objects.get(code="WELD-3")
    assert standard.version == 1 and standard.outcome_kinds == ["vocational", "1+x"]
    assert list(standard.accepted_bodies.all()) == [cast.association]
    body = en.get(u("standard_list")).content.decode()
    assert "WELD-3" in body and "Welder, intermediate" in body
    # The same code again is another version's business, not a second version 1.
    response = en.post(u("standard_create"), standard_data())
    assert (
        response.status_code == 200
        and RecognitionStandard.objects.filter(code="WELD-3").count() == 1
    )


def test_an_unused_standard_can_be_corrected(en, cast, world):
    unused = factories.RecognitionStandardFactory(code="SPARE")
    en.force_login(cast.credit_officer)
    data = standard_data(title_en="Spare, corrected")
    data.pop("code")
    response = en.post(u("standard_edit", code="SPARE", version=1), data)
    assert response.status_code == 302
    unused.refresh_from_db()
    assert unused.title_en == "Spare, corrected" and unused.code == "SPARE"


def test_a_standard_in_use_is_frozen_and_a_new_version_replaces_it(en, cast, world, accredited):
    standard = world.standard
    en.force_login(cast.credit_officer)
    edit = u("standard_edit", code=standard.code, version=1)
    new_version = u("standard_new_version", code=standard.code, version=1)
    assert new_version in en.get(edit).content.decode()
    data = standard_data(title_en="Quietly changed", credit_value="20")
    data.pop("code")
    response = en.post(edit, data)
    assert response.status_code == 200
    assert (
        f"Standard {standard} is in use and frozen: publish a new version instead."
        in response.content.decode()
    )
    standard.refresh_from_db()
    assert standard.title_en != "Quietly changed" and standard.credit_value == Decimal("8")
    starts = TODAY + datetime.timedelta(days=10)
    terms = {"title_en": standard.title_en, "level": 4, "currency_years": 5}
    response = en.post(
        new_version,
        {
            **terms,
            "effective_from": starts.isoformat(),
            "outcome_kinds": ["vocational"],
            "credit_value": "10",
        },
    )
    assert response.status_code == 302
    successor = RecognitionStandard.objects.get(code=standard.code, version=2)
    standard.refresh_from_db()
    assert successor.credit_value == Decimal("10") and successor.effective_from == starts
    assert successor.outcome_kinds == ["vocational"] and successor.effective_to is None
    assert standard.effective_to == starts - datetime.timedelta(days=1)
    assert standard.credit_value == Decimal("8")  # the old version's terms stay as used
    # Only the latest version gets a successor.
    later = (starts + datetime.timedelta(days=5)).isoformat()
    response = en.post(new_version, {**terms, "effective_from": later, "credit_value": "1"})
    assert f"Only the latest version of {standard.code} gets a successor." in response.content.decode()
    assert RecognitionStandard.objects.filter(code=standard.code).count() == 2


# --- Conversion rules ---------------------------------------------------------------------------


def rule_data(world, **overrides) -> dict:
    data = {
        "code": "NCT-DRAW",
        "standard": world.standard.pk,
        "second_standard": "",
        "min_grade": "",
        "max_age_years": "",
        "programme": world.programme.pk,
        "courses": [world.drawing.pk],
        "mode": "both",
        "credits": "4",
        "effective_from": "2024-01-01",
        "effective_to": "",
        "approving_body": "",
    }
    data.update(overrides)
    return data


def test_an_officer_creates_a_rule_for_courses_of_the_programme(en, cast, world):
    en.force_login(cast.credit_officer)
    page = en.get(u("rule_create")).content.decode()
    assert world.programme.code in page and "ME101" in page
    response = en.post(u("rule_create"), rule_data(world, approving_body=cast.association.pk))
    assert response.status_code == 302
    rule = ConversionRule.objects.get(code="NCT-DRAW")
    assert list(rule.courses.all()) == [world.drawing] and rule.approving_body == cast.association
    assert "NCT-DRAW" in en.get(u("rule_list")).content.decode()


def test_a_rule_with_a_course_of_another_programme_is_refused(en, cast, world):
    other = factories.ProgrammeFactory(school=cast.school, code="MDM", slug="mould-design")
    foreign = factories.add_course(factories.RequirementGroupFactory(programme=other), code="MD301")
    en.force_login(cast.credit_officer)
    response = en.post(u("rule_create"), rule_data(world, courses=[world.drawing.pk, foreign.pk]))
    assert response.status_code == 200
    assert f"Not courses of {world.programme.code}: MD301" in response.content.decode()
    assert not ConversionRule.objects.filter(code="NCT-DRAW").exists()
    # Editing an unused rule is checked the same way.
    data = rule_data(world, courses=[foreign.pk])
    data.pop("code")
    response = en.post(u("rule_edit", code=world.rule.code, version=1), data)
    assert f"Not courses of {world.programme.code}: MD301" in response.content.decode()
    assert list(world.rule.courses.all()) == [world.cnc]


def test_a_rule_in_use_is_frozen_and_a_new_version_replaces_it(en, cast, world, accredited):
    services.conversion_apply(
        outcome=accredited,
        enrolment=world.enrolment,
        course=world.cnc,
        rule=world.rule,
        officer=cast.credit_officer,
    )
    en.force_login(cast.credit_officer)
    data = rule_data(world, courses=[world.cnc.pk], credits="2")
    data.pop("code")
    response = en.post(u("rule_edit", code=world.rule.code, version=1), data)
    assert response.status_code == 200
    assert (
        f"Rule {world.rule} is in use and frozen: publish a new version instead."
        in response.content.decode()
    )
    world.rule.refresh_from_db()
    assert world.rule.credits == Decimal("4")
    starts = TODAY + datetime.timedelta(days=1)
    response = en.post(
        u("rule_new_version", code=world.rule.code, version=1),
        {"effective_from": starts.isoformat(), "mode": "exam", "credits": "3", "min_grade": "B"},
    )
    assert response.status_code == 302
    successor = ConversionRule.objects.get(code=world.rule.code, version=2)
    world.rule.refresh_from_db()
    assert (
        successor.credits == Decimal("3")
        and successor.mode == "exam"
        and successor.min_grade == "B"
    )
    assert list(successor.courses.all()) == [world.cnc]
    assert world.rule.effective_to == starts - datetime.timedelta(days=1)


# --- Applying credits on the learner's page ------------------------------------------------------


def conversion_post(world, outcome, *, course=None, rule=None, second=None) -> dict:
    prefix = f"conversion-{world.enrolment.public_id.hex}"
    return {
        "form": prefix,
        f"{prefix}-outcome": str(outcome.public_id),
        f"{prefix}-rule": (rule or world.rule).pk,
        f"{prefix}-course": (course or world.cnc).pk,
        f"{prefix}-second_outcome": str(second.public_id) if second else "",
    }


def transfer_post(world, outcome, credits: str, group=None) -> dict:
    prefix = f"transfer-{world.enrolment.public_id.hex}"
    return {
        "form": prefix,
        f"{prefix}-outcome": str(outcome.public_id),
        f"{prefix}-group": (group or world.elective).pk,
        f"{prefix}-credits": credits,
    }


def test_the_learner_page_shows_outcomes_with_credits_left_and_open_enrolments(
    en, cast, world, accredited
):
    closed = Enrolment.objects.create(
        learner=world.learner, intake=factories.IntakeFactory(), status=EnrolmentStatus.WITHDRAWN,
        programme=factories.ProgrammeFactory(code="GONE"),
    )  # fmt: skip
    en.force_login(cast.credit_officer)
    body = en.get(learner_url(world)).content.decode()
    assert accredited.title in body and "8.0" in body
    assert world.programme.code in body and "GONE" not in body and closed
    assert audit_url(world) in body
    assert f'value="{world.rule.pk}"' in body  # the programme's rule in force is offered


def test_a_conversion_and_a_transfer_are_applied_from_the_learner_page(en, cast, world, accredited):
    account = accredited.account
    en.force_login(cast.credit_officer)
    response = en.post(learner_url(world), conversion_post(world, accredited))
    assert response.status_code == 302 and response["Location"] == learner_url(world)
    conversion = Conversion.objects.get(outcome=accredited)
    assert (
        conversion.course == world.cnc
        and conversion.rule == world.rule
        and conversion.approved_by == cast.credit_officer
    )
    assert ledger.balance(account) == Decimal("4.0")
    response = en.post(learner_url(world), transfer_post(world, accredited, "3"))
    assert response.status_code == 302
    transfer = Transfer.objects.get(outcome=accredited)
    assert transfer.group == world.elective and transfer.credits == Decimal("3")
    assert ledger.balance(account) == Decimal("1.0")
    audit = programme_audit(world.enrolment)
    assert audit.exempted == Decimal("4.0") and audit.transferred == Decimal("3.0")
    body = en.get(learner_url(world)).content.decode()
    assert "3 credits transferred" in body or "3.0 credits transferred" in body


def test_a_two_certificate_rule_needs_the_second_outcome(en, cast, world, accredited):
    officer = cast.credit_officer
    diploma_standard = factories.RecognitionStandardFactory(
        code="DIP-MECH", outcome_kinds=["diploma"]
    )
    convergence = factories.ConversionRuleFactory(
        code="NCT-2CERT",
        standard=world.standard,
        second_standard=diploma_standard,
        programme=world.programme,
    )
    convergence.courses.set([world.drawing])
    diploma = factories.LearningOutcomeFactory(
        account=accredited.account,
        kind="diploma",
        title="Secondary vocational diploma",
        issuing_body_name="A school",
    )
    services.outcome_accredit(
        outcome=diploma, standard=diploma_standard, officer=officer, reason="Diploma checked"
    )
    en.force_login(officer)
    entries = LedgerEntry.objects.count()
    response = en.post(
        learner_url(world),
        conversion_post(world, accredited, course=world.drawing, rule=convergence),
    )
    assert response.status_code == 200
    assert (
        "Rule NCT-2CERT v1 converges two certificates: it needs a second outcome accredited under DIP-MECH."
        in response.content.decode()
    )
    assert not Conversion.objects.exists() and LedgerEntry.objects.count() == entries
    response = en.post(
        learner_url(world),
        conversion_post(world, accredited, course=world.drawing, rule=convergence, second=diploma),
    )
    assert response.status_code == 302
    conversion = Conversion.objects.get()
    assert conversion.second_outcome == diploma and conversion.course == world.drawing


def test_a_course_already_exempted_is_refused_with_the_reason(en, cast, world, accredited):
    en.force_login(cast.credit_officer)
    assert en.post(learner_url(world), conversion_post(world, accredited)).status_code == 302
    entries = LedgerEntry.objects.count()
    response = en.post(learner_url(world), conversion_post(world, accredited))
    assert response.status_code == 200
    assert "NC201 is already exempted in this programme." in response.content.decode()
    assert Conversion.objects.count() == 1 and LedgerEntry.objects.count() == entries


def test_a_transfer_beyond_the_outcomes_credits_is_refused_and_writes_nothing(
    en, cast, world, accredited
):
    services.conversion_apply(
        outcome=accredited,
        enrolment=world.enrolment,
        course=world.cnc,
        rule=world.rule,
        officer=cast.credit_officer,
    )
    en.force_login(cast.credit_officer)
    before = state(world)
    response = en.post(learner_url(world), transfer_post(world, accredited, "5"))
    assert response.status_code == 200
    assert (
        "This outcome has 4.0 credits left to apply; 5.0 are needed." in response.content.decode()
    )
    assert state(world) == before


def test_a_transfer_over_half_the_programme_is_refused_and_writes_nothing(
    en, cast, world, accredited
):
    officer = cast.credit_officer
    services.conversion_apply(
        outcome=accredited,
        enrolment=world.enrolment,
        course=world.cnc,
        rule=world.rule,
        officer=officer,
    )
    second = factories.LearningOutcomeFactory(
        account=accredited.account,
        title="Mechanical drawing certificate",
        issuing_body_name="Another body",
    )
    services.outcome_accredit(
        outcome=second, standard=world.standard, officer=officer, reason="checked"
    )
    en.force_login(officer)
    before = state(world)
    response = en.post(learner_url(world), transfer_post(world, second, "5"))
    assert response.status_code == 200
    assert (
        # (SQLite sums to "4", PostgreSQL to "4.0": the service quotes the sum as the database gives it.)
        "At most 8.0 of this programme&#x27;s 16.0 credits may come from transfer and conversion; 4"
        in response.content.decode()
    )
    assert state(world) == before
    assert ledger.outcome_available(second) == Decimal("8.0")


def test_the_learner_page_of_an_unknown_learner_is_not_found(client, cast, world):
    client.force_login(cast.credit_officer)
    assert client.get(u("learner", public_id=world.enrolment.public_id)).status_code == 404
