"""Every input of every form in the registry, sent the generic bad values.

For each: no server error; either a refusal the person can read (400, the form again with the
error shown, or a redirect with an error message) and nothing stored, or, where the value is one
the input may take (an emoji in a note), the value stored exactly as sent, never cut short.
Which values an input must refuse follows from its kind (``registry.KINDS``): letters are no
number, 30 February is no date, a value not offered is no choice, and nothing takes 100,000
characters.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest

from tests.bad_input import registry as r
from tests.bad_input.sweep import (
    DONE,
    RAW_PLACEHOLDER,
    REFUSED,
    changed,
    fingerprint,
    input_name,
    read,
    send,
    stored_anywhere,
    valid_data,
)

pytestmark = pytest.mark.django_db

MISSING = object()
ALL = frozenset(r.KINDS) - {r.FILE}
TYPED = frozenset({r.NUMBER, r.DATE, r.DATETIME, r.CHOICE, r.MULTI})
TEXTS = frozenset({r.TEXT, r.HIDDEN, r.SECRET})


@dataclass(frozen=True)
class Mutation:
    name: str
    make: Callable  # valid value -> the value sent (MISSING: the input is left out)
    kinds: frozenset  # the kinds of input it is sent to
    refused_by: frozenset = frozenset()  # the kinds that must refuse it
    raw: bool = False  # the value holds RAW_PLACEHOLDER, sent as bytes that are not UTF-8


def _inside(text: str) -> Callable:
    """The valid value with ``text`` in its middle (so no stripping of the ends can hide it)."""

    def make(valid):
        valid = valid[-1] if isinstance(valid, list) else str(valid or "x")
        if len(valid) < 2:
            valid = "x" + valid
        middle = len(valid) // 2
        return valid[:middle] + text + valid[middle:]

    return make


MUTATIONS = [
    Mutation("missing", lambda v: MISSING, ALL),
    Mutation("empty", lambda v: "", ALL),
    Mutation("huge_100k", lambda v: "x" * 100_000, ALL, refused_by=ALL - {r.FLAG}),
    Mutation("huge_1mb", lambda v: "8" * 1_000_000, ALL, refused_by=ALL - {r.FLAG}),
    Mutation("list", lambda v: ["not-this-one", v[-1] if isinstance(v, list) else v], ALL),
    Mutation("letters", lambda v: "12abc", TYPED, refused_by=TYPED),
    Mutation("negative", lambda v: "-1", {r.NUMBER}, refused_by={r.NUMBER}),
    Mutation("overflow", lambda v: str(10**20), {r.NUMBER, r.CHOICE, r.MULTI}, refused_by=TYPED),
    Mutation("nan", lambda v: "NaN", {r.NUMBER}, refused_by={r.NUMBER}),
    Mutation("infinity", lambda v: "-Infinity", {r.NUMBER}, refused_by={r.NUMBER}),
    Mutation("feb_30", lambda v: "2026-02-30", {r.DATE}, refused_by={r.DATE}),
    Mutation("feb_30", lambda v: "2026-02-30T10:00", {r.DATETIME}, refused_by={r.DATETIME}),
    Mutation("year_99999", lambda v: "99999-01-01", {r.DATE, r.DATETIME}, refused_by=TYPED),
    Mutation("not_offered", lambda v: "not-offered", {r.CHOICE, r.MULTI}, refused_by=TYPED),
    Mutation("rtl_override", _inside("\u202egpj.exe"), ALL - {r.FLAG}, refused_by=TYPED),
    Mutation("zero_width", _inside("\u200d\u200b\ufeff"), ALL - {r.FLAG}, refused_by=TYPED),
    Mutation("combining", _inside("e\u0301\u0338\u20dd"), ALL - {r.FLAG}, refused_by=TYPED),
    Mutation("emoji", _inside("🔧👩🏽‍🏭"), ALL - {r.FLAG}, refused_by=TYPED),
    # Fullwidth digits are digits to Python and to Django's fields: "４" is read as 4.
    Mutation("fullwidth", lambda v: "４２" if not isinstance(v, list) else v, TEXTS | {r.NUMBER}),
    Mutation("control_chars", _inside("\x01\x07\x1b[31m\x1f"), ALL - {r.FLAG}, refused_by=TYPED),
    # NUL cannot reach PostgreSQL: 400 before any view (ouc_portal/security.py).
    Mutation("nul", _inside("\x00"), ALL - {r.FLAG}, refused_by=ALL - {r.FLAG}),
    Mutation("lone_surrogate", _inside(RAW_PLACEHOLDER), ALL - {r.FLAG}, raw=True),
]


def cases() -> Iterator:
    for entry in r.ENTRIES:
        for name, kind in entry.fields.items():
            for mutation in MUTATIONS:
                if kind in mutation.kinds:
                    yield pytest.param(
                        entry, name, mutation, id=f"{entry.id}-{name}-{mutation.name}"
                    )


def _text_sent(value) -> str | None:
    """The text an accepted value must be stored as (None: not one text value)."""
    if value is MISSING or isinstance(value, list) or RAW_PLACEHOLDER in str(value):
        return None
    return value if value else None


@pytest.mark.parametrize(("entry", "name", "mutation"), list(cases()))
def test_bad_value(client, world, entry, name, mutation):
    kind = entry.fields[name]
    data = valid_data(world, entry)
    key = input_name(world, name)
    value = mutation.make(data.get(key))
    if value is MISSING:
        data.pop(key, None)
    else:
        data[key] = value
    before = fingerprint()
    answer = read(send(client, world, entry, data, raw=mutation.raw), entry)
    after = fingerprint()
    where = f"{entry.id}: {name} = {mutation.name}"
    if answer.verdict == REFUSED:
        assert not changed(before, after), (
            f"{where} was refused but stored: {changed(before, after)}"
        )
        return
    assert answer.verdict == DONE
    allowed = entry.allow.get((name, mutation.name))
    assert kind not in mutation.refused_by or allowed, (
        f"{where} was accepted (HTTP {answer.status})"
    )
    text = _text_sent(value)
    if kind == r.TEXT and text is not None and entry.method == "POST":
        assert stored_anywhere(text), (
            f"{where} was accepted, but the value sent ({len(text)} characters) is stored "
            "nowhere as it was sent (cut short or changed?)"
        )


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("１３８００１３８０００", "13800138000"),  # fullwidth, as a Chinese input method types
        ("+86 138 0013 8000", "+8613800138000"),
    ],
)
def test_phone_is_stored_in_ascii_digits(client, world, typed, stored):
    from enrolment.models import Learner

    entry = next(e for e in r.ENTRIES if e.id == "my_profile")
    data = {**valid_data(world, entry), "phone": typed}
    assert read(send(client, world, entry, data), entry).verdict == DONE
    assert Learner.objects.get(user=world.users["learner"]).phone == stored


@pytest.mark.parametrize("typed", ["١٣٨٠٠١٣٨٠٠٠", "13800138000\u0663", "138\u200b0013\u202e8000"])
def test_phone_of_other_digits_is_refused(client, world, typed):
    entry = next(e for e in r.ENTRIES if e.id == "my_profile")
    data = {**valid_data(world, entry), "phone": typed}
    answer = read(send(client, world, entry, data), entry)
    assert answer.verdict == REFUSED and "phone number" in " ".join(answer.why)
