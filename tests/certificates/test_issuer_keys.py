"""Keys a plain verifier can dereference: every proof's verificationMethod, fetched as it is,
answers a Multikey controlled by the credential's own issuer, and that key verifies the proof.

Walked for every kind of credential the portal signs — a certificate, a transcript and each
credential nested in it, a status list — through the Django test client, as a document loader
that knows nothing of the portal would fetch them.
"""

from __future__ import annotations

import io
import json
from urllib.parse import urlsplit

import pytest
from django.core.management import CommandError, call_command

from certificates.credentials import builders, dataintegrity, issuer_keys
from certificates.models import IssuerKey
from tests import factories
from tests.certificates.test_credentials import allocated, build_transcript, issue

SEC = "https://w3id.org/security#"


# The PDF renderer is a stub here (tests/certificates/conftest.py): these tests never read its pages.
pytestmark = pytest.mark.usefixtures("quick_pdf")


def fetch(client, url: str, accept: str = "application/ld+json") -> dict:
    """GET ``url`` as a plain document loader does: the URL as it is, fragment dropped by HTTP."""
    parts = urlsplit(url)
    response = client.get(parts.path, HTTP_ACCEPT=accept)
    assert response.status_code == 200, (url, response.status_code)
    assert response["Content-Type"].startswith("application/")
    return json.loads(response.content)


def issuer_id(credential: dict) -> str:
    issuer = credential["issuer"]
    return issuer["id"] if isinstance(issuer, dict) else issuer


def assert_key_resolves_and_verifies(client, credential: dict) -> dict:
    [proof] = credential["proof"]
    method = proof["verificationMethod"]
    assert "#" not in method, "a plain loader cannot pick a fragment out of a document"
    key = fetch(client, method)
    assert key["@context"] == builders.MULTIKEY_V1
    assert key["id"] == method and key["type"] == "Multikey"
    assert key["controller"] == issuer_id(credential)
    assert key["publicKeyMultibase"].startswith("z6Mk") and "revoked" not in key
    # The key is JSON-LD under the pinned Multikey context: nothing dropped.
    assert f"<{SEC}publicKeyMultibase>" in dataintegrity.canonicalize(key)
    assert dataintegrity.verify(credential, public_key=key["publicKeyMultibase"])
    # The controller (the issuer's Profile) names the key for issuing.
    profile = fetch(client, key["controller"])
    assert profile["id"] == key["controller"] and method in profile["assertionMethod"]
    assert method in [m["id"] for m in profile["verificationMethod"]]
    assert f"<{SEC}assertionMethod> <{method}>" in dataintegrity.canonicalize(profile)
    return key


def test_a_certificates_key_resolves_to_its_schools_multikey(client, cast, eager, django_capture_on_commit_callbacks):
    certificate = issue(cast, django_capture_on_commit_callbacks)
    key = assert_key_resolves_and_verifies(client, certificate.credential)
    assert key["controller"] == builders.issuer_url("mechanical")


def test_a_transcripts_keys_resolve_for_it_and_every_nested_credential(
    client, cast, eager, django_capture_on_commit_callbacks
):
    issue(cast, django_capture_on_commit_callbacks)  # embedded, as its school signed it
    transcript = build_transcript(cast.learner.learner, django_capture_on_commit_callbacks)
    credential = transcript.credential
    assert assert_key_resolves_and_verifies(client, credential)["controller"] == builders.issuer_url("credit-bank")
    nested = credential["credentialSubject"]["verifiableCredential"]
    controllers = {assert_key_resolves_and_verifies(client, line)["controller"] for line in nested}
    assert controllers == {builders.issuer_url("credit-bank"), builders.issuer_url("mechanical")}


def test_a_status_lists_key_resolves_to_its_issuer(client, cast, eager, django_capture_on_commit_callbacks):
    certificate = issue(cast, django_capture_on_commit_callbacks)
    status_list = fetch(client, certificate.credential["credentialStatus"]["statusListCredential"])
    assert_key_resolves_and_verifies(client, status_list)


def test_two_schools_have_two_keys_and_neither_is_the_master(cast):
    first = builders.certificate_credential(allocated(cast))
    second = builders.certificate_credential(allocated(cast, school=cast.other_school))
    keys = {k.issuer: k.public_key_multibase for k in IssuerKey.objects.all()}
    assert keys["mechanical"] != keys["coal"]
    assert builders.legacy_public_keys()[0] not in keys.values()
    assert first["proof"][0]["verificationMethod"] != second["proof"][0]["verificationMethod"]
    assert not dataintegrity.verify(second, public_key=keys["mechanical"])


def test_keys_are_derived_so_nothing_secret_is_stored(cast, settings):
    key, private = issuer_keys.signing_key("mechanical")
    master = builders._master_key()[0]
    assert dataintegrity.public_key_to_multibase(private.public_key()) == key.public_key_multibase
    again = issuer_keys.derive_private_key(master, "mechanical", 1)
    assert dataintegrity.public_key_to_multibase(again.public_key()) == key.public_key_multibase
    other = issuer_keys.derive_private_key(master, "mechanical", 2)
    assert dataintegrity.public_key_to_multibase(other.public_key()) != key.public_key_multibase
    assert {f.name for f in IssuerKey._meta.get_fields()} == {
        "id", "issuer", "version", "public_key_multibase", "created_at", "retired_at", "revoked_at",
    }


def test_an_unknown_key_is_a_404(client, cast):
    issuer_keys.signing_key("mechanical")
    assert client.get(builders.key_url("mechanical", 1)).status_code == 200
    for slug, version in (("mechanical", 2), ("coal", 1), ("nobody", 1)):
        assert client.get(urlsplit(builders.key_url(slug, version)).path).status_code == 404


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("credential_key", *args, stdout=out)
    return out.getvalue()


def test_the_command_creates_lists_and_rotates_issuer_keys(cast):
    assert "mechanical: key 1 z6Mk" in run("create", "mechanical")
    assert "mechanical: key 1" in run("create", "mechanical")  # nothing new: it has one
    assert "credit-bank: key 1" in run("create", "credit-bank")
    assert "mechanical: key 2" in run("rotate", "mechanical")
    listed = run("list").splitlines()
    assert [line.split("\t")[:3] for line in listed] == [
        ["credit-bank", "1", "in use"], ["mechanical", "1", "retired"], ["mechanical", "2", "in use"],
    ]
    assert listed[2].split("\t")[4] == builders.key_url("mechanical", 2)
    assert "mechanical: key 3" in run("rotate", "mechanical", "--revoke")
    assert run("list", "mechanical").splitlines()[1].split("\t")[2] == "revoked"
    with pytest.raises(CommandError, match="no issuer"):
        run("create", "no-such-school")
    with pytest.raises(CommandError, match="--all"):
        run("rotate")


def test_a_school_made_later_gets_its_key_on_first_use(cast):
    school = factories.IndustrySchoolFactory(slug="later")
    assert not IssuerKey.objects.filter(issuer="later").exists()
    builders.certificate_credential(allocated(cast, school=school))
    assert IssuerKey.objects.get(issuer="later").version == 1
