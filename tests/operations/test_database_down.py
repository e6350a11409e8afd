"""The database unreachable: /readyz/ says so with 503, /healthz/ still answers, and every page
fails with a friendly bilingual 503 (JSON for the API) that asks to retry, never a trace."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from unittest import mock

import pytest
from django.db import OperationalError, connection

from tests.ouc_portal.test_health import closed_port

REPO_ROOT = Path(__file__).resolve().parents[2]


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


def _get(url: str) -> tuple[int, dict[str, str], str]:
    """Status, headers and body of a GET, whatever the status (urllib raises for 4xx/5xx)."""
    try:
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - our own server
            return response.status, dict(response.headers), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read().decode()


def _wait_until_serving(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"gunicorn exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            _get(url)
            return
        except urllib.error.URLError:
            time.sleep(0.2)
    pytest.fail(f"gunicorn did not answer within 60 s:\n{log.read_text()[-3000:]}")


def test_gunicorn_with_debug_off_and_no_database_answers_readyz_503_and_pages_503(tmp_path):
    """The real server, DEBUG off, its PostgreSQL unreachable: probes and pages behave."""
    port = closed_port()
    env = {
        **os.environ,
        "DEBUG": "false",
        "SECRET_KEY": "database-down-test-" + "x" * 40,
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",
        "CREDENTIAL_SIGNING_KEY": "11" * 32,
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:{closed_port()}/nowhere",
        "DJANGO_SETTINGS_MODULE": "ouc_portal.settings",
    }
    log = tmp_path / "gunicorn.log"
    with log.open("w") as out:
        process = subprocess.Popen(  # noqa: S603 - our own server
            [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", "1",
             "--timeout", "30", "ouc_portal.wsgi:application"],
            cwd=REPO_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_serving(base + "/healthz/", process, log)
        assert _get(base + "/healthz/")[0] == 200
        status, _headers, body = _get(base + "/readyz/")
        assert status == 503
        assert json.loads(body)["checks"]["database"] == "unreachable: OperationalError"
        status, headers, body = _get(base + "/programmes/")
        assert status == 503 and headers["Retry-After"] == "30"
        assert "服务暂时不可用" in body and "Traceback" not in body
        status, _headers, body = _get(base + "/api/v1/programmes/")
        assert status == 503 and "temporarily unavailable" in json.loads(body)["detail"]
    finally:
        process.terminate()
        process.wait(timeout=30)
