"""The personal lifelong-learning file: everything the learner did, in time order, as JSON — and
nothing of anybody else."""

from __future__ import annotations

import datetime
import json
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from creditbank import ledger, services
from creditbank.models import LedgerEntry
from enrolment import services as enrolment_services
from enrolment.models import Enrolment, EnrolmentStatus
from enrolment.results import result_record
from tests import factories

PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
URL = "/me/credits/file.json"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def history(cast, world, accredited):
    """A learner who did a bit of everything: enrolled, passed a course, submitted an outcome with
    evidence, had one accredited, converted and another transferred."""
    logistics = factories.ProgrammeFactory(school=cast.school, code="LOG-MGT")
    applied = enrolment_services.enrolment_apply(learner=world.learner, intake=factories.IntakeFactory(programme=logistics))
    enrolment_services.enrolment_reject(enrolment=applied.enrolment, actor=cast.school_admin, reason="No seats for this centre")
    services.conversion_apply(
        outcome=accredited, enrolment=world.enrolment, course=world.cnc, rule=world.rule, officer=world.officer
    )
    result_record(enrolment=world.enrolment, course=world.drawing, score=Decimal("85"),
                  assessed_on=timezone.localdate(), actor=cast.school_admin)
    other = factories.LearningOutcomeFactory(account=accredited.account, title="Robot maintenance training")
    services.outcome_accredit(outcome=other, standard=world.standard, officer=world.officer, reason="Hours checked")
    services.transfer_apply(outcome=other, enrolment=world.enrolment, group=world.elective,
                            credits=Decimal("4"), officer=world.officer)
    services.outcome_submit(
        learner=world.learner, files=[SimpleUploadedFile("mould.pdf", PDF)], kind="vocational",
        title="Mould Fitter (intermediate)", issuing_body_name="China Mould Industry Association",
        achieved_on=timezone.localdate() - datetime.timedelta(days=10), level=5,
    )
    return world


@pytest.fixture
def stranger(cast):
    """Another learner with records of their own, none of which may leak."""
    learner = cast.other_learner.learner
    outcome = factories.LearningOutcomeFactory(
        account=services.account_for(learner), title="Stranger's welding certificate", certificate_number="SECRET-777"
    )
    standard = factories.RecognitionStandardFactory(code="WELD-1")
    services.outcome_accredit(outcome=outcome, standard=standard, officer=cast.credit_officer, reason="Stranger ok")
    programme = factories.ProgrammeFactory(code="STRANGER-P")
    Enrolment.objects.create(learner=learner, intake=factories.IntakeFactory(programme=programme),
                             programme=programme, status=EnrolmentStatus.ACTIVE)
    return learner


def download(client, user) -> tuple[object, dict]:
    client.force_login(user)
    response = client.get(URL)
    assert response.status_code == 200
    return response, json.loads(response.content)


def test_the_file_is_a_json_attachment_named_by_the_account(client, history):
    response, data = download(client, history.learner.user)
    number = history.learner.credit_account.number
    assert response["Content-Type"].startswith("application/json")
    assert response["Content-Disposition"] == f'attachment; filename="lifelong-learning-file-{number}.json"'
    assert data["account"]["number"] == number
    assert data["account"]["balance"] == str(ledger.balance(history.learner.credit_account))
    assert data["profile"]["legal_name"] == history.learner.legal_name


def test_it_holds_everything_the_learner_did(client, history):
    _response, data = download(client, history.learner.user)
    studying, rejected = data["enrolments"]
    assert studying["id"] == str(history.enrolment.public_id) and studying["programme"]["code"] == history.programme.code
    assert studying["status"] == "active"
    assert rejected["programme"]["code"] == "LOG-MGT" and rejected["status"] == "rejected"
    assert [(h["from"], h["to"], h["by"]) for h in rejected["history"]] == [("", "applied", "learner"), ("applied", "rejected", "school")]
    assert rejected["history"][-1]["reason"] == "No seats for this centre"
    assert [(r["course"]["code"], r["score"], r["passed"]) for r in data["results"]] == [("ME101", "85.00", True)]
    titles = {o["title"] for o in data["outcomes"]}
    assert {"CNC Lathe Operator (intermediate)", "Robot maintenance training", "Mould Fitter (intermediate)", "ME101 " + history.drawing.name_en} <= titles
    mould = next(o for o in data["outcomes"] if o["title"] == "Mould Fitter (intermediate)")
    assert [h["to"] for h in mould["history"]] == ["submitted"] and mould["history"][0]["by"] == "learner"
    assert mould["evidence"][0]["name"] == "mould.pdf" and mould["evidence"][0]["content_type"] == "application/pdf"
    certificate = next(o for o in data["outcomes"] if o["title"] == "CNC Lathe Operator (intermediate)")
    assert certificate["history"][-1] == {**certificate["history"][-1], "to": "accredited", "by": "credit-bank"}
    assert [(a["standard"]["code"], a["credits"]) for a in data["accreditations"]] == [("CNC-OP", "8.0"), ("CNC-OP", "8.0")]
    assert [(c["course"], c["rule"], c["credits"]) for c in data["conversions"]] == [("NC201", {"code": "NCT-CNC", "version": 1}, "4.0")]
    assert [(t["credits"], t["status"]) for t in data["transfers"]] == [("4.0", "active")]
    events = {e["event"] for e in data["timeline"]}
    assert {"registered", "account-opened", "enrolment-applied", "result-recorded", "outcome-added",
            "enrolment-status-changed", "outcome-accredited", "conversion", "transfer", "ledger-entry"} <= events


def test_the_ledger_is_complete_with_its_hash_chain(client, history):
    _response, data = download(client, history.learner.user)
    stored = list(LedgerEntry.objects.filter(account__learner=history.learner).order_by("seq"))
    assert [e["seq"] for e in data["ledger"]] == [e.seq for e in stored] == [1, 2, 3, 4, 5]
    assert [e["hash"] for e in data["ledger"]] == [e.hash for e in stored]
    assert data["ledger"][0]["prev_hash"] == "0" * 64
    for before, after in zip(data["ledger"], data["ledger"][1:], strict=False):
        assert after["prev_hash"] == before["hash"]
    assert [(e["kind"], e["amount"], e["balance_after"]) for e in data["ledger"]] == [
        ("accreditation", "8.0", "8.0"), ("conversion", "-4.0", "4.0"), ("deposit", "4.0", "8.0"),
        ("accreditation", "8.0", "16.0"), ("transfer", "-4.0", "12.0"),
    ]
    assert data["ledger"][1]["rule"] == {"code": "NCT-CNC", "version": 1}


def test_everything_is_in_time_order_with_iso_dates_and_decimal_strings(client, history):
    _response, data = download(client, history.learner.user)
    moments = [datetime.datetime.fromisoformat(e["at"]) for e in data["timeline"]]
    assert moments == sorted(moments) and len(moments) > 10
    for section in ("enrolments", "outcomes", "accreditations", "conversions", "transfers", "ledger"):
        key = {"enrolments": "applied_at", "outcomes": "submitted_at"}.get(section, "at")
        stamps = [datetime.datetime.fromisoformat(row[key]) for row in data[section]]
        assert stamps == sorted(stamps), section
    outcome = data["outcomes"][0]
    datetime.date.fromisoformat(outcome["achieved_on"])
    assert all(isinstance(e["amount"], str) and isinstance(e["balance_after"], str) for e in data["ledger"])


def test_it_contains_nothing_of_other_learners(client, cast, history, stranger):
    response, data = download(client, history.learner.user)
    text = response.content.decode()
    for secret in (
        stranger.credit_account.number, "Stranger's welding certificate", "SECRET-777", "Stranger ok",
        "STRANGER-P", cast.other_learner.email, stranger.legal_name, cast.credit_officer.email,
        cast.school_admin.email,
    ):
        assert secret not in text, secret
    stranger_entries = LedgerEntry.objects.filter(account__learner=stranger).values_list("hash", flat=True)
    assert not set(stranger_entries) & {e["hash"] for e in data["ledger"]}
    # And the stranger's own file holds only the stranger's records.
    _response, theirs = download(client, cast.other_learner)
    assert [o["title"] for o in theirs["outcomes"]] == ["Stranger's welding certificate"]
    assert history.learner.credit_account.number not in json.dumps(theirs)


def test_the_file_costs_the_same_queries_however_long_the_history(client, history):
    client.force_login(history.learner.user)
    with CaptureQueriesContext(connection) as small:
        client.get(URL)
    account = history.learner.credit_account
    for _i in range(30):
        outcome = factories.LearningOutcomeFactory(account=account)
        services.outcome_accredit(outcome=outcome, standard=history.standard, officer=history.officer, reason="ok")
    with CaptureQueriesContext(connection) as large:
        client.get(URL)
    assert len(large) == len(small)


def test_anonymous_visitors_must_log_in(client, db):
    response = client.get(reverse("credits:lifelong_file"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("account_login"))
