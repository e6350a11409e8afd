"""Liveness (/healthz/) and readiness (/readyz/) probes."""

from __future__ import annotations

import copy
import socket
from unittest import mock

import pytest
from django.db import DEFAULT_DB_ALIAS, OperationalError, connection, connections

from ouc_portal import health


def closed_port() -> int:
    """A local TCP port nothing listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def unreachable_connection():
    """A database connection like the real one, pointed at nowhere."""
    real = connections[DEFAULT_DB_ALIAS]
    settings_dict = copy.deepcopy(real.settings_dict)
    if real.vendor == "sqlite":
        settings_dict["NAME"] = "/nonexistent-directory/ouc-portal.sqlite3"
    else:
        settings_dict.update(HOST="127.0.0.1", PORT=closed_port(), OPTIONS={"connect_timeout": 2})
    broken = type(real)(settings_dict, alias=DEFAULT_DB_ALIAS)
    yield broken
    broken.close()


@pytest.mark.django_db
def test_healthz_answers_without_touching_the_database(client, django_assert_num_queries) -> None:
    with django_assert_num_queries(0):
        response = client.get("/healthz/")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"]


def test_healthz_answers_while_the_database_is_down(client) -> None:
    with mock.patch.object(connection, "cursor", side_effect=OperationalError("database down")):
        response = client.get("/healthz/")
    assert response.status_code == 200


def test_healthz_refuses_post(client) -> None:
    assert client.post("/healthz/").status_code == 405


@pytest.mark.django_db
def test_readyz_ok_when_database_and_broker_answer(client, settings) -> None:
    response = client.get("/readyz/")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["database"] == "ok"
    if settings.REDIS_URL:
        assert body["checks"]["broker"] == "ok"
    else:
        assert body["checks"]["broker"] == "eager (no broker)"
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.needs_services
@pytest.mark.django_db
def test_readyz_checks_the_real_broker(client, settings) -> None:
    assert settings.REDIS_URL, "needs_services promised REDIS_URL"
    response = client.get("/readyz/")
    assert response.status_code == 200, response.content
    assert response.json()["checks"] == {"database": "ok", "broker": "ok"}


@pytest.mark.django_db
def test_readyz_503_naming_database_when_a_query_fails(client) -> None:
    with mock.patch.object(connection, "cursor", side_effect=OperationalError("database down")):
        response = client.get("/readyz/")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"] == "unreachable: OperationalError"
    assert body["checks"]["broker"] != body["checks"]["database"]


@pytest.mark.django_db
def test_readyz_503_naming_database_when_the_server_is_unreachable(
    client, monkeypatch, unreachable_connection
) -> None:
    monkeypatch.setattr(health, "connection", unreachable_connection)
    response = client.get("/readyz/")
    assert response.status_code == 503
    assert response.json()["checks"]["database"] == "unreachable: OperationalError"


@pytest.mark.django_db
def test_readyz_503_naming_broker_when_redis_is_unreachable(client, settings) -> None:
    settings.REDIS_URL = f"redis://127.0.0.1:{closed_port()}/0"
    response = client.get("/readyz/")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["broker"].startswith("unreachable: ")
    assert "ConnectionError" in body["checks"]["broker"]


@pytest.mark.django_db
def test_readyz_503_names_port_1_broker(client, settings) -> None:
    # The address the deployment docs use for "Redis is down": port 1 never runs Redis.
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    response = client.get("/readyz/")
    assert response.status_code == 503
    assert "broker" in response.json()["checks"]
    assert response.json()["checks"]["broker"].startswith("unreachable")
