"""Every API operation that writes, sent bad bodies (issue 8, the API side of ``test_fields.py``).

Every field of every operation in ``api_registry`` gets the generic bad values: left out, null,
the wrong JSON type, 100,000 characters and a megabyte, control and text-direction characters,
odd Unicode, numbers out of range, impossible dates, values no enum has. For each: never a server
error; either 400 naming the field and nothing stored, or, where the value is one the field may
take (an emoji in a title, a line break in a reason), the value stored exactly as sent. Then the
bodies that are not JSON at all, and the API's uploads (evidence, results).

Authentication: the world's signed-in sessions (the test client does not enforce CSRF, as a
browser's fetch with the token would pass it) and, for the reviewers' desk, a partner token.
"""

from __future__ import annotations

import datetime
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test.client import MULTIPART_CONTENT
from django.utils import timezone

from tests import permission_matrix as pm
from tests.bad_input import api_registry as r
from tests.bad_input.sweep import changed, fingerprint, stored_anywhere
from tests.test_permission_matrix import WRITE_METHODS, schema_operations, sign_in

pytestmark = pytest.mark.django_db

MISSING = object()
ALL = frozenset(r.KINDS) - {r.FILE}
TEXTS = frozenset({r.TEXT, r.LONG})
TYPED = ALL - TEXTS
LISTS = frozenset({r.REFS, r.CHOICES})
# Marks a lone surrogate in a multipart body: replaced by bytes that are not UTF-8.
RAW_PLACEHOLDER = "RAWBYTESPLACEHOLDER"


# --- Sending ----------------------------------------------------------------------------------------


def resolve(world, value):
    if isinstance(value, list):
        return [resolve(world, item) for item in value]
    if callable(value):
        return value(world)
    if isinstance(value, str) and value.startswith("@"):
        return world.values[value[1:]]
    return value


def url_for(world, entry: r.ApiEntry) -> str:
    def fill(match: re.Match) -> str:
        arg = match.group(1)
        name = (
            entry.kwargs.get(arg)
            or pm.API_KWARGS.get((entry.path, arg))
            or pm.DEFAULT_KWARGS.get(arg, arg)
        )
        return world.values[name]

    return re.sub(r"{(\w+)}", fill, entry.path)


def valid_body(world, entry: r.ApiEntry) -> dict:
    return {name: resolve(world, value) for name, value in entry.body.items()}


def _files(world, entry: r.ApiEntry) -> dict:
    found = {}
    for name, (filename, content) in entry.files.items():
        content = content(world) if callable(content) else content
        found[name] = SimpleUploadedFile(filename, content)
    return found


def send(
    client, world, entry: r.ApiEntry, body, *, files: dict | None = None, raw: bytes | None = None
):
    """Send ``body`` as ``entry``'s role: JSON, or multipart for an upload; ``raw``: these bytes
    as the JSON body, whatever they are."""
    sign_in(client, world, entry.role)
    url = url_for(world, entry)
    if entry.multipart:
        data = {k: v for k, v in body.items() if v is not None}
        data.update(_files(world, entry) if files is None else files)
        if any(RAW_PLACEHOLDER in str(v) for v in data.values()):
            from django.test.client import BOUNDARY, encode_multipart

            payload = encode_multipart(BOUNDARY, data).replace(
                RAW_PLACEHOLDER.encode(), b"\xed\xa0\x80"
            )
            return client.generic(entry.method, url, payload, content_type=MULTIPART_CONTENT)
        return client.post(url, data)
    payload = raw if raw is not None else json.dumps(body)
    return client.generic(entry.method, url, payload, content_type="application/json")


@dataclass
class Answer:
    refused: bool
    status: int
    text: str

    def __str__(self) -> str:
        return f"HTTP {self.status}: {self.text[:300]}"


def read(response, entry: r.ApiEntry) -> Answer:
    """Refused (400, 413) or done (2xx); anything else fails: a server error, a refusal of the
    role (the registry is wrong), or a 404 for a body (the URL's object exists)."""
    status = response.status_code
    where = f"{entry.id} as {entry.role}"
    text = response.content.decode(errors="replace")
    assert status < 500, f"{where}: server error {status}: {text[:300]}"
    assert status not in (401, 403, 405), f"{where}: HTTP {status}: fix the registry entry"
    assert status != 404, f"{where}: 404 for a bad body: an unknown name in a body is a 400"
    if status in (400, 413):
        assert text.strip(), f"{where}: {status} with an empty body: the caller reads nothing"
        return Answer(True, status, text)
    assert 200 <= status < 300, f"{where}: HTTP {status}: {text[:300]}"
    return Answer(False, status, text)


def names_field(answer: Answer, name: str) -> bool:
    """Whether the refusal names ``name``: a key of the error object, or the field in its text."""
    try:
        errors = json.loads(answer.text)
    except ValueError:
        return name in answer.text
    return (isinstance(errors, dict) and name in errors) or name in answer.text


# --- Every write operation has an entry -------------------------------------------------------------


def test_every_api_write_has_an_entry_or_an_exemption():
    writes = {
        f"{method} {path}"
        for path, methods in schema_operations().items()
        for method in methods
        if method in WRITE_METHODS
    }
    entries = {entry.id for entry in r.ENTRIES}
    missing = sorted(writes - entries - set(r.EXEMPT))
    assert not missing, (
        f"API writes with no entry in tests/bad_input/api_registry.py (add one, or an EXEMPT "
        f"reason): {missing}"
    )
    stale = sorted((entries | set(r.EXEMPT)) - writes)
    assert not stale, f"entries for operations the schema no longer has: {stale}"
    assert all(reason.strip() for reason in r.EXEMPT.values())


@pytest.mark.parametrize("entry", r.ENTRIES, ids=lambda e: e.id)
def test_valid_body_is_accepted(client, world, entry):
    answer = read(send(client, world, entry, valid_body(world, entry)), entry)
    assert not answer.refused, f"{entry.id}: the registry's valid body is refused: {answer}"


# --- The generic bad values --------------------------------------------------------------------------


@dataclass(frozen=True)
class Mutation:
    name: str
    make: Callable  # valid value -> the value sent (MISSING: the field is left out)
    kinds: frozenset  # the kinds of field it is sent to
    refused_by: frozenset = frozenset()  # the kinds that must refuse it
    json_only: bool = False  # a JSON type: a multipart body has only strings
    stored: bool = False  # accepted by a text field, it must be stored as sent


def _inside(text: str) -> Callable:
    """The valid value with ``text`` in its middle (so no trimming of the ends can hide it)."""

    def make(valid):
        valid = str(valid[-1] if isinstance(valid, list) and valid else valid or "x")
        valid = valid if len(valid) >= 2 else "x" + valid
        middle = len(valid) // 2
        return valid[:middle] + text + valid[middle:]

    return make


MUTATIONS = [
    Mutation("missing", lambda v: MISSING, ALL),
    Mutation("null", lambda v: None, ALL, json_only=True),
    # Left out, null or empty: refused where the field is required, taken as "none" where not.
    Mutation("empty", lambda v: "", ALL),
    Mutation(
        "number", lambda v: 12345, ALL, refused_by={r.DATE, r.CHOICE, r.REF} | LISTS, json_only=True
    ),
    Mutation(
        "float",
        lambda v: 1.5,
        ALL,
        refused_by={r.DATE, r.CHOICE, r.REF, r.ID} | LISTS,
        json_only=True,
    ),
    Mutation("letters", lambda v: "12abc", ALL, refused_by=TYPED),
    Mutation(
        "list", lambda v: ["not-this", "one"], ALL - LISTS, refused_by=ALL - LISTS, json_only=True
    ),
    Mutation("object", lambda v: {"a": 1}, ALL, refused_by=ALL, json_only=True),
    Mutation("true", lambda v: True, ALL, refused_by=ALL, json_only=True),
    Mutation("huge_100k", lambda v: "x" * 100_000, ALL, refused_by=ALL),
    Mutation("huge_1mb", lambda v: "8" * 1_000_000, ALL, refused_by=ALL),
    Mutation(
        "negative", lambda v: -1, {r.NUMBER, r.ID}, refused_by={r.NUMBER, r.ID}, json_only=True
    ),
    Mutation(
        "overflow",
        lambda v: 10**20,
        {r.NUMBER, r.ID, r.CHOICE},
        refused_by={r.NUMBER, r.ID, r.CHOICE},
        json_only=True,
    ),
    Mutation("overflow_text", lambda v: str(10**30), {r.NUMBER}, refused_by={r.NUMBER}),
    Mutation("nan", lambda v: "NaN", {r.NUMBER}, refused_by={r.NUMBER}),
    Mutation("infinity", lambda v: "-Infinity", {r.NUMBER}, refused_by={r.NUMBER}),
    Mutation("feb_30", lambda v: "2026-02-30", {r.DATE}, refused_by={r.DATE}),
    Mutation("year_99999", lambda v: "99999-01-01", {r.DATE}, refused_by={r.DATE}),
    Mutation("year_0", lambda v: "0000-01-01", {r.DATE}, refused_by={r.DATE}),
    Mutation("not_offered", lambda v: "not-offered", ALL - TEXTS, refused_by=TYPED),
    Mutation("rtl_override", _inside("\u202egpj.exe"), ALL, refused_by=ALL),
    Mutation("bidi_isolate", _inside("\u2067abc\u2069"), ALL, refused_by=ALL),
    Mutation("control_chars", _inside("\x01\x07\x1b[31m\x1f"), ALL, refused_by=ALL),
    Mutation("c1_control", _inside("\x85\x9b"), ALL, refused_by=ALL),
    Mutation(
        "line_break", _inside("\nsecond line\tend"), ALL, refused_by=ALL - {r.LONG}, stored=True
    ),
    Mutation("nul", _inside("\x00"), ALL, refused_by=ALL),
    Mutation("lone_surrogate", _inside("\ud800"), ALL, refused_by=ALL, json_only=True),
    # Not UTF-8 in a multipart body: Django decodes it with U+FFFD, as for the pages' forms.
    Mutation("lone_surrogate_bytes", _inside(RAW_PLACEHOLDER), ALL),
    Mutation("zero_width", _inside("\u200d\u200b\ufeff"), ALL, refused_by=TYPED, stored=True),
    Mutation("combining", _inside("e\u0301\u0338\u20dd"), ALL, refused_by=TYPED, stored=True),
    Mutation("emoji", _inside("🔧👩🏽‍🏭"), ALL, refused_by=TYPED, stored=True),
    Mutation(
        "fullwidth", lambda v: "４２", ALL, refused_by={r.DATE, r.CHOICE, r.REF, r.ID} | LISTS
    ),
]


def cases() -> Iterator:
    for entry in r.ENTRIES:
        for name, kind in entry.fields.items():
            for mutation in MUTATIONS:
                if kind in mutation.kinds and not (mutation.json_only and entry.multipart):
                    if mutation.name == "lone_surrogate_bytes" and not entry.multipart:
                        continue  # JSON escapes a surrogate: ``lone_surrogate``
                    yield pytest.param(
                        entry, name, mutation, id=f"{entry.id}-{name}-{mutation.name}"
                    )


def _mutated(mutation: Mutation, kind: str, valid):
    """The value sent. A list field gets the mutation as its one item, but for the JSON types
    a list field must refuse as a whole (null, a number, an object)."""
    if kind in LISTS and mutation.name not in (
        "missing",
        "null",
        "object",
        "true",
        "number",
        "float",
        "empty",
        "huge_100k",
        "huge_1mb",
    ):
        value = mutation.make(valid[0] if valid else "")
        return value if value is MISSING else [value]
    return mutation.make(valid)


# A version is named with its code: "No recognition standard CNC-OP v42." under standard_code.
PAIRED = {"standard_version": "standard_code", "rule_version": "rule_code"}


def _must_refuse(mutation: Mutation, kind: str) -> bool:
    if kind in LISTS and mutation.name not in ("missing", "null", "empty"):
        item = r.ITEM_KIND[kind]
        return kind in mutation.refused_by or item in mutation.refused_by
    return kind in mutation.refused_by


@pytest.mark.parametrize(("entry", "name", "mutation"), list(cases()))
def test_bad_value(client, world, entry, name, mutation):
    kind = entry.fields[name]
    body = valid_body(world, entry)
    value = _mutated(mutation, kind, body.get(name))
    if value is MISSING:
        body.pop(name, None)
    else:
        body[name] = value
    before = fingerprint()
    answer = read(send(client, world, entry, body), entry)
    after = fingerprint()
    where = f"{entry.id}: {name} = {mutation.name}"
    if answer.refused:
        assert not changed(before, after), (
            f"{where} was refused but stored: {changed(before, after)}"
        )
        if answer.status == 400 and not _whole_body_refused(mutation, entry):
            named = names_field(answer, name) or names_field(answer, PAIRED.get(name, name))
            assert named, f"{where} was refused without naming it: {answer}"
        return
    allowed = entry.allow.get((name, mutation.name))
    assert not _must_refuse(mutation, kind) or allowed, f"{where} was accepted ({answer})"
    if kind in TEXTS and isinstance(value, str) and value and mutation.stored:
        assert stored_anywhere(value), (
            f"{where} was accepted, but the value sent ({len(value)} characters) is stored "
            "nowhere as it was sent (cut short or changed?)"
        )


def _whole_body_refused(mutation: Mutation, entry: r.ApiEntry) -> bool:
    """A multipart body that is not UTF-8 is refused as a whole, before any field is read."""
    return mutation.name == "lone_surrogate_bytes"


# --- Bodies that are not what the operation takes ---------------------------------------------------

JSON_ENTRIES = [entry for entry in r.ENTRIES if not entry.multipart and entry.fields]
NOT_A_BODY = {
    "not_json": b"reason=this is a form",
    "truncated": b'{"reason": "half',
    "nan": b'{"credits": NaN, "standard_version": Infinity}',
    "a_list": b'[{"reason": "in a list"}]',
    "a_string": b'"just a string"',
    "deep": b"[" * 100_000 + b"]" * 100_000,
    "not_utf8": b'{"reason": "\xff\xfe caf\xe9"}',
}


@pytest.mark.parametrize("raw", NOT_A_BODY, ids=str)
@pytest.mark.parametrize("entry", JSON_ENTRIES, ids=lambda e: e.id)
def test_body_that_is_not_an_object_is_refused(client, world, entry, raw):
    before = fingerprint()
    answer = read(send(client, world, entry, None, raw=NOT_A_BODY[raw]), entry)
    assert answer.refused, f"{entry.id}: a body that is {raw} was accepted: {answer}"
    assert not changed(before, fingerprint())


def test_a_partner_token_is_refused_a_bad_reason_too(client, world):
    """The reviewers' desk through a partner system's token: the same refusal as a session's."""
    entry = next(e for e in r.ENTRIES if e.path.endswith("/reject/") and e.role == "reviewer")
    before = fingerprint()
    response = client.generic(
        "POST",
        url_for(world, entry),
        json.dumps({"reason": "Li\u202eMing"}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {world.values['token_key']}",
    )
    answer = read(response, entry)
    assert answer.refused and "U+202E" in answer.text and names_field(answer, "reason")
    # The token's last use is recorded (schools.tokens), whatever the answer; nothing else.
    assert changed(before, fingerprint()) in ([], ["schools.PartnerToken"])


# --- Uploads ---------------------------------------------------------------------------------------

OUTCOMES = next(e for e in r.ENTRIES if e.path == "/api/v1/me/outcomes/")
RESULTS = next(e for e in r.ENTRIES if e.path.endswith("/results/"))
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 32


def _oversized_pdf() -> bytes:
    from django.conf import settings

    return r.PDF + b"0" * settings.EVIDENCE_MAX_BYTES


EVIDENCE_REFUSED = {
    "empty": ("certificate.pdf", b""),
    "oversized": ("certificate.pdf", None),  # built in the test: a few megabytes
    "exe_named_pdf": ("certificate.pdf", b"MZ\x90\x00" + b"\x00" * 64),
    "html_named_pdf": ("certificate.pdf", b"<html><script>alert(1)</script></html>"),
    "zip_named_pdf": ("certificate.pdf", b"PK\x03\x04" + b"\x00" * 64),
    "text_named_png": ("photo.png", b"just some text, not an image"),
    "png_named_pdf": ("scan.pdf", PNG),
    "control_in_name": ("cert\u202efdp.exe", r.PDF),
}


@pytest.mark.parametrize("case", EVIDENCE_REFUSED, ids=str)
def test_bad_evidence_is_refused(client, world, case):
    filename, content = EVIDENCE_REFUSED[case]
    content = _oversized_pdf() if content is None else content
    before = fingerprint()
    response = send(
        client,
        world,
        OUTCOMES,
        valid_body(world, OUTCOMES),
        files={"evidence": SimpleUploadedFile(filename, content)},
    )
    answer = read(response, OUTCOMES)
    assert answer.refused, f"evidence {case} was accepted: {answer}"
    # The message names the file (as the pages do), without the characters it may not show.
    shown = "".join(c for c in filename if c.isprintable() and c != "\u202e")
    assert answer.status == 413 or shown in answer.text or names_field(answer, "evidence"), answer
    assert not changed(before, fingerprint())


def test_evidence_left_out_is_refused(client, world):
    before = fingerprint()
    answer = read(send(client, world, OUTCOMES, valid_body(world, OUTCOMES), files={}), OUTCOMES)
    assert answer.refused and "evidence" in answer.text.lower(), answer
    assert not changed(before, fingerprint())


def _results_row(**override) -> str:
    day = (timezone.localdate() - datetime.timedelta(days=7)).isoformat()
    row = {
        "learner_email": "learner@example.org",
        "course_code": "NC201",
        "score": "85",
        "assessed_on": day,
    } | override
    return ",".join(row.values())


RESULTS_REFUSED = {
    "empty": b"",
    "header_only_wrong": b"email,course,mark\n",
    "binary": b"PK\x03\x04" + b"\x00" * 200,
    "not_utf8": ("learner_email,course_code,score,assessed_on\n" + _results_row()).encode("utf-16"),
    "score_out_of_range": (
        "learner_email,course_code,score,assessed_on\n" + _results_row(score="101")
    ).encode(),
    "score_letters": (
        "learner_email,course_code,score,assessed_on\n" + _results_row(score="eighty")
    ).encode(),
    "bad_date": (
        "learner_email,course_code,score,assessed_on\n" + _results_row(assessed_on="2026-02-30")
    ).encode(),
    "unknown_course": (
        "learner_email,course_code,score,assessed_on\n" + _results_row(course_code="NOPE1")
    ).encode(),
    "control_in_code": (
        "learner_email,course_code,score,assessed_on\n" + _results_row(course_code="NC\u202e201")
    ).encode(),
    "short_row": b"learner_email,course_code,score,assessed_on\nlearner@example.org,NC201\n",
    "huge_field": (
        "learner_email,course_code,score,assessed_on\n" + _results_row(course_code="x" * 200_000)
    ).encode(),
}


@pytest.mark.parametrize("case", RESULTS_REFUSED, ids=str)
def test_bad_results_file_is_refused(client, world, case):
    before = fingerprint()
    files = {"file": SimpleUploadedFile("results.csv", RESULTS_REFUSED[case])}
    answer = read(send(client, world, RESULTS, {}, files=files), RESULTS)
    assert answer.refused, f"results file {case} was accepted: {answer}"
    assert json.loads(answer.text), answer
    assert not changed(before, fingerprint())


def test_oversized_results_file_is_refused(client, world, settings):
    settings.RESULTS_CSV_MAX_BYTES = 2048
    before = fingerprint()
    content = r.results_csv(world) + b"\n" * 4096
    files = {"file": SimpleUploadedFile("results.csv", content)}
    answer = read(send(client, world, RESULTS, {}, files=files), RESULTS)
    assert answer.refused, answer
    assert not changed(before, fingerprint())


def test_results_file_left_out_is_refused(client, world):
    before = fingerprint()
    answer = read(send(client, world, RESULTS, {}, files={}), RESULTS)
    assert answer.refused and names_field(answer, "file"), answer
    assert not changed(before, fingerprint())
