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

Numbers people type are checked here as well: an integer input, and the id a choice of rows is
sent as, must fit the database column it is stored in or compared with. SQLite cannot even bind
an integer beyond 64 bits (OverflowError), PostgreSQL's integer column stops at 2,147,483,647
(DataError): either is a 500, not an answer. So every such input is checked against the
column's range as PostgreSQL has it, the narrower of the two, and both backends refuse the same
numbers with an error that names the input.
"""

from __future__ import annotations

import re
import unicodedata

from django import forms
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import models
from django.db.backends.base.operations import BaseDatabaseOperations
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


class NumberRangeFormMixin:
    """Checks the form's integer inputs and its choices of rows against the ranges of the columns
    they reach (``guard_form_numbers``), fields added in ``__init__`` included."""

    def full_clean(self) -> None:
        guard_form_numbers(self)
        super().full_clean()


class PlainTextFormMixin(NumberRangeFormMixin):
    """Checks the form's text inputs with ``PlainTextValidator`` (fields added or relabelled in
    ``__init__`` included: the validators are attached when the form is cleaned), and its numbers
    as ``NumberRangeFormMixin`` does. ``plain_text_exempt`` names inputs whose own cleaning takes
    less (a phone number: digits)."""

    plain_text_exempt: tuple[str, ...] = ()

    def full_clean(self) -> None:
        guard_form_text(self, self.plain_text_exempt)
        super().full_clean()


# --- Numbers --------------------------------------------------------------------------------------

# Django's table of the integer columns' ranges, as PostgreSQL has them whatever the backend.
INTEGER_RANGES: dict[str, tuple[int, int]] = BaseDatabaseOperations.integer_field_ranges
# A number typed into an input that is no model field lands in an integer column at the widest.
DEFAULT_INTEGER_RANGE = INTEGER_RANGES["IntegerField"]


def column_range(model_field) -> tuple[int, int] | None:
    """The range of the column ``model_field`` (a foreign key: the column it points to) stores,
    or None when it stores no integer (a UUID, a code)."""
    while isinstance(model_field, models.ForeignKey):
        model_field = model_field.target_field
    return INTEGER_RANGES.get(model_field.get_internal_type())


def _short(value) -> str:
    text = str(value)
    return text if len(text) <= 24 else f"{text[:20]}…"


@deconstructible
class IntegerRangeValidator:
    """Refuses an integer outside ``low``..``high`` (a column's range), naming the input."""

    code = "out_of_range"

    def __init__(self, low: int, high: int, *, field: str = "") -> None:
        self.low, self.high, self.field = low, high, field

    def __call__(self, value) -> None:
        if not isinstance(value, int) or isinstance(value, bool) or self.low <= value <= self.high:
            return
        params = {"field": self.field or _("This field"), "low": self.low, "high": self.high}
        if value > self.high:
            message = _("%(field)s is too large: it can be at most %(high)s.")
        else:
            message = _("%(field)s is too small: it must be at least %(low)s.")
        raise ValidationError(message, code=self.code, params=params)

    def __eq__(self, other) -> bool:
        return isinstance(other, IntegerRangeValidator) and (self.low, self.high, self.field) == (
            other.low,
            other.high,
            other.field,
        )


def _guard_range(validators: list, low: int, high: int, field: str, own=(None, None)) -> None:
    own_low, own_high = own
    if own_low is not None and own_high is not None and low <= own_low and own_high <= high:
        return  # the input's own bounds are narrower
    if not any(isinstance(v, IntegerRangeValidator) for v in validators):
        validators.append(IntegerRangeValidator(low, high, field=field))


def refuse_out_of_range_keys(values, low: int, high: int, field: str) -> None:
    """Raises a ValidationError naming ``field`` when one of the ids sent for a choice of rows is
    a whole number no row can have; anything else is left to the field's own cleaning."""
    for value in values if isinstance(values, list | tuple) else [values]:
        try:
            number = int(str(value).strip())
        except (TypeError, ValueError):  # not a number (or thousands of digits): the field's own
            continue
        if not low <= number <= high:
            raise ValidationError(
                _("%(field)s: %(value)s is not one of the choices."),
                code="invalid_choice",
                params={"field": field, "value": _short(value)},
            )


class _KeyRangeGuard:
    """Wraps a model choice field's ``clean``: the ids sent are checked before any query."""

    def __init__(self, clean, low: int, high: int, field: str) -> None:
        self.clean, self.low, self.high, self.field = clean, low, high, field

    def __call__(self, value):
        refuse_out_of_range_keys(value, self.low, self.high, self.field)
        return self.clean(value)


def guard_form_numbers(form: forms.BaseForm) -> None:
    """Every integer input of ``form`` refuses a number its column cannot hold (a model form's
    input: its model field's column; any other: an integer column), and every choice of rows
    (ModelChoiceField, ModelMultipleChoiceField) refuses an id no row can have, before any
    query is made with it."""
    model = getattr(getattr(form, "_meta", None), "model", None)
    for name, field in form.fields.items():
        label = str(field.label or pretty_name(name))
        if isinstance(field, forms.ModelChoiceField):  # ModelMultipleChoiceField included
            if isinstance(field.clean, _KeyRangeGuard):
                continue
            opts = field.queryset.model._meta
            key = opts.get_field(field.to_field_name) if field.to_field_name else opts.pk
            bounds = column_range(key)
            if bounds is not None:
                field.clean = _KeyRangeGuard(field.clean, *bounds, label)
        elif isinstance(field, forms.IntegerField) and not isinstance(
            field, forms.FloatField | forms.DecimalField
        ):
            low, high = _column_or_default_range(model, name)
            _guard_range(field.validators, low, high, label, (field.min_value, field.max_value))


def _column_or_default_range(model, name: str | None) -> tuple[int, int]:
    """The range of ``model``'s column ``name``, or an integer column's for an input of the form's
    or serializer's own (no model, no such field, or a source through a relation)."""
    if model is not None and name:
        try:
            bounds = column_range(model._meta.get_field(name))
        except FieldDoesNotExist:
            bounds = None
        if bounds is not None:
            return bounds
    return DEFAULT_INTEGER_RANGE


# --- API serializers ------------------------------------------------------------------------------


def guard_serializer_field(name: str, field, model=None) -> None:
    """Text fields get ``PlainTextValidator``; integer fields refuse a number the column they
    reach cannot hold (``model``'s field of that name, else an integer column)."""
    from rest_framework import serializers

    if field.read_only:
        return
    if isinstance(field, serializers.ListField):
        guard_serializer_field(name, field.child)
        return
    if isinstance(field, serializers.IntegerField):
        source = field.source or name
        low, high = _column_or_default_range(model, None if "." in source else source)
        _guard_range(field.validators, low, high, name, (field.min_value, field.max_value))
        return
    if isinstance(field, serializers.CharField):
        # ModelSerializer gives a TextField this style; an input that is multi-line says so too.
        multiline = field.style.get("base_template") == "textarea.html"
        _guard(field.validators, multiline=multiline, field=name)


class PlainTextSerializerMixin:
    """Checks the serializer's writable text fields with ``PlainTextValidator`` (a field is
    multi-line when its style is a textarea, ``style={"base_template": "textarea.html"}``, what
    ModelSerializer gives a model's TextField), and its integer fields against the range of the
    column they reach, as the forms do."""

    def get_fields(self):
        fields = super().get_fields()
        model = getattr(getattr(self, "Meta", None), "model", None)
        for name, field in fields.items():
            guard_serializer_field(name, field, model)
        return fields


MULTI_LINE = {"base_template": "textarea.html"}
