"""Schemathesis against the published OpenAPI schema: every operation, as every kind of person.

The schema is what ``/api/schema/`` serves, fetched through the project's own WSGI application in
this process; every operation in it is then called with cases schemathesis generates from it, as
the visitor, a learner with their own records, a school administrator, a partner-association
reviewer and a credit-bank officer. Each response must not be a server error, must have a status
code and a content type that the schema documents, and a body that matches the schema. A failure
here is a bug in the view or in its schema annotations, never something to tolerate.

The world is the permission matrix's (``tests/test_permission_matrix.build_world``): built once
per module inside a transaction that is never committed. Each case runs in a savepoint that is
rolled back, so a write one case makes (an application, an outcome) cannot change what the next
case sees. Generation is derandomized with a small budget per operation, so a run is repeatable
and bounded; ``SCHEMATHESIS_MAX_EXAMPLES`` raises the budget for a longer local hunt.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from unittest import mock

import pytest
import schemathesis
from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, transaction
from django.test import override_settings
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.test_permission_matrix import PDF, World, build_world, schema_operations

pytestmark = pytest.mark.django_db

# "partner_token" is a partner system calling with its association's API key (no session).
ROLES = ("visitor", "learner", "school_admin", "reviewer", "credit_officer", "partner_token")
MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "20"))
# A fixed secret the CSRF cookie and header share: SessionAuthentication enforces CSRF on writes
# for a signed-in person, and a case refused for a missing token would test nothing else.
CSRF_SECRET = "schemathesis0csrf0secret00000000"
HOST = "localhost"
# What gunicorn gives every request and werkzeug's test client does not: the client's address
# (the verification rate limit keys on it).
ENVIRON = {"REMOTE_ADDR": "127.0.0.1"}


def checks() -> list:
    from schemathesis.checks import not_a_server_error

    return [
        not_a_server_error,
        status_code_conformance,
        content_type_conformance,
        response_schema_conformance,
    ]


def operation_labels() -> list[str]:
    """Every operation's ``METHOD /path`` label, from the generator that serves the schema."""
    return sorted(
        f"{method} {path}" for path, methods in schema_operations().items() for method in methods
    )


@dataclass
class Api:
    """The loaded schema and the people who call it."""

    schema: object
    world: World


@pytest.fixture(scope="module")
def api(django_db_setup, django_db_blocker) -> Iterator[Api]:
    """The world, built once and never committed, and the schema served by the WSGI app."""
    # A bare WSGIHandler closes the database connection when a request starts and finishes; the
    # test client turns that off for its requests, and so must we, or the module's transaction
    # (and every savepoint in it) would be closed under us.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        with (
            tempfile.TemporaryDirectory(prefix="schemathesis-media-") as media,
            override_settings(
                MEDIA_ROOT=media,
                PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
                ALLOWED_HOSTS=[HOST],
            ),
            django_db_blocker.unblock(),
            transaction.atomic(),
        ):
            # The API serves no PDF: the world's certificate and transcript skip rendering one,
            # which would cost most of the module's setup.
            with (
                mock.patch("certificates.rendering.certificate_pdf", return_value=PDF),
                mock.patch("certificates.rendering.transcript_pdf", return_value=PDF),
            ):
                world = build_world()
            schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", WSGIHandler())
            yield Api(schema=schema, world=world)
            transaction.set_rollback(True)
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def _credentials(api: Api, role: str) -> tuple[dict[str, str], dict[str, str]]:
    """Cookies and headers that sign ``role`` in the way the browser does (Django session), or,
    for a partner system, its bearer key."""
    cookies = {settings.CSRF_COOKIE_NAME: CSRF_SECRET}
    headers = {"X-CSRFToken": CSRF_SECRET, "Accept-Language": "en"}
    if role == "partner_token":
        headers["Authorization"] = f"Bearer {api.world.values['token_key']}"
    elif role != "visitor":
        cookies[settings.SESSION_COOKIE_NAME] = api.world.sessions[role]
    return cookies, headers


@pytest.mark.parametrize("label", operation_labels())
def test_operation_conforms(api: Api, label: str) -> None:
    """Each generated case is sent once as every role: generation, the costly half, is shared."""
    operation = api.schema.find_operation_by_label(label)
    assert operation is not None, f"{label} is in the generated schema but not in /api/schema/"
    credentials = {role: _credentials(api, role) for role in ROLES}
    active_checks = checks()
    sent: list[int] = []

    @hypothesis_settings(
        max_examples=MAX_EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        # Explicit examples and generation only: shrinking a failure costs many more requests,
        # and the first failing case already names the bug.
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy())
    def call(case) -> None:
        sent.append(len(credentials))
        for role, (cookies, headers) in credentials.items():
            with transaction.atomic():
                response = case.call(cookies=cookies, headers=headers, environ_base=ENVIRON)
                transaction.set_rollback(True)
            try:
                case.validate_response(response, checks=active_checks, headers=headers)
            except (AssertionError, BaseExceptionGroup) as failure:
                # Schemathesis raises a BaseExceptionGroup of its failures; name who was calling.
                failure.add_note(f"{label}, called as {role}")
                raise

    call()
    # Shown with -rP / -s: how much this run really tried (small inputs exhaust in fewer cases).
    print(f"{label}: {len(sent)} cases, {sum(sent)} requests")
