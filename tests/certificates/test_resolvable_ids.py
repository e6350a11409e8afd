"""Everything an id in a credential names resolves: the credential's own id answers the signed
credential to a client that asks for JSON (the page to a browser), and every achievement id
answers that Achievement, exactly as the credentials embed it."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

import pytest

from certificates.credentials import builders, dataintegrity
from ouc_portal.pagecache import MARK
from tests.certificates.test_credentials import (
    SCHEMA_SOURCES,
    STRICT_OB3_SCHEMA,
    assert_schema_valid,
    build_transcript,
    issue,
)

JSON_TYPES = ["application/ld+json", "application/vc+ld+json", "application/json"]


# The PDF renderer is a stub here (tests/certificates/conftest.py): these tests never read its pages.
pytestmark = pytest.mark.usefixtures("quick_pdf")


def get(client, url: str, accept: str):
    return client.get(urlsplit(url).path, HTTP_ACCEPT=accept)


@pytest.mark.parametrize("accept", JSON_TYPES + ["application/ld+json;q=0.9, text/html;q=0.5"])
def test_a_credential_id_answers_the_signed_credential_when_json_is_asked(
    client, cast, eager, django_capture_on_commit_callbacks, accept
):
    certificate = issue(cast, django_capture_on_commit_callbacks)
    response = get(client, certificate.credential["id"], accept)
    assert response.status_code == 200
    assert response["Content-Type"].split(";")[0] == accept.split(";")[0]
    assert "Accept" in response["Vary"]
    assert json.loads(response.content) == certificate.credential


@pytest.mark.parametrize("accept", ["text/html,application/xhtml+xml,*/*;q=0.8", "*/*", ""])
def test_a_browser_still_gets_the_page(client, cast, eager, django_capture_on_commit_callbacks, accept):
    certificate = issue(cast, django_capture_on_commit_callbacks)
    response = get(client, certificate.credential["id"], accept)
    assert response.status_code == 200 and response["Content-Type"].startswith("text/html")
    assert "Accept" in response["Vary"]


def test_the_page_cache_keeps_the_page_and_the_credential_apart(
    client, cast, eager, django_capture_on_commit_callbacks, settings
):
    settings.CATALOGUE_CACHE_SECONDS = 600
    certificate = issue(cast, django_capture_on_commit_callbacks)
    url = certificate.credential["id"]
    html, as_json = get(client, url, "text/html"), get(client, url, "application/ld+json")
    assert html[MARK] == "miss" and as_json[MARK] == "miss"
    html_again, json_again = get(client, url, "text/html"), get(client, url, "application/ld+json")
    assert html_again[MARK] == "hit" and html_again["Content-Type"].startswith("text/html")
    assert json_again[MARK] == "hit" and json.loads(json_again.content) == certificate.credential


def test_a_transcript_id_answers_its_credential(client, cast, eager, django_capture_on_commit_callbacks):
    transcript = build_transcript(cast.learner.learner, django_capture_on_commit_callbacks)
    response = get(client, transcript.credential["id"], "application/ld+json")
    assert json.loads(response.content) == transcript.credential


def assert_achievement_resolves(client, achievement: dict) -> None:
    if not achievement["id"].startswith("http"):
        return  # urn:uuid: a learning outcome of another body's, named, not served
    served = json.loads(get(client, achievement["id"], "application/ld+json").content)
    assert served["@context"] == [builders.VC2, builders.OB3]
    assert {k: v for k, v in served.items() if k != "@context"} == achievement
    # JSON-LD that expands under the pinned contexts without dropping anything (safe mode).
    assert f"<{achievement['id']}>" in dataintegrity.canonicalize(served)


def test_every_achievement_id_answers_that_achievement(client, cast, eager, django_capture_on_commit_callbacks):
    from tests import factories

    certificate = issue(cast, django_capture_on_commit_callbacks)
    assert_achievement_resolves(client, certificate.credential["credentialSubject"]["achievement"])
    transcript = build_transcript(cast.learner.learner, django_capture_on_commit_callbacks)
    lines = transcript.credential["credentialSubject"]["verifiableCredential"]
    assert len(lines) >= 3
    for line in lines:
        assert_achievement_resolves(client, line["credentialSubject"]["achievement"])
    programme = factories.ProgrammeFactory(school=cast.school)
    group = factories.RequirementGroupFactory(programme=programme) if hasattr(factories, "RequirementGroupFactory") else None
    for path in ("certificate-types/nope/", "programmes/NOPE/", "elsewhere/", f"programmes/{programme.code}/courses/NOPE/"):
        assert client.get(f"/credentials/achievements/{path}").status_code == 404
    if group is not None:
        served = client.get(builders.achievement_url("programmes", programme.code, "groups", group.name_en))
        assert served.status_code == 200


def test_certificates_pass_both_1edtech_schemas(cast, eager, django_capture_on_commit_callbacks):
    certificate = issue(cast, django_capture_on_commit_callbacks)
    assert_schema_valid(certificate.credential, SCHEMA_SOURCES["ob_v3p0_achievementcredential_schema.json"])
    assert_schema_valid(certificate.credential, STRICT_OB3_SCHEMA)
    transcript = build_transcript(cast.learner.learner, django_capture_on_commit_callbacks)
    assert_schema_valid(transcript.credential, SCHEMA_SOURCES["clr_v2p0_clrcredential_schema.json"])
    for line in transcript.credential["credentialSubject"]["verifiableCredential"]:
        assert_schema_valid(line, STRICT_OB3_SCHEMA)
