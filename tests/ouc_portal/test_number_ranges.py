"""A number no column can hold is refused with an error naming the input, never a 500, and the
same numbers on SQLite (which binds any 64-bit integer, and raises OverflowError beyond) as on
PostgreSQL (whose integer column stops at 2,147,483,647): the checks use PostgreSQL's ranges."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest
from django import forms
from rest_framework import serializers

from enrolment.models import Course
from ouc_portal.validators import (
    DEFAULT_INTEGER_RANGE,
    IntegerRangeValidator,
    NumberRangeFormMixin,
    PlainTextFormMixin,
    PlainTextSerializerMixin,
)
from tests import factories

pytestmark = pytest.mark.django_db

PROJECT_PACKAGES = ("ouc_portal", "schools", "enrolment", "creditbank", "certificates")
BEYOND_INT64 = str(10**20)
BEYOND_INT32 = str(3_000_000_000)  # an int64 SQLite stores, PostgreSQL's integer does not


def _project_classes(base: type) -> list[type]:
    found = {}
    for package_name in PROJECT_PACKAGES:
        package = importlib.import_module(package_name)
        for info in pkgutil.walk_packages(package.__path__, f"{package_name}."):
            if ".migrations" in info.name or ".management" in info.name or ".tests" in info.name:
                continue
            module = importlib.import_module(info.name)
            for _, cls in inspect.getmembers(module, inspect.isclass):
                if issubclass(cls, base) and cls.__module__ == info.name:
                    found[f"{cls.__module__}.{cls.__qualname__}"] = cls
    return [found[name] for name in sorted(found)]


def _takes_numbers(field) -> bool:
    return isinstance(field, forms.ModelChoiceField) or (
        isinstance(field, forms.IntegerField)
        and not isinstance(field, forms.FloatField | forms.DecimalField)
    )


def test_every_form_with_a_number_or_a_choice_of_rows_checks_its_range():
    unguarded = [
        f"{cls.__module__}.{cls.__qualname__}: {', '.join(names)}"
        for cls in _project_classes(forms.BaseForm)
        if (names := [n for n, f in cls.base_fields.items() if _takes_numbers(f)])
        and not issubclass(cls, NumberRangeFormMixin)
    ]
    assert not unguarded, (
        "these forms take numbers without NumberRangeFormMixin (ouc_portal/validators.py): "
        f"{unguarded}"
    )


def test_every_writable_integer_of_the_api_is_bounded_by_its_column():
    low, high = DEFAULT_INTEGER_RANGE
    unbounded = []
    for cls in _project_classes(serializers.Serializer):
        if not issubclass(cls, PlainTextSerializerMixin):
            writable = [n for n, f in cls._declared_fields.items() if not f.read_only]
            numbers = [
                n for n in writable if isinstance(cls._declared_fields[n], serializers.IntegerField)
            ]
            if numbers:
                unbounded.append(f"{cls.__qualname__} (no PlainTextSerializerMixin): {numbers}")
            continue
        try:
            fields = cls().fields
        except Exception:  # noqa: BLE001 - needs a context to build; its declared fields are checked
            fields = cls._declared_fields
        for name, field in fields.items():
            if field.read_only or not isinstance(field, serializers.IntegerField):
                continue
            bounded = (field.max_value is not None and field.max_value <= high) and (
                field.min_value is not None and field.min_value >= low
            )
            if not bounded and not any(isinstance(v, IntegerRangeValidator) for v in field.validators):
                unbounded.append(f"{cls.__qualname__}.{name}")
    assert not unbounded, f"integer inputs of the API without a column's bounds: {unbounded}"


class CourseChoice(PlainTextFormMixin, forms.Form):
    course = forms.ModelChoiceField(label="Course exempted", queryset=Course.objects.all())
    courses = forms.ModelMultipleChoiceField(label="Courses replaced", queryset=Course.objects.all())
    hours = forms.IntegerField(label="Study hours", min_value=0)


@pytest.mark.parametrize("number", [BEYOND_INT64, "-" + BEYOND_INT64, "9" * 30])
def test_a_choice_of_rows_refuses_an_id_no_row_can_have_naming_the_input(number):
    course = factories.CourseFactory()
    form = CourseChoice(data={"course": number, "courses": [str(course.pk), number], "hours": "1"})
    assert not form.is_valid()
    shown = number if len(number) <= 24 else f"{number[:20]}…"
    assert form.errors["course"] == [f"Course exempted: {shown} is not one of the choices."]
    assert form.errors["courses"] == [f"Courses replaced: {shown} is not one of the choices."]


def test_an_integer_input_refuses_what_its_column_cannot_hold_naming_the_input():
    course = factories.CourseFactory()
    for number in (BEYOND_INT64, BEYOND_INT32):
        form = CourseChoice(data={"course": course.pk, "courses": [course.pk], "hours": number})
        assert not form.is_valid()
        assert form.errors["hours"] == ["Study hours is too large: it can be at most 2147483647."]
    form = CourseChoice(data={"course": course.pk, "courses": [course.pk], "hours": "2147483647"})
    assert form.is_valid(), form.errors


def test_a_model_form_takes_its_model_fields_range():
    from creditbank.models import ConversionRule

    class AgeForm(PlainTextFormMixin, forms.ModelForm):
        class Meta:
            model = ConversionRule
            fields = ["max_age_years"]  # a PositiveSmallIntegerField: 0..32767

    form = AgeForm(data={"max_age_years": "40000"})
    assert not form.is_valid()
    assert "Maximum age of the outcome (years) is too large: it can be at most 32767." in form.errors[
        "max_age_years"
    ]
