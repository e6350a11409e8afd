"""The learner's credit-bank pages: own records only, evidence checked by content, an audit that
explains itself in a constant number of queries, and a what-if view that writes nothing."""

from __future__ import annotations

import datetime
import re
from decimal import Decimal

import pytest
from django.apps import apps
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from creditbank import services
from creditbank.models import CreditAccount, LearningOutcome, LedgerEntry, OutcomeEvidence
from enrolment.models import Enrolment, EnrolmentStatus
from enrolment.results import result_record
from tests import factories

PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def stored_files(media) -> list:
    return [p for p in media.rglob("*") if p.is_file()] if media.exists() else []


def submit_outcome(learner, *, name="cert.pdf", content=PDF, **fields):
    fields = {
        "kind": "vocational",
        "title": "CNC Milling Operator (advanced)",
        "issuing_body_name": "Education Development Center of Mechanical Industry",
        "achieved_on": timezone.localdate() - datetime.timedelta(days=100),
        "level": 5,
        **fields,
    }
    return services.outcome_submit(learner=learner, files=[SimpleUploadedFile(name, content)], **fields)


@pytest.fixture
def evidence(world):
    outcome = submit_outcome(world.learner)
    return outcome.evidence.get()


def converted(world, accredited):
    return services.conversion_apply(
        outcome=accredited, enrolment=world.enrolment, course=world.cnc, rule=world.rule, officer=world.officer
    )


def page_urls(world, evidence) -> dict[str, str]:
    enrolment = world.enrolment.public_id
    return {
        "home": reverse("credits:home"),
        "outcome_submit": reverse("credits:outcome_submit"),
        "outcome_detail": reverse("credits:outcome_detail", args=[world.certificate.public_id]),
        "evidence_download": reverse("credits:evidence_download", args=[evidence.public_id]),
        "audit": reverse("credits:audit", args=[enrolment]),
        "what_if": reverse("credits:what_if", args=[enrolment]),
        "lifelong_file": reverse("credits:lifelong_file"),
    }


PER_OBJECT = ["outcome_detail", "evidence_download", "audit", "what_if"]


# --- Who reaches what ---------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_every_page_answers_its_owner(client, world, evidence, language):
    client.force_login(world.learner.user)
    urls = page_urls(world, evidence)
    urls["what_if_answered"] = f"{urls['what_if']}?standard={world.standard.pk}&level=5"
    for name, url in urls.items():
        assert client.get(url, HTTP_ACCEPT_LANGUAGE=language).status_code == 200, name


def test_anonymous_visitors_are_sent_to_log_in(client, world, evidence):
    login = reverse("account_login")
    for name, url in page_urls(world, evidence).items():
        response = client.get(url)
        assert response.status_code == 302, name
        assert response["Location"].startswith(login) and f"{REDIRECT_FIELD_NAME}=" in response["Location"], name


@pytest.mark.parametrize("name", PER_OBJECT)
def test_another_learner_gets_404_never_403(client, cast, world, evidence, name):
    client.force_login(cast.other_learner)
    assert client.get(page_urls(world, evidence)[name]).status_code == 404


@pytest.mark.parametrize("name", PER_OBJECT)
def test_a_school_administrator_gets_404_on_the_learner_pages(client, cast, world, evidence, name):
    client.force_login(cast.school_admin)
    assert client.get(page_urls(world, evidence)[name]).status_code == 404


def test_another_learners_pages_show_their_own_empty_account(client, cast, world, evidence):
    client.force_login(cast.other_learner)
    content = client.get(reverse("credits:home"), **EN).content.decode()
    assert world.certificate.title not in content
    assert world.certificate.account.number not in content
    # Their own account has not opened yet (made outside sign-up): the page says so and, being
    # a GET, opens none (issue 14).
    assert "You have no credit-bank account yet." in content
    assert not CreditAccount.objects.filter(learner__user=cast.other_learner).exists()


# --- Home: balance, ledger, outcomes ------------------------------------------------------------


def test_home_shows_balance_and_every_ledger_line_with_its_source(client, world, accredited):
    converted(world, accredited)
    client.force_login(world.learner.user)
    response = client.get(reverse("credits:home"), **EN)
    content = response.content.decode()
    assert world.learner.credit_account.number in content
    assert "4.0 credits" in content  # 8 accredited, 4 converted
    entries = list(response.context["page_obj"])
    assert [e.seq for e in entries] == [2, 1]  # newest first
    assert "+8.0" in content and "−4.0" in content
    assert "rule NCT-CNC v1" in content and world.programme.code in content
    assert reverse("credits:outcome_detail", args=[accredited.public_id]) in content
    assert reverse("credits:audit", args=[world.enrolment.public_id]) in content
    assert reverse("credits:outcome_submit") in content
    assert reverse("credits:lifelong_file") in content
    assert 'class="badge badge--accredited"' in content


def test_the_ledger_pages_by_fifty_newest_first(client, world, accredited):
    account = accredited.account
    for i in range(55):
        outcome = factories.LearningOutcomeFactory(account=account, title=f"Outcome {i}")
        services.outcome_accredit(outcome=outcome, standard=world.standard, officer=world.officer, reason="ok")
    client.force_login(world.learner.user)
    first = client.get(reverse("credits:home"), **EN).context["page_obj"]
    second = client.get(reverse("credits:home"), {"page": 2}, **EN).context["page_obj"]
    assert [e.seq for e in first][:2] == [56, 55] and len(first) == 50
    assert [e.seq for e in second] == [6, 5, 4, 3, 2, 1]


def test_home_costs_the_same_queries_with_5_and_300_entries(client, world, accredited):
    account = accredited.account

    def accredit(n):
        for _i in range(n):
            outcome = factories.LearningOutcomeFactory(account=account)
            services.outcome_accredit(outcome=outcome, standard=world.standard, officer=world.officer, reason="ok")

    accredit(4)
    client.force_login(world.learner.user)
    with CaptureQueriesContext(connection) as small:
        assert client.get(reverse("credits:home"), **EN).status_code == 200
    accredit(295)
    assert LedgerEntry.objects.filter(account=account).count() == 300
    with CaptureQueriesContext(connection) as large:
        assert client.get(reverse("credits:home"), **EN).status_code == 200
    assert len(large) == len(small), [q["sql"] for q in large.captured_queries]


# --- Submitting an outcome ----------------------------------------------------------------------


def form_data(**overrides) -> dict:
    return {
        "kind": "vocational",
        "title": "Mould Fitter (intermediate)",
        "issuing_body": "",
        "issuing_body_name": "China Mould Industry Association",
        "achieved_on": (timezone.localdate() - datetime.timedelta(days=30)).isoformat(),
        "expires_on": "",
        "level": "5",
        "study_hours": "120",
        "grade": "A",
        "certificate_number": "CMIA-2025-0042",
        **overrides,
    }


def post_outcome(client, *files, **overrides):
    data = form_data(**overrides)
    data["files"] = list(files)
    return client.post(reverse("credits:outcome_submit"), data, **EN)


def test_submitting_a_pdf_stores_the_outcome_and_its_evidence(client, world, media):
    client.force_login(world.learner.user)
    response = post_outcome(client, SimpleUploadedFile("mould-fitter.pdf", PDF, content_type="application/pdf"))
    outcome = LearningOutcome.objects.get(title="Mould Fitter (intermediate)")
    assert response.status_code == 302
    assert response["Location"] == reverse("credits:outcome_detail", args=[outcome.public_id])
    assert outcome.account.learner == world.learner and outcome.status == "submitted"
    assert outcome.study_hours == 120 and outcome.certificate_number == "CMIA-2025-0042"
    evidence = outcome.evidence.get()
    assert evidence.original_name == "mould-fitter.pdf" and evidence.content_type == "application/pdf"
    assert evidence.size == len(PDF)
    assert [p.read_bytes() for p in stored_files(media)] == [PDF]
    page = client.get(response["Location"], **EN).content.decode()
    assert "Your learning outcome is submitted" in page
    assert "mould-fitter.pdf" in page and "You" in page


def test_an_issuing_association_can_be_chosen_instead_of_named(client, cast, world):
    client.force_login(world.learner.user)
    post_outcome(client, SimpleUploadedFile("a.pdf", PDF), issuing_body=str(cast.association.pk), issuing_body_name="")
    outcome = LearningOutcome.objects.get(title="Mould Fitter (intermediate)")
    assert outcome.issuing_body == cast.association
    assert outcome.issuing_body_name == cast.association.name_en


def test_several_files_are_stored_and_a_png_sent_as_pdf_is_kept_as_png(client, world):
    # The browser's content type is not trusted (a PNG named .pdf is refused: tests/bad_input).
    client.force_login(world.learner.user)
    post_outcome(client, SimpleUploadedFile("scan.png", PNG, content_type="application/pdf"),
                 SimpleUploadedFile("cert.pdf", PDF))
    outcome = LearningOutcome.objects.get(title="Mould Fitter (intermediate)")
    assert {(e.original_name, e.content_type) for e in outcome.evidence.all()} == {
        ("scan.png", "image/png"), ("cert.pdf", "application/pdf"),
    }


REFUSED = [
    pytest.param("notes.pdf", b"just some text, not a PDF at all\n", "notes.pdf is not a PDF, JPEG or PNG file", id="text-named-pdf"),
    pytest.param("blank.pdf", b"", "blank.pdf is empty", id="empty"),
    pytest.param("huge.pdf", PDF + b"\x00" * (5 * 1024 * 1024 + 1 - len(PDF)), "huge.pdf is 5242881 bytes", id="5MB-plus-one"),
]


@pytest.mark.parametrize(("name", "content", "message"), REFUSED)
def test_a_refused_file_is_named_next_to_the_field_and_nothing_is_stored(client, world, media, name, content, message):
    client.force_login(world.learner.user)
    outcomes, files = LearningOutcome.objects.count(), OutcomeEvidence.objects.count()
    response = post_outcome(client, SimpleUploadedFile("good.pdf", PDF), SimpleUploadedFile(name, content))
    assert response.status_code == 200
    form = response.context["form"]
    assert list(form.errors) == ["files"]
    assert message in form.errors["files"][0]
    content_html = response.content.decode()
    assert re.search(r'id="id_files_error"[^>]*>' + re.escape(message), content_html)
    # What was typed stays.
    assert 'value="Mould Fitter (intermediate)"' in content_html and 'value="CMIA-2025-0042"' in content_html
    assert (LearningOutcome.objects.count(), OutcomeEvidence.objects.count()) == (outcomes, files)
    assert stored_files(media) == []


def test_no_file_six_files_and_a_course_result_are_refused(client, world, media):
    client.force_login(world.learner.user)
    before = LearningOutcome.objects.count()
    response = post_outcome(client)
    assert "Attach at least one evidence file" in response.context["form"].errors["files"][0]
    response = post_outcome(client, *[SimpleUploadedFile(f"{i}.pdf", PDF) for i in range(6)])
    assert "Attach at most 5 files" in response.context["form"].errors["files"][0]
    response = post_outcome(client, SimpleUploadedFile("a.pdf", PDF), kind="course-result")
    assert list(response.context["form"].errors) == ["kind"]
    response = post_outcome(client, SimpleUploadedFile("a.pdf", PDF), issuing_body_name="")
    assert list(response.context["form"].errors) == ["issuing_body_name"]
    assert LearningOutcome.objects.count() == before and stored_files(media) == []


def test_a_refusal_by_the_service_is_shown_and_nothing_is_stored(client, world, media):
    client.force_login(world.learner.user)
    before = LearningOutcome.objects.count()
    future = (timezone.localdate() + datetime.timedelta(days=3)).isoformat()
    response = post_outcome(client, SimpleUploadedFile("a.pdf", PDF), achieved_on=future)
    assert response.status_code == 200
    assert "The date achieved is in the future." in response.content.decode()
    assert LearningOutcome.objects.count() == before and stored_files(media) == []


def test_wrong_dates_are_shown_next_to_their_fields(client, world, media):
    client.force_login(world.learner.user)
    future = (timezone.localdate() + datetime.timedelta(days=3)).isoformat()
    form = post_outcome(client, SimpleUploadedFile("a.pdf", PDF), achieved_on=future).context["form"]
    assert form.errors == {"achieved_on": ["The date achieved is in the future."]}
    achieved = (timezone.localdate() - datetime.timedelta(days=10)).isoformat()
    form = post_outcome(
        client, SimpleUploadedFile("a.pdf", PDF), achieved_on=achieved, expires_on=achieved
    ).context["form"]
    assert form.errors == {"expires_on": ["The expiry date must come after the date it was achieved."]}
    assert not LearningOutcome.objects.filter(account__learner=world.learner).exclude(
        pk=world.certificate.pk
    ).exists()
    assert stored_files(media) == []


# --- One outcome and its evidence ---------------------------------------------------------------


def test_the_outcome_page_tells_its_whole_story(client, cast, world, accredited):
    converted(world, accredited)
    client.force_login(world.learner.user)
    content = client.get(reverse("credits:outcome_detail", args=[accredited.public_id]), **EN).content.decode()
    assert "Credit bank" in content and cast.credit_officer.email not in content
    assert "Certificate checked" in content  # the accreditation's reason
    assert "CNC-OP v1" in content and "8.0" in content
    assert "NC201" in content and "NCT-CNC v1" in content  # the conversion made from it
    assert "+8.0" in content and "−4.0" in content  # its ledger lines


def test_evidence_streams_to_its_owner_as_an_attachment(client, world, evidence):
    client.force_login(world.learner.user)
    response = client.get(reverse("credits:evidence_download", args=[evidence.public_id]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;") and "cert.pdf" in response["Content-Disposition"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content) == PDF


def test_a_credit_officer_may_read_evidence_but_the_owner_only_otherwise(client, cast, world, evidence):
    url = reverse("credits:evidence_download", args=[evidence.public_id])
    client.force_login(cast.credit_officer)
    assert client.get(url).status_code == 200
    for person in (cast.other_learner, cast.reviewer, cast.school_admin):
        client.force_login(person)
        assert client.get(url).status_code == 404


# --- The programme audit ------------------------------------------------------------------------


def test_the_audit_cites_the_entry_and_rule_behind_an_exemption(client, world, accredited):
    client.force_login(world.learner.user)
    url = reverse("credits:audit", args=[world.enrolment.public_id])
    assert "entry #2, rule NCT-CNC v1" not in client.get(url, **EN).content.decode()
    converted(world, accredited)
    conversion_seq = LedgerEntry.objects.get(kind="conversion").seq
    response = client.get(url, **EN)
    content = response.content.decode()
    assert f"entry #{conversion_seq}, rule NCT-CNC v1" in content
    audit = response.context["audit"]
    assert audit.exempted == Decimal("4") and audit.missing == Decimal("12")
    assert not audit.complete and "12.0 credits are still missing" in content


def test_the_audit_cites_deposits_and_transfers_and_says_when_complete(client, cast, world, accredited):
    converted(world, accredited)
    day = timezone.localdate()
    result_record(enrolment=world.enrolment, course=world.drawing, score=Decimal("85"), assessed_on=day, actor=cast.school_admin)
    deposit = LedgerEntry.objects.get(kind="deposit")
    client.force_login(world.learner.user)
    content = client.get(reverse("credits:audit", args=[world.enrolment.public_id]), **EN).content.decode()
    assert f"entry #{deposit.seq}" in content and "Passed" in content
    other = factories.LearningOutcomeFactory(account=accredited.account, title="Robot maintenance training")
    services.outcome_accredit(outcome=other, standard=world.standard, officer=world.officer, reason="ok")
    services.transfer_apply(outcome=other, enrolment=world.enrolment, group=world.elective, credits=Decimal("4"), officer=world.officer)
    transfer_seq = LedgerEntry.objects.get(kind="transfer").seq
    response = client.get(reverse("credits:audit", args=[world.enrolment.public_id]), **EN)
    content = response.content.decode()
    assert "Robot maintenance training" in content and f"entry #{transfer_seq}" in content
    assert response.context["audit"].transferred == Decimal("4")
    result_record(enrolment=world.enrolment, course=world.robots, score=Decimal("80"), assessed_on=day, actor=cast.school_admin)
    response = client.get(reverse("credits:audit", args=[world.enrolment.public_id]), **EN)
    assert response.context["audit"].complete
    assert "the programme is complete" in response.content.decode()


def test_the_audit_costs_the_same_queries_with_5_and_300_entries(client, cast, world, accredited):
    """A conversion, a deposit and a transfer in both cases; the rest of the ledger grows."""
    converted(world, accredited)
    result_record(enrolment=world.enrolment, course=world.drawing, score=Decimal("85"),
                  assessed_on=timezone.localdate(), actor=cast.school_admin)
    account = accredited.account
    other = factories.LearningOutcomeFactory(account=account)
    services.outcome_accredit(outcome=other, standard=world.standard, officer=world.officer, reason="ok")
    services.transfer_apply(outcome=other, enrolment=world.enrolment, group=world.elective, credits=Decimal("4"), officer=world.officer)
    assert LedgerEntry.objects.filter(account=account).count() == 5
    url = reverse("credits:audit", args=[world.enrolment.public_id])
    client.force_login(world.learner.user)
    with CaptureQueriesContext(connection) as small:
        assert client.get(url, **EN).status_code == 200
    for _i in range(295):
        outcome = factories.LearningOutcomeFactory(account=account)
        services.outcome_accredit(outcome=outcome, standard=world.standard, officer=world.officer, reason="ok")
    assert LedgerEntry.objects.filter(account=account).count() == 300
    with CaptureQueriesContext(connection) as large:
        assert client.get(url, **EN).status_code == 200
    assert len(large) == len(small), [q["sql"] for q in large.captured_queries]
    with CaptureQueriesContext(connection) as what_if:
        response = client.get(reverse("credits:what_if", args=[world.enrolment.public_id]),
                              {"standard": world.standard.pk, "level": 5}, **EN)
    assert response.status_code == 200 and len(what_if) < 40


# --- What if ------------------------------------------------------------------------------------


def database_state() -> dict:
    """Every row of every table the portal owns, so a read-only page can be shown to change none."""
    state = {}
    for model in apps.get_models():
        if model._meta.app_label in {"creditbank", "enrolment", "schools", "accounts"}:
            state[model._meta.label] = list(model.objects.order_by("pk").values())
    return state


def test_what_if_shows_the_hypothetical_exemption_and_writes_nothing(client, world):
    client.force_login(world.learner.user)
    url = reverse("credits:what_if", args=[world.enrolment.public_id])
    page = client.get(url, **EN)
    assert page.status_code == 200 and page.context["result"] is None
    before = database_state()
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, {"standard": world.standard.pk, "level": 5}, **EN)
    content = response.content.decode()
    assert response.status_code == 200
    assert "would be exempted by rule NCT-CNC v1" in content
    assert "4.0 credits would move" in content
    result = response.context["result"]
    assert [line.course for line in result.moves] == [world.cnc]
    assert result.before.missing == Decimal("16") and result.after.missing == Decimal("12")
    writes = [q["sql"] for q in queries.captured_queries
              if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE")) and "django_session" not in q["sql"]]
    assert writes == []
    assert database_state() == before


def test_what_if_with_a_level_too_low_or_a_foreign_standard_moves_nothing(client, world):
    client.force_login(world.learner.user)
    url = reverse("credits:what_if", args=[world.enrolment.public_id])
    low = client.get(url, {"standard": world.standard.pk, "level": 3}, **EN)
    assert low.context["result"].moves == [] and "would be exempted" not in low.content.decode()
    other = factories.RecognitionStandardFactory(code="WELD-1")
    foreign = client.get(url, {"standard": other.pk, "level": 6}, **EN)
    assert foreign.context["result"].moves == []
    closed = factories.RecognitionStandardFactory(code="OLD-1", effective_to=datetime.date(2021, 1, 1))
    refused = client.get(url, {"standard": closed.pk, "level": 6}, **EN)
    assert refused.context["result"] is None and "standard" in refused.context["form"].errors


def test_an_enrolment_of_another_programme_is_audited_on_its_own(client, world):
    other_programme = factories.ProgrammeFactory()
    factories.add_course(factories.RequirementGroupFactory(programme=other_programme), code="LG101")
    enrolment = Enrolment.objects.create(
        learner=world.learner, intake=factories.IntakeFactory(programme=other_programme),
        programme=other_programme, status=EnrolmentStatus.ACCEPTED,
    )
    client.force_login(world.learner.user)
    content = client.get(reverse("credits:audit", args=[enrolment.public_id]), **EN).content.decode()
    assert "LG101" in content and "NC201" not in content
