"""``check --deploy`` refuses a SITE_URL that would sign unreachable ids into credentials."""

from __future__ import annotations

import secrets

import pytest

from certificates.checks import site_url_problem, site_url_public
from tests.ouc_portal.test_settings import clean_env, run_python


@pytest.mark.parametrize(
    "value",
    [
        None, "", "http://127.0.0.1:8000", "http://portal.example", "https://localhost",
        "https://LOCALHOST:8443", "https://app.localhost", "https://127.0.0.1", "https://127.1.2.3:8000",
        "https://[::1]", "https://0.0.0.0", "https://portal.example/sub", "https://portal.example?x=1",
        "https://user:pw@portal.example", "ftp://portal.example", "portal.example",
    ],
)
def test_a_site_url_that_others_cannot_reach_is_refused(value):
    assert site_url_problem(value) is not None


@pytest.mark.parametrize("value", ["https://portal.example", "https://portal.example:8443", "https://203.0.113.5"])
def test_a_public_https_origin_passes(value):
    assert site_url_problem(value) is None


def test_the_check_names_the_setting(settings):
    settings.SITE_URL = "http://127.0.0.1:8000"
    [error] = site_url_public(None)
    assert error.id == "certificates.E003" and "SITE_URL" in error.msg and "https" in error.msg
    settings.SITE_URL = "https://portal.example"
    assert site_url_public(None) == []


def _deploy_env(**values: str) -> dict[str, str]:
    return clean_env(
        DEBUG="false", SECRET_KEY=secrets.token_urlsafe(48)[:64], ALLOWED_HOSTS="portal.example",
        CREDENTIAL_SIGNING_KEY=secrets.token_hex(32), **values,
    )  # fmt: skip


def test_check_deploy_fails_with_site_url_unset_and_passes_with_an_https_origin():
    unset = run_python(["manage.py", "check", "--deploy"], _deploy_env())
    assert unset.returncode != 0 and "certificates.E003" in unset.stdout + unset.stderr
    good = run_python(["manage.py", "check", "--deploy"], _deploy_env(SITE_URL="https://portal.example"))
    assert "certificates.E003" not in good.stdout + good.stderr
