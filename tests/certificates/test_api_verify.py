"""The public verification API: anonymous, same facts and status as the page, 404 and 429 in JSON."""

from __future__ import annotations

import copy
import datetime

import pytest
from django.urls import include, path, reverse
from django.utils import timezone
from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.generators import SchemaGenerator

from certificates import services
from certificates.credentials import builders
from certificates.links import absolute
from certificates.models import Certificate, Transcript
from tests.certificates.test_credentials import build_transcript, issue

# The PDF renderer is a stub here (tests/certificates/conftest.py): these tests never read its pages.
pytestmark = pytest.mark.usefixtures("quick_pdf")


@pytest.fixture
def certificate(cast, eager, django_capture_on_commit_callbacks) -> Certificate:
    return issue(cast, django_capture_on_commit_callbacks, name_en="Mould Design: completion", name_zh="模具设计结业证书")


def api_url(code: str) -> str:
    return reverse("certificates-api:verify", args=[code])


def test_anyone_can_verify_a_certificate(client, cast, certificate, django_assert_max_num_queries):
    with django_assert_max_num_queries(2):
        response = client.get(api_url(certificate.verification_code), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    data = response.json()
    assert data == {
        "kind": "certificate",
        "status": "valid",
        "status_text": "Valid: this certificate is genuine and in force.",
        "revoked_on": None,
        "revocation_reason": "",
        "expires_on": None,
        "superseded_on": None,
        "serial": certificate.serial,
        "learner_name": cast.learner.learner.legal_name,
        "title_en": "Mould Design: completion",
        "title_zh": "模具设计结业证书",
        "issuer": {
            "slug": "mechanical",
            "name_en": "School of Mechanical Industry",
            "name_zh": cast.school.name_zh,
            "profile_url": builders.issuer_url("mechanical"),
            "approved_by_en": cast.association.name_en,
            "approved_by_zh": cast.association.name_zh,
        },
        "issued_on": certificate.issued_on.isoformat(),
        "credential_url": absolute(reverse("verify:credential", args=[certificate.verification_code])),
        "verified": True,
    }


def test_the_api_says_what_the_page_says(client, cast, certificate, eager, django_capture_on_commit_callbacks):
    services.certificate_revoke(certificate=certificate, actor=cast.reviewer, reason="Fraud")
    data = client.get(api_url(certificate.verification_code), HTTP_ACCEPT_LANGUAGE="en").json()
    today = timezone.localdate().isoformat()
    assert data["status"] == "revoked" and data["revoked_on"] == today and data["revocation_reason"] == "Fraud"
    page = client.get(reverse("verify:page", args=[certificate.verification_code]), HTTP_ACCEPT_LANGUAGE="en")
    assert data["status_text"] in page.content.decode()

    expiring = issue(cast, django_capture_on_commit_callbacks, validity_years=1, learner=cast.other_learner.learner)
    ended = timezone.localdate() - datetime.timedelta(days=3)
    Certificate.objects.filter(pk=expiring.pk).update(expires_on=ended)
    data = client.get(api_url(expiring.verification_code), HTTP_ACCEPT_LANGUAGE="en").json()
    assert data["status"] == "expired" and data["expires_on"] == ended.isoformat()


def test_a_transcript_verifies_and_shows_supersession(client, cast, eager, django_capture_on_commit_callbacks):
    learner = cast.learner.learner
    first = build_transcript(learner, django_capture_on_commit_callbacks)
    data = client.get(api_url(first.verification_code)).json()
    assert data["kind"] == "transcript" and data["status"] == "valid" and data["verified"] is True
    assert data["serial"] is None and data["issuer"]["slug"] == "credit-bank"
    build_transcript(learner, django_capture_on_commit_callbacks)
    first.refresh_from_db()
    data = client.get(api_url(first.verification_code)).json()
    assert data["status"] == "superseded"
    assert data["superseded_on"] == timezone.localdate(first.superseded_at).isoformat()


def test_a_stored_credential_that_was_altered_reports_unverified(client, certificate):
    altered = copy.deepcopy(certificate.credential)
    altered["credentialSubject"]["name"] = "Somebody Else"
    Certificate.objects.filter(pk=certificate.pk).update(credential=altered)
    data = client.get(api_url(certificate.verification_code)).json()
    assert data["verified"] is False


def test_an_unknown_code_is_404_json(client, db):
    response = client.get(api_url("q" * 32), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 404
    assert response.json() == {"detail": "No certificate or transcript has this code."}


def test_a_signed_in_user_gets_the_same_answer(client, cast, certificate):
    client.force_login(cast.other_learner)
    assert client.get(api_url(certificate.verification_code)).json()["verified"] is True
    assert not Transcript.objects.exists()


def test_the_api_is_rate_limited(client, settings, certificate):
    settings.VERIFY_RATE_LIMIT = "2/d"  # a day-long window: a minute boundary mid-test would reset the count
    assert client.get(api_url("q" * 32)).status_code == 404
    assert client.get(api_url(certificate.verification_code)).status_code == 200
    response = client.get(api_url(certificate.verification_code))
    assert response.status_code == 429 and int(response["Retry-After"]) >= 1


def test_the_schema_documents_the_verification_endpoint_without_warnings():
    GENERATOR_STATS.reset()
    generator = SchemaGenerator(patterns=[path("api/v1/", include("certificates.api.urls"))])
    schema = generator.get_schema(request=None, public=True)
    assert not GENERATOR_STATS._warn_cache, dict(GENERATOR_STATS._warn_cache)
    assert not GENERATOR_STATS._error_cache, dict(GENERATOR_STATS._error_cache)
    operation = schema["paths"]["/api/v1/verify/{code}/"]["get"]
    assert {"200", "404", "429"} <= set(operation["responses"])
    assert operation.get("security") in (None, [], [{}])
