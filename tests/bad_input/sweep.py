"""Sending a registry entry's form, and reading what came back: refused (and how the person reads
it), done, or broken; and what the database holds before and after."""

from __future__ import annotations

import functools
import hashlib
import html
import re
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

from django.apps import apps
from django.conf import settings
from django.contrib.messages import constants as message_levels
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, models
from django.forms import BaseForm, BaseFormSet
from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart
from django.test.utils import ContextList
from django.urls import reverse

from tests import permission_matrix as pm
from tests.bad_input.registry import FILE, Entry, input_name, resolve
from tests.test_permission_matrix import _route, sign_in

# Stands for bytes that are not UTF-8 (a lone surrogate, as a broken client encodes one): the
# body is built with it, then it is replaced by the raw bytes.
RAW_PLACEHOLDER = "RAWBYTESPLACEHOLDER"
LONE_SURROGATE = b"\xed\xa0\x80"
# The audit log records every changing request, refused ones included: not something stored.
NOT_STORED_BY_THE_REQUEST = {"audit"}
REFUSED, DONE = "refused", "done"


def url_for(world, entry: Entry) -> str:
    route = _route(entry.route)
    assert route is not None, f"{entry.id}: no route {entry.route}: fix the registry"

    names = re.findall(r"<(?:\w+:)?(\w+)>", route.pattern)
    kwargs = {
        arg: world.values[entry.kwargs.get(arg) or pm.DEFAULT_KWARGS.get(arg, arg)] for arg in names
    }
    url = reverse(entry.route, kwargs=kwargs)
    if entry.query:
        url += "?" + urlencode({k: resolve(world, v) for k, v in entry.query.items()})
    return url


def valid_data(world, entry: Entry) -> dict:
    """The valid payload, inputs named and values resolved; files as uploads."""
    data = {input_name(world, k): resolve(world, v) for k, v in entry.payload.items()}
    for name, (filename, content) in entry.files.items():
        content = content(world) if callable(content) else content
        data[input_name(world, name)] = SimpleUploadedFile(filename, content)
    return data


def send(client, world, entry: Entry, data: dict, *, raw: bool = False):
    """Send ``data`` as ``entry``'s role; with ``raw``, RAW_PLACEHOLDER becomes non-UTF-8 bytes."""
    sign_in(client, world, entry.role)
    url = url_for(world, entry)
    data = {k: v for k, v in data.items() if v is not None}
    if entry.method == "GET":
        query = urlencode(data, doseq=True)
        if raw:
            query = query.replace(RAW_PLACEHOLDER, "%ED%A0%80")
        return client.get(f"{url}?{query}" if "?" not in url else f"{url}&{query}")
    if not raw:
        return client.post(url, data)
    if any(kind == FILE for kind in entry.fields.values()):
        body = encode_multipart(BOUNDARY, data).replace(RAW_PLACEHOLDER.encode(), LONE_SURROGATE)
        return client.generic("POST", url, body, content_type=MULTIPART_CONTENT)
    body = urlencode(data, doseq=True).replace(RAW_PLACEHOLDER, "%ED%A0%80")
    return client.generic("POST", url, body, content_type="application/x-www-form-urlencoded")


# --- Reading the answer ---------------------------------------------------------------------------


def _contexts(response) -> list:
    contexts = response.context
    if contexts is None:
        return []
    return list(contexts) if isinstance(contexts, ContextList) else [contexts]


def form_errors(response) -> list[str]:
    """The error messages of every bound form the page rendered (field and non-field)."""
    found = []
    for context in _contexts(response):
        for value in context.flatten().values():
            form = getattr(value, "form", value)
            if isinstance(form, BaseForm | BaseFormSet) and form.is_bound and form.errors:
                errors = form.errors if isinstance(form, BaseForm) else form.non_form_errors()
                if isinstance(form, BaseForm):
                    found += [str(m) for messages in errors.values() for m in messages]
                else:
                    found += [str(m) for m in errors]
            report = value if hasattr(value, "errors") and hasattr(value, "ok") else None
            if report is not None and not report.ok:  # the results import's report
                found += [f"line {e.line}: {e.message}" for e in report.errors]
    return list(dict.fromkeys(found))


def error_messages(response) -> list[str]:
    storage = getattr(response.wsgi_request, "_messages", None)
    return [str(m) for m in storage or [] if m.level >= message_levels.ERROR]


@dataclass
class Answer:
    verdict: str  # REFUSED or DONE
    status: int
    why: list[str]  # what the person reads (refused), or nothing

    def __str__(self) -> str:
        return f"{self.verdict} (HTTP {self.status}){': ' + '; '.join(self.why)[:300] if self.why else ''}"


def read(response, entry: Entry) -> Answer:
    """What an answer means; fails for a server error, a redirect to log in or to set up a second
    factor (the sweep would test nothing), and a refusal nobody can read."""
    status = response.status_code
    where = f"{entry.id} as {entry.role}"
    assert status < 500, f"{where}: server error {status}"
    if status in (301, 302, 303, 307, 308):
        target = urlsplit(response["Location"]).path
        assert not target.startswith("/accounts/2fa/"), (
            f"{where}: sent to set up a second factor ({target}): the world's staff need an "
            "authenticator (tests/factories.py)"
        )
        assert target != reverse(settings.LOGIN_URL) or entry.role == "visitor", (
            f"{where}: sent to log in ({target})"
        )
        errors = error_messages(response)
        return Answer(REFUSED if errors else DONE, status, [e[:200] for e in errors])
    if status in (400, 413, 429):
        text = response.content.decode(errors="replace").strip()
        assert text, f"{where}: {status} with an empty body: the person reads nothing"
        return Answer(REFUSED, status, [text[:200]])
    assert status not in (401, 403, 404, 405), f"{where}: HTTP {status}: fix the registry entry"
    errors = error_messages(response) + form_errors(response)
    if not errors:
        return Answer(DONE, status, [])
    page = response.content.decode()
    # A results report shows each line's number in a column of its own, then the problem.
    shown = [re.sub(r"^line \d+: ", "", e) for e in errors]
    unread = [e[:200] for e in shown if html.escape(e) not in page and e not in page]
    assert not unread, f"{where}: refused with errors the page does not show: {unread}"
    return Answer(REFUSED, status, [e[:200] for e in errors])


# --- The database ---------------------------------------------------------------------------------


@functools.cache
def project_models() -> list[type[models.Model]]:
    base = str(settings.BASE_DIR)
    return [
        model
        for config in apps.get_app_configs()
        if str(config.path).startswith(base)
        and "site-packages" not in str(config.path)
        and config.label not in NOT_STORED_BY_THE_REQUEST
        for model in config.get_models()
    ]


def _stored_models() -> list[type[models.Model]]:
    """The project's models and allauth's e-mail addresses (what a sign-up stores)."""
    from allauth.account.models import EmailAddress

    return [*project_models(), EmailAddress]


class _RowsDigest:
    """SQLite's counterpart of the md5 of every row's text PostgreSQL computes below: a digest of
    each row's values, sorted (so the order rows come in does not matter), digested again."""

    def __init__(self) -> None:
        self.rows: list[str] = []

    def step(self, *values) -> None:
        self.rows.append(hashlib.sha256(repr(values).encode()).hexdigest())

    def finalize(self) -> str:
        return hashlib.sha256(",".join(sorted(self.rows)).encode()).hexdigest()


def _sqlite_digest_function() -> str:
    """Registers the aggregate on the connection (again each time: it costs nothing, and the
    connection may be a new one)."""
    connection.ensure_connection()
    connection.connection.create_aggregate("ouc_rows_digest", -1, _RowsDigest)
    return "ouc_rows_digest"


def fingerprint(*, with_audit_log: bool = False) -> dict[str, str]:
    """Every row of every project model, hashed per table: a change to any value of any row
    changes its table's digest, on PostgreSQL and on SQLite alike (a count would miss an edit).

    ``with_audit_log`` adds the audit log's tables, for requests it does not record (GETs: the
    audit middleware records changing requests only), where a line in it would be a write."""
    found = _stored_models()
    if with_audit_log:
        found += [m for label in NOT_STORED_BY_THE_REQUEST for m in apps.get_app_config(label).get_models()]
    quote = connection.ops.quote_name
    tables = [quote(model._meta.db_table) for model in found]
    if connection.vendor == "postgresql":
        parts = [
            f"(SELECT md5(COALESCE(string_agg(md5(t::text), ',' ORDER BY md5(t::text)), '')) "  # noqa: S608
            f"FROM {table} t)"
            for table in tables
        ]
    elif connection.vendor == "sqlite":
        digest = _sqlite_digest_function()
        parts = [
            f"(SELECT {digest}({', '.join(quote(f.column) for f in model._meta.concrete_fields)}) "  # noqa: S608
            f"FROM {table})"
            for model, table in zip(found, tables, strict=True)
        ]
    else:
        raise NotImplementedError(f"no table digest for {connection.vendor}")
    with connection.cursor() as cursor:
        # Table and column names from the models, quoted by the backend: nothing here comes from
        # a request.
        cursor.execute("SELECT " + ", ".join(parts))
        row = cursor.fetchone()
    return {model._meta.label: str(value) for model, value in zip(found, row, strict=True)}


def changed(before: dict[str, str], after: dict[str, str]) -> list[str]:
    return sorted(label for label in before if before[label] != after[label])


def stored_anywhere(value: str) -> bool:
    """Whether some text column of the project's models holds exactly ``value``."""
    checks = []
    quote = connection.ops.quote_name
    for model in _stored_models():
        for model_field in model._meta.concrete_fields:
            if isinstance(model_field, models.CharField | models.TextField):
                table, column = quote(model._meta.db_table), quote(model_field.column)
                checks.append(
                    f"EXISTS (SELECT 1 FROM {table} WHERE {column} = (SELECT x FROM sent))"  # noqa: S608
                )
    with connection.cursor() as cursor:
        # The value once, as a parameter; every column compares with it.
        cursor.execute("WITH sent(x) AS (SELECT %s) SELECT " + " OR ".join(checks), [value])
        return bool(cursor.fetchone()[0])
