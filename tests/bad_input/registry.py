"""Every HTML form that writes, as data: where it posts, who may post, a payload it accepts, and
what kind of value each of its inputs takes.

``test_registry.py`` walks the URL resolver and fails for a route that takes a POST (by its row in
``tests/permission_matrix.py``, or by its view for allauth's pages) and has neither an entry in
``ENTRIES`` nor a reason in ``EXEMPT``; it also checks that each entry's valid payload is accepted,
so that a refusal of a mutated payload is the mutation's doing. ``test_fields.py`` then sends every
input of every entry the generic bad values; ``test_uploads.py`` the bad files.

Payload values: a string; ``"@name"`` for a world value (``World.values``); ``pk(...)`` for the
primary key of a world row; a callable of the world; or a list of these (several values). Input
names may hold ``{name}`` placeholders for world values (inputs named after an enrolment's id).
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field

from django.apps import apps
from django.utils import timezone

# The kinds of input, by what a valid value looks like.
TEXT = "text"  # free text, stored as sent
HIDDEN = "hidden"  # text that steers the page and is never stored (a filter, a digest)
SECRET = "secret"  # a password: stored hashed, if at all
NUMBER = "number"
DATE = "date"
DATETIME = "datetime"
CHOICE = "choice"  # one of the values offered (a select, radio buttons, a model choice)
MULTI = "multi"  # several of the values offered
FLAG = "flag"  # a checkbox
FILE = "file"
KINDS = (TEXT, HIDDEN, SECRET, NUMBER, DATE, DATETIME, CHOICE, MULTI, FLAG, FILE)

PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@dataclass(frozen=True)
class pk:  # noqa: N801 - reads as a payload value: pk("schools.LearningCentre", code="@centre")
    """The primary key of the one row of ``model`` that ``lookup`` finds (values may be ``@name``)."""

    model: str
    lookup: tuple[tuple[str, str], ...]

    def __init__(self, model: str, **lookup: str) -> None:
        object.__setattr__(self, "model", model)
        object.__setattr__(self, "lookup", tuple(sorted(lookup.items())))


def days_ago(days: int) -> Callable:
    return lambda world: (timezone.localdate() - datetime.timedelta(days=days)).isoformat()


def days_ahead(days: int) -> Callable:
    return lambda world: (timezone.localdate() + datetime.timedelta(days=days)).isoformat()


def resolve(world, value):
    """A payload value as it is sent."""
    if isinstance(value, list | tuple):
        return [resolve(world, item) for item in value]
    if isinstance(value, pk):
        lookup = {key: resolve(world, item) for key, item in value.lookup}
        return str(apps.get_model(value.model).objects.values_list("pk", flat=True).get(**lookup))
    if callable(value):
        return value(world)
    if isinstance(value, str) and value.startswith("@"):
        return world.values[value[1:]]
    return input_name(world, value) if isinstance(value, str) else value


def input_name(world, name: str) -> str:
    return name.format(**world.values) if "{" in name else name


@dataclass(frozen=True)
class Entry:
    """One form that writes. ``fields`` are the inputs the sweep mutates (name -> kind);
    ``payload`` is a valid submission (every mutated input, plus fixed inputs such as ``action``);
    ``files`` the valid files (input -> (file name, content)). ``kwargs`` names the world value of
    each URL argument, as in the permission matrix. ``allow`` maps (input, mutation) to the reason
    why accepting that mutation is right."""

    id: str
    route: str
    role: str
    fields: dict[str, str]
    payload: dict
    kwargs: dict[str, str] = field(default_factory=dict)
    query: dict[str, str] = field(default_factory=dict)
    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    method: str = "POST"
    allow: dict[tuple[str, str], str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        bad = {name: kind for name, kind in self.fields.items() if kind not in KINDS}
        assert not bad, f"{self.id}: unknown kinds {bad}"
        missing = [n for n, k in self.fields.items() if k != FILE and n not in self.payload]
        missing += [n for n, k in self.fields.items() if k == FILE and n not in self.files]
        assert not missing, f"{self.id}: no valid value for {missing}"


def results_csv(world) -> bytes:
    day = (timezone.localdate() - datetime.timedelta(days=7)).isoformat()
    return f"learner_email,course_code,score,assessed_on\nlearner@example.org,NC201,85,{day}\n".encode()


PROGRAMME = {
    "code": TEXT, "slug": TEXT, "name_en": TEXT, "name_zh": TEXT, "kind": CHOICE,
    "qf_level": CHOICE, "total_credits": NUMBER, "duration_months": NUMBER,
    "delivery_mode": CHOICE, "description_en": TEXT, "description_zh": TEXT,
    "outcomes_en": TEXT, "outcomes_zh": TEXT, "entry_requirements_en": TEXT,
    "entry_requirements_zh": TEXT,
}  # fmt: skip
PROGRAMME_PAYLOAD = {
    "code": "NCT-B", "slug": "nct-b", "name_en": "Numerical Control Technology (bachelor)",
    "name_zh": "数控技术（本科）", "kind": "bachelor", "qf_level": "6", "total_credits": "80",
    "duration_months": "30", "delivery_mode": "blended",
    "description_en": "For machinists who lead a shop floor.", "description_zh": "面向数控车间骨干。",
    "outcomes_en": "Programs a five-axis centre.", "outcomes_zh": "能编写五轴加工程序。",
    "entry_requirements_en": "An associate degree.", "entry_requirements_zh": "专科毕业。",
}  # fmt: skip
GROUP = {
    "name_en": TEXT,
    "name_zh": TEXT,
    "kind": CHOICE,
    "min_credits": NUMBER,
    "position": NUMBER,
}
GROUP_PAYLOAD = {
    "name_en": "Electives", "name_zh": "选修课", "kind": "elective", "min_credits": "4",
    "position": "3",
}  # fmt: skip
COURSE = {
    "code": TEXT, "name_en": TEXT, "name_zh": TEXT, "credits": NUMBER, "study_hours": NUMBER,
    "level": CHOICE, "description_en": TEXT, "description_zh": TEXT,
}  # fmt: skip
COURSE_PAYLOAD = {
    "name_en": "CNC Programming", "name_zh": "数控编程", "credits": "4", "study_hours": "64",
    "level": "5", "description_en": "G-code by hand.", "description_zh": "手工编写G代码。",
}  # fmt: skip
INTAKE = {
    "programme": CHOICE, "year": NUMBER, "season": CHOICE, "centre": CHOICE,
    "opens_at": DATETIME, "closes_at": DATETIME, "starts_on": DATE, "capacity": NUMBER,
    "requires_approval": FLAG,
}  # fmt: skip
INTAKE_PAYLOAD = {
    "programme": pk("enrolment.Programme", slug="@programme"), "year": "2029",
    "season": "autumn", "centre": pk("schools.LearningCentre", code="@centre"),
    "opens_at": "2029-03-01T09:00", "closes_at": "2029-06-30T17:00", "starts_on": "2029-09-01",
    "capacity": "40", "requires_approval": "on",
}  # fmt: skip
STANDARD = {
    "title_en": TEXT, "title_zh": TEXT, "outcome_kinds": MULTI, "level": CHOICE,
    "credit_value": NUMBER, "criteria_en": TEXT, "criteria_zh": TEXT, "currency_years": NUMBER,
    "effective_from": DATE,
}  # fmt: skip
STANDARD_PAYLOAD = {
    "title_en": "Welder (intermediate)", "title_zh": "焊工（中级）", "outcome_kinds": ["vocational"],
    "level": "4", "credit_value": "6", "criteria_en": "A national certificate, level 4.",
    "criteria_zh": "国家职业资格四级证书。", "currency_years": "5", "effective_from": days_ago(1),
}  # fmt: skip
RULE = {
    "standard": CHOICE, "second_standard": CHOICE, "min_grade": TEXT, "max_age_years": NUMBER,
    "programme": CHOICE, "courses": MULTI, "mode": CHOICE, "credits": NUMBER,
    "effective_from": DATE, "effective_to": DATE, "approving_body": CHOICE,
}  # fmt: skip
RULE_PAYLOAD = {
    "standard": pk("creditbank.RecognitionStandard", code="@standard_code"),
    "second_standard": "", "min_grade": "C", "max_age_years": "5",
    "programme": pk("enrolment.Programme", slug="@programme"),
    "courses": [pk("enrolment.Course", code="ME101")], "mode": "both", "credits": "4",
    "effective_from": days_ago(1), "effective_to": "",
    "approving_body": pk("schools.PartnerAssociation", slug="@association"),
}  # fmt: skip
TRANSFER = "transfer-{enrolment_hex}"


ENTRIES: list[Entry] = [
    # --- The learner (enrolment, credit bank, certificates, the account) ---
    Entry(
        "my_profile",
        "enrolment:my_profile",
        "learner",
        fields={
            "legal_name": TEXT,
            "phone": TEXT,
            "employer": TEXT,
            "job_title": TEXT,
            "industry": CHOICE,
            "province": CHOICE,
            "centre": CHOICE,
            "consent": FLAG,
        },
        payload={
            "legal_name": "王学员",
            "phone": "13800138000",
            "employer": "BAIC Motor",
            "job_title": "CNC machinist",
            "industry": "mechanical",
            "province": "BJ",
            "centre": pk("schools.LearningCentre", code="@centre"),
            "consent": "on",
        },
    ),  # fmt: skip
    Entry(
        "intake_apply",
        "enrolment:intake_apply",
        "other_learner",
        fields={},
        payload={},
        kwargs={"public_id": "open_intake"},
    ),  # fmt: skip
    Entry(
        "my_enrolment_withdraw",
        "enrolment:my_enrolment",
        "learner",
        fields={"reason": TEXT},
        payload={"reason": "Moving to another city"},
        kwargs={"public_id": "enrolment"},
    ),  # fmt: skip
    Entry(
        "close_account",
        "me:close",
        "learner",
        fields={"password": SECRET, "confirm": FLAG},
        payload={"password": "@password", "confirm": "on"},
    ),  # fmt: skip
    Entry(
        "certificate_request",
        "certs:request",
        "learner",
        fields={},
        payload={},
        kwargs={"code": "eligible_type"},
    ),  # fmt: skip
    Entry("transcript_request", "certs:transcript_request", "learner", fields={}, payload={}),
    Entry(
        "outcome_submit",
        "credits:outcome_submit",
        "learner",
        fields={
            "kind": CHOICE,
            "title": TEXT,
            "issuing_body": CHOICE,
            "issuing_body_name": TEXT,
            "achieved_on": DATE,
            "expires_on": DATE,
            "level": CHOICE,
            "study_hours": NUMBER,
            "grade": TEXT,
            "certificate_number": TEXT,
            "files": FILE,
        },
        payload={
            "kind": "vocational",
            "title": "Welder (intermediate)",
            "issuing_body": "",
            "issuing_body_name": "Beijing Welding Association",
            "achieved_on": days_ago(30),
            "expires_on": days_ahead(900),
            "level": "4",
            "study_hours": "120",
            "grade": "B",
            "certificate_number": "BWA-2026-0042",
        },
        files={"files": ("certificate.pdf", PDF)},
    ),  # fmt: skip
    # --- The school's staff ---
    Entry(
        "programme_create",
        "manage:programme_create",
        "school_admin",
        fields=PROGRAMME,
        payload=PROGRAMME_PAYLOAD,
    ),  # fmt: skip
    Entry(
        "programme_edit",
        "manage:programme_edit",
        "school_admin",
        fields=PROGRAMME,
        payload={**PROGRAMME_PAYLOAD, "code": "NCT-A2", "slug": "@programme"},
    ),  # fmt: skip
    Entry(
        "programme_status",
        "manage:programme_status",
        "school_admin",
        fields={"status": CHOICE},
        payload={"status": "archived"},
    ),  # fmt: skip
    Entry(
        "group_create", "manage:group_create", "school_admin", fields=GROUP, payload=GROUP_PAYLOAD
    ),  # fmt: skip
    Entry(
        "group_edit",
        "manage:group_edit",
        "school_admin",
        fields=GROUP,
        payload={**GROUP_PAYLOAD, "kind": "compulsory", "min_credits": "0"},
    ),  # fmt: skip
    Entry(
        "group_delete",
        "manage:group_delete",
        "school_admin",
        fields={},
        payload={},
        kwargs={"programme_slug": "draft_programme", "group_id": "draft_group"},
    ),  # fmt: skip
    Entry(
        "group_course_add",
        "manage:group_course_add",
        "school_admin",
        fields={"course": CHOICE},
        payload={"course": "@free_course"},
    ),  # fmt: skip
    Entry(
        "group_course_remove",
        "manage:group_course_remove",
        "school_admin",
        fields={},
        payload={},
        kwargs={"course_code": "course"},
    ),  # fmt: skip
    Entry(
        "course_create",
        "manage:course_create",
        "school_admin",
        fields=COURSE,
        payload={**COURSE_PAYLOAD, "code": "NC301"},
    ),  # fmt: skip
    Entry(
        "course_edit",
        "manage:course_edit",
        "school_admin",
        fields=COURSE,
        payload={**COURSE_PAYLOAD, "code": "@course"},
    ),  # fmt: skip
    Entry(
        "intake_create",
        "manage:intake_create",
        "school_admin",
        fields=INTAKE,
        payload=INTAKE_PAYLOAD,
    ),  # fmt: skip
    # Learners have applied: the programme is fixed (a disabled input keeps its value).
    Entry(
        "intake_edit",
        "manage:intake_edit",
        "school_admin",
        fields={k: v for k, v in INTAKE.items() if k != "programme"},
        payload={**INTAKE_PAYLOAD, "year": "2030"},
    ),  # fmt: skip
    Entry(
        "intake_results",
        "manage:intake_results",
        "school_admin",
        fields={
            "assessed_on": DATE,
            "score_{enrolment_hex}": NUMBER,
            "date_{enrolment_hex}": DATE,
        },
        payload={
            "assessed_on": days_ago(3),
            "score_{enrolment_hex}": "85.5",
            "date_{enrolment_hex}": days_ago(2),
        },
        query={"course": "@course"},
        # Each row may use the date for every row instead of its own.
        allow={
            ("date_{enrolment_hex}", "missing"): "the common date applies",
            ("assessed_on", "missing"): "the row has its own date",
        },
    ),  # fmt: skip
    Entry(
        "intake_results_upload",
        "manage:intake_results_upload",
        "school_admin",
        fields={"file": FILE},
        payload={},
        files={"file": ("results.csv", results_csv)},
    ),  # fmt: skip
    Entry(
        "application_queue",
        "manage:application_queue",
        "school_admin",
        fields={"decision": CHOICE, "enrolments": MULTI, "reason": TEXT},
        payload={
            "decision": "reject",
            "enrolments": ["@application"],
            "reason": "The intake is for machinists",
        },
    ),  # fmt: skip
    Entry(
        "enrolment_detail",
        "manage:enrolment_detail",
        "school_admin",
        fields={"action": CHOICE, "reason": TEXT},
        payload={"action": "withdraw", "reason": "Left the company"},
        kwargs={"public_id": "enrolment"},
    ),  # fmt: skip
    # --- The partner association's reviewers ---
    Entry(
        "review_bulk",
        "review:bulk",
        "reviewer",
        fields={"action": CHOICE, "requests": MULTI, "filter": HIDDEN, "reason": TEXT},
        payload={
            "action": "reject-selected",
            "requests": ["@request"],
            "filter": "status=waiting",
            "confirmed": "1",
            "reason": "The certificate number does not exist",
        },
    ),  # fmt: skip
    Entry(
        "review_approve",
        "review:request",
        "reviewer",
        fields={"approve-reason": TEXT},
        payload={"action": "approve", "approve-reason": "Checked against the register"},
        kwargs={"public_id": "request"},
    ),  # fmt: skip
    Entry(
        "review_reject",
        "review:request",
        "reviewer",
        fields={"reject-reason": TEXT},
        payload={"action": "reject", "reject-reason": "Not in the register"},
        kwargs={"public_id": "request"},
    ),  # fmt: skip
    Entry(
        "review_revoke",
        "review:revoke",
        "reviewer",
        fields={"reason": TEXT},
        payload={"reason": "Issued by mistake"},
    ),  # fmt: skip
    # --- The credit bank's officers ---
    Entry(
        "outcome_accredit",
        "creditbank:outcome_review",
        "credit_officer",
        fields={"accredit-standard": CHOICE, "accredit-credits": NUMBER, "accredit-reason": TEXT},
        payload={
            "action": "accredit",
            "accredit-standard": pk("creditbank.RecognitionStandard", code="@standard_code"),
            "accredit-credits": "4",
            "accredit-reason": "Certificate checked with the issuer",
        },
        kwargs={"public_id": "outcome"},
    ),  # fmt: skip
    Entry(
        "outcome_reject",
        "creditbank:outcome_review",
        "credit_officer",
        fields={"reject-reason": TEXT},
        payload={"action": "reject", "reject-reason": "The certificate is not legible"},
        kwargs={"public_id": "outcome"},
    ),  # fmt: skip
    Entry(
        "outcome_revoke",
        "creditbank:outcome_revoke",
        "credit_officer",
        fields={"reason": TEXT},
        payload={"reason": "The certificate was forged"},
        kwargs={"public_id": "accredited_outcome"},
    ),  # fmt: skip
    Entry(
        "standard_create",
        "creditbank:standard_create",
        "credit_officer",
        fields={"code": TEXT, **STANDARD, "effective_to": DATE},
        payload={**STANDARD_PAYLOAD, "code": "WELD-4", "effective_to": ""},
    ),  # fmt: skip
    Entry(
        "standard_edit",
        "creditbank:standard_edit",
        "credit_officer",
        fields={**STANDARD, "effective_to": DATE},
        payload={**STANDARD_PAYLOAD, "effective_to": ""},
        kwargs={"code": "spare_standard_code", "version": "spare_standard_version"},
    ),  # fmt: skip
    Entry(
        "standard_new_version",
        "creditbank:standard_new_version",
        "credit_officer",
        fields=STANDARD,
        payload={**STANDARD_PAYLOAD, "effective_from": days_ahead(1)},
        kwargs={"code": "standard_code", "version": "standard_version"},
    ),  # fmt: skip
    Entry(
        "rule_create",
        "creditbank:rule_create",
        "credit_officer",
        fields={"code": TEXT, **RULE},
        payload={**RULE_PAYLOAD, "code": "NCT-WELD"},
    ),  # fmt: skip
    Entry(
        "rule_edit",
        "creditbank:rule_edit",
        "credit_officer",
        fields=RULE,
        payload=RULE_PAYLOAD,
        kwargs={"code": "spare_rule_code", "version": "spare_rule_version"},
    ),  # fmt: skip
    Entry(
        "rule_new_version",
        "creditbank:rule_new_version",
        "credit_officer",
        fields={
            "effective_from": DATE,
            "min_grade": TEXT,
            "max_age_years": NUMBER,
            "mode": CHOICE,
            "credits": NUMBER,
            "approving_body": CHOICE,
        },
        payload={
            "effective_from": days_ahead(1),
            "min_grade": "B",
            "max_age_years": "4",
            "mode": "exam",
            "credits": "3",
            "approving_body": "",
        },
        kwargs={"code": "rule_code", "version": "rule_version"},
    ),  # fmt: skip
    Entry(
        "credit_transfer",
        "creditbank:learner",
        "credit_officer",
        fields={
            TRANSFER + "-outcome": CHOICE,
            TRANSFER + "-group": CHOICE,
            TRANSFER + "-credits": NUMBER,
        },
        payload={
            "form": TRANSFER,
            TRANSFER + "-outcome": "@accredited_outcome",
            TRANSFER + "-group": "@group",
            TRANSFER + "-credits": "2",
        },
        kwargs={"public_id": "learner"},
    ),  # fmt: skip
    # --- Anyone: the public lookup (a GET form) and allauth's sign-up and log-in ---
    Entry(
        "verify_lookup",
        "verify:lookup",
        "visitor",
        fields={"code": HIDDEN},
        payload={"code": "@verification_code"},
        method="GET",
    ),  # fmt: skip
    Entry(
        "signup",
        "account_signup",
        "visitor",
        fields={"email": TEXT, "password1": SECRET, "password2": SECRET},
        payload={
            "email": "new.learner@example.org",
            "password1": "@password",
            "password2": "@password",
        },
    ),  # fmt: skip
    Entry(
        "login",
        "account_login",
        "visitor",
        fields={"login": HIDDEN, "password": SECRET},
        payload={"login": "@learner_email", "password": "@password"},
    ),  # fmt: skip
]

# Routes that take a POST and are not swept here, each with the reason.
EXEMPT: dict[str, str] = {
    "set_language": "Django's language switch: a cookie, nothing stored",
}
# allauth's pages other than sign-up and log-in: allauth's own forms and tests; the portal adds no
# input to them (ouc_portal/accounts/adapter.py changes no form).
ALLAUTH_EXEMPT_REASON = "allauth's own form, covered by allauth's tests; the portal adds no input"
# Django's admin: the superusers' tool; its forms are the models' own fields.
ADMIN_EXEMPT_REASON = "Django admin (superusers): ModelAdmin forms of the models' own fields"
# The API tokens pages, when they exist (another change adds them).
TOKENS_EXEMPT_REASON = "covered by tests/certificates/test_tokens*"
