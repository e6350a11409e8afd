"""Status lists per issuer: every status entry names a list its credential's own issuer signs;
revoking sets the revocation bit, a newer transcript sets the old one's suspension bit, and a
certificate under review can be suspended and reinstated."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

import pytest
from django.utils import translation

from certificates import services
from certificates.credentials import builders
from certificates.errors import CertificateError
from ouc_portal.audit.models import AuditEvent
from tests.certificates.test_credentials import (
    build_transcript,
    issue,
    spec_bit,
    spec_decode,
)
from tests.certificates.test_issuer_keys import assert_key_resolves_and_verifies

# The PDF renderer is a stub here (tests/certificates/conftest.py): these tests never read its pages.
pytestmark = pytest.mark.usefixtures("quick_pdf")


def issuer_id(credential: dict) -> str:
    issuer = credential["issuer"]
    return issuer["id"] if isinstance(issuer, dict) else issuer


def fetch_list(client, entry: dict) -> dict:
    response = client.get(urlsplit(entry["statusListCredential"]).path, HTTP_ACCEPT="application/ld+json")
    assert response.status_code == 200
    return json.loads(response.content)


def entry_bit(client, credential: dict) -> int:
    entry = credential["credentialStatus"]
    listed = fetch_list(client, entry)
    assert listed["credentialSubject"]["statusPurpose"] == entry["statusPurpose"]
    return spec_bit(spec_decode(listed["credentialSubject"]["encodedList"]), int(entry["statusListIndex"]))


def assert_list_is_the_issuers(client, credential: dict) -> dict:
    """What vc-bitstring-status-list checks: the list is a credential of the same issuer, for the
    entry's purpose, and (what any verifier then checks) its own proof verifies with that issuer's key."""
    entry = credential["credentialStatus"]
    assert isinstance(entry, dict) and entry["type"] == "BitstringStatusListEntry"
    listed = fetch_list(client, entry)
    assert listed["id"] == entry["statusListCredential"]
    assert issuer_id(listed) == issuer_id(credential)
    assert listed["credentialSubject"]["statusPurpose"] == entry["statusPurpose"]
    assert builders.verify_credential(listed)
    assert_key_resolves_and_verifies(client, listed)
    return listed


def test_every_status_entry_names_a_list_of_the_credentials_own_issuer(
    client, cast, eager, django_capture_on_commit_callbacks
):
    certificate = issue(cast, django_capture_on_commit_callbacks)
    other = issue(cast, django_capture_on_commit_callbacks, school=cast.other_school)
    transcript = build_transcript(cast.learner.learner, django_capture_on_commit_callbacks)
    assert certificate.credential["credentialStatus"]["statusPurpose"] == "revocation"
    assert transcript.credential["credentialStatus"]["statusPurpose"] == "suspension"
    credentials = [certificate.credential, other.credential, transcript.credential]
    credentials += transcript.credential["credentialSubject"]["verifiableCredential"]
    issuers = {issuer_id(assert_list_is_the_issuers(client, c)) for c in credentials}
    assert issuers == {builders.issuer_url(s) for s in ("mechanical", "coal", "credit-bank")}


def test_revoking_sets_the_revocation_bit(client, cast, eager, django_capture_on_commit_callbacks):
    certificate = issue(cast, django_capture_on_commit_callbacks)
    assert entry_bit(client, certificate.credential) == 0
    services.certificate_revoke(certificate=certificate, actor=cast.reviewer, reason="Issued in error")
    assert entry_bit(client, certificate.credential) == 1


def test_a_superseded_transcript_has_its_suspension_bit_set(client, cast, eager, django_capture_on_commit_callbacks):
    first = build_transcript(cast.learner.learner, django_capture_on_commit_callbacks)
    lines = first.credential["credentialSubject"]["verifiableCredential"]
    assert entry_bit(client, first.credential) == 0
    assert all(line["credentialStatus"] == first.credential["credentialStatus"] for line in lines)
    second = build_transcript(cast.learner.learner, django_capture_on_commit_callbacks)
    first.refresh_from_db()
    assert first.superseded_by == second
    assert entry_bit(client, first.credential) == 1  # offline verifiers now see it too
    assert all(entry_bit(client, line) == 1 for line in lines)
    assert entry_bit(client, second.credential) == 0


def test_a_certificate_under_review_is_suspended_and_reinstated(client, cast, eager, django_capture_on_commit_callbacks):
    certificate = issue(cast, django_capture_on_commit_callbacks)
    entry = certificate.credential["credentialStatus"]
    suspension = builders.issuer_status_list_url("mechanical", "suspension", int(entry["statusListIndex"]) // 131072)

    def suspended_bit() -> int:
        listed = client.get(urlsplit(suspension).path).json()
        assert issuer_id(listed) == issuer_id(certificate.credential) and builders.verify_credential(listed)
        return spec_bit(spec_decode(listed["credentialSubject"]["encodedList"]), certificate.status_index)

    assert suspended_bit() == 0
    services.certificate_suspend(certificate=certificate, reason="An outcome it rests on was revoked")
    services.certificate_suspend(certificate=certificate, reason="again")  # once is enough
    certificate.refresh_from_db()
    assert certificate.status_on() == "suspended" and suspended_bit() == 1
    assert entry_bit(client, certificate.credential) == 0  # suspended is not revoked
    page = client.get(f"/verify/{certificate.verification_code}/", HTTP_ACCEPT_LANGUAGE="en")
    assert "Suspended" in page.content.decode()
    assert AuditEvent.objects.filter(action="certificate.suspend").count() == 1

    services.certificate_reinstate(certificate=certificate, actor=cast.reviewer)
    certificate.refresh_from_db()
    assert certificate.status_on() == "valid" and suspended_bit() == 0
    assert AuditEvent.objects.filter(action="certificate.reinstate").count() == 1

    with pytest.raises(CertificateError):
        services.certificate_suspend(certificate=certificate, actor=cast.other_reviewer, reason="not theirs")
    services.certificate_revoke(certificate=certificate, actor=cast.reviewer, reason="Fraud")
    with translation.override("en"), pytest.raises(CertificateError, match="revoked"):
        services.certificate_suspend(certificate=certificate, reason="too late")
