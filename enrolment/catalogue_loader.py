"""Load the demo catalogue (``enrolment/data/catalogue.json``) through the enrolment services.

Idempotent: courses, programmes and groups are matched by their natural keys and updated only when
a value differs; intakes are created once and never moved afterwards, so a second run changes
nothing.
"""

from __future__ import annotations

import datetime
import json
from collections import Counter
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db import transaction

from enrolment import services
from enrolment.models import (
    Course,
    GroupCourse,
    Intake,
    Programme,
    ProgrammeStatus,
    RequirementGroup,
    Season,
)
from schools.models import IndustrySchool, LearningCentre

DATA_FILE = Path(__file__).resolve().parent / "data" / "catalogue.json"
CHINA = ZoneInfo("Asia/Shanghai")


class CatalogueDataError(Exception):
    pass


def read_catalogue(path: Path = DATA_FILE) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CatalogueDataError(f"{path}: {exc}") from None
    for key in ("courses", "programmes", "intakes"):
        if key not in data:
            raise CatalogueDataError(f"{path}: missing the '{key}' section")
    return data


def next_term(today: datetime.date) -> tuple[int, str, datetime.datetime, datetime.datetime, datetime.date]:
    """The first term starting at least 30 days after ``today``, open for application from a week ago."""
    candidates = []
    for year in (today.year, today.year + 1):
        candidates += [(datetime.date(year, 3, 1), year, Season.SPRING), (datetime.date(year, 9, 1), year, Season.AUTUMN)]
    start, year, season = next(c for c in sorted(candidates) if c[0] >= today + datetime.timedelta(days=30))
    opens = datetime.datetime.combine(today - datetime.timedelta(days=7), datetime.time(9), tzinfo=CHINA)
    closes = datetime.datetime.combine(start - datetime.timedelta(days=7), datetime.time(0), tzinfo=CHINA)
    return year, season, opens, closes, start + datetime.timedelta(days=7)


def _changed(obj, values: dict) -> bool:
    differs = False
    for name, value in values.items():
        if getattr(obj, name) != value:
            setattr(obj, name, value)
            differs = True
    return differs


@transaction.atomic
def catalogue_load(*, data: dict, today: datetime.date) -> Counter:
    counts: Counter = Counter()
    schools = {s.slug: s for s in IndustrySchool.objects.all()}
    centres = {c.code: c for c in LearningCentre.objects.all()}
    if not schools:
        raise CatalogueDataError("No industry schools: run `manage.py load_network` first.")
    try:
        course_index = _load_courses(data["courses"], schools, counts)
        programmes = _load_programmes(data["programmes"], schools, course_index, counts)
        _load_intakes(data["intakes"], programmes, centres, today, counts)
    except KeyError as exc:
        raise CatalogueDataError(f"unknown or missing key {exc}") from None
    except ValidationError as exc:
        raise CatalogueDataError(f"invalid value: {exc.messages}") from None
    return counts


def _load_courses(by_school: dict, schools: dict, counts: Counter) -> dict:
    index = {}
    for slug, rows in by_school.items():
        school = schools[slug]
        existing = {c.code: c for c in Course.objects.filter(school=school)}
        for row in rows:
            values = {
                "name_en": row["name_en"], "name_zh": row["name_zh"], "credits": Decimal(row["credits"]),
                "study_hours": row["study_hours"], "level": row["level"],
            }
            course = existing.get(row["code"])
            if course is None:
                course = services.course_save(course=Course(school=school, code=row["code"], **values))
                counts["courses created"] += 1
            elif _changed(course, values):
                services.course_save(course=course)
                counts["courses updated"] += 1
            index[(slug, row["code"])] = course
    return index


PROGRAMME_FIELDS = [
    "code", "name_en", "name_zh", "kind", "qf_level", "duration_months", "delivery_mode", "description_en",
    "description_zh", "outcomes_en", "outcomes_zh", "entry_requirements_en", "entry_requirements_zh",
]


def _load_programmes(rows: list, schools: dict, courses: dict, counts: Counter) -> dict:
    loaded = {}
    for row in rows:
        values = {name: row[name] for name in PROGRAMME_FIELDS}
        values["total_credits"] = Decimal(row["total_credits"])
        values["school"] = schools[row["school"]]
        programme = Programme.objects.filter(slug=row["slug"]).first()
        if programme is None:
            programme = services.programme_save(programme=Programme(slug=row["slug"], **values))
            counts["programmes created"] += 1
        elif _changed(programme, values):
            services.programme_save(programme=programme)
            counts["programmes updated"] += 1
        for position, group_row in enumerate(row["groups"]):
            group = RequirementGroup.objects.filter(programme=programme, name_en=group_row["name_en"]).first()
            group_values = {
                "name_zh": group_row["name_zh"], "kind": group_row["kind"],
                "min_credits": Decimal(group_row["min_credits"]), "position": position,
            }
            if group is None:
                group = services.group_save(
                    group=RequirementGroup(programme=programme, name_en=group_row["name_en"], **group_values)
                )
                counts["groups created"] += 1
            elif _changed(group, group_values):
                services.group_save(group=group)
            present = set(GroupCourse.objects.filter(group=group).values_list("course__code", flat=True))
            for code in group_row["courses"]:
                if code not in present:
                    services.group_add_course(group=group, course=courses[(row["school"], code)])
                    counts["courses placed"] += 1
        if programme.status == ProgrammeStatus.DRAFT:
            services.programme_set_status(programme=programme, status=ProgrammeStatus.PUBLISHED)
        loaded[row["slug"]] = programme
    return loaded


def _load_intakes(rows: list, programmes: dict, centres: dict, today: datetime.date, counts: Counter) -> None:
    for row in rows:
        programme = programmes[row["programme"]]
        centre = centres[row["centre"]]
        if row.get("term") == "next":
            year, season, opens, closes, starts = next_term(today)
        else:
            year, season = row["year"], row["season"]
            opens = datetime.datetime.fromisoformat(row["opens_at"])
            closes = datetime.datetime.fromisoformat(row["closes_at"])
            starts = datetime.date.fromisoformat(row["starts_on"])
        if Intake.objects.filter(programme=programme, year=year, season=season, centre=centre).exists():
            continue
        services.intake_save(
            intake=Intake(
                programme=programme, centre=centre, year=year, season=season, opens_at=opens, closes_at=closes,
                starts_on=starts, capacity=row["capacity"], requires_approval=row["requires_approval"],
            )
        )
        counts["intakes created"] += 1
