"""The personal-data export stays the same document, byte for byte, whoever builds it.

``data/personal_data_export.json`` is the export of the rich learner of ``test_personal_data``
(one of everything) as the portal produced it before the apps registered their own parts. What
differs from run to run is replaced before comparing, consistently: times by ``<datetime>``,
dates by their distance from today, the current year by ``<year>``, random ids, codes and
database keys by ``<id-N>`` in order of first appearance (so a ledger entry still has to name
the same outcome as the outcome list does). Factory sequences start from zero here.

Set ``OUC_WRITE_DOCUMENT=1`` to rewrite the file: only when the document is meant to change.
"""

from __future__ import annotations

import datetime
import inspect
import json
import os
import re
from pathlib import Path
from typing import Any

import factory
import pytest
from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone

from ouc_portal.accounts.personal_data import (
    personal_data_export,
    personal_data_parts,
    personal_data_summary,
)
from tests import factories
from tests.accounts.test_personal_data import english, quick_pdf, world  # noqa: F401  (fixtures)

pytestmark = pytest.mark.django_db

DOCUMENT = Path(__file__).parent / "data" / "personal_data_export.json"
DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
CODE = re.compile(r"(/verify/)([^/]+)(/)")
# Keys whose values are random or a database key.
VOLATILE = {"number", "record"}


@pytest.fixture(autouse=True)
def sequences_from_zero():
    for _, cls in inspect.getmembers(factories, inspect.isclass):
        if issubclass(cls, factory.Factory) and cls._meta.model is not None:
            cls.reset_sequence(force=True)


class Normaliser:
    def __init__(self) -> None:
        self.tokens: dict[str, str] = {}
        self.today = timezone.localdate()

    def token(self, value: str) -> str:
        return self.tokens.setdefault(value, f"<id-{len(self.tokens) + 1}>")

    def text(self, value: str) -> str:
        if DATETIME.match(value):
            return "<datetime>"
        if DATE.match(value):
            days = (datetime.date.fromisoformat(value) - self.today).days
            return f"<today{days:+d}>"
        value = UUID.sub(lambda m: self.token(m.group(0)), value)
        value = CODE.sub(lambda m: m.group(1) + self.token(m.group(2)) + m.group(3), value)
        return value.replace(str(self.today.year), "<year>")

    def __call__(self, value: Any, key: str = "") -> Any:
        if isinstance(value, dict):
            return {k: self(v, k) for k, v in value.items()}
        if isinstance(value, list):
            return [self(v, key) for v in value]
        if key in VOLATILE and value not in (None, ""):
            return self.token(str(value))
        if isinstance(value, str):
            return self.text(value)
        if key == "year" and value == self.today.year:
            return "<year>"
        return value


@pytest.mark.usefixtures("world")
def test_the_export_and_summary_are_the_same_document_as_before(cast):
    exported = json.loads(
        json.dumps(personal_data_export(user=cast.learner), cls=DjangoJSONEncoder)
    )
    document = Normaliser()({"export": exported, "summary": personal_data_summary(cast.learner)})
    text = json.dumps(document, ensure_ascii=False, indent=1) + "\n"
    if os.environ.get("OUC_WRITE_DOCUMENT"):
        DOCUMENT.write_text(text, encoding="utf-8")
    assert text == DOCUMENT.read_text(encoding="utf-8")


def test_each_app_registered_its_part_once_in_layer_order():
    # The kernel holds no domain app's records: the apps bring their parts, lowest first, which
    # is the order of the document's sections.
    assert [part.app for part in personal_data_parts()] == [
        "enrolment",
        "creditbank",
        "certificates",
    ]
    assert [part.app for part in personal_data_parts() if part.erase] == ["enrolment", "creditbank"]
