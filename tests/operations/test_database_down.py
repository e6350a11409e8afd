"""The database unreachable: /readyz/ says so with 503, /healthz/ still answers, and every page
fails with a friendly bilingual 503 (JSON for the API) that asks to retry, never a trace."""

from __future__ import annotations

import json
from unittest import mock

import pytest
from django.db import OperationalError, connection

from tests.operations.server import get, gunicorn
from tests.ouc_portal.test_health import closed_port


@pytest.fixture
def production_client(client, settings):
    """The test client as a browser meets the site with DEBUG off: error pages, no exceptions."""
    settings.DEBUG = False
    client.raise_request_exception = False
    return client


@pytest.mark.django_db
def test_a_page_with_the_database_down_is_a_friendly_503(production_client):
    with mock.patch.object(connection, "cursor", side_effect=OperationalError("server closed")):
        page = production_client.get("/programmes/")
        api = production_client.get("/api/v1/programmes/")
    assert page.status_code == 503 and page["Retry-After"] == "30"
    html = page.content.decode()
    assert "服务暂时不可用" in html and "The portal is briefly unavailable" in html
    assert "Traceback" not in html and "server closed" not in html
    assert api.status_code == 503 and api["Retry-After"] == "30"
    assert api.json() == {"detail": "The service is temporarily unavailable. Try again shortly."}


@pytest.mark.django_db
def test_any_other_failure_is_the_friendly_500(production_client):
    with mock.patch("schools.views.render", side_effect=RuntimeError("template bug")):
        page = production_client.get("/centres/")
    assert page.status_code == 500 and "Retry-After" not in page
    html = page.content.decode()
    assert "抱歉，服务器出了问题" in html and "Sorry, something went wrong" in html
    assert "template bug" not in html


def test_gunicorn_with_debug_off_and_no_database_answers_readyz_503_and_pages_503(tmp_path):
    """The real server, DEBUG off, its PostgreSQL unreachable: probes and pages behave."""
    env = {
        "DEBUG": "false",
        "SECRET_KEY": "database-down-test-" + "x" * 40,
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",
        "CREDENTIAL_SIGNING_KEY": "11" * 32,
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:{closed_port()}/nowhere",
    }
    with gunicorn(env, tmp_path / "gunicorn.log") as base:
        assert get(base + "/healthz/")[0] == 200
        status, _headers, body = get(base + "/readyz/")
        assert status == 503
        assert json.loads(body)["checks"]["database"] == "unreachable: OperationalError"
        status, headers, body = get(base + "/programmes/")
        assert status == 503 and headers["Retry-After"] == "30"
        assert "服务暂时不可用" in body and "Traceback" not in body
        status, _headers, body = get(base + "/api/v1/programmes/")
        assert status == 503 and "temporarily unavailable" in json.loads(body)["detail"]
