"""JSON Schema checks of the credentials the portal issues, against pinned 1EdTech schemas, offline.

``schemas/index.json`` names every schema the portal uses, its file in ``schemas/`` and that
file's sha256 (the files are byte copies of 1EdTech's published schemas). A schema whose bytes no
longer match is refused. Each schema is checked with the dialect it declares (``$schema``: draft
2019-09 for OB 3.0 and CLR 2.0) and ``$ref`` resolves only against the pinned copies: nothing is
ever fetched. Validators are built once per process and reused.

``format`` is asserted, not only annotated: ``date-time`` must be an RFC 3339 timestamp with its
time zone (OB 3.0's ``DateTimeZ``), which jsonschema cannot check without an extra package.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import re
import threading
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import FormatChecker
from jsonschema.exceptions import ValidationError, best_match, relevance
from jsonschema.validators import validator_for
from referencing import Registry, Resource

SCHEMAS_DIR = Path(__file__).resolve().parent / "schemas"
INDEX_FILE = "index.json"

# The schemas the builders check against, by their name in the index.
ACHIEVEMENT_CREDENTIAL = "ob_v3p0_achievementcredential_schema"
PROFILE = "ob_v3p0_profile_schema"
CLR_CREDENTIAL = "clr_v2p0_clrcredential_schema"

MAX_REPORTED_ERRORS = 5


class SchemaError(Exception):
    """A pinned schema is missing, altered or unusable."""


class SchemaValidationError(ValueError):
    """A document does not satisfy its schema; ``errors`` lists the first problems in words."""

    def __init__(self, schema_name: str, errors: list[str]) -> None:
        self.schema_name = schema_name
        self.errors = errors
        super().__init__(f"not valid under {schema_name}: " + "; ".join(errors))


_RFC3339 = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$"
)


def _is_datetime_with_zone(value: object) -> bool:
    if not isinstance(value, str):
        return True  # format applies to strings only
    if not _RFC3339.match(value):
        return False
    try:
        datetime.datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def _format_checker() -> FormatChecker:
    checker = FormatChecker()
    checker.checks("date-time")(_is_datetime_with_zone)
    return checker


@cache
def _index() -> dict[str, dict[str, str]]:
    path = SCHEMAS_DIR / INDEX_FILE
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SchemaError(f"cannot read the schema index {path}: {exc}") from exc
    for name, entry in raw.items():
        if not isinstance(entry, dict) or not all(isinstance(entry.get(k), str) for k in ("file", "sha256", "id")):
            raise SchemaError(f"malformed schema index entry {name!r}")
        if Path(entry["file"]).name != entry["file"]:
            raise SchemaError(f"schema index entry {name!r} must name a bare file")
    return raw


def schema_names() -> list[str]:
    return sorted(_index())


@cache
def load_schema(name: str) -> dict[str, Any]:
    """The pinned schema ``name``, after checking its bytes against the index."""
    entry = _index().get(name)
    if entry is None:
        raise SchemaError(f"no pinned schema named {name!r} in {SCHEMAS_DIR / INDEX_FILE}")
    path = SCHEMAS_DIR / entry["file"]
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SchemaError(f"pinned schema {name!r} is unreadable: {exc}") from exc
    digest = hashlib.sha256(data).hexdigest()
    if digest != entry["sha256"].lower():
        raise SchemaError(
            f"pinned schema {path.name} has sha256 {digest}, but the index pins {entry['sha256']}"
        )
    schema = json.loads(data.decode("utf-8"))
    if schema.get("$id") != entry["id"]:
        raise SchemaError(f"pinned schema {path.name} has $id {schema.get('$id')!r}, not {entry['id']!r}")
    return schema


@cache
def _registry() -> Registry:
    """Every pinned schema under its ``$id``; no retrieval: an unknown ``$ref`` is an error."""
    resources = []
    for name in schema_names():
        schema = load_schema(name)
        resources.append((schema["$id"], Resource.from_contents(schema)))
    return Registry().with_resources(resources).crawl()


_lock = threading.Lock()
_validators: dict[str, Any] = {}


def validator(name: str):
    """The ready validator of schema ``name`` (built once per process, in its declared dialect)."""
    found = _validators.get(name)
    if found is not None:
        return found
    with _lock:
        found = _validators.get(name)
        if found is None:
            schema = load_schema(name)
            cls = validator_for(schema, default=None)
            if cls is None:
                raise SchemaError(f"schema {name!r} declares an unknown dialect {schema.get('$schema')!r}")
            cls.check_schema(schema)
            found = cls(schema, registry=_registry(), format_checker=_format_checker())
            _validators[name] = found
    return found


def _describe(error: ValidationError) -> str:
    # A oneOf/anyOf failure says little by itself; the most relevant sub-error says what is wrong.
    if error.context:
        error = best_match(error.context) or error
    where = error.json_path
    return f"{where}: {error.message}"


def errors(document: Any, schema_name: str, *, limit: int = MAX_REPORTED_ERRORS) -> list[str]:
    """The first problems of ``document`` under the schema, in words (empty when it is valid)."""
    found = sorted(validator(schema_name).iter_errors(document), key=relevance)
    return [_describe(e) for e in found[:limit]]


def validate(document: Any, schema_name: str) -> None:
    """Raise ``SchemaValidationError`` naming the first problems unless ``document`` is valid."""
    problems = errors(document, schema_name)
    if problems:
        raise SchemaValidationError(schema_name, problems)
