"""Issue 14, finding 1: the portal vouches only for the name it signed.

A certificate or transcript is signed with the holder's name of that moment (the credential's
``credentialSubject.name``). A holder who renames their profile afterwards must not have the
portal say, publicly, that the certificate belongs to the new name: every place that shows the
holder of something issued — the verification page (cached or not, both languages), its API,
the credential download, the learner's own pages and share link, the reviewers' API, the PDF's
context — shows the signed name and never the new one. A new legal name is a new issue.
"""

from __future__ import annotations

import importlib
import json
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.db import connection
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from certificates import rendering
from certificates.credentials import builders
from certificates.models import Certificate, Transcript
from certificates.verify_cache import verify_version
from ouc_portal.pagecache import MARK
from tests.certificates.test_credentials import build_transcript, issue

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("quick_pdf")]

SIGNED = "王签发"
RENAMED = "RENAMED-Holder-Marker"


@pytest.fixture
def signed(cast, eager, django_capture_on_commit_callbacks):
    """A certificate and a transcript, both issued while the learner was called ``SIGNED``."""
    learner = cast.learner.learner
    learner.legal_name = SIGNED
    learner.save(update_fields=["legal_name"])
    certificate = issue(cast, django_capture_on_commit_callbacks, name_en="NCT completion", name_zh="数控结业证书")
    transcript = build_transcript(learner, django_capture_on_commit_callbacks)
    return certificate, transcript


def rename_through_the_profile_form(user, name: str) -> None:
    client = Client()
    client.force_login(user)
    learner = user.learner
    response = client.post(reverse("enrolment:my_profile"), {
        "legal_name": name, "phone": learner.phone, "employer": learner.employer, "job_title": learner.job_title,
        "industry": learner.industry, "province": learner.province, "centre": "", "consent": "on",
    })  # fmt: skip
    assert response.status_code == 302, response.content.decode()[:2000]
    learner.refresh_from_db()
    assert learner.legal_name == name


def public_answers(certificate: Certificate, transcript: Transcript) -> dict[str, str]:
    """Everything anyone without an account can read about the holder of what was issued."""
    answers = {}
    for record in (certificate, transcript):
        code = record.verification_code
        for language in ("en", "zh-hans"):
            # Twice each: the first may be rendered, the second is the stored page (ouc_portal.pagecache).
            for attempt in ("first", "again"):
                response = Client().get(reverse("verify:page", args=[code]), HTTP_ACCEPT_LANGUAGE=language)
                assert response.status_code == 200
                answers[f"page {code[:6]} {language} {attempt}"] = response.content.decode()
        api = APIClient().get(reverse("certificates-api:verify", args=[code]), HTTP_ACCEPT_LANGUAGE="en")
        assert api.status_code == 200
        answers[f"api {code[:6]}"] = json.dumps(api.json(), ensure_ascii=False)
        download = Client().get(reverse("verify:credential", args=[code]))
        assert download.status_code == 200
        answers[f"credential {code[:6]}"] = download.content.decode()
    return answers


def test_every_public_answer_names_the_signed_holder_after_a_rename(cast, signed):
    certificate, transcript = signed
    assert certificate.holder_name == SIGNED and transcript.holder_name == SIGNED
    before = public_answers(certificate, transcript)
    version = verify_version()

    rename_through_the_profile_form(cast.learner, RENAMED)

    # A renamed profile touches nothing a verification page shows: stored pages stay valid.
    assert verify_version() == version
    after = public_answers(certificate, transcript)
    for where, text in after.items():
        assert RENAMED not in text, where
        assert SIGNED in text, where
    assert after["api " + certificate.verification_code[:6]] == before["api " + certificate.verification_code[:6]]
    assert json.loads(after["api " + transcript.verification_code[:6]])["learner_name"] == SIGNED


def test_a_rename_does_not_reach_a_page_rendered_afresh(cast, signed, settings):
    """With the page cache off every answer is built from the database: still the signed name."""
    settings.CATALOGUE_CACHE_SECONDS = 0
    certificate, transcript = signed
    rename_through_the_profile_form(cast.learner, RENAMED)
    for record in (certificate, transcript):
        response = Client().get(reverse("verify:page", args=[record.verification_code]), HTTP_ACCEPT_LANGUAGE="en")
        assert MARK not in response
        html = response.content.decode()
        assert SIGNED in html and RENAMED not in html


def test_the_learner_sees_on_each_certificate_the_name_it_was_issued_under(client, cast, signed):
    certificate, _transcript = signed
    rename_through_the_profile_form(cast.learner, RENAMED)
    client.force_login(cast.learner)
    for url in (reverse("certs:home"), reverse("certs:certificate", args=[certificate.serial])):
        html = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
        assert SIGNED in html and RENAMED not in html, url
        assert "carries the name it was issued under" in html, url
    chinese = client.get(reverse("certs:home"), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "证书上的姓名" in chinese and "证书载明签发时的姓名" in chinese


def test_the_reviewers_api_shows_the_signed_name_beside_the_profile(cast, signed):
    certificate, _transcript = signed
    rename_through_the_profile_form(cast.learner, RENAMED)
    client = APIClient()
    client.force_authenticate(cast.reviewer)
    row = client.get(f"/api/v1/review/certificates/{certificate.serial}/").json()
    assert row["holder_name"] == SIGNED
    assert row["learner"]["legal_name"] == RENAMED  # the desk may see today's profile: it is not public


def test_the_pdf_carries_the_signed_name(cast, signed):
    certificate, _transcript = signed
    rename_through_the_profile_form(cast.learner, RENAMED)
    loaded = Certificate.objects.select_related(
        "request__learner__user", "request__type__school", "request__type__association", "request__type__programme",
    ).get(pk=certificate.pk)
    context = rendering._certificate_context(loaded)
    assert context["learner_name"] == SIGNED
    assert context["verify_url"].endswith(reverse("verify:page", args=[certificate.verification_code]))


def test_a_credential_naming_nobody_shows_no_name_not_the_profile(cast, eager, django_capture_on_commit_callbacks):
    learner = cast.learner.learner
    learner.legal_name = ""
    learner.save(update_fields=["legal_name"])
    certificate = issue(cast, django_capture_on_commit_callbacks)
    assert "name" not in certificate.credential["credentialSubject"] and certificate.holder_name == ""
    rename_through_the_profile_form(cast.learner, RENAMED)
    html = Client().get(reverse("verify:page", args=[certificate.verification_code]), HTTP_ACCEPT_LANGUAGE="en")
    assert "Name not recorded" in html.content.decode() and RENAMED not in html.content.decode()


def test_no_public_answer_reads_the_learner_at_all(cast, signed, settings):
    """The class, not the instance: whatever the learner rows say (here changed behind the
    application's back, no signal, no cache bump), nothing public repeats it."""
    settings.CATALOGUE_CACHE_SECONDS = 0
    certificate, transcript = signed
    from enrolment.models import Learner

    Learner.objects.update(legal_name=RENAMED)
    for where, text in public_answers(certificate, transcript).items():
        assert RENAMED not in text and SIGNED in text, where


def test_the_migration_fills_the_signed_name_from_each_stored_credential(cast, signed, eager,
                                                                          django_capture_on_commit_callbacks):  # fmt: skip
    certificate, transcript = signed
    unsigned = Transcript.objects.create(learner=cast.other_learner.learner)  # no credential yet
    Certificate.objects.update(holder_name="")
    Transcript.objects.update(holder_name="")
    rename_through_the_profile_form(cast.learner, RENAMED)  # what the profile says must not matter

    migration = importlib.import_module("certificates.migrations.0006_holder_name_as_signed")
    migration.fill_from_credentials(apps, SimpleNamespace(connection=connection))

    certificate.refresh_from_db()
    transcript.refresh_from_db()
    unsigned.refresh_from_db()
    assert certificate.holder_name == SIGNED == builders.signed_holder_name(certificate.credential)
    assert transcript.holder_name == SIGNED == builders.signed_holder_name(transcript.credential)
    assert unsigned.holder_name == ""


def test_signed_holder_name_reads_only_the_subject():
    assert builders.signed_holder_name(None) == ""
    assert builders.signed_holder_name({"credentialSubject": {"name": "李娜"}}) == "李娜"
    assert builders.signed_holder_name({"credentialSubject": {}}) == ""
    assert builders.signed_holder_name({"credentialSubject": [{"name": "x"}]}) == ""
    assert builders.signed_holder_name({"name": "Certificate title"}) == ""

