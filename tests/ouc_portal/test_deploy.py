"""The deployment files: docker-compose.yml, Dockerfile, deploy/*.

There is no Docker engine in CI; Debian's docker-compose parses and validates the file, and the
pieces that run inside the containers (gunicorn config, health checks, env files) are run here
directly.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from tests.ouc_portal.test_settings import REPO_ROOT, clean_env, run_python

SERVICES = {"web", "worker", "beat", "postgres", "redis"}
INSTALL_HINT = ".ci/run installs it (apt-get install docker-compose)"


def services_promised() -> bool:
    return bool(
        os.environ.get("DATABASE_URL", "").strip() or os.environ.get("REDIS_URL", "").strip()
    )


@pytest.fixture(scope="module")
def docker_compose() -> str:
    path = shutil.which("docker-compose")
    if path is None:
        if not services_promised():
            pytest.skip(f"docker-compose is not installed; {INSTALL_HINT}")
        pytest.fail(f"docker-compose is not installed; {INSTALL_HINT}")
    return path


def compose(docker_compose: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in {"PORTAL_ENV_FILE", "POSTGRES_ENV_FILE"}}
    env.pop("COMPOSE_FILE", None)
    return subprocess.run(
        [docker_compose, *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="module")
def stack(docker_compose: str) -> dict:
    result = compose(docker_compose, "config")
    assert result.returncode == 0, result.stderr
    return yaml.safe_load(result.stdout)


def read_env_file(path: Path) -> dict[str, str]:
    values = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, sep, value = line.partition("=")
            assert sep, f"{path.name}: not KEY=value: {line!r}"
            values[key] = value
    return values


def test_compose_file_is_valid(docker_compose: str) -> None:
    result = compose(docker_compose, "config", "-q")
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""


def test_compose_has_the_services_each_with_a_healthcheck(stack: dict) -> None:
    services = stack["services"]
    assert SERVICES <= set(services)
    for name in SERVICES:
        check = services[name].get("healthcheck")
        assert check and check.get("test"), f"{name} has no healthcheck"
        assert not check.get("disable"), f"{name} disables its healthcheck"


def test_compose_healthchecks_probe_the_right_thing(stack: dict) -> None:
    services = stack["services"]

    def command(name: str) -> str:
        test = services[name]["healthcheck"]["test"]
        return " ".join(test) if isinstance(test, list) else test

    assert "pg_isready" in command("postgres")
    assert "redis-cli ping" in command("redis")
    assert "healthcheck.py web" in command("web")
    worker = command("worker")
    assert "inspect ping" in worker
    # `$$` (kept escaped in `config` output) is a literal `$` for the container's shell: the
    # worker pings its own node name, not whatever compose would substitute.
    assert "--destination celery@$$HOSTNAME" in worker
    assert services["worker"]["healthcheck"]["test"][0] == "CMD-SHELL"
    assert "--hostname=celery@%h" in services["worker"]["command"]
    assert "healthcheck.py beat" in command("beat")


def test_compose_starts_in_order(stack: dict) -> None:
    services = stack["services"]
    for name in ("web", "worker"):
        depends = services[name]["depends_on"]
        assert depends["postgres"]["condition"] == "service_healthy"
        assert depends["redis"]["condition"] == "service_healthy"
        assert depends["migrate"]["condition"] == "service_completed_successfully"
    assert services["beat"]["depends_on"]["redis"]["condition"] == "service_healthy"
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert services["migrate"]["command"] == ["python", "manage.py", "migrate", "--noinput"]


def test_compose_runs_the_portal_image_with_gunicorn_celery_and_beat(stack: dict) -> None:
    services = stack["services"]
    for name in ("web", "worker", "beat", "migrate"):
        assert Path(services[name]["build"]["context"]) == REPO_ROOT
        assert services[name]["environment"]["REDIS_URL"] == "redis://redis:6379/0"
        assert services[name]["environment"]["DATABASE_URL"].startswith("postgres://")
    assert services["web"]["command"][0] == "gunicorn"
    assert "ouc_portal.wsgi:application" in services["web"]["command"]
    assert services["worker"]["command"][:3] == ["celery", "--app=ouc_portal", "worker"]
    assert services["beat"]["command"][:3] == ["celery", "--app=ouc_portal", "beat"]
    assert services["postgres"]["image"].split(":")[1].startswith(("15", "16"))
    # Neither PostgreSQL nor Redis is published outside the stack.
    assert "ports" not in services["postgres"]
    assert "ports" not in services["redis"]


def test_compose_database_settings_agree(stack: dict) -> None:
    services = stack["services"]
    pg = services["postgres"]["environment"]
    url = services["web"]["environment"]["DATABASE_URL"]
    assert url == (
        f"postgres://{pg['POSTGRES_USER']}:{pg['POSTGRES_PASSWORD']}@postgres:5432/{pg['POSTGRES_DB']}"
    )


def test_env_files_are_committed_examples_and_real_ones_are_ignored() -> None:
    text = (REPO_ROOT / "docker-compose.yml").read_text()
    for default in re.findall(r"env_file: \$\{\w+:-([^}]+)\}", text):
        assert default.endswith(".env.example"), default
        assert (REPO_ROOT / default).is_file(), default
    ignored = subprocess.run(
        ["git", "check-ignore", "-q", "deploy/web.env"], cwd=REPO_ROOT, check=False
    )
    if ignored.returncode != 128:  # 128: not a git checkout (an unpacked archive)
        assert ignored.returncode == 0, "deploy/web.env must be ignored by git"
        example = subprocess.run(
            ["git", "check-ignore", "-q", "deploy/web.env.example"], cwd=REPO_ROOT, check=False
        )
        assert example.returncode == 1, "deploy/web.env.example must not be ignored"


def test_every_variable_in_the_web_env_example_is_read_somewhere() -> None:
    # A misspelt name in an env file is silently ignored: catch it here instead.
    readers = "".join(
        (REPO_ROOT / p).read_text()
        for p in ("ouc_portal/settings.py", "deploy/gunicorn.conf.py", "deploy/healthcheck.py")
    )
    for key in read_env_file(REPO_ROOT / "deploy/web.env.example"):
        assert f'"{key}"' in readers, f"{key} is set in web.env.example but nothing reads it"


def example_env(**overrides: str) -> dict[str, str]:
    values = read_env_file(REPO_ROOT / "deploy/web.env.example")
    # The containers' hostnames do not resolve here; settings never connect at import anyway.
    values.update(overrides)
    return clean_env(**values)


def test_web_env_example_refuses_to_start_without_a_secret_key() -> None:
    result = run_python(["-c", "import django; django.setup()"], example_env())
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_web_env_example_with_a_secret_key_is_well_formed() -> None:
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.DEBUG, s.DATABASES['default']['HOST'], s.REDIS_URL, s.CELERY_TASK_ALWAYS_EAGER)"
    )
    env = example_env(SECRET_KEY=secrets.token_urlsafe(50))
    result = run_python(["-c", code], env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "postgres", "redis://redis:6379/0", "False"]


def test_web_env_example_behind_tls_passes_the_deploy_checks() -> None:
    # What web.env.example tells production to do: drop the plain-HTTP trial lines.
    env = example_env(
        SECRET_KEY=secrets.token_urlsafe(50), SECURE_PROXY_SSL_HEADER="true", SITE_URL="https://portal.example", CREDENTIAL_SIGNING_KEY=secrets.token_hex(32)
    )
    for key in ("SECURE_SSL_REDIRECT", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE",
                "SECURE_HSTS_SECONDS"):  # fmt: skip
        env.pop(key)
    result = run_python(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], env)
    assert result.returncode == 0, result.stdout + result.stderr


def test_dockerfile() -> None:
    text = (REPO_ROOT / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.11-slim\b", text, re.MULTILINE)
    users = re.findall(r"^USER (\S+)", text, re.MULTILINE)
    assert users and users[-1] not in {"root", "0"}, "the image must run as a non-root user"
    # Dependencies from the runtime lock, every file's hash checked; the portal without resolving.
    assert "pip install --require-hashes -r requirements.txt" in text
    assert "pip install --no-deps -e ." in text
    steps = re.findall(r"^(?:RUN|COPY) .*", text, re.MULTILINE)
    assert not [step for step in steps if "requirements-dev.txt" in step], "no dev extra in the image"
    assert "collectstatic --noinput" in text
    assert "gunicorn" in text and "deploy/gunicorn.conf.py" in text
    ignore = (REPO_ROOT / ".dockerignore").read_text().split()
    assert {".git", ".venv"} <= set(ignore)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_gunicorn_config_serves_healthz_and_the_web_healthcheck_passes(tmp_path) -> None:
    port = free_port()
    env = clean_env(
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="portal.example,.ouc.example",
        GUNICORN_BIND=f"127.0.0.1:{port}",
        WEB_CONCURRENCY="1",
        GUNICORN_THREADS="2",
    )
    log = (tmp_path / "gunicorn.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--config", "deploy/gunicorn.conf.py",
         "ouc_portal.wsgi:application"],
        cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while True:
            check = run_python(["deploy/healthcheck.py", "web"], env)
            if check.returncode == 0:
                break
            assert server.poll() is None, (tmp_path / "gunicorn.log").read_text()
            assert time.monotonic() < deadline, (
                check.stderr + (tmp_path / "gunicorn.log").read_text()
            )
            time.sleep(0.3)
        # The healthcheck is a real probe: it fails when the Host is not allowed.
        wrong_host = dict(env, ALLOWED_HOSTS="elsewhere.example")
        assert run_python(["deploy/healthcheck.py", "web"], wrong_host).returncode != 0
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()
    assert "gthread" in (tmp_path / "gunicorn.log").read_text()


def test_beat_healthcheck_refuses_a_missing_or_stale_schedule(tmp_path) -> None:
    schedule = tmp_path / "celerybeat-schedule"
    env = clean_env(BEAT_SCHEDULE=str(schedule), REDIS_URL="redis://127.0.0.1:1/0")
    missing = run_python(["deploy/healthcheck.py", "beat"], env)
    assert missing.returncode != 0 and "no beat schedule file" in missing.stderr

    schedule.write_bytes(b"")
    an_hour_ago = time.time() - 3600
    os.utime(schedule, (an_hour_ago, an_hour_ago))
    stale = run_python(["deploy/healthcheck.py", "beat"], env)
    assert stale.returncode != 0 and "last written" in stale.stderr

    schedule.touch()
    no_broker = run_python(["deploy/healthcheck.py", "beat"], env)
    assert no_broker.returncode != 0 and "ConnectionError" in no_broker.stderr


@pytest.mark.needs_services
def test_beat_healthcheck_passes_with_a_fresh_schedule_and_a_broker(tmp_path) -> None:
    schedule = tmp_path / "celerybeat-schedule.db"
    schedule.write_bytes(b"")
    env = clean_env(
        BEAT_SCHEDULE=str(tmp_path / "celerybeat-schedule"), REDIS_URL=os.environ["REDIS_URL"]
    )
    result = run_python(["deploy/healthcheck.py", "beat"], env)
    assert result.returncode == 0, result.stderr


def test_healthcheck_usage() -> None:
    result = run_python(["deploy/healthcheck.py", "nonsense"], clean_env())
    assert result.returncode != 0 and "usage" in result.stderr
