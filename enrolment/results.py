"""Recording course results, one at a time or from a CSV file validated whole before any write.

A CSV import is all or nothing: every row is checked first and every bad row reported with its
line number; only a file with no bad row is written, in one transaction. Uploading the same file
again finds every row already recorded with the same values and changes nothing.
"""

from __future__ import annotations

import csv
import datetime
import io
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from enrolment.models import Course, CourseResult, Enrolment, EnrolmentStatus, GroupCourse, Intake
from enrolment.services import EnrolmentError, grade_for
from enrolment.signals import results_recorded

S = EnrolmentStatus
# Learners may be assessed once admitted; completed enrolments are closed to new results.
ASSESSABLE_STATES = frozenset({S.ACCEPTED, S.ACTIVE})
CSV_COLUMNS = ["learner_email", "course_code", "score", "assessed_on"]


@dataclass
class RowError:
    line: int
    message: str


@dataclass
class ImportReport:
    errors: list[RowError] = field(default_factory=list)
    created: int = 0
    unchanged: int = 0
    rows: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors


def _clip(value: str, limit: int = 60) -> str:
    """A cell as a message quotes it: a cell of a megabyte is not repeated back whole."""
    return value if len(value) <= limit else value[:limit] + "…"


def _csv_problem(exc: csv.Error) -> str:
    """Python's csv error, in words a person can act on (and translated)."""
    text = str(exc)
    if "field larger than field limit" in text:
        return _("a cell is longer than %(limit)s characters") % {"limit": csv.field_size_limit()}
    if "unexpected end of data" in text:
        return _('a quoted cell starts here and is never closed (a " without its closing ")')
    if "expected after" in text:
        return _('a quoted cell has text after its closing "')
    return _("not valid CSV: %(err)s") % {"err": text}


def _parse_score(raw: str) -> Decimal:
    try:
        score = Decimal(raw.strip())
    except InvalidOperation:
        raise ValueError(_("score %(raw)r is not a number") % {"raw": _clip(raw)}) from None
    if not score.is_finite() or score < 0 or score > 100:
        raise ValueError(_("score %(raw)s is outside 0–100") % {"raw": _clip(raw)})
    if score != score.quantize(Decimal("0.01")):
        raise ValueError(_("score %(raw)s has more than two decimal places") % {"raw": _clip(raw)})
    return score.quantize(Decimal("0.01"))


def _parse_date(raw: str, *, today: datetime.date) -> datetime.date:
    try:
        day = datetime.date.fromisoformat(raw.strip())
    except ValueError:
        raise ValueError(_("date %(raw)r is not YYYY-MM-DD") % {"raw": _clip(raw)}) from None
    if day > today:
        raise ValueError(_("date %(raw)s is in the future") % {"raw": raw})
    return day


def _decode(data: bytes) -> str:
    if data.startswith(b"\xef\xbb\xbf"):  # Excel writes a byte-order mark
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        # The line, not only the byte: that is what a person finds in their sheet. GBK and
        # GB18030 (what Excel saves as "CSV" on a Chinese Windows) fail here.
        raise EnrolmentError(
            _(
                "Line %(line)s is not UTF-8 text (first bad byte at position %(pos)s); the file "
                "was probably saved in another encoding, such as GBK. Save it as CSV UTF-8."
            )
            % {"line": data[: exc.start].count(b"\n") + 1, "pos": exc.start}
        ) from None


def results_import_csv(*, intake: Intake, data: bytes, actor, today: datetime.date | None = None) -> ImportReport:
    """Validate a results CSV for ``intake`` whole, then write it in one transaction or not at all."""
    today = today or datetime.date.today()
    limit = settings.RESULTS_CSV_MAX_BYTES
    if len(data) > limit:
        raise EnrolmentError(
            _("The file is %(size)s bytes; the limit is %(limit)s bytes.") % {"size": len(data), "limit": limit}
        )
    text = _decode(data)
    if "\x00" in text:
        raise EnrolmentError(_("The file contains NUL bytes: it is not a CSV text file."))
    # Strict: a quote left open or text after a closing quote is an error, not a guess.
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader)
    except StopIteration:
        raise EnrolmentError(_("The file is empty.")) from None
    except csv.Error as exc:
        raise EnrolmentError(_("Line 1: %(problem)s.") % {"problem": _csv_problem(exc)}) from None
    header = [h.strip().lower() for h in header]
    if header != CSV_COLUMNS:
        raise EnrolmentError(
            _("Line 1 must be the header %(expected)s, not %(got)s.")
            % {"expected": ",".join(CSV_COLUMNS), "got": _clip(",".join(header), 200)}
        )

    report = ImportReport()
    parsed: list[tuple[int, str, str, Decimal, datetime.date]] = []
    start = reader.line_num + 1  # where the row being read begins (a quoted cell may span lines)
    try:
        for row in reader:
            line, start = reader.line_num, reader.line_num + 1
            if not any(cell.strip() for cell in row):
                continue
            report.rows += 1
            if len(row) != len(CSV_COLUMNS):
                report.errors.append(
                    RowError(line, _("expected %(n)s columns, found %(m)s") % {"n": len(CSV_COLUMNS), "m": len(row)})
                )
                continue
            email, code, raw_score, raw_date = (cell.strip() for cell in row)
            try:
                score = _parse_score(raw_score)
                day = _parse_date(raw_date, today=today)
            except ValueError as exc:
                report.errors.append(RowError(line, str(exc)))
                continue
            parsed.append((line, email.lower(), code, score, day))
    except csv.Error as exc:
        report.errors.append(RowError(start, _csv_problem(exc)))
    if report.rows == 0 and not report.errors:
        raise EnrolmentError(_("The file has a header but no results."))

    # Everything the rows refer to, each in one query whatever the file's length.
    # Completed enrolments are looked up too: the same file uploaded again after the credit bank
    # completed a learner must still read as "already recorded", not as an unknown learner.
    enrolments = {
        e.learner.user.email.lower(): e
        for e in Enrolment.objects.filter(
            intake=intake, status__in=ASSESSABLE_STATES | {S.COMPLETED}
        ).select_related("learner__user")
    }
    course_ids = dict(
        GroupCourse.objects.filter(programme_id=intake.programme_id).values_list("course__code", "course_id")
    )
    existing = {
        (r.enrolment_id, r.course_id): r
        for r in CourseResult.objects.filter(enrolment__intake=intake).only(
            "enrolment_id", "course_id", "score", "assessed_on"
        )
    }
    seen: dict[tuple[str, str], int] = {}
    to_create: list[CourseResult] = []
    for line, email, code, score, day in parsed:
        key = (email, code)
        if key in seen:
            report.errors.append(
                RowError(line, _("duplicate of line %(first)s (same learner and course)") % {"first": seen[key]})
            )
            continue
        seen[key] = line
        enrolment = enrolments.get(email)
        if enrolment is None:
            report.errors.append(
                RowError(line, _("unknown learner %(email)s: not admitted to this intake") % {"email": _clip(email)})
            )
            continue
        course_id = course_ids.get(code)
        if course_id is None:
            report.errors.append(
                RowError(line, _("unknown course %(code)s: not part of this programme") % {"code": _clip(code)})
            )
            continue
        previous = existing.get((enrolment.pk, course_id))
        if previous is not None:
            if previous.score == score and previous.assessed_on == day:
                report.unchanged += 1
            else:
                report.errors.append(
                    RowError(
                        line,
                        _("a different result (%(score)s on %(day)s) is already recorded for %(email)s in %(code)s")
                        % {"score": previous.score, "day": previous.assessed_on, "email": email, "code": code},
                    )
                )
            continue
        if enrolment.status == S.COMPLETED:
            report.errors.append(
                RowError(line, _("%(email)s has completed the programme: its results are closed") % {"email": email})
            )
            continue
        grade, passed = grade_for(score)
        to_create.append(
            CourseResult(
                enrolment=enrolment,
                course_id=course_id,
                score=score,
                grade=grade,
                passed=passed,
                assessed_on=day,
                recorded_by=actor,
            )
        )
    report.errors.sort(key=lambda e: e.line)
    if report.errors:
        return report
    with transaction.atomic():
        created = CourseResult.objects.bulk_create(to_create, batch_size=2000)
        report.created = len(created)
        if created:
            results_recorded.send(sender=CourseResult, results=created)
    return report


@transaction.atomic
def result_record(
    *, enrolment: Enrolment, course: Course, score: Decimal, assessed_on: datetime.date, actor
) -> tuple[CourseResult, bool]:
    """Record one result; the same result again is a no-op, a different one is refused."""
    enrolment = Enrolment.objects.select_for_update().get(pk=enrolment.pk)
    if enrolment.status not in ASSESSABLE_STATES:
        raise EnrolmentError(
            _("Results can be recorded only for accepted or studying learners, not %(status)s ones.")
            % {"status": S(enrolment.status).label}
        )
    if not GroupCourse.objects.filter(programme_id=enrolment.programme_id, course=course).exists():
        raise EnrolmentError(_("%(code)s is not a course of this programme.") % {"code": course.code})
    score = _checked_score(score)
    if assessed_on > datetime.date.today():
        raise EnrolmentError(_("The assessment date is in the future."))
    previous = CourseResult.objects.filter(enrolment=enrolment, course=course).first()
    if previous is not None:
        if previous.score == score and previous.assessed_on == assessed_on:
            return previous, False
        raise EnrolmentError(_("A different result is already recorded for this course."))
    grade, passed = grade_for(score)
    result = CourseResult.objects.create(
        enrolment=enrolment,
        course=course,
        score=score,
        grade=grade,
        passed=passed,
        assessed_on=assessed_on,
        recorded_by=actor,
    )
    results_recorded.send(sender=CourseResult, results=[result])
    return result, True


def _checked_score(score: Decimal) -> Decimal:
    try:
        return _parse_score(str(score))
    except ValueError as exc:
        raise EnrolmentError(str(exc)) from None
