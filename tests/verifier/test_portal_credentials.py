"""The portal's credentials, checked by the standard verifier against the live test server.

Issued through the services, fetched over HTTP from pytest-django's live server, and verified by
``tests/verifier/verify.mjs`` (Digital Bazaar's implementation), which dereferences the proof's
verification method and the status list on that server and nowhere else.
"""

from __future__ import annotations

import json
import urllib.request

import pytest

from certificates import services
from certificates.models import Certificate
from tests import factories
from tests.verifier.harness import (
    require_verifier,
    verify_url_with_standard_verifier,
    verify_with_standard_verifier,
)

# Until issue 17 the verifier refused every one of these: the proof's verificationMethod was
# "<issuer profile URL>#<key>", which dereferences to the issuer's Profile, not a Multikey
# ("Unsupported key type "Profile"."), and behind that the status list was the university's while
# the certificate was the school's ("Issuers of the status list credential and verifiable
# credential do not match."). Each issuer now has its own key at its own URL and its own lists.


@pytest.fixture
def portal(live_server, settings, eager, monkeypatch, tmp_path):
    """The live server, with the credentials' URLs pointing at it and the PDF renderer stubbed."""
    require_verifier()
    settings.SITE_URL = live_server.url
    settings.MEDIA_ROOT = str(tmp_path / "media")
    import certificates.rendering as rendering

    monkeypatch.setattr(rendering, "certificate_pdf", lambda certificate: b"%PDF-1.4 test")
    monkeypatch.setattr(rendering, "transcript_pdf", lambda transcript, record: b"%PDF-1.4 test")
    return live_server


def issue_certificate(cast) -> Certificate:
    cert_type = factories.CertificateTypeFactory(school=cast.school, association=cast.association)
    request = factories.completed_request(learner=cast.learner.learner, cert_type=cert_type)
    request = services.request_approve(request=request, reviewer=cast.reviewer)
    certificate = services.certificate_issue(request_id=request.pk)
    assert certificate.is_ready
    return certificate


def get_json(url: str) -> dict:
    # Only ever the live test server's http:// URLs.
    request = urllib.request.Request(url, headers={"Accept": "application/ld+json, application/json"})  # noqa: S310
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        assert response.status == 200
        return json.loads(response.read().decode("utf-8"))


def fetched_credential(portal, certificate: Certificate) -> dict:
    document = get_json(f"{portal.url}/verify/{certificate.verification_code}/credential.json")
    assert document == certificate.credential
    return document


def test_an_issued_certificate_verifies_with_the_standard_verifier(portal, cast):
    credential = fetched_credential(portal, issue_certificate(cast))
    assert credential["credentialStatus"]["statusListCredential"].startswith(portal.url)

    result = verify_with_standard_verifier(credential, base_url=portal.url)

    assert result.verified, result.explain()
    assert result.errors == []
    assert [(r["statusPurpose"], r["verified"], r["status"]) for r in result.status_results] == [
        ("revocation", True, False)
    ]


def test_a_revoked_certificate_is_seen_revoked_by_the_standard_verifier(portal, cast):
    certificate = issue_certificate(cast)
    credential = fetched_credential(portal, certificate)
    before = verify_with_standard_verifier(credential, base_url=portal.url)
    assert before.verified, before.explain()
    assert not before.status_set("revocation")

    services.certificate_revoke(certificate=certificate, actor=cast.reviewer, reason="Issued in error")
    after = verify_with_standard_verifier(fetched_credential(portal, certificate), base_url=portal.url)

    # The credential is still authentic; its entry in the signed status list now says revoked.
    assert after.verified, after.explain()
    assert after.status_set("revocation"), after.explain()


def test_the_status_list_verifies_with_the_standard_verifier(portal, cast):
    credential = fetched_credential(portal, issue_certificate(cast))
    url = credential["credentialStatus"]["statusListCredential"]

    result = verify_url_with_standard_verifier(url, base_url=portal.url, status_list=True)

    assert result.verified, result.explain()
    assert result.status_list["statusPurpose"] == "revocation"
    assert result.status_list["length"] >= 131072


def build_transcript(learner):
    from certificates.models import Transcript

    transcript = services.transcript_request(learner=learner)
    transcript = services.transcript_build(transcript_id=transcript.pk)
    transcript.refresh_from_db()
    assert transcript.status == Transcript.Status.READY, transcript.error
    return transcript


def fetched_transcript(portal, transcript) -> dict:
    document = get_json(f"{portal.url}/verify/{transcript.verification_code}/credential.json")
    assert document == transcript.credential
    return document


def test_a_transcript_and_every_credential_in_it_verify_with_the_standard_verifier(portal, world, accredited, cast):
    certificate = issue_certificate(cast)
    credential = fetched_transcript(portal, build_transcript(world.learner))
    nested = credential["credentialSubject"]["verifiableCredential"]
    assert certificate.credential in nested and len(nested) > 2  # the certificate, the account, the lines

    result = verify_with_standard_verifier(credential, base_url=portal.url, nested=True)

    assert result.verified, result.explain()
    assert [c["path"] for c in result.credentials] == ["$"] + [
        f"$.credentialSubject.verifiableCredential[{i}]" for i in range(len(nested))
    ]
    assert all(c["verified"] for c in result.credentials)
    assert not result.status_set("revocation")


def test_a_superseded_transcript_is_seen_superseded_by_the_standard_verifier(portal, cast):
    learner = cast.learner.learner
    older = build_transcript(learner)
    newer = build_transcript(learner)
    older.refresh_from_db()
    assert older.superseded_by_id == newer.pk

    old = verify_with_standard_verifier(fetched_transcript(portal, older), base_url=portal.url)
    new = verify_with_standard_verifier(fetched_transcript(portal, newer), base_url=portal.url)

    # Both are authentic; only the older one's status entry is set (whatever purpose the portal
    # gives superseding), and the newer one's is not.
    assert old.verified, old.explain()
    assert new.verified, new.explain()
    assert any(r["status"] is True for r in old.status_results), old.explain()
    assert not any(r["status"] is True for r in new.status_results), new.explain()
