"""Public verification: the pages at /verify/, the credential download, issuer profiles, status lists.

No login anywhere. A code verifies to a certificate issued in full or a ready transcript, and the
page says in words whether it is valid, revoked (when, why), expired (when) or superseded (when).
Every lookup counts against a per-address rate limit, unknown codes included.
"""

from __future__ import annotations

import datetime
import json

import pytest
from django.urls import reverse
from django.utils import timezone

from certificates import services
from certificates.credentials import builders, dataintegrity
from certificates.models import Certificate, Transcript
from tests.certificates.test_credentials import (
    allocated,
    build_transcript,
    issue,
    spec_bit,
    spec_decode,
)

# The PDF renderer is a stub here (tests/certificates/conftest.py): these tests never read its pages.
pytestmark = pytest.mark.usefixtures("quick_pdf")


@pytest.fixture
def certificate(cast, eager, django_capture_on_commit_callbacks) -> Certificate:
    return issue(
        cast, django_capture_on_commit_callbacks, name_en="Numerical Control Technology: completion",
        name_zh="数控技术结业证书",
    )


def page_url(code: str) -> str:
    return reverse("verify:page", args=[code])


def text_of(response) -> str:
    return response.content.decode()


# -- what the page says --------------------------------------------------------------------------


def test_a_valid_certificate_verifies_with_its_facts(client, cast, certificate, django_assert_max_num_queries):
    with django_assert_max_num_queries(2):
        response = client.get(page_url(certificate.verification_code), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    html = text_of(response)
    assert "Certificate verification" in html
    assert "Valid: this certificate is genuine and in force." in html
    assert 'class="badge badge--valid">Valid<' in html  # the status in words, not only colour
    for fact in (
        cast.learner.learner.legal_name, "Numerical Control Technology: completion", "数控技术结业证书",
        certificate.serial, certificate.issued_on.isoformat(), "Does not expire", "School of Mechanical Industry",
        cast.association.name_en,
    ):
        assert fact in html, fact
    assert reverse("verify:credential", args=[certificate.verification_code]) in html
    assert "learner@example.org" not in html
    assert response["X-Robots-Tag"].startswith("noindex")
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]


def test_the_page_speaks_chinese_too(client, certificate):
    response = client.get(page_url(certificate.verification_code), HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 200
    assert '<html lang="zh-hans">' in text_of(response)


def test_a_revoked_certificate_says_when_and_why(client, cast, certificate):
    services.certificate_revoke(certificate=certificate, actor=cast.reviewer, reason="Issued in error")
    response = client.get(page_url(certificate.verification_code), HTTP_ACCEPT_LANGUAGE="en")
    html = text_of(response)
    assert response.status_code == 200
    today = timezone.localdate().isoformat()
    assert f"Revoked on {today}. Reason: Issued in error" in html
    assert 'class="badge badge--revoked">Revoked<' in html
    assert "genuine and in force" not in html


def test_an_expired_certificate_says_since_when(client, cast, eager, django_capture_on_commit_callbacks):
    certificate = issue(cast, django_capture_on_commit_callbacks, validity_years=2)
    ended = timezone.localdate() - datetime.timedelta(days=1)
    Certificate.objects.filter(pk=certificate.pk).update(expires_on=ended)  # two years on
    html = text_of(client.get(page_url(certificate.verification_code), HTTP_ACCEPT_LANGUAGE="en"))
    assert f"Expired on {ended.isoformat()}." in html
    assert 'class="badge badge--expired">Expired<' in html


def test_a_certificate_not_issued_in_full_does_not_verify(client, cast):
    waiting = allocated(cast)  # row and serial, no credential or PDF yet
    response = client.get(page_url(waiting.verification_code), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 404
    assert "No certificate or transcript has this code" in text_of(response)


@pytest.mark.parametrize("code", ["x" * 32, "short", "has space in it and is long enough"])
def test_an_unknown_code_is_a_friendly_404(client, db, code):
    response = client.get(page_url(code), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 404
    html = text_of(response)
    assert "No certificate or transcript has this code" in html
    assert 'name="code"' in html  # and a form to try again


def test_a_transcript_verifies_and_later_is_superseded(client, cast, eager, django_capture_on_commit_callbacks,
                                                        django_assert_max_num_queries):
    learner = cast.learner.learner
    first = build_transcript(learner, django_capture_on_commit_callbacks)
    with django_assert_max_num_queries(2):
        response = client.get(page_url(first.verification_code), HTTP_ACCEPT_LANGUAGE="en")
    html = text_of(response)
    assert response.status_code == 200
    assert "Transcript verification" in html and "is the learner&#x27;s latest" in html
    assert learner.legal_name in html and "Credit Bank of The Open University of China" in html

    second = build_transcript(learner, django_capture_on_commit_callbacks)
    first.refresh_from_db()
    assert first.superseded_by_id == second.pk
    html = text_of(client.get(page_url(first.verification_code), HTTP_ACCEPT_LANGUAGE="en"))
    on = timezone.localdate(first.superseded_at).isoformat()
    assert f"Superseded on {on} by a newer transcript." in html
    assert 'class="badge badge--superseded">Superseded<' in html
    assert second.verification_code not in html  # no link onward: the newer one is the learner's to share
    assert "is the learner&#x27;s latest" in text_of(client.get(page_url(second.verification_code), HTTP_ACCEPT_LANGUAGE="en"))


def test_a_transcript_that_is_not_ready_does_not_verify(client, cast):
    transcript = Transcript.objects.create(learner=cast.learner.learner)
    assert client.get(page_url(transcript.verification_code)).status_code == 404


# -- lookup form ---------------------------------------------------------------------------------


def test_the_lookup_form_leads_to_the_page(client, certificate):
    assert client.get(reverse("verify:lookup"), HTTP_ACCEPT_LANGUAGE="en").status_code == 200
    response = client.get(reverse("verify:lookup"), {"code": f"  {certificate.verification_code} "})
    assert response.status_code == 302 and response["Location"] == page_url(certificate.verification_code)
    pasted = "https://portal.example/verify/" + certificate.verification_code + "/"
    response = client.get(reverse("verify:lookup"), {"code": pasted})
    assert response["Location"] == page_url(certificate.verification_code)
    response = client.get(reverse("verify:lookup"), {"code": "not a code"}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200 and "This is not a verification code" in text_of(response)


# -- the credential, the issuer, the status list -------------------------------------------------


def test_the_signed_credential_downloads_as_json_ld(client, certificate):
    response = client.get(reverse("verify:credential", args=[certificate.verification_code]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/ld+json")
    assert response["Content-Disposition"] == f'attachment; filename="{certificate.serial}.json"'
    downloaded = json.loads(response.content)
    assert downloaded == certificate.credential
    assert builders.verify_credential(downloaded)
    assert client.get(reverse("verify:credential", args=["y" * 32])).status_code == 404


def test_the_issuer_profile_serves_the_key_that_verifies(client, certificate):
    credential = certificate.credential
    response = client.get(reverse("verify:issuer", args=["mechanical"]))
    assert response.status_code == 200 and response["Content-Type"].startswith("application/ld+json")
    assert response["Access-Control-Allow-Origin"] == "*"
    profile = json.loads(response.content)
    assert profile["id"] == credential["issuer"]["id"]
    keys = {m["id"]: m["publicKeyMultibase"] for m in profile["verificationMethod"]}
    key = keys[credential["proof"][0]["verificationMethod"]]
    assert dataintegrity.verify(credential, public_key=key)
    assert client.get(reverse("verify:issuer", args=["credit-bank"])).status_code == 200
    assert client.get(reverse("verify:issuer", args=["nobody"])).status_code == 404


def test_the_status_list_shows_a_revocation_at_once(client, cast, certificate, django_assert_max_num_queries):
    url = certificate.credential["credentialStatus"]["statusListCredential"]
    assert url == builders.issuer_status_list_url("mechanical", "revocation", 0)
    client.get(url)  # the first request signs; later ones find the signature cached
    with django_assert_max_num_queries(5):  # the school, the counter, the key, the positions
        before = client.get(url)
    assert before.status_code == 200 and before["Content-Type"].startswith("application/ld+json")
    listed = json.loads(before.content)
    assert listed["id"] == url and listed["issuer"] == certificate.credential["issuer"]["id"]
    assert spec_bit(spec_decode(listed["credentialSubject"]["encodedList"]), certificate.status_index) == 0
    assert client.get(url, HTTP_IF_NONE_MATCH=before["ETag"]).status_code == 304

    services.certificate_revoke(certificate=certificate, actor=cast.reviewer, reason="Issued in error")
    after = client.get(url, HTTP_IF_NONE_MATCH=before["ETag"])
    assert after.status_code == 200 and after["ETag"] != before["ETag"]
    revoked = json.loads(after.content)
    assert spec_bit(spec_decode(revoked["credentialSubject"]["encodedList"]), certificate.status_index) == 1
    assert builders.verify_credential(revoked)
    for slug, purpose, number in (("mechanical", "revocation", 7), ("mechanical", "expiry", 0), ("nobody", "revocation", 0)):
        assert client.get(reverse("verify:issuer_status_list", args=[slug, purpose, number])).status_code == 404


def test_the_shared_list_of_before_issue_17_stays_published_for_what_names_it(client, cast, certificate):
    """A certificate signed before issue 17 names ``/credentials/status/<n>/`` (issued by ouc):
    that list is still served, signed by ouc's own key, and shows its revocations."""
    Certificate.objects.filter(pk=certificate.pk).update(status_issuer="", status_index=5)
    url = reverse("verify:status_list", args=[0])
    listed = client.get(url).json()
    assert listed["issuer"] == builders.issuer_url("ouc") and builders.verify_credential(listed)
    assert spec_bit(spec_decode(listed["credentialSubject"]["encodedList"]), 5) == 0
    certificate.refresh_from_db()
    services.certificate_revoke(certificate=certificate, actor=cast.reviewer, reason="Issued in error")
    listed = client.get(url).json()
    assert spec_bit(spec_decode(listed["credentialSubject"]["encodedList"]), 5) == 1


# -- rate limit ----------------------------------------------------------------------------------


def test_a_lookup_without_the_client_address_shares_one_budget_instead_of_failing(
    client, settings, certificate
):
    # Behind a proxy the address comes from its header; a request that bypassed the proxy has none.
    settings.RATELIMIT_IP_META_KEY = "HTTP_X_REAL_IP"
    settings.VERIFY_RATE_LIMIT = "2/d"
    code = certificate.verification_code
    api = reverse("certificates-api:verify", args=[code])
    assert client.get(page_url(code)).status_code == 200
    assert client.get(api).status_code == 200
    # Every address-less lookup counts together (the API's answers are never cached whole).
    assert client.get(api).status_code == 429
    assert client.get(api, HTTP_X_REAL_IP="198.51.100.4").status_code == 200


def test_lookups_are_rate_limited_unknown_codes_included(client, settings, certificate):
    settings.VERIFY_RATE_LIMIT = "3/d"  # a day-long window: a minute boundary mid-test would reset the count
    code = certificate.verification_code
    assert client.get(page_url("z" * 32)).status_code == 404
    assert client.get(page_url("w" * 32)).status_code == 404
    assert client.get(reverse("verify:credential", args=[code])).status_code == 200
    limited = client.get(page_url(code), HTTP_ACCEPT_LANGUAGE="en")
    assert limited.status_code == 429
    assert int(limited["Retry-After"]) >= 1
    html = text_of(limited)
    assert "Too many checks" in html and "seconds" in html
    in_chinese = client.get(page_url(code), HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert in_chinese.status_code == 429 and "Too many checks" not in text_of(in_chinese)
    assert client.get(reverse("verify:credential", args=[code])).status_code == 429
    api = client.get(reverse("certificates-api:verify", args=[code]))
    assert api.status_code == 429 and "Retry-After" in api and "detail" in api.json()

    # Another address has its own budget.
    assert client.get(page_url(code), REMOTE_ADDR="192.0.2.7").status_code == 200
    # Issuer profiles and status lists are not lookups of a code.
    assert client.get(reverse("verify:issuer", args=["mechanical"])).status_code == 200
    assert client.get(reverse("verify:status_list", args=[0])).status_code == 200
    assert client.get(certificate.credential["credentialStatus"]["statusListCredential"]).status_code == 200
