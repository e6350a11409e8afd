"""Writes on the network: loading the seed facts, and granting or revoking staff roles.

One function a use case, each in one transaction, validating before it saves. ``network_load`` is
the only way rows of ``schools/data/network.json`` reach the database; ``membership_grant`` and
``membership_revoke`` are the only way a person gains or loses a staff role.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction

from schools.models import (
    AgreementSignatory,
    CooperationAgreement,
    Industry,
    IndustrySchool,
    LearningCentre,
    Membership,
    OperatingLevel,
    PartnerAssociation,
)
from schools.regions import Province
from schools.roles import forget_roles

logger = logging.getLogger(__name__)


# --- Loading the network ------------------------------------------------------------------------


@dataclass
class Tally:
    created: int = 0
    updated: int = 0
    unchanged: int = 0


# What each section of the data file may hold. Unknown keys are refused rather than ignored: a
# misspelt "name_zh" silently dropped would leave the Chinese pages in English for good.
_SECTIONS: dict[str, dict[str, Any]] = {
    "schools": {
        "key": "slug",
        "required": {"slug", "name_en", "industry", "founded_on", "source"},
        "optional": {"name_zh", "description_en", "description_zh"},
        "dates": {"founded_on"},
        "choices": {"industry": Industry},
    },
    "partners": {
        "key": "slug",
        "required": {"slug", "name_en", "kind", "source"},
        "optional": {"name_zh", "website", "description_en", "description_zh"},
        "dates": set(),
        "choices": {"kind": PartnerAssociation.Kind},
    },
    "centres": {
        "key": "code",
        "required": {"code", "name_en", "kind", "level", "province", "source"},
        "optional": {
            "name_zh",
            "city",
            "host_en",
            "host_zh",
            "operator_en",
            "operator_zh",
            "parent",
            "schools",
            "opened_on",
            "description_en",
            "description_zh",
        },
        "dates": {"opened_on"},
        "choices": {"kind": LearningCentre.Kind, "level": OperatingLevel, "province": Province},
    },
    "agreements": {
        "key": "code",
        "required": {"code", "partner", "signed_on", "title_en", "source"},
        "optional": {
            "school",
            "learning_centre",
            "title_zh",
            "summary_en",
            "summary_zh",
            "signatories",
            "signing_order",
        },
        "dates": {"signed_on"},
        "choices": {},
    },
}
_SIGNATORY_REQUIRED = {"side", "name_en", "title_en"}
_SIGNATORY_OPTIONAL = {"name_zh", "title_zh", "position"}
_TOP_LEVEL = {"version", "notes", "sources", "network", *_SECTIONS}
# Keys that hold something other than text (or null, for the optional ones).
_NON_TEXT = {"source", "schools", "signatories", "signing_order", "position", "parent", "opened_on",
             "school", "learning_centre"}  # fmt: skip


def _where(section: str, index: int, record: Any, key: str) -> str:
    natural = record.get(key) if isinstance(record, Mapping) else None
    return f"{section}[{index}]" + (f" ({key} {natural!r})" if isinstance(natural, str) else "")


def _check_source(errors: list[str], where: str, value: Any, sources: Mapping[str, Any]) -> None:
    names = [value] if isinstance(value, str) else value
    if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
        errors.append(
            f"{where}: source must name the seed document (or a list of them) the facts come from"
        )
        return
    for name in names:
        if name not in sources:
            errors.append(f'{where}: source {name!r} is not listed under "sources"')


def _check_record(
    errors: list[str], section: str, index: int, record: Any, sources: Mapping[str, Any]
) -> str | None:
    """Check one record's shape; return its natural key when it has a usable one."""
    spec = _SECTIONS[section]
    where = _where(section, index, record, spec["key"])
    if not isinstance(record, Mapping):
        errors.append(f"{where}: expected an object, got {type(record).__name__}")
        return None
    missing = sorted(spec["required"] - record.keys())
    if missing:
        errors.append(f"{where}: missing {', '.join(missing)}")
    unknown = sorted(record.keys() - spec["required"] - spec["optional"])
    if unknown:
        errors.append(f"{where}: unknown field(s) {', '.join(unknown)}")
    for name, value in record.items():
        if name in _NON_TEXT or name in unknown:
            continue
        if not isinstance(value, str):
            errors.append(f"{where}: {name} must be text, got {type(value).__name__}")
    for name in spec["dates"]:
        value = record.get(name)
        if value is None and (name not in spec["required"] or name not in record):
            continue  # an optional date left empty, or a required one already reported missing
        try:
            datetime.date.fromisoformat(value)
        except (TypeError, ValueError):
            errors.append(f"{where}: {name} {value!r} is not a date (YYYY-MM-DD)")
    for name, choices in spec["choices"].items():
        value = record.get(name)
        if value is not None and value not in choices.values:
            errors.append(f"{where}: {name} {value!r} is not one of: {', '.join(choices.values)}")
    if "source" in record:
        _check_source(errors, where, record["source"], sources)
    key = record.get(spec["key"])
    return key if isinstance(key, str) and key else None


def _network_check(data: Any) -> None:
    """Refuse a data file that is malformed or incomplete, naming every problem at once."""
    errors: list[str] = []
    if not isinstance(data, Mapping):
        raise ValidationError(f"The network data must be a JSON object, got {type(data).__name__}.")
    unknown = sorted(data.keys() - _TOP_LEVEL)
    if unknown:
        errors.append(f"unknown top-level key(s) {', '.join(map(str, unknown))}")
    if not isinstance(data.get("network", {}), Mapping):
        errors.append('"network" must be an object of network-level facts')
    sources = data.get("sources")
    if not isinstance(sources, Mapping) or not sources:
        errors.append('"sources" must map each seed document\'s title to what it is')
        sources = {}
    keys: dict[str, set[str]] = {}
    for section in _SECTIONS:
        records = data.get(section)
        if not isinstance(records, list):
            errors.append(f'"{section}" must be a list')
            keys[section] = set()
            continue
        seen: set[str] = set()
        for index, record in enumerate(records):
            key = _check_record(errors, section, index, record, sources)
            if key is None:
                continue
            if key in seen:
                errors.append(
                    f"{section}[{index}]: {_SECTIONS[section]['key']} {key!r} is listed twice"
                )
            seen.add(key)
        keys[section] = seen

    # References must resolve inside the file: the file is the whole network, not a patch.
    for index, centre in enumerate(data.get("centres") or []):
        if not isinstance(centre, Mapping):
            continue
        where = _where("centres", index, centre, "code")
        parent = centre.get("parent")
        if parent is not None and not isinstance(parent, str):
            errors.append(f"{where}: parent must be a centre code or null")
        elif parent is not None and parent not in keys["centres"]:
            errors.append(f"{where}: parent {parent!r} is not a centre in this file")
        if parent is not None and parent == centre.get("code"):
            errors.append(f"{where}: a centre cannot be its own parent")
        schools = centre.get("schools", [])
        if not isinstance(schools, list) or not all(isinstance(s, str) for s in schools):
            errors.append(f"{where}: schools must be a list of school slugs")
        else:
            for slug in schools:
                if slug not in keys["schools"]:
                    errors.append(f"{where}: school {slug!r} is not a school in this file")
    for index, agreement in enumerate(data.get("agreements") or []):
        if not isinstance(agreement, Mapping):
            continue
        where = _where("agreements", index, agreement, "code")
        school, centre = agreement.get("school"), agreement.get("learning_centre")
        if school is None and centre is None:
            errors.append(
                f"{where}: an agreement is signed for a school or a learning centre; give one"
            )
        for name, value, section in (
            ("partner", agreement.get("partner"), "partners"),
            ("school", school, "schools"),
            ("learning_centre", centre, "centres"),
        ):
            if value is None:
                continue
            if not isinstance(value, str) or value not in keys[section]:
                errors.append(f"{where}: {name} {value!r} is not one of the {section} in this file")
        order = agreement.get("signing_order")
        if order is not None and (not isinstance(order, int) or isinstance(order, bool)):
            errors.append(f"{where}: signing_order must be a whole number")
        signatories = agreement.get("signatories", [])
        if not isinstance(signatories, list):
            errors.append(f"{where}: signatories must be a list")
            continue
        for s_index, signatory in enumerate(signatories):
            s_where = f"{where} signatories[{s_index}]"
            if not isinstance(signatory, Mapping):
                errors.append(f"{s_where}: expected an object")
                continue
            missing = sorted(_SIGNATORY_REQUIRED - signatory.keys())
            if missing:
                errors.append(f"{s_where}: missing {', '.join(missing)}")
            unknown = sorted(signatory.keys() - _SIGNATORY_REQUIRED - _SIGNATORY_OPTIONAL)
            if unknown:
                errors.append(f"{s_where}: unknown field(s) {', '.join(unknown)}")
            side = signatory.get("side")
            if side is not None and side not in AgreementSignatory.Side.values:
                errors.append(
                    f"{s_where}: side {side!r} is not one of: {', '.join(AgreementSignatory.Side.values)}"
                )
            position = signatory.get("position", 0)
            if not isinstance(position, int) or isinstance(position, bool) or position < 0:
                errors.append(f"{s_where}: position must be a whole number, 0 or more")
            for name in ("name_en", "name_zh", "title_en", "title_zh"):
                if name in signatory and not isinstance(signatory[name], str):
                    errors.append(f"{s_where}: {name} must be text")
    if errors:
        raise ValidationError(errors)


def _sources(value: str | list[str]) -> str:
    return value if isinstance(value, str) else "; ".join(value)


def _date(value: str | None) -> datetime.date | None:
    return datetime.date.fromisoformat(value) if value else None


def _upsert(
    model: type[models.Model],
    tally: Tally,
    *,
    where: str,
    lookup: dict[str, Any],
    values: dict[str, Any],
) -> tuple[models.Model, bool]:
    """Create or update the row ``lookup`` names; save nothing when nothing changed.

    Like ``update_or_create``, but an unchanged row is not saved: loading the same file again must
    leave ``updated_at`` (and so every cache keyed on it) alone. Returns (row, changed).
    """
    row = model.objects.select_for_update().filter(**lookup).first()
    if row is None:
        row = model(**lookup, **values)
        changed_fields = None
    else:
        changed_fields = [name for name, value in values.items() if getattr(row, name) != value]
        if not changed_fields:
            tally.unchanged += 1
            return row, False
        for name in changed_fields:
            setattr(row, name, values[name])
    try:
        row.full_clean()
    except ValidationError as error:
        raise ValidationError(
            [
                f"{where}: {field}: {' '.join(messages)}"
                for field, messages in error.message_dict.items()
            ]
        ) from error
    if changed_fields is None:
        row.save(force_insert=True)
        tally.created += 1
    else:
        if any(f.name == "updated_at" for f in model._meta.concrete_fields):
            changed_fields.append("updated_at")
        row.save(update_fields=changed_fields)
        tally.updated += 1
    return row, True


def _parents_first(centres: list[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    by_code = {c["code"]: c for c in centres}
    ordered: list[Mapping[str, Any]] = []
    placed: set[str] = set()

    def place(code: str, trail: tuple[str, ...]) -> None:
        if code in placed:
            return
        if code in trail:
            raise ValidationError(f"centres: parents form a cycle: {' → '.join((*trail, code))}")
        parent = by_code[code].get("parent")
        if parent:
            place(parent, (*trail, code))
        placed.add(code)
        ordered.append(by_code[code])

    for code in by_code:
        place(code, ())
    return ordered


@transaction.atomic
def network_load(*, data: Mapping[str, Any]) -> dict[str, dict[str, int]]:
    """Load the network from ``data`` (the parsed ``network.json``); safe to run again.

    Every row is found by its stable slug or code and created, updated or left alone; nothing is
    deleted (rows staff added by hand stay). Returns, per model, how many rows were created,
    updated and left unchanged. A malformed or incomplete file raises ``ValidationError`` naming
    every problem, and — one transaction — nothing is stored.
    """
    _network_check(data)
    tallies = {
        name: Tally()
        for name in (
            "schools",
            "partners",
            "centres",
            "centre_schools",
            "agreements",
            "signatories",
        )
    }

    schools: dict[str, IndustrySchool] = {}
    for index, record in enumerate(data["schools"]):
        schools[record["slug"]], _ = _upsert(
            IndustrySchool,
            tallies["schools"],
            where=_where("schools", index, record, "slug"),
            lookup={"slug": record["slug"]},
            values={
                "name_en": record["name_en"],
                "name_zh": record.get("name_zh", ""),
                "industry": record["industry"],
                "founded_on": _date(record["founded_on"]),
                "description_en": record.get("description_en", ""),
                "description_zh": record.get("description_zh", ""),
            },
        )

    partners: dict[str, PartnerAssociation] = {}
    for index, record in enumerate(data["partners"]):
        partners[record["slug"]], _ = _upsert(
            PartnerAssociation,
            tallies["partners"],
            where=_where("partners", index, record, "slug"),
            lookup={"slug": record["slug"]},
            values={
                "name_en": record["name_en"],
                "name_zh": record.get("name_zh", ""),
                "kind": record["kind"],
                "website": record.get("website", ""),
                "description_en": record.get("description_en", ""),
                "description_zh": record.get("description_zh", ""),
            },
        )

    centres: dict[str, LearningCentre] = {}
    for record in _parents_first(data["centres"]):
        index = data["centres"].index(record)
        where = _where("centres", index, record, "code")
        parent = record.get("parent")
        centre, _ = _upsert(
            LearningCentre,
            tallies["centres"],
            where=where,
            lookup={"code": record["code"]},
            values={
                "name_en": record["name_en"],
                "name_zh": record.get("name_zh", ""),
                "kind": record["kind"],
                "level": record["level"],
                "province": record["province"],
                "city": record.get("city", ""),
                "host_en": record.get("host_en", ""),
                "host_zh": record.get("host_zh", ""),
                "operator_en": record.get("operator_en", ""),
                "operator_zh": record.get("operator_zh", ""),
                "parent_id": centres[parent].pk if parent else None,
                "opened_on": _date(record.get("opened_on")),
                "description_en": record.get("description_en", ""),
                "description_zh": record.get("description_zh", ""),
            },
        )
        centres[record["code"]] = centre
        # The file adds links; it never drops one a superuser made by hand.
        wanted = {schools[slug].pk for slug in record.get("schools", [])}
        missing = wanted - set(centre.schools.values_list("pk", flat=True))
        if missing:
            centre.schools.add(*missing)
            tallies["centre_schools"].created += len(missing)
        tallies["centre_schools"].unchanged += len(wanted) - len(missing)

    for index, record in enumerate(data["agreements"]):
        where = _where("agreements", index, record, "code")
        school, centre = record.get("school"), record.get("learning_centre")
        agreement, _ = _upsert(
            CooperationAgreement,
            tallies["agreements"],
            where=where,
            lookup={"code": record["code"]},
            values={
                "school_id": schools[school].pk if school else None,
                "learning_centre_id": centres[centre].pk if centre else None,
                "association_id": partners[record["partner"]].pk,
                "signed_on": _date(record["signed_on"]),
                "title_en": record["title_en"],
                "title_zh": record.get("title_zh", ""),
                "summary_en": record.get("summary_en", ""),
                "summary_zh": record.get("summary_zh", ""),
                "source": _sources(record["source"]),
            },
        )
        for s_index, signatory in enumerate(record.get("signatories", [])):
            _upsert(
                AgreementSignatory,
                tallies["signatories"],
                where=f"{where} signatories[{s_index}]",
                lookup={
                    "agreement": agreement,
                    "side": signatory["side"],
                    "name_en": signatory["name_en"],
                },
                values={
                    "name_zh": signatory.get("name_zh", ""),
                    "title_en": signatory["title_en"],
                    "title_zh": signatory.get("title_zh", ""),
                    "position": signatory.get("position", 0),
                },
            )

    return {name: asdict(tally) for name, tally in tallies.items()}


# --- Staff roles ----------------------------------------------------------------------------------

_SCOPE_RULES = {
    Membership.Role.SCHOOL_ADMIN: (
        lambda school, association: school is not None and association is None,
        "A school administrator acts for one industry school: give a school and no partner "
        "association.",
    ),
    Membership.Role.REVIEWER: (
        lambda school, association: school is None and association is not None,
        "A partner-association reviewer acts for one partner association: give an association and "
        "no school.",
    ),
    Membership.Role.CREDIT_OFFICER: (
        lambda school, association: school is None and association is None,
        "A credit-bank officer acts for the whole credit bank: give neither a school nor an "
        "association.",
    ),
}


def _membership_role(
    role: str, school: IndustrySchool | None, association: PartnerAssociation | None
) -> Membership.Role:
    """The role, checked against its scope; the check constraint says the same, less clearly."""
    try:
        role = Membership.Role(role)
    except ValueError:
        raise ValidationError(
            f"Unknown role {role!r}: choose one of {', '.join(Membership.Role.values)}.",
            code="invalid_role",
        ) from None
    fits, message = _SCOPE_RULES[role]
    if not fits(school, association):
        raise ValidationError(message, code="scope_mismatch")
    return role


@transaction.atomic
def membership_grant(
    *,
    user,
    role: str,
    school: IndustrySchool | None = None,
    association: PartnerAssociation | None = None,
    granted_by=None,
) -> Membership:
    """Give ``user`` a staff role for a scope; granting the same role again returns the same row."""
    role = _membership_role(role, school, association)
    if not user.is_active:
        raise ValidationError(
            f"{user.email} is deactivated: reactivate the account before granting it a role.",
            code="inactive_user",
        )
    scope = {"user": user, "role": role, "school": school, "association": association}
    existing = Membership.objects.filter(**scope).first()
    if existing is not None:
        return existing
    membership = Membership(**scope, granted_by=granted_by)
    membership.full_clean()
    try:
        # A savepoint: when a concurrent grant of the same role wins the race, keep its row.
        with transaction.atomic():
            membership.save(force_insert=True)
    except IntegrityError:
        return Membership.objects.get(**scope)
    forget_roles(user)
    logger.info(
        "membership granted: %s %s school=%s association=%s by %s",
        user.email, role, getattr(school, "slug", None), getattr(association, "slug", None),
        getattr(granted_by, "email", None),
    )  # fmt: skip
    return membership


@transaction.atomic
def membership_revoke(
    *,
    user,
    role: str,
    school: IndustrySchool | None = None,
    association: PartnerAssociation | None = None,
    revoked_by=None,
) -> bool:
    """Take a staff role away; True when it was held, False when there was nothing to revoke."""
    role = _membership_role(role, school, association)
    deleted, _ = Membership.objects.filter(
        user=user, role=role, school=school, association=association
    ).delete()
    forget_roles(user)
    if deleted:
        # Membership keeps no history table (the schema is fixed); the log is the record of who
        # revoked what until it has one.
        logger.info(
            "membership revoked: %s %s school=%s association=%s by %s",
            user.email, role, getattr(school, "slug", None), getattr(association, "slug", None),
            getattr(revoked_by, "email", None),
        )  # fmt: skip
    return bool(deleted)
