"""Every API operation that writes, as data: its OpenAPI path and method, who sends it, a body it
accepts, and what kind of value each of its fields takes.

``test_api.py`` reads the operations from the OpenAPI schema and fails for one that has neither an
entry in ``ENTRIES`` nor a reason in ``EXEMPT``; it checks that each entry's valid body is
accepted (so that a refusal of a mutated body is the mutation's doing), then sends every field the
generic bad values.

Body values as in ``registry``: a literal, ``"@name"`` for a world value, a callable of the world;
lists of these for list fields. URL arguments are filled as in the permission matrix
(``API_KWARGS``, ``DEFAULT_KWARGS``) unless ``kwargs`` names the world value.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from tests.bad_input.registry import PDF, days_ago, days_ahead, results_csv

# The kinds of field, by what a valid value looks like.
TEXT = "text"  # one line of text, stored as sent (a title, a grade, a certificate number)
LONG = "long"  # several lines (a reason, criteria), stored as sent
REF = "ref"  # names a stored thing by code or slug: anything else is refused
ID = "id"  # names a stored thing by its public UUID (or, for a group, its id)
NUMBER = "number"
DATE = "date"
CHOICE = "choice"  # one of a fixed set of values (an enum)
REFS = "refs"  # a list of REF
CHOICES = "choices"  # a list of CHOICE
FILE = "file"
KINDS = (TEXT, LONG, REF, ID, NUMBER, DATE, CHOICE, REFS, CHOICES, FILE)
ITEM_KIND = {REFS: REF, CHOICES: CHOICE}


def programme_code(world) -> str:
    from enrolment.models import Programme

    return Programme.objects.get(slug=world.values["programme"]).code


def group_id(world) -> int:
    return int(world.values["group"])


def version(name: str) -> Callable:
    return lambda world: int(world.values[name])


@dataclass(frozen=True)
class ApiEntry:
    """One API write. ``fields`` are the fields the sweep mutates (name -> kind); ``body`` a
    valid body (every mutated field, plus fixed ones); ``files`` valid files (multipart only).
    ``allow`` maps (field, mutation) to the reason why accepting that mutation is right."""

    path: str
    method: str
    role: str
    fields: dict[str, str]
    body: dict
    kwargs: dict[str, str] = field(default_factory=dict)
    files: dict[str, tuple[str, bytes | Callable]] = field(default_factory=dict)
    multipart: bool = False
    allow: dict[tuple[str, str], str] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return f"{self.method} {self.path}"

    def __post_init__(self) -> None:
        bad = {name: kind for name, kind in self.fields.items() if kind not in KINDS}
        assert not bad, f"{self.id}: unknown kinds {bad}"
        missing = [n for n, k in self.fields.items() if k != FILE and n not in self.body]
        missing += [n for n, k in self.fields.items() if k == FILE and n not in self.files]
        assert not missing, f"{self.id}: no valid value for {missing}"
        assert not self.files or self.multipart, f"{self.id}: files are sent as multipart"


OUTCOME = {
    "kind": CHOICE,
    "title": TEXT,
    "issuing_body": REF,
    "issuing_body_name": TEXT,
    "achieved_on": DATE,
    "expires_on": DATE,
    "level": NUMBER,
    "study_hours": NUMBER,
    "grade": TEXT,
    "certificate_number": TEXT,
}
OUTCOME_BODY = {
    "kind": "vocational",
    "title": "Welder (intermediate)",
    "issuing_body": "@association",
    "issuing_body_name": "China Welding Association",
    "achieved_on": days_ago(200),
    "expires_on": days_ahead(900),
    "level": "4",
    "study_hours": "120",
    "grade": "B+",
    "certificate_number": "CWA-2025-0042",
}
STANDARD = {
    "title_en": TEXT,
    "title_zh": TEXT,
    "outcome_kinds": CHOICES,
    "level": NUMBER,
    "credit_value": NUMBER,
    "criteria_en": LONG,
    "criteria_zh": LONG,
    "accepted_bodies": REFS,
    "currency_years": NUMBER,
    "effective_from": DATE,
    "effective_to": DATE,
}
STANDARD_BODY = {
    "title_en": "Welder (intermediate)",
    "title_zh": "焊工（中级）",
    "outcome_kinds": ["vocational"],
    "level": 4,
    "credit_value": "6.0",
    "criteria_en": "Holds the certificate.\nChecked by phone.",
    "criteria_zh": "持有证书。",
    "accepted_bodies": ["@association"],
    "currency_years": 5,
    "effective_from": days_ago(1),
    "effective_to": days_ahead(3650),
}
NEW_STANDARD_VERSION = {
    "effective_from": DATE,
    "title_en": TEXT,
    "title_zh": TEXT,
    "outcome_kinds": CHOICES,
    "level": NUMBER,
    "credit_value": NUMBER,
    "criteria_en": LONG,
    "criteria_zh": LONG,
    "currency_years": NUMBER,
}
RULE = {
    "standard_code": REF,
    "standard_version": NUMBER,
    "min_grade": TEXT,
    "max_age_years": NUMBER,
    "programme": REF,
    "courses": REFS,
    "mode": CHOICE,
    "credits": NUMBER,
    "effective_from": DATE,
    "effective_to": DATE,
    "approving_body": REF,
}
RULE_BODY = {
    "standard_code": "@standard_code",
    "standard_version": version("standard_version"),
    "min_grade": "C",
    "max_age_years": 5,
    "programme": programme_code,
    "courses": ["ME101"],
    "mode": "study",
    "credits": "4",
    "effective_from": days_ago(1),
    "effective_to": days_ahead(3650),
    "approving_body": "@association",
}
NEW_RULE_VERSION = {
    "effective_from": DATE,
    "min_grade": TEXT,
    "max_age_years": NUMBER,
    "mode": CHOICE,
    "credits": NUMBER,
    "approving_body": REF,
}
OFFICER_REASON = {"reason": LONG}

ENTRIES: list[ApiEntry] = [
    # The learner's own.
    ApiEntry(
        "/api/v1/me/enrolments/",
        "POST",
        "other_learner",
        {"intake": ID},
        {"intake": "@open_intake"},
    ),
    ApiEntry(
        "/api/v1/me/enrolments/{public_id}/withdraw/",
        "POST",
        "learner",
        {"reason": LONG},
        {"reason": "Moving to another city."},
    ),
    ApiEntry(
        "/api/v1/me/outcomes/",
        "POST",
        "learner",
        {**OUTCOME, "evidence": FILE},
        OUTCOME_BODY,
        files={"evidence": ("certificate.pdf", PDF)},
        multipart=True,
    ),
    # A school's administrators.
    ApiEntry(
        "/api/v1/manage/schools/{school_slug}/enrolments/{public_id}/decide/",
        "POST",
        "school_admin",
        {"decision": CHOICE, "reason": LONG},
        {"decision": "accept", "reason": "Meets the entry requirements."},
    ),
    ApiEntry(
        "/api/v1/manage/intakes/{intake_public_id}/results/",
        "POST",
        "school_admin",
        {"file": FILE},
        {},
        files={"file": ("results.csv", results_csv)},
        multipart=True,
    ),
    # Credit-bank officers.
    ApiEntry(
        "/api/v1/credit-bank/outcomes/{public_id}/start-review/", "POST", "credit_officer", {}, {}
    ),
    ApiEntry(
        "/api/v1/credit-bank/outcomes/{public_id}/accredit/",
        "POST",
        "credit_officer",
        {"standard_code": REF, "standard_version": NUMBER, "credits": NUMBER, "reason": LONG},
        {
            "standard_code": "@standard_code",
            "standard_version": version("standard_version"),
            "credits": "8",
            "reason": "Certificate checked with the issuing body.",
        },
    ),
    ApiEntry(
        "/api/v1/credit-bank/outcomes/{public_id}/reject/",
        "POST",
        "credit_officer",
        OFFICER_REASON,
        {"reason": "Not a recognised issuing body."},
    ),
    ApiEntry(
        "/api/v1/credit-bank/outcomes/{public_id}/revoke/",
        "POST",
        "credit_officer",
        OFFICER_REASON,
        {"reason": "The certificate was forged."},
    ),
    ApiEntry(
        "/api/v1/credit-bank/standards/",
        "POST",
        "credit_officer",
        {"code": TEXT, **STANDARD},
        {"code": "WELD-INT", **STANDARD_BODY},
    ),
    ApiEntry(
        "/api/v1/credit-bank/standards/{code}/{version}/",
        "PUT",
        "credit_officer",
        STANDARD,
        STANDARD_BODY,
        kwargs={"code": "spare_standard_code", "version": "spare_standard_version"},
    ),
    ApiEntry(
        "/api/v1/credit-bank/standards/{code}/{version}/new-version/",
        "POST",
        "credit_officer",
        NEW_STANDARD_VERSION,
        {key: STANDARD_BODY[key] for key in NEW_STANDARD_VERSION}
        | {"effective_from": days_ahead(30)},
    ),
    ApiEntry(
        "/api/v1/credit-bank/rules/",
        "POST",
        "credit_officer",
        {"code": TEXT, **RULE},
        {"code": "NCT-ME", **RULE_BODY},
    ),
    ApiEntry(
        "/api/v1/credit-bank/rules/{code}/{version}/",
        "PUT",
        "credit_officer",
        RULE,
        RULE_BODY,
        kwargs={"code": "spare_rule_code", "version": "spare_rule_version"},
    ),
    ApiEntry(
        "/api/v1/credit-bank/rules/{code}/{version}/new-version/",
        "POST",
        "credit_officer",
        NEW_RULE_VERSION,
        {key: RULE_BODY[key] for key in NEW_RULE_VERSION} | {"effective_from": days_ahead(30)},
    ),
    ApiEntry(
        "/api/v1/credit-bank/conversions/",
        "POST",
        "credit_officer",
        {
            "outcome": ID,
            "enrolment": ID,
            "course_code": REF,
            "rule_code": REF,
            "rule_version": NUMBER,
        },
        {
            "outcome": "@accredited_outcome",
            "enrolment": "@enrolment",
            "course_code": "@course",
            "rule_code": "@rule_code",
            "rule_version": version("rule_version"),
        },
    ),
    ApiEntry(
        "/api/v1/credit-bank/transfers/",
        "POST",
        "credit_officer",
        {"outcome": ID, "enrolment": ID, "group": ID, "credits": NUMBER},
        {
            "outcome": "@accredited_outcome",
            "enrolment": "@enrolment",
            "group": group_id,
            "credits": "2",
        },
    ),
    # The reviewers' desk.
    ApiEntry("/api/v1/review/requests/{public_id}/start-review/", "POST", "reviewer", {}, {}),
    ApiEntry(
        "/api/v1/review/requests/{public_id}/approve/",
        "POST",
        "reviewer",
        {"reason": LONG},
        {"reason": "Checked against the register."},
    ),
    ApiEntry(
        "/api/v1/review/requests/{public_id}/reject/",
        "POST",
        "reviewer",
        {"reason": LONG},
        {"reason": "The enrolment is not complete."},
    ),
    ApiEntry(
        "/api/v1/review/certificates/{serial}/revoke/",
        "POST",
        "reviewer",
        {"reason": LONG},
        {"reason": "Issued in error."},
    ),
]

# Write operations with no entry, and why.
EXEMPT: dict[str, str] = {}
