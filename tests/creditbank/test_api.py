"""The credit-bank API: same permissions as the pages, writes through the services, refusals as 400
that change nothing, and lists whose query count does not grow with their length."""

import datetime
import uuid
from decimal import Decimal

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from creditbank import ledger, services
from creditbank.models import (
    Accreditation,
    Conversion,
    LearningOutcome,
    LedgerEntry,
    OutcomeEvidence,
    RecognitionStandard,
    Transfer,
)
from enrolment.services import learner_register
from tests import factories

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
ME = "/api/v1/me"
CB = "/api/v1/credit-bank"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def api():
    return APIClient(HTTP_ACCEPT_LANGUAGE="en")


def ledger_state():
    return list(LedgerEntry.objects.order_by("pk").values_list("pk", "amount", "hash"))


def submission(*files, **overrides):
    fields = {
        "kind": "vocational",
        "title": "CNC Lathe Operator (intermediate)",
        "issuing_body_name": "Education Development Center of Mechanical Industry",
        "achieved_on": (timezone.localdate() - datetime.timedelta(days=300)).isoformat(),
        "level": "5",
        "grade": "B",
        "certificate_number": "MIEDC-000042",
    }
    return {**fields, **overrides, "evidence": list(files)}


def detail(response) -> str:
    return " ".join(response.json()["detail"])


# --- The learner's flow -------------------------------------------------------------------------


def test_a_learner_submits_an_officer_accredits_and_the_balance_shows_it(api, world, cast):
    api.force_authenticate(cast.learner)
    assert api.get(f"{ME}/credit-account/").json()["balance"] == "0.0"
    sent = api.post(
        f"{ME}/outcomes/",
        submission(SimpleUploadedFile("certificate.pdf", PDF), SimpleUploadedFile("scan.pdf", PDF)),
        format="multipart",
    )
    assert sent.status_code == 201, sent.json()
    body = sent.json()
    assert body["status"] == "submitted"
    assert sorted(e["original_name"] for e in body["evidence"]) == ["certificate.pdf", "scan.pdf"]
    assert {e["content_type"] for e in body["evidence"]} == {"application/pdf"}
    public_id = body["public_id"]
    listed = api.get(f"{ME}/outcomes/").json()
    assert public_id in [o["public_id"] for o in listed["results"]]

    api.force_authenticate(cast.credit_officer)
    queue = api.get(f"{CB}/outcomes/", {"status": "submitted"}).json()
    assert public_id in [o["public_id"] for o in queue["results"]]
    assert api.post(f"{CB}/outcomes/{public_id}/start-review/").json()["status"] == "under-review"
    accredited = api.post(
        f"{CB}/outcomes/{public_id}/accredit/",
        {"standard_code": "CNC-OP", "standard_version": 1, "reason": "Certificate checked with the issuer"},
        format="json",
    )
    assert accredited.status_code == 200, accredited.json()
    assert accredited.json()["status"] == "accredited"
    assert accredited.json()["accreditation"]["credits"] == "8.0"

    api.force_authenticate(cast.learner)
    account = api.get(f"{ME}/credit-account/").json()
    assert account["balance"] == "8.0" and account["number"].startswith("CB")
    entries = api.get(f"{ME}/ledger/").json()["results"]
    assert [(e["seq"], e["kind"], e["amount"], e["balance_after"], e["outcome"]) for e in entries] == [
        (1, "accreditation", "8.0", "8.0", public_id)
    ]
    assert "CNC-OP v1" in entries[0]["reason"] and len(entries[0]["hash"]) == 64
    mine = api.get(f"{ME}/outcomes/{public_id}/").json()
    assert [h["to_status"] for h in mine["history"]] == ["submitted", "under-review", "accredited"]
    assert mine["accreditation"]["standard"] == "CNC-OP v1"


def test_a_text_file_named_pdf_is_refused_by_name_and_nothing_is_stored(api, world, cast, media):
    api.force_authenticate(cast.learner)
    before = LearningOutcome.objects.count()
    refused = api.post(
        f"{ME}/outcomes/",
        submission(SimpleUploadedFile("good.pdf", PDF), SimpleUploadedFile("notes.pdf", b"just text, named like a PDF")),
        format="multipart",
    )
    assert refused.status_code == 400
    assert "notes.pdf" in detail(refused) and "not a PDF, JPEG or PNG" in detail(refused)
    none = api.post(f"{ME}/outcomes/", submission(), format="multipart")
    assert none.status_code == 400 and "at least one evidence file" in detail(none)
    assert LearningOutcome.objects.count() == before
    assert not OutcomeEvidence.objects.exists()
    assert not [path for path in media.rglob("*") if path.is_file()]


@pytest.mark.parametrize(
    "name, content, overrides, field, message",
    [
        ("big.pdf", PDF + b"0" * (5 * 1024 * 1024), {}, "detail", "big.pdf is"),
        ("empty.pdf", b"", {}, "detail", "empty.pdf is empty"),
        ("cert.pdf", PDF, {"kind": "course-result"}, "detail", "deposited by the portal"),
        ("cert.pdf", PDF, {"achieved_on": "2999-01-01"}, "detail", "in the future"),
        ("cert.pdf", PDF, {"issuing_body_name": ""}, "issuing_body_name", "blank"),
        ("cert.pdf", PDF, {"issuing_body": "no-such-body"}, "issuing_body", "does not exist"),
        # A number no column holds: refused on SQLite (OverflowError beyond 64 bits) as on PostgreSQL.
        ("cert.pdf", PDF, {"study_hours": str(10**20)}, "study_hours", "less than or equal to 100000"),
    ],
)
def test_bad_submissions_say_why_and_store_nothing(api, world, cast, media, name, content, overrides, field, message):
    api.force_authenticate(cast.learner)
    before = LearningOutcome.objects.count()
    refused = api.post(f"{ME}/outcomes/", submission(SimpleUploadedFile(name, content), **overrides), format="multipart")
    assert refused.status_code == 400
    assert message in " ".join(refused.json()[field])
    assert LearningOutcome.objects.count() == before and not OutcomeEvidence.objects.exists()
    assert not [path for path in media.rglob("*") if path.is_file()]


def test_a_partner_association_as_issuing_body_names_itself(api, world, cast):
    api.force_authenticate(cast.learner)
    sent = api.post(
        f"{ME}/outcomes/",
        submission(SimpleUploadedFile("cert.pdf", PDF), issuing_body=cast.association.slug, issuing_body_name=""),
        format="multipart",
    )
    assert sent.status_code == 201, sent.json()
    assert (sent.json()["issuing_body"], sent.json()["issuing_body_name"]) == (cast.association.slug, cast.association.name_en)


def test_another_learner_gets_404_on_the_first_learners_outcome_and_audit(api, world, cast):
    outcome, enrolment = world.certificate.public_id, world.enrolment.public_id
    api.force_authenticate(cast.learner)
    assert api.get(f"{ME}/outcomes/{outcome}/").status_code == 200
    assert api.get(f"{ME}/audits/{enrolment}/").status_code == 200

    api.force_authenticate(cast.other_learner)
    assert api.get(f"{ME}/outcomes/{outcome}/").status_code == 404
    assert api.get(f"{ME}/audits/{enrolment}/").status_code == 404
    assert api.get(f"{ME}/audits/{enrolment}/what-if/", {"standard": "CNC-OP", "level": 5}).status_code == 404
    assert api.get(f"{ME}/outcomes/").json()["count"] == 0
    assert api.get(f"{ME}/ledger/").json()["count"] == 0
    assert api.get(f"{ME}/outcomes/not-a-uuid/").status_code == 404


# --- Who reaches the officers' desk -------------------------------------------------------------


def officer_endpoints(world):
    outcome, enrolment = world.certificate.public_id, world.enrolment.public_id
    account = world.certificate.account.number
    std, rule = f"{CB}/standards/CNC-OP/1", f"{CB}/rules/NCT-CNC/1"
    reason = {"reason": "because"}
    return [
        ("get", f"{CB}/outcomes/", None),
        ("get", f"{CB}/outcomes/{outcome}/", None),
        ("post", f"{CB}/outcomes/{outcome}/start-review/", None),
        ("post", f"{CB}/outcomes/{outcome}/accredit/", {"standard_code": "CNC-OP", "standard_version": 1, **reason}),
        ("post", f"{CB}/outcomes/{outcome}/reject/", reason),
        ("post", f"{CB}/outcomes/{outcome}/revoke/", reason),
        ("get", f"{CB}/standards/", None),
        ("post", f"{CB}/standards/", {"code": "NEW", "title_en": "New", "level": 4, "credit_value": "2", "effective_from": "2024-01-01"}),
        ("get", f"{std}/", None),
        ("put", f"{std}/", {"title_en": "Changed", "level": 4, "credit_value": "1", "effective_from": "2020-01-01"}),
        ("post", f"{std}/new-version/", {"effective_from": timezone.localdate().isoformat()}),
        ("get", f"{CB}/rules/", None),
        ("post", f"{CB}/rules/", {"code": "NEW"}),
        ("get", f"{rule}/", None),
        ("put", f"{rule}/", {"credits": "1"}),
        ("post", f"{rule}/new-version/", {"effective_from": timezone.localdate().isoformat()}),
        ("post", f"{CB}/conversions/", {"outcome": str(outcome), "enrolment": str(enrolment), "course_code": "NC201", "rule_code": "NCT-CNC", "rule_version": 1}),
        ("post", f"{CB}/transfers/", {"outcome": str(outcome), "enrolment": str(enrolment), "group": world.elective.pk, "credits": "1"}),
        ("get", f"{CB}/accounts/{account}/", None),
    ]


@pytest.mark.parametrize("who", ["learner", "reviewer", "school_admin"])
def test_only_credit_officers_reach_the_credit_bank_endpoints(api, world, cast, who):
    before = (ledger_state(), RecognitionStandard.objects.count(), LearningOutcome.objects.get(pk=world.certificate.pk).status)
    api.force_authenticate(getattr(cast, who))
    for method, url, payload in officer_endpoints(world):
        response = getattr(api, method)(url, payload, format="json")
        assert response.status_code == 404, (method, url, response.status_code)
    assert (ledger_state(), RecognitionStandard.objects.count(), LearningOutcome.objects.get(pk=world.certificate.pk).status) == before

    api.force_authenticate(None)
    assert api.get(f"{CB}/outcomes/").status_code == 403
    api.force_authenticate(cast.credit_officer)
    for method, url, _payload in officer_endpoints(world):
        if method == "get":
            assert getattr(api, method)(url).status_code == 200, url


def test_the_queue_filters_and_refuses_unknown_filters(api, world, cast):
    api.force_authenticate(cast.credit_officer)
    assert api.get(f"{CB}/outcomes/", {"status": "accredited"}).json()["count"] == 0
    queue = api.get(f"{CB}/outcomes/", {"status": "submitted", "kind": "vocational"}).json()
    assert [o["public_id"] for o in queue["results"]] == [str(world.certificate.public_id)]
    assert queue["results"][0]["account"] == world.certificate.account.number
    assert api.get(f"{CB}/outcomes/", {"status": "lost"}).status_code == 400
    assert api.get(f"{CB}/outcomes/", {"kind": "rumour"}).status_code == 400


# --- Officers' decisions ------------------------------------------------------------------------


def test_an_officer_accrediting_their_own_outcome_is_refused_and_nothing_changes(api, world, cast):
    own = factories.LearningOutcomeFactory(account=services.account_for(learner_register(user=cast.credit_officer)))
    api.force_authenticate(cast.credit_officer)
    refused = api.post(
        f"{CB}/outcomes/{own.public_id}/accredit/",
        {"standard_code": "CNC-OP", "standard_version": 1, "reason": "It is mine and it is good"},
        format="json",
    )
    assert refused.status_code == 400
    assert "An officer never decides on their own learning outcome." in detail(refused)
    own.refresh_from_db()
    assert own.status == "submitted"
    assert not Accreditation.objects.exists() and not LedgerEntry.objects.exists()
    assert own.history.count() == 0


def test_accrediting_names_a_missing_standard_and_a_blank_reason(api, world, cast):
    api.force_authenticate(cast.credit_officer)
    url = f"{CB}/outcomes/{world.certificate.public_id}/accredit/"
    missing = api.post(url, {"standard_code": "CNC-OP", "standard_version": 7, "reason": "x"}, format="json")
    assert missing.status_code == 400 and "CNC-OP v7" in str(missing.json()["standard_code"])
    blank = api.post(url, {"standard_code": "CNC-OP", "standard_version": 1, "reason": " "}, format="json")
    assert blank.status_code == 400 and "Say why" in str(blank.json()["reason"])
    assert not LedgerEntry.objects.exists()


def test_a_conversion_through_the_api_shows_as_exempted_in_the_audit(api, world, cast, accredited):
    api.force_authenticate(cast.learner)
    what_if = api.get(f"{ME}/audits/{world.enrolment.public_id}/what-if/", {"standard": "CNC-OP", "level": 5}).json()
    assert [r["code"] for r in what_if["rules"]] == ["NCT-CNC"]
    line = next(c for c in what_if["audit"]["groups"][0]["courses"] if c["code"] == "NC201")
    assert (line["state"], line["hypothetical"], line["rule"]) == ("exempted", True, "NCT-CNC v1")
    assert api.get(f"{ME}/audits/{world.enrolment.public_id}/what-if/", {"standard": "NOPE", "level": 5}).status_code == 400
    assert api.get(f"{ME}/audits/{world.enrolment.public_id}/what-if/", {"standard": "CNC-OP", "level": 9}).status_code == 400

    api.force_authenticate(cast.credit_officer)
    applied = api.post(
        f"{CB}/conversions/",
        {"outcome": str(accredited.public_id), "enrolment": str(world.enrolment.public_id),
         "course_code": "NC201", "rule_code": "NCT-CNC", "rule_version": 1},
        format="json",
    )  # fmt: skip
    assert applied.status_code == 201, applied.json()
    assert applied.json()["entry_seqs"] == [2] and applied.json()["rule"] == "NCT-CNC v1"
    again = api.post(
        f"{CB}/conversions/",
        {"outcome": str(accredited.public_id), "enrolment": str(world.enrolment.public_id),
         "course_code": "NC201", "rule_code": "NCT-CNC", "rule_version": 1},
        format="json",
    )  # fmt: skip
    assert again.status_code == 400 and "already exempted" in detail(again)
    assert Conversion.objects.count() == 1

    api.force_authenticate(cast.learner)
    audit = api.get(f"{ME}/audits/{world.enrolment.public_id}/").json()
    compulsory = audit["groups"][0]
    line = next(c for c in compulsory["courses"] if c["code"] == "NC201")
    assert (line["state"], line["entry_seqs"], line["rule"], line["credits"]) == ("exempted", [2], "NCT-CNC v1", "4.0")
    assert compulsory["exempted"] == "4.0" and compulsory["missing"] == "4.0"
    assert audit["exempted"] == "4.0" and audit["complete"] is False
    assert api.get(f"{ME}/credit-account/").json()["balance"] == "4.0"


def test_a_transfer_over_the_recognised_share_is_refused_and_the_ledger_unchanged(api, world, cast, accredited):
    second = factories.LearningOutcomeFactory(account=accredited.account, title="Industrial robots operator")
    services.outcome_accredit(outcome=second, standard=world.standard, officer=world.officer, reason="ok")
    api.force_authenticate(cast.credit_officer)

    def transfer(outcome, credits, group=world.elective.pk):
        return api.post(
            f"{CB}/transfers/",
            {"outcome": str(outcome.public_id), "enrolment": str(world.enrolment.public_id), "group": group, "credits": credits},
            format="json",
        )

    done = transfer(accredited, "4")
    assert done.status_code == 201, done.json()
    assert done.json()["entry_seqs"] == [3] and done.json()["credits"] == "4.0"
    before = ledger_state()
    # The programme has 16 credits: at most 8 may come from transfer and conversion.
    over = transfer(second, "5")
    assert over.status_code == 400
    assert "At most 8.0 of this programme's 16.0 credits" in detail(over)
    foreign = factories.RequirementGroupFactory()
    assert "group" in transfer(second, "1", group=foreign.pk).json()
    assert ledger_state() == before and Transfer.objects.count() == 1

    api.force_authenticate(cast.learner)
    elective = api.get(f"{ME}/audits/{world.enrolment.public_id}/").json()["groups"][1]
    assert elective["transferred"] == "4.0" and elective["transfers"][0]["entry_seqs"] == [3]


def test_revoking_reverses_the_credits_and_the_exemption(api, world, cast, accredited):
    services.conversion_apply(
        outcome=accredited, enrolment=world.enrolment, course=world.cnc, rule=world.rule, officer=world.officer
    )
    api.force_authenticate(cast.credit_officer)
    url = f"{CB}/outcomes/{accredited.public_id}/revoke/"
    before = ledger_state()
    blank = api.post(url, {"reason": ""}, format="json")
    assert blank.status_code == 400 and "reason" in detail(blank)
    assert ledger_state() == before
    revoked = api.post(url, {"reason": "Certificate withdrawn by the issuer"}, format="json")
    assert revoked.status_code == 200
    assert revoked.json()["status"] == "revoked"
    assert revoked.json()["conversions"][0]["status"] == "reversed"
    again = api.post(url, {"reason": "again"}, format="json")
    assert again.status_code == 400 and "cannot become" in detail(again)

    account = api.get(f"{CB}/accounts/{accredited.account.number}/").json()
    assert account["balance"] == "0.0" and account["entry_count"] == 4
    assert {t["kind"]: t["amount"] for t in account["totals"]}["reversal"] == "-4.0"

    api.force_authenticate(cast.learner)
    entries = api.get(f"{ME}/ledger/").json()["results"]
    assert [(e["seq"], e["kind"], e["amount"], e["reverses"]) for e in entries] == [
        (4, "reversal", "-8.0", 1),
        (3, "reversal", "4.0", 2),
        (2, "conversion", "-4.0", None),
        (1, "accreditation", "8.0", None),
    ]
    audit = api.get(f"{ME}/audits/{world.enrolment.public_id}/").json()
    assert next(c for c in audit["groups"][0]["courses"] if c["code"] == "NC201")["state"] == "to do"
    assert ledger.verify_account(accredited.account) is None


# --- Standards and rules ------------------------------------------------------------------------


def test_a_standard_in_use_is_frozen_and_gets_a_new_version(api, world, cast, accredited):
    api.force_authenticate(cast.credit_officer)
    url = f"{CB}/standards/CNC-OP/1/"
    current = api.get(url).json()
    assert current["in_use"] is True and current["credit_value"] == "8.0"
    edited = {**current, "credit_value": "10"}
    refused = api.put(url, edited, format="json")
    assert refused.status_code == 400 and "in use and frozen" in detail(refused)
    assert RecognitionStandard.objects.get(code="CNC-OP", version=1).credit_value == Decimal("8.0")

    today = timezone.localdate()
    successor = api.post(f"{url}new-version/", {"effective_from": today.isoformat(), "credit_value": "10"}, format="json")
    assert successor.status_code == 201, successor.json()
    assert (successor.json()["version"], successor.json()["credit_value"], successor.json()["in_use"]) == (2, "10.0", False)
    assert api.get(url).json()["effective_to"] == (today - datetime.timedelta(days=1)).isoformat()
    assert api.post(f"{url}new-version/", {"effective_from": today.isoformat()}, format="json").status_code == 400
    assert api.get(f"{CB}/standards/CNC-OP/3/").status_code == 404


def test_a_new_standard_can_be_corrected_until_it_is_used(api, world, cast):
    api.force_authenticate(cast.credit_officer)
    created = api.post(
        f"{CB}/standards/",
        {"code": "WELD-1", "title_en": "Welder", "outcome_kinds": ["vocational"], "level": 4,
         "credit_value": "3", "accepted_bodies": [cast.association.slug], "effective_from": "2024-01-01"},
        format="json",
    )  # fmt: skip
    assert created.status_code == 201, created.json()
    assert (created.json()["version"], created.json()["accepted_bodies"]) == (1, [cast.association.slug])
    duplicate = api.post(
        f"{CB}/standards/", {"code": "WELD-1", "title_en": "Again", "level": 4, "credit_value": "3", "effective_from": "2024-01-01"},
        format="json",
    )
    assert duplicate.status_code == 400
    corrected = api.put(
        f"{CB}/standards/WELD-1/1/",
        {"title_en": "Welder (intermediate)", "level": 4, "credit_value": "4", "effective_from": "2024-01-01"},
        format="json",
    )
    assert corrected.status_code == 200 and corrected.json()["credit_value"] == "4.0"
    assert RecognitionStandard.objects.filter(code="WELD-1").count() == 1


def test_rules_are_frozen_once_used_and_name_unknown_courses(api, world, cast, accredited):
    api.force_authenticate(cast.credit_officer)
    terms = {"standard_code": "CNC-OP", "standard_version": 1, "programme": world.programme.code,
             "courses": ["ME101"], "credits": "4", "effective_from": "2024-01-01"}  # fmt: skip
    created = api.post(f"{CB}/rules/", {"code": "NCT-DRAW", **terms}, format="json")
    assert created.status_code == 201, created.json()
    assert (created.json()["courses"], created.json()["standard_code"], created.json()["in_use"]) == (["ME101"], "CNC-OP", False)
    unknown = api.post(f"{CB}/rules/", {"code": "NCT-X", **terms, "courses": ["ME101", "ZZ999"]}, format="json")
    assert unknown.status_code == 400 and "ZZ999" in str(unknown.json()["courses"])
    assert api.put(f"{CB}/rules/NCT-DRAW/1/", {**terms, "credits": "3"}, format="json").json()["credits"] == "3.0"

    services.conversion_apply(
        outcome=accredited, enrolment=world.enrolment, course=world.cnc, rule=world.rule, officer=world.officer
    )
    refused = api.put(f"{CB}/rules/NCT-CNC/1/", {**terms, "courses": ["NC201"], "credits": "2"}, format="json")
    assert refused.status_code == 400 and "in use and frozen" in detail(refused)
    world.rule.refresh_from_db()
    assert world.rule.credits == Decimal("4.0")
    successor = api.post(
        f"{CB}/rules/NCT-CNC/1/new-version/", {"effective_from": timezone.localdate().isoformat(), "credits": "2"}, format="json"
    )
    assert successor.status_code == 201, successor.json()
    assert (successor.json()["version"], successor.json()["credits"], successor.json()["courses"]) == (2, "2.0", ["NC201"])


# --- School administrators ----------------------------------------------------------------------


def test_a_school_admin_reads_their_own_learners_audit_only(api, world, cast):
    enrolment = world.enrolment.public_id
    api.force_authenticate(cast.school_admin)
    own = api.get(f"/api/v1/manage/schools/{cast.school.slug}/audits/{enrolment}/")
    assert own.status_code == 200 and own.json()["programme"] == world.programme.code
    assert [g["required"] for g in own.json()["groups"]] == ["8.0", "8.0"]
    api.force_authenticate(cast.other_school_admin)
    assert api.get(f"/api/v1/manage/schools/{cast.school.slug}/audits/{enrolment}/").status_code == 404
    assert api.get(f"/api/v1/manage/schools/{cast.other_school.slug}/audits/{enrolment}/").status_code == 404
    api.force_authenticate(cast.learner)
    assert api.get(f"/api/v1/manage/schools/{cast.school.slug}/audits/{enrolment}/").status_code == 404


# --- Lists read a fixed number of queries -------------------------------------------------------


def count_queries(api, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = api.get(url)
    assert response.status_code == 200
    return len(queries)


def add_entries(world, outcome, n):
    with transaction.atomic():
        for _ in range(n):
            ledger.post(
                account=outcome.account, kind="deposit", amount=Decimal("1"), outcome=outcome,
                key=f"test:{uuid.uuid4()}", reason="test deposit", actor=world.officer,
                rule=world.rule, programme=world.programme,
            )  # fmt: skip


def add_outcomes(n):
    for _ in range(n):
        outcome = factories.LearningOutcomeFactory(issuing_body=factories.PartnerAssociationFactory())
        OutcomeEvidence.objects.create(
            outcome=outcome, file=ContentFile(PDF, name="evidence.pdf"), original_name="evidence.pdf",
            content_type="application/pdf", size=len(PDF), sha256="0" * 64,
        )  # fmt: skip


def test_the_learners_ledger_reads_the_same_queries_for_5_and_50_entries(api, world, cast):
    api.force_authenticate(cast.learner)
    add_entries(world, world.certificate, 5)
    api.get(f"{ME}/ledger/")  # warm the per-user role cache
    few = count_queries(api, f"{ME}/ledger/")
    add_entries(world, world.certificate, 45)
    many = count_queries(api, f"{ME}/ledger/")
    assert api.get(f"{ME}/ledger/").json()["count"] == 50
    assert few == many


def test_the_officers_queue_reads_the_same_queries_for_5_and_50_outcomes(api, world, cast):
    api.force_authenticate(cast.credit_officer)
    add_outcomes(4)  # and the world's certificate
    api.get(f"{CB}/outcomes/")
    few = count_queries(api, f"{CB}/outcomes/")
    add_outcomes(45)
    many = count_queries(api, f"{CB}/outcomes/")
    assert api.get(f"{CB}/outcomes/").json()["count"] == 50
    assert few == many


# --- The schema ---------------------------------------------------------------------------------


def test_the_schema_documents_the_credit_bank_and_validates(api, tmp_path):
    paths = api.get("/api/schema/?format=json").json()["paths"]
    for path in [
        "/api/v1/me/credit-account/", "/api/v1/me/ledger/", "/api/v1/me/outcomes/",
        "/api/v1/me/outcomes/{public_id}/", "/api/v1/me/audits/{public_id}/",
        "/api/v1/me/audits/{public_id}/what-if/", "/api/v1/credit-bank/outcomes/",
        "/api/v1/credit-bank/outcomes/{public_id}/accredit/", "/api/v1/credit-bank/outcomes/{public_id}/revoke/",
        "/api/v1/credit-bank/standards/{code}/{version}/new-version/", "/api/v1/credit-bank/rules/{code}/{version}/",
        "/api/v1/credit-bank/conversions/", "/api/v1/credit-bank/transfers/",
        "/api/v1/credit-bank/accounts/{number}/", "/api/v1/manage/schools/{school_slug}/audits/{public_id}/",
    ]:  # fmt: skip
        assert path in paths, path
    assert "multipart/form-data" in paths["/api/v1/me/outcomes/"]["post"]["requestBody"]["content"]
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml"))
