"""Growing past one machine: what docker-compose.yml, deploy/* and the settings promise.

Web and worker containers scale out against one PostgreSQL and Redis: none keeps state of its
own, each worker pool consumes its own queue, beat runs once, and the settings put sessions,
cache and files where every container reaches them. docs/deployment.md tells the operator.
"""

from __future__ import annotations

import re
import secrets
import shutil
import subprocess

import pytest
import yaml

from ouc_portal.env import S3_VARIABLES
from tests.conftest import SERVICES_PROMISED
from tests.ouc_portal.test_deploy import (
    compose,
    docker_compose,  # noqa: F401  (a fixture)
    read_env_file,
)
from tests.ouc_portal.test_settings import REPO_ROOT, clean_env, run_python

SCALABLE = ("web", "worker", "worker-long")


def settings_value(expression: str, **env: str) -> subprocess.CompletedProcess[str]:
    code = f"import django; django.setup(); from django.conf import settings as s; print({expression})"
    return run_python(["-c", code], clean_env(**env))


# --- docker-compose.yml -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def services(docker_compose: str) -> dict:  # noqa: F811
    """The services as docker-compose resolves them (env files read, anchors merged)."""
    result = compose(docker_compose, "config")
    assert result.returncode == 0, result.stderr
    return yaml.safe_load(result.stdout)["services"]


def test_each_worker_pool_consumes_its_own_queue(services: dict) -> None:
    example = read_env_file(REPO_ROOT / "deploy/web.env.example")
    worker, long = services["worker"]["command"], services["worker-long"]["command"]
    assert worker[:3] == long[:3] == ["celery", "--app=ouc_portal", "worker"]
    assert [a for a in worker if a.startswith("--queues=")] == [
        f"--queues={example['CELERY_TASK_DEFAULT_QUEUE']}"
    ]
    assert [a for a in long if a.startswith("--queues=")] == [f"--queues={example['CELERY_LONG_QUEUE']}"]
    # ... and the env file's queue names are the settings' defaults.
    result = settings_value("s.CELERY_TASK_DEFAULT_QUEUE, s.CELERY_LONG_QUEUE")
    assert result.stdout.split() == [example["CELERY_TASK_DEFAULT_QUEUE"], example["CELERY_LONG_QUEUE"]]


def test_each_worker_pool_pings_its_own_node(services: dict) -> None:
    for name, node in (("worker", "celery"), ("worker-long", "long")):
        assert f"--hostname={node}@%h" in services[name]["command"]
        check = services[name]["healthcheck"]["test"]
        assert check[0] == "CMD-SHELL" and f"--destination {node}@$$HOSTNAME" in check[1]
        depends = services[name]["depends_on"]
        assert depends["migrate"]["condition"] == "service_completed_successfully"
        assert depends["postgres"]["condition"] == depends["redis"]["condition"] == "service_healthy"


def test_web_and_worker_containers_scale_out(services: dict) -> None:
    for name in SCALABLE:
        # A fixed name or host port would stop `--scale NAME=N` at the second container.
        assert "container_name" not in services[name], name
        assert "ports" not in services[name], name
        assert services[name]["environment"]["REDIS_URL"] == "redis://redis:6379/0"
        assert services[name]["environment"]["DATABASE_URL"].startswith("postgres://")
    # One way in: the proxy, which finds every web container by name.
    published = [name for name, service in services.items() if service.get("ports")]
    assert published == ["proxy"]
    assert services["proxy"]["depends_on"]["web"]["condition"] == "service_healthy"
    mounts = [str(volume) for volume in services["proxy"]["volumes"]]
    assert any("deploy/nginx.conf" in m and "/etc/nginx/conf.d/default.conf" in m for m in mounts)


def test_beat_is_one_and_everything_shares_one_postgres_and_redis(services: dict) -> None:
    beats = [name for name, s in services.items() if "beat" in (s.get("command") or [])]
    assert beats == ["beat"]
    assert services["beat"].get("deploy", {}).get("replicas", 1) == 1
    for name in ("postgres", "redis"):
        assert services[name].get("deploy", {}).get("replicas", 1) == 1
    urls = {services[name]["environment"]["REDIS_URL"] for name in (*SCALABLE, "beat", "migrate")}
    assert urls == {"redis://redis:6379/0"}


def test_the_proxy_reaches_every_web_container_and_sets_the_client_address() -> None:
    text = (REPO_ROOT / "deploy/nginx.conf").read_text()
    assert "listen 8080;" in text
    # Resolved per request through Docker's DNS: scaled containers are found without a reload.
    assert "resolver 127.0.0.11" in text and "set $web http://web:8000;" in text
    assert "proxy_pass $web;" in text
    assert "proxy_set_header X-Real-IP $remote_addr;" in text
    example = read_env_file(REPO_ROOT / "deploy/web.env.example")
    assert example["RATELIMIT_IP_META_KEY"] == "HTTP_X_REAL_IP"


def test_the_proxy_config_is_valid_nginx(tmp_path) -> None:
    nginx = shutil.which("nginx") or (shutil.which("nginx", path="/usr/sbin"))
    if nginx is None:
        message = "nginx is not installed here (.ci/run installs nginx-light)"
        if SERVICES_PROMISED:
            pytest.fail(message)
        pytest.skip(message)
    main = tmp_path / "nginx.conf"
    main.write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\nevents {{}}\n"
        f"http {{\naccess_log off;\ninclude {REPO_ROOT / 'deploy/nginx.conf'};\n}}\n"
    )
    result = subprocess.run(
        [nginx, "-t", "-q", "-c", str(main), "-p", str(tmp_path), "-e", str(tmp_path / "error.log")],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr


# --- Settings: sessions and files where every container reaches them ----------------------------


def test_sessions_are_cached_in_redis_and_kept_in_the_database() -> None:
    with_redis = settings_value("s.SESSION_ENGINE", REDIS_URL="redis://127.0.0.1:6379/0")
    assert with_redis.stdout.strip() == "django.contrib.sessions.backends.cached_db"
    alone = settings_value("s.SESSION_ENGINE")
    assert alone.stdout.strip() == "django.contrib.sessions.backends.db"


def test_files_stay_in_media_root_without_s3() -> None:
    result = settings_value("s.STORAGES['default']['BACKEND']")
    assert result.stdout.strip() == "django.core.files.storage.FileSystemStorage"


S3 = {
    "S3_BUCKET": "ouc-portal-media",
    "S3_ENDPOINT_URL": "https://minio.internal.example:9000",
    "S3_REGION": "cn-north-1",
    "S3_ACCESS_KEY_ID": "portal",
    "S3_SECRET_ACCESS_KEY": "not-a-real-secret",
    "S3_LOCATION": "/media/",
    "S3_ADDRESSING_STYLE": "path",
}


def test_s3_settings_make_a_private_bucket_the_default_storage() -> None:
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "from django.core.files.storage import storages; d = storages['default']; "
        "o = s.STORAGES['default']['OPTIONS']; "
        "print(s.STORAGES['default']['BACKEND'], o['bucket_name'], o['endpoint_url'], "
        "o['region_name'], o['location'], type(d).__name__, d.bucket_name, d.default_acl, "
        "d.querystring_auth, d.file_overwrite); "
        "print(d.url('certificates/OUC-1.pdf'))"
    )
    result = run_python(["-c", code], clean_env(**S3))
    assert result.returncode == 0, result.stderr
    first, url = result.stdout.strip().splitlines()
    assert first.split() == [
        "storages.backends.s3.S3Storage", "ouc-portal-media", "https://minio.internal.example:9000",
        "cn-north-1", "media", "S3Storage", "ouc-portal-media", "private", "True", "False",
    ]  # fmt: skip
    # Never a public link: a URL, if one is ever made, is signed and expires.
    assert url.startswith("https://minio.internal.example:9000/ouc-portal-media/media/certificates/")
    assert "X-Amz-Signature=" in url and "X-Amz-Expires=300" in url


def test_s3_without_keys_uses_the_machines_own_credentials() -> None:
    result = settings_value(
        "sorted(s.STORAGES['default']['OPTIONS'])", S3_BUCKET="ouc-portal-media"
    )
    assert result.returncode == 0, result.stderr
    assert "access_key" not in result.stdout and "secret_key" not in result.stdout
    assert "'bucket_name'" in result.stdout


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"S3_ENDPOINT_URL": "https://s3.example"}, "S3_BUCKET must be set when S3_ENDPOINT_URL"),
        ({"S3_ACCESS_KEY_ID": "k", "S3_SECRET_ACCESS_KEY": "s"}, "S3_BUCKET must be set when S3_ACCESS_KEY_ID"),
        ({"S3_BUCKET": "b-ok", "S3_ACCESS_KEY_ID": "k"}, "S3_SECRET_ACCESS_KEY must be set"),
        ({"S3_BUCKET": "b-ok", "S3_SECRET_ACCESS_KEY": "s"}, "S3_ACCESS_KEY_ID must be set"),
        ({"S3_BUCKET": "Not_A_Bucket"}, "S3_BUCKET='Not_A_Bucket' is not a valid bucket name"),
        ({"S3_BUCKET": "b-ok", "S3_ENDPOINT_URL": "minio:9000"}, "S3_ENDPOINT_URL='minio:9000'"),
        ({"S3_BUCKET": "b-ok", "S3_ADDRESSING_STYLE": "dns"}, "S3_ADDRESSING_STYLE='dns'"),
    ],
    ids=lambda v: ",".join(v) if isinstance(v, dict) else "",
)
def test_half_configured_s3_stops_startup_naming_what_is_missing(values, message) -> None:
    result = run_python(["-c", "import django; django.setup()"], clean_env(**values))
    assert result.returncode != 0
    last = result.stderr.strip().splitlines()[-1]
    assert "ImproperlyConfigured" in last and message in last, result.stderr


def test_the_web_env_example_lists_every_s3_variable() -> None:
    text = (REPO_ROOT / "deploy/web.env.example").read_text()
    listed = set(re.findall(r"^# (S3_[A-Z_]+)=", text, re.MULTILINE))
    assert listed == set(S3_VARIABLES)


def test_the_production_example_with_s3_passes_the_deploy_checks() -> None:
    env = read_env_file(REPO_ROOT / "deploy/web.env.example")
    env.update(
        S3, SECRET_KEY=secrets.token_urlsafe(50), CREDENTIAL_SIGNING_KEY=secrets.token_hex(32),
        SECURE_PROXY_SSL_HEADER="true", SITE_URL="https://portal.example",
    )  # fmt: skip
    for key in ("SECURE_SSL_REDIRECT", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE",
                "SECURE_HSTS_SECONDS"):  # fmt: skip
        env.pop(key)
    result = run_python(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], clean_env(**env))
    assert result.returncode == 0, result.stdout + result.stderr


# --- docs ---------------------------------------------------------------------------------------


def test_the_deployment_guide_covers_growing_and_the_readme_points_to_it() -> None:
    guide = (REPO_ROOT / "docs/deployment.md").read_text()
    for needle in (
        "docker compose up -d --scale web=3 --scale worker=2 --scale worker-long=4",
        "CELERY_LONG_QUEUE", "S3_BUCKET", "cached_db", "beat", "Not done yet",
    ):  # fmt: skip
        assert needle in guide, needle
    for variable in S3_VARIABLES:
        assert variable in guide, variable
    assert "docs/deployment.md" in (REPO_ROOT / "README.md").read_text()
