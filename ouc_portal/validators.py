"""Text people type, checked the same way by every form and every API serializer.

One-line text (a legal name, a title, a code, a grade) ends up printed: on certificates,
transcripts, ledgers and staff lists. Invisible characters in it are a spoofing risk, not
decoration: a learner's name with a RIGHT-TO-LEFT OVERRIDE prints reversed on a public
certificate, and a terminal escape in a course code rewrites a log line. So one-line text refuses
control characters (C0, DEL, C1), the bidirectional embeddings, overrides and isolates
(U+202A-U+202E, U+2066-U+2069), line and paragraph separators and lone surrogates (which
PostgreSQL cannot store). Multi-line text (descriptions, criteria, reasons) keeps tab and line
ends, browsers send a textarea's lines ending in CR LF, and refuses the rest.

The limits of free text are here too, so the pages and the API refuse the same lengths.
"""

from __future__ import annotations

import re
import unicodedata

from django import forms
from django.core.exceptions import ValidationError
from django.forms.utils import pretty_name
from django.utils.deconstruct import deconstructible
from django.utils.translation import gettext_lazy as _

# A reason kept with a decision (accrediting, rejecting, revoking): the learner reads it.
REASON_MAX = 2_000
# Long texts (descriptions, outcomes, entry requirements, a standard's criteria): the database
# takes any length, a page does not. Far beyond what a real one needs (the seeds' longest is a few
# hundred characters); a megabyte pasted by mistake is refused, not stored.
LONG_TEXT_MAX = 10_000

_BIDI = "\u202a-\u202e\u2066-\u2069"
_SURROGATES = "\ud800-\udfff"
MULTI_LINE_REFUSED = re.compile(f"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f{_BIDI}{_SURROGATES}]")
ONE_LINE_REFUSED = re.compile(f"[\x00-\x1f\x7f-\x9f\u2028\u2029{_BIDI}{_SURROGATES}]")
BIDI_CONTROLS = re.compile(f"[{_BIDI}]")
LINE_BREAKS = frozenset("\t\n\r\u2028\u2029")

_NAMES = {  # control characters have no name in unicodedata
    "\t": "CHARACTER TABULATION",
    "\n": "LINE FEED",
    "\r": "CARRIAGE RETURN",
    "\x1b": "ESCAPE",
    "\x7f": "DELETE",
}


def describe(character: str) -> str:
    """``U+202E RIGHT-TO-LEFT OVERRIDE``: the code point, and its name where it has one."""
    name = _NAMES.get(character) or unicodedata.name(character, "")
    code = f"U+{ord(character):04X}"
    return f"{code} {name}" if name else code


def refused_character(value: str, *, multiline: bool) -> str | None:
    """The first character ``value`` may not hold, or None."""
    match = (MULTI_LINE_REFUSED if multiline else ONE_LINE_REFUSED).search(value)
    return match.group() if match else None


@deconstructible
class PlainTextValidator:
    """Refuses the characters above; ``field`` is the name the message gives the input."""

    code = "control_character"

    def __init__(self, *, multiline: bool = False, field: str = "") -> None:
        self.multiline = multiline
        self.field = field

    def __call__(self, value) -> None:
        if not isinstance(value, str):
            return
        character = refused_character(value, multiline=self.multiline)
        if character is None:
            return
        params = {"field": self.field or _("This field"), "character": describe(character)}
        if BIDI_CONTROLS.match(character):
            message = _(
                "%(field)s may not contain the text-direction control %(character)s: it makes "
                "text display in another order than it was typed."
            )
        elif character in LINE_BREAKS:
            message = _("%(field)s must be one line: remove the %(character)s.")
        else:
            message = _("%(field)s may not contain the invisible character %(character)s.")
        raise ValidationError(message, code=self.code, params=params)

    def __eq__(self, other) -> bool:
        return isinstance(other, PlainTextValidator) and (self.multiline, self.field) == (
            other.multiline,
            other.field,
        )


def _guard(validators: list, *, multiline: bool, field: str) -> None:
    if not any(isinstance(v, PlainTextValidator) for v in validators):
        validators.append(PlainTextValidator(multiline=multiline, field=field))


# --- Forms ----------------------------------------------------------------------------------------


def guard_form_text(form: forms.BaseForm, exempt=()) -> None:
    """Give every text input of ``form`` the validator: a textarea is multi-line, any other input
    one line. Passwords (stored hashed, never shown) and hidden inputs (they steer the page and
    are never stored) are left alone."""
    for name, field in form.fields.items():
        if (
            name in exempt
            or not isinstance(field, forms.CharField)
            or isinstance(field.widget, forms.PasswordInput | forms.HiddenInput)
        ):
            continue
        multiline = isinstance(field.widget, forms.Textarea)
        _guard(field.validators, multiline=multiline, field=field.label or pretty_name(name))


class PlainTextFormMixin:
    """Checks the form's text inputs with ``PlainTextValidator`` (fields added or relabelled in
    ``__init__`` included: the validators are attached when the form is cleaned).
    ``plain_text_exempt`` names inputs whose own cleaning takes less (a phone number: digits)."""

    plain_text_exempt: tuple[str, ...] = ()

    def full_clean(self) -> None:
        guard_form_text(self, self.plain_text_exempt)
        super().full_clean()


# --- API serializers ------------------------------------------------------------------------------


def guard_serializer_field(name: str, field) -> None:
    from rest_framework import serializers

    if field.read_only:
        return
    if isinstance(field, serializers.ListField):
        guard_serializer_field(name, field.child)
        return
    if isinstance(field, serializers.CharField):
        # ModelSerializer gives a TextField this style; an input that is multi-line says so too.
        multiline = field.style.get("base_template") == "textarea.html"
        _guard(field.validators, multiline=multiline, field=name)


class PlainTextSerializerMixin:
    """Checks the serializer's writable text fields with ``PlainTextValidator``; a field is
    multi-line when its style is a textarea (``style={"base_template": "textarea.html"}``, what
    ModelSerializer gives a model's TextField)."""

    def get_fields(self):
        fields = super().get_fields()
        for name, field in fields.items():
            guard_serializer_field(name, field)
        return fields


MULTI_LINE = {"base_template": "textarea.html"}
