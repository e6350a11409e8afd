"""Control and text-direction characters in what people type (issue 8; ouc_portal/validators.py).

One-line text (names, titles, codes, grades) refuses C0 and C1 control characters, the
bidirectional embeddings, overrides and isolates, line separators and lone surrogates: a learner's
legal name with a RIGHT-TO-LEFT OVERRIDE would print reversed on a public certificate. Multi-line
text (descriptions, criteria, reasons) keeps tab and line ends and refuses the rest. Every page's
form and every API serializer uses the one validator; the API side is swept in ``test_api.py``.
"""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from ouc_portal.validators import PlainTextValidator, describe, refused_character
from tests.bad_input import registry as r
from tests.bad_input.sweep import (
    REFUSED,
    changed,
    fingerprint,
    input_name,
    read,
    send,
    stored_anywhere,
    valid_data,
)

REFUSED_EVERYWHERE = {
    "rtl_override": "\u202e",
    "ltr_embedding": "\u202a",
    "pop_directional": "\u202c",
    "rtl_isolate": "\u2067",
    "pop_isolate": "\u2069",
    "escape": "\x1b",
    "bell": "\x07",
    "delete": "\x7f",
    "c1_csi": "\x9b",
    "next_line": "\x85",
    "lone_surrogate": "\ud800",
}
REFUSED_ON_ONE_LINE = {
    "line_feed": "\n",
    "carriage_return": "\r",
    "tab": "\t",
    "line_separator": "\u2028",
}
ACCEPTED_EVERYWHERE = [
    "李明",
    "José Ñúñez",
    "Zoë e\u0301",  # a combining accent
    "👩🏽‍🏭 welder",  # an emoji sequence joined by ZERO WIDTH JOINER
    "نجار",  # Arabic: right-to-left by its letters, no override needed
    "می\u200cخواهم",  # Persian, with a ZERO WIDTH NON-JOINER
    "Ａ１２",  # fullwidth
]


@pytest.mark.parametrize("character", REFUSED_EVERYWHERE.values(), ids=REFUSED_EVERYWHERE)
@pytest.mark.parametrize("multiline", [False, True], ids=["one-line", "multi-line"])
def test_refused_in_any_text(character, multiline):
    with pytest.raises(ValidationError) as raised, translation.override("en"):
        PlainTextValidator(multiline=multiline, field="Legal name")(f"Li{character}Ming")
    message = raised.value.messages[0]
    assert message.startswith("Legal name ") and f"U+{ord(character):04X}" in message


@pytest.mark.parametrize("character", REFUSED_ON_ONE_LINE.values(), ids=REFUSED_ON_ONE_LINE)
def test_line_ends_and_tabs_only_in_multi_line_text(character):
    with pytest.raises(ValidationError, match="one line"), translation.override("en"):
        PlainTextValidator(field="Title")(f"CNC{character}Operator")
    if character != "\u2028":
        PlainTextValidator(multiline=True, field="Reason")(f"First{character}second")


@pytest.mark.parametrize("text", ACCEPTED_EVERYWHERE)
def test_real_names_in_any_script_are_accepted(text):
    assert refused_character(text, multiline=False) is None


def test_the_message_names_the_character():
    assert describe("\u202e") == "U+202E RIGHT-TO-LEFT OVERRIDE"
    assert describe("\x1b") == "U+001B ESCAPE"
    assert describe("\x9b") == "U+009B"


# --- Every page's text inputs ----------------------------------------------------------------------

TEXT_INPUTS = [
    pytest.param(entry, name, id=f"{entry.id}-{name}")
    for entry in r.ENTRIES
    for name, kind in entry.fields.items()
    if kind == r.TEXT
]
# The inputs that are textareas on their page (several lines are fine).
MULTI_LINE = {
    "reason", "approve-reason", "reject-reason", "accredit-reason", "description_en",
    "description_zh", "outcomes_en", "outcomes_zh", "entry_requirements_en",
    "entry_requirements_zh", "criteria_en", "criteria_zh",
}  # fmt: skip

# Inputs whose own rule already refuses anything but what they take, in its own words.
CHECKED_BY_THEIR_OWN_RULE = {
    ("signup", "email"),  # "Enter a valid email address."
    ("my_profile", "phone"),  # "Enter a phone number of 7 to 15 digits" (ProfileForm.clean_phone)
}


def _with(data: dict, key: str, text: str) -> dict:
    valid = str(data.get(key) or "xy")
    middle = max(len(valid) // 2, 1)
    return {**data, key: valid[:middle] + text + valid[middle:]}


@pytest.mark.django_db
@pytest.mark.parametrize(("entry", "name"), TEXT_INPUTS)
def test_a_direction_override_is_refused_by_every_page(client, world, entry, name):
    """Refused, with a message that names the input and the character; nothing stored."""
    key = input_name(world, name)
    before = fingerprint()
    data = _with(valid_data(world, entry), key, "\u202egpj.exe")
    answer = read(send(client, world, entry, data), entry)
    assert answer.verdict == REFUSED, f"{entry.id}: {name} took a RIGHT-TO-LEFT OVERRIDE"
    assert not changed(before, fingerprint())
    if (entry.id, name) not in CHECKED_BY_THEIR_OWN_RULE:
        assert any("U+202E" in why for why in answer.why), answer


@pytest.mark.django_db
@pytest.mark.parametrize(("entry", "name"), TEXT_INPUTS)
def test_line_ends_are_kept_in_textareas_and_refused_in_one_line_inputs(client, world, entry, name):
    key = input_name(world, name)
    text = "first line\r\nsecond\tline"
    data = _with(valid_data(world, entry), key, text)
    before = fingerprint()
    answer = read(send(client, world, entry, data), entry)
    if name in MULTI_LINE:
        assert answer.verdict != REFUSED, f"{entry.id}: {name} refused two lines: {answer}"
        assert stored_anywhere(data[key]), f"{entry.id}: {name} was not stored as sent"
    else:
        assert answer.verdict == REFUSED, f"{entry.id}: {name} took a line break"
        assert not changed(before, fingerprint())
