"""Settings come from the environment and refuse what they cannot parse.

Each malformed value is tried in a fresh interpreter, the way a deployment starts: a typo must stop
start-up with a message naming the variable, never fall back to a default.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from ouc_portal.env import (
    env_bool,
    env_choice,
    env_database,
    env_int,
    env_list,
    env_redis_url,
    env_str,
)

REPO_ROOT = Path(__file__).resolve().parents[2]


def clean_env(**values: str) -> dict[str, str]:
    """A minimal environment: none of the caller's DATABASE_URL, REDIS_URL, DEBUG, ... leak in."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/tmp"),
        "LANG": "C.UTF-8",
        "DJANGO_SETTINGS_MODULE": "ouc_portal.settings",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    env.update(values)
    return env


def run_python(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def django_setup(**values: str) -> subprocess.CompletedProcess[str]:
    return run_python(["-c", "import django; django.setup()"], clean_env(**values))


def test_clean_environment_starts() -> None:
    # The control case: without it, every refusal below could be a broken interpreter.
    result = django_setup()
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("values", "variable"),
    [
        ({"DEBUG": "maybe"}, "DEBUG"),
        ({"CONN_MAX_AGE": "abc"}, "CONN_MAX_AGE"),
        ({"CONN_MAX_AGE": "-1"}, "CONN_MAX_AGE"),
        ({"DATABASE_URL": "mysql://x/y"}, "DATABASE_URL"),
        ({"DATABASE_URL": "nonsense"}, "DATABASE_URL"),
        ({"DATABASE_URL": "postgres://127.0.0.1:5432"}, "DATABASE_URL"),
        ({"REDIS_URL": "http://x"}, "REDIS_URL"),
        ({"ALLOWED_HOSTS": "portal.example,,other.example"}, "ALLOWED_HOSTS"),
        ({"ALLOWED_HOSTS": "portal.example,"}, "ALLOWED_HOSTS"),
        ({"LOG_LEVEL": "LOUD"}, "LOG_LEVEL"),
        ({"DEBUG": "false"}, "SECRET_KEY"),
        ({"DEBUG": "false", "SECRET_KEY": "x" * 64}, "ALLOWED_HOSTS"),
        ({"EMAIL_PORT": "0"}, "EMAIL_PORT"),
        ({"EMAIL_HOST": "smtp.example", "EMAIL_PORT": "0"}, "EMAIL_PORT"),
        ({"EMAIL_PORT": "70000"}, "EMAIL_PORT"),
        ({"SECURE_HSTS_SECONDS": "a year"}, "SECURE_HSTS_SECONDS"),
        ({"CELERY_TASK_ALWAYS_EAGER": "sometimes"}, "CELERY_TASK_ALWAYS_EAGER"),
        ({"CACHE_URL": "memcached://x"}, "CACHE_URL"),
        ({"VERIFY_RATE_LIMIT": "thirty a minute"}, "VERIFY_RATE_LIMIT"),
        ({"REDIS_URL": "redis://127.0.0.1:6379/0", "CACHE_URL": "redis://127.0.0.1:6379/0"}, "CACHE_URL"),
    ],
    ids=lambda v: ",".join(f"{k}={val}" for k, val in v.items()) if isinstance(v, dict) else v,
)
def test_malformed_value_stops_startup_naming_the_variable(
    values: dict[str, str], variable: str
) -> None:
    result = django_setup(**values)
    assert result.returncode != 0, f"{values} was accepted:\n{result.stderr}"
    assert "ImproperlyConfigured" in result.stderr
    last_line = result.stderr.strip().splitlines()[-1]
    assert variable in last_line, result.stderr


def test_deploy_checks_pass_with_production_settings() -> None:
    env = clean_env(
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(48)[:64],
        ALLOWED_HOSTS="portal.example",
        SITE_URL="https://portal.example",
        CREDENTIAL_SIGNING_KEY=secrets.token_hex(32),
    )
    result = run_python(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout
    assert "WARNINGS" not in result.stdout + result.stderr


def test_production_settings_are_secure() -> None:
    # What `check --deploy` checks is only part of it: look at the values DEBUG=false produces.
    env = clean_env(DEBUG="false", SECRET_KEY="k" * 64, ALLOWED_HOSTS="portal.example")
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.DEBUG, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_SSL_REDIRECT, "
        "s.SECURE_HSTS_SECONDS >= 31536000, s.ACCOUNT_DEFAULT_HTTP_PROTOCOL, "
        "s.STORAGES['staticfiles']['BACKEND'].startswith('whitenoise'))"
    )
    result = run_python(["-c", code], env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "True", "True", "True", "True", "https", "True"]


# --- the readers, with explicit environments --------------------------------------------------


def test_env_str_strips_and_treats_blank_as_unset() -> None:
    assert env_str("X", "d", environ={}) == "d"
    assert env_str("X", "d", environ={"X": "   "}) == "d"
    assert env_str("X", environ={"X": "  value "}) == "value"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1", True),
        ("true", True),
        ("YES", True),
        ("on", True),
        ("0", False),
        ("False", False),
        ("no", False),
        ("off", False),
    ],
)
def test_env_bool_reads_the_usual_spellings(raw: str, expected: bool) -> None:
    assert env_bool("FLAG", not expected, environ={"FLAG": raw}) is expected


def test_env_bool_default_and_refusal() -> None:
    assert env_bool("FLAG", True, environ={}) is True
    assert env_bool("FLAG", False, environ={"FLAG": ""}) is False
    with pytest.raises(ImproperlyConfigured, match=r"^FLAG='maybe' is not a boolean"):
        env_bool("FLAG", True, environ={"FLAG": "maybe"})


def test_env_int_bounds() -> None:
    assert env_int("N", 7, environ={}) == 7
    assert env_int("N", 7, minimum=0, environ={"N": " 0 "}) == 0
    assert env_int("N", 7, maximum=10, environ={"N": "10"}) == 10
    with pytest.raises(ImproperlyConfigured, match=r"^N='abc' is not a whole number"):
        env_int("N", 7, environ={"N": "abc"})
    with pytest.raises(ImproperlyConfigured, match=r"^N='1.5' is not a whole number"):
        env_int("N", 7, environ={"N": "1.5"})
    with pytest.raises(ImproperlyConfigured, match=r"^N=-1 is below the minimum of 0"):
        env_int("N", 7, minimum=0, environ={"N": "-1"})
    with pytest.raises(ImproperlyConfigured, match=r"^N=11 is above the maximum of 10"):
        env_int("N", 7, maximum=10, environ={"N": "11"})


def test_env_list() -> None:
    assert env_list("L", ["a"], environ={}) == ["a"]
    assert env_list("L", [], environ={"L": " a.example , b.example "}) == ["a.example", "b.example"]
    for raw in ("a,,b", "a,", ",a", " , "):
        with pytest.raises(ImproperlyConfigured, match=r"^L=.* has an empty item"):
            env_list("L", [], environ={"L": raw})


def test_env_list_default_is_a_copy() -> None:
    default = ["a"]
    env_list("L", default, environ={}).append("b")
    assert default == ["a"]


def test_env_choice() -> None:
    assert env_choice("C", "INFO", {"INFO", "DEBUG"}, environ={}) == "INFO"
    assert env_choice("C", "INFO", {"INFO", "DEBUG"}, environ={"C": "DEBUG"}) == "DEBUG"
    with pytest.raises(ImproperlyConfigured, match=r"^C='debug' is not one of"):
        env_choice("C", "INFO", {"INFO", "DEBUG"}, environ={"C": "debug"})


def test_env_database_postgres_and_sqlite() -> None:
    config = env_database(
        "DB",
        "sqlite:///x.sqlite3",
        conn_max_age=30,
        environ={"DB": "postgres://u:p%40ss@db.example:5433/portal"},
    )
    assert config["ENGINE"] == "django.db.backends.postgresql"
    assert (config["USER"], config["PASSWORD"], config["HOST"], config["PORT"], config["NAME"]) == (
        "u",
        "p@ss",
        "db.example",
        5433,
        "portal",
    )
    assert config["CONN_MAX_AGE"] == 30
    assert config["CONN_HEALTH_CHECKS"] is True

    default = env_database("DB", "sqlite:////tmp/x.sqlite3", conn_max_age=0, environ={})
    assert default["ENGINE"] == "django.db.backends.sqlite3"
    assert default["NAME"] == "/tmp/x.sqlite3"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("mysql://x/y", "must be a postgres:// or sqlite:// URL"),
        ("nonsense", "is not a usable database URL"),
        ("postgres://db.example:5432", "names no database"),
    ],
)
def test_env_database_refusals(raw: str, message: str) -> None:
    with pytest.raises(ImproperlyConfigured, match=rf"^DB {message}"):
        env_database("DB", "sqlite:///x", conn_max_age=0, environ={"DB": raw})


def test_env_redis_url() -> None:
    assert env_redis_url("R", environ={}) is None
    assert env_redis_url("R", environ={"R": ""}) is None
    for ok in ("redis://127.0.0.1:6379/0", "rediss://cache.example:6380/1", "unix:///run/r.sock"):
        assert env_redis_url("R", environ={"R": ok}) == ok
    for bad in ("http://x", "127.0.0.1:6379", "redis:/x"):
        with pytest.raises(ImproperlyConfigured, match=r"^R=.* must start with redis://"):
            env_redis_url("R", environ={"R": bad})


def test_the_cache_never_shares_the_brokers_redis_database():
    from ouc_portal.env import redis_url_for_db

    assert redis_url_for_db("redis://:secret@cache.internal:6380/0?ssl_cert_reqs=none", 1) == (
        "redis://:secret@cache.internal:6380/1?ssl_cert_reqs=none"
    )
    assert redis_url_for_db("redis://127.0.0.1:6379", 1) == "redis://127.0.0.1:6379/1"


@pytest.mark.parametrize(
    ("key", "message"),
    [(None, "CREDENTIAL_SIGNING_KEY is not set"), ("abc123", "CREDENTIAL_SIGNING_KEY is malformed")],
)
def test_deploy_checks_refuse_a_missing_or_malformed_signing_key(key, message) -> None:
    values = {"DEBUG": "false", "SECRET_KEY": secrets.token_urlsafe(48)[:64], "ALLOWED_HOSTS": "portal.example"}
    if key:
        values["CREDENTIAL_SIGNING_KEY"] = key
    result = run_python(["manage.py", "check", "--deploy"], clean_env(**values))
    assert result.returncode != 0 and message in result.stdout + result.stderr
