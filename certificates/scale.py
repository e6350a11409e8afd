"""Scale data for benchmarks: N learners with everything a real portal would hold, written fast.

``manage.py seed_scale --learners N`` calls :func:`seed_scale`. It lives in the certificates app
because that app sits on top of all the others and may read every one of them.

Why it writes rows directly instead of calling the services: the services take a lock and a few
queries per action, which is right for one learner and hours for 100,000. The builder therefore
reproduces, row for row, what the services would have written — the same status histories, the
same ledger entries (idempotency keys, reasons, running balances) and the same hash chain,
computed with :func:`creditbank.ledger.entry_digest` itself so ``manage.py verify_ledger`` accepts
every account — and keeps the invariants the services guard:

* an enrolment is ``completed`` exactly when the credit bank's programme audit
  (:mod:`creditbank.audit`) finds every requirement met: every compulsory course passed or
  exempted and every elective group's minimum reached; a ``studying`` enrolment always lacks one
  compulsory course, so the audit never finds it complete;
* one live enrolment per learner and programme (a learner takes each programme at most once);
* a conversion only for an accredited outcome of the rule's standard, current and unexpired on its
  day, of a level at least the course's, on an accepted or studying enrolment, for a course not
  passed; balances never go below zero because every debit follows the credit it uses;
* every completed enrolment opens a request for its programme's certificate; an issued request has
  one certificate whose serial (``<SCHOOL>-<year>-<n>``) and status-list index come from counters
  that are advanced past every value used, so the next real issue takes a fresh one.

Speed: on PostgreSQL every table is written with ``COPY … FROM STDIN`` and primary keys are
reserved in blocks from each table's sequence (``setval(seq, nextval(seq) + n - 1)``), so foreign
keys are known before a row is sent and nothing round-trips per row. Other databases (SQLite in
the tests) get ``bulk_create`` in batches with the same rows. Learners are built in chunks
(5,000 by default) so memory stays bounded. Times are whole seconds, kept as integers until a row
is written, to keep per-row Python work small.

Certificates: signing a credential (and rendering its PDF) costs tens of milliseconds, so only
``signed_certificates`` of them are issued in full — signed Open Badges credential and PDF, made by
the app's own builders — and verify at ``/verify/<code>/``. The others are issued rows without a
credential or PDF: the pages treat such a certificate as not ready (the learner sees the issued
request without links, verification answers the not-found page), exactly as they treat one
whose issuing task has not stored its files yet.
"""

from __future__ import annotations

import datetime
import io
import json
import multiprocessing
import os
import queue
import random
import threading
import time
import uuid
import zoneinfo
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.files.base import ContentFile
from django.db import connection, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from certificates.models import (
    Certificate,
    CertificateRequest,
    CertificateType,
    RequestStatus,
    RequestStatusChange,
    SerialCounter,
    StatusListCounter,
    new_verification_code,
)
from certificates.services import serial_for
from creditbank.ledger import GENESIS, entry_digest
from creditbank.models import (
    Accreditation,
    Conversion,
    ConversionRule,
    CreditAccount,
    EntryKind,
    LearningOutcome,
    LedgerEntry,
    OutcomeKind,
    OutcomeStatus,
    OutcomeStatusChange,
    RecognitionStandard,
)
from creditbank.services import account_number
from enrolment.models import (
    CourseResult,
    Enrolment,
    EnrolmentStatus,
    EnrolmentStatusChange,
    Intake,
    Learner,
    Programme,
    RequirementGroup,
    Season,
)
from enrolment.services import grade_for
from ouc_portal.accounts.models import User
from schools.models import IndustrySchool, LearningCentre, Membership, PartnerAssociation
from schools.regions import Province

DOMAIN = "scale.example"
PASSWORD = "ouc-demo-2026"  # noqa: S105  (public on purpose: benchmark accounts, as the demo's)
HEAVY_EMAIL = f"heavy@{DOMAIN}"
REFERENCE_LOADERS = ("load_network", "load_catalogue", "load_recognition", "load_certificate_types")

S = EnrolmentStatus
OS = OutcomeStatus
R = RequestStatus
DAY = 86400
COURSE_RESULT = str(OutcomeKind.COURSE_RESULT)
ACCREDITED = str(OutcomeStatus.ACCREDITED)
UTC = datetime.UTC
ZERO = Decimal("0.0")


class ScaleError(Exception):
    """The seed cannot run (already seeded, bad option, missing reference data)."""


# --- Writing rows ---------------------------------------------------------------------------------

_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
_SPECIAL = ("\\", "\t", "\n", "\r")
_TEXT_FIELDS = (models.CharField, models.TextField, models.FileField)


def needs_escaping(texts) -> bool:
    """Whether any of these texts holds a character COPY's text format must escape.

    Every text the builder writes is made of reference texts (catalogue names, reasons) and of
    generated ones (names, numbers, hashes) that never hold such a character; when the reference
    texts do not either, lines are formatted without a per-value escape."""
    return any(ch in text for text in texts for ch in _SPECIAL)


_VARIANT = {c: "89ab"[int(c, 16) % 4] for c in "0123456789abcdef"}


class _Stamp(str):
    """A UTC time as PostgreSQL's COPY reads it, and as ``datetime.isoformat`` would print it:
    what entry_digest hashes is the same text the database gives back to verify_ledger."""

    __slots__ = ()

    def isoformat(self) -> str:
        return self.replace(" ", "T", 1)


class _Table:
    """One model's rows as tuples in its concrete-field order, and how to send them."""

    def __init__(self, model: type[models.Model]) -> None:
        self.model = model
        self.fields = list(model._meta.concrete_fields)
        self.attnames = [f.attname for f in self.fields]
        self.rows: list[tuple] = []
        self.line = self._line_formatter(escape=True)
        quote = connection.ops.quote_name
        columns = ", ".join(quote(f.column) for f in self.fields)
        self.copy_sql = f"COPY {quote(model._meta.db_table)} ({columns}) FROM STDIN"

    def _line_formatter(self, *, escape: bool) -> Callable[[tuple], str]:
        """A COPY text-format line for a row, generated once per table: one f-string, and no
        per-value call except an escape of texts (when needed) and JSON."""
        parts = []
        for i, f in enumerate(self.fields):
            value = f"r[{i}]"
            if isinstance(f, models.BooleanField):
                expr = f"('t' if {value} else 'f')"
            elif isinstance(f, models.JSONField):
                expr = f"dumps({value}).translate(ESC)"
            elif isinstance(f, _TEXT_FIELDS) and escape and not f.choices:
                expr = f"str({value}).translate(ESC)"
            else:
                expr = value
            if f.null:
                expr = f"(NUL if {value} is None else {expr})"
            parts.append("{" + expr + "}")
        source = 'lambda r: f"' + "\\t".join(parts) + '\\n"'
        return eval(source, {"ESC": _ESCAPES, "NUL": "\\N", "dumps": json.dumps})  # noqa: S307

    def skip_escaping(self) -> None:
        self.line = self._line_formatter(escape=False)


class _Writer:
    """Buffers rows per table and writes them in one go per chunk; hands out primary keys."""

    batch_size = 1000
    replica = False
    fk_seconds = 0.0

    def __init__(self, order: list[type[models.Model]]) -> None:
        self.tables = {model: _Table(model) for model in order}
        self.counts: Counter[str] = Counter()
        self._next: dict[type[models.Model], int] = {}
        self._last: dict[type[models.Model], int] = {}

    def add(self, model: type[models.Model], row: tuple) -> None:
        self.tables[model].rows.append(row)

    def new_id(self, model: type[models.Model]) -> int:
        nxt = self._next.get(model, 0)
        if nxt == 0 or nxt > self._last[model]:
            first, last = self._reserve(model, 20000 if model in _BIG else 500)
            self._next[model], self._last[model] = first, last
            nxt = first
        self._next[model] = nxt + 1
        return nxt

    def stamp(self, ts: int) -> datetime.datetime:
        return datetime.datetime.fromtimestamp(ts, UTC)

    def ledger_time(self, ts: int) -> datetime.datetime:
        """A time entry_digest can hash (``isoformat``) exactly as verify_ledger will read it back."""
        return self.stamp(ts)

    def uuid(self) -> uuid.UUID | str:
        return uuid.uuid4()

    def flush(self) -> None:
        for model, table in self.tables.items():
            if table.rows:
                self._send(table)
                self.counts[model._meta.label] += len(table.rows)
                table.rows = []

    def start(self) -> None:
        """Called inside the transaction, before the first row."""

    def close(self) -> None:
        """Called inside the transaction after the last flush: every row is in."""

    def _reserve(self, model: type[models.Model], n: int) -> tuple[int, int]:
        raise NotImplementedError

    def _send(self, table: _Table) -> None:
        raise NotImplementedError


class _CopyWriter(_Writer):
    """PostgreSQL: keys reserved from each table's sequence, rows sent with COPY.

    The COPY runs on a thread of its own, over the transaction's connection, while the builder
    makes the next chunk: PostgreSQL's work and Python's overlap (psycopg2 lets go of the GIL
    while the server works). Keys are reserved over a second connection, so the builder never
    waits for a COPY; sequences are not transactional, so that connection sees and changes the
    same ones.
    """

    def __init__(self, order: list[type[models.Model]]) -> None:
        super().__init__(order)
        self._sequences: dict[type[models.Model], str] = {}
        self._queue: queue.Queue = queue.Queue(maxsize=len(order) * 2)
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None
        self._keys = None
        self._days: dict[int, str] = {}
        self._clock: list[str | None] = [None] * DAY
        self._hex, self._hex_at = "", 0

    def stamp(self, ts: int) -> str:
        """The text COPY reads for a UTC time; day and time-of-day texts are made once each."""
        day, rest = divmod(ts, DAY)
        date = self._days.get(day)
        if date is None:
            date = self._days[day] = datetime.date.fromordinal(719163 + day).isoformat() + " "
        clock = self._clock[rest]
        if clock is None:
            clock = self._clock[rest] = f"{rest // 3600:02d}:{rest // 60 % 60:02d}:{rest % 60:02d}+00:00"
        return date + clock

    def ledger_time(self, ts: int) -> _Stamp:
        return _Stamp(self.stamp(ts))

    def uuid(self) -> str:
        """A random (version 4) UUID's text, from a pool of OS randomness drawn 4,096 at a time."""
        if self._hex_at >= len(self._hex):
            self._hex, self._hex_at = os.urandom(16 * 4096).hex(), 0
        h = self._hex[self._hex_at:self._hex_at + 32]
        self._hex_at += 32
        return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{_VARIANT[h[16]]}{h[17:20]}-{h[20:]}"

    def start(self) -> None:
        import psycopg2

        connection.ensure_connection()
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_setting('is_superuser') = 'on'")
            if cursor.fetchone()[0]:
                # Foreign keys are checked once, set-wise, after the load (see close) instead of by
                # a trigger per row: at millions of rows the queued per-row checks cost minutes.
                cursor.execute("SET LOCAL session_replication_role = replica")
                self.replica = True
        self._keys = psycopg2.connect(**connection.get_connection_params())
        self._keys.autocommit = True
        self._raw = connection.connection
        self._thread = threading.Thread(target=self._copy_loop, name="seed-scale-copy", daemon=True)
        self._thread.start()

    def _copy_loop(self) -> None:
        while True:
            job = self._queue.get()
            if job is None:
                return
            if self._error is not None:
                continue  # drain: the main thread reports the first error
            sql, text = job
            try:
                with self._raw.cursor() as cursor:
                    cursor.copy_expert(sql, io.StringIO(text), 1 << 20)
            except BaseException as exc:  # reported by the main thread
                self._error = exc

    def _reserve(self, model: type[models.Model], n: int) -> tuple[int, int]:
        with self._keys.cursor() as cursor:
            seq = self._sequences.get(model)
            if seq is None:
                cursor.execute("SELECT pg_get_serial_sequence(%s, %s)", [model._meta.db_table, "id"])
                seq = self._sequences[model] = cursor.fetchone()[0]
            # One statement: the block [last - n + 1, last] is ours; a concurrent nextval can only
            # land in it on a database someone else is writing to, which this tool refuses to seed.
            cursor.execute("SELECT setval(%s, nextval(%s) + %s - 1)", [seq, seq, n])
            last = cursor.fetchone()[0]
        return last - n + 1, last

    def _send(self, table: _Table) -> None:
        if self._error is not None:
            raise self._error
        line = table.line
        self._queue.put((table.copy_sql, "".join([line(r) for r in table.rows])))

    def close(self) -> None:
        self._stop()
        if self._error is not None:
            raise self._error
        if self.replica:
            started = time.perf_counter()
            self._check_foreign_keys()
            self.fk_seconds = time.perf_counter() - started
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL session_replication_role = origin")

    def _stop(self) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join()
            self._thread = None
        if self._keys is not None:
            self._keys.close()
            self._keys = None

    def abort(self) -> None:
        self._stop()

    def _check_foreign_keys(self) -> None:
        """Every foreign key of every table written points at a row: one anti-join per key."""
        quote = connection.ops.quote_name
        with connection.cursor() as cursor:
            for model in self.tables:
                table = quote(model._meta.db_table)
                for f in model._meta.concrete_fields:
                    if not f.is_relation:
                        continue
                    parent = quote(f.related_model._meta.db_table)
                    column, target = quote(f.column), quote(f.target_field.column)
                    # Names from the models, quoted: no outside text reaches this statement.
                    sql = (
                        f"SELECT c.{column} FROM {table} c WHERE c.{column} IS NOT NULL AND NOT EXISTS "  # noqa: S608
                        f"(SELECT 1 FROM {parent} p WHERE p.{target} = c.{column}) LIMIT 1"
                    )
                    cursor.execute(sql)
                    dangling = cursor.fetchone()
                    if dangling is not None:
                        raise ScaleError(
                            f"builder bug: {model._meta.db_table}.{f.column} = {dangling[0]} points at no row"
                        )


class _BulkWriter(_Writer):
    """Any other database: the same rows through bulk_create, keys counted from the current maximum."""

    def _reserve(self, model: type[models.Model], n: int) -> tuple[int, int]:
        start = self._last.get(model)
        if start is None:
            start = model.objects.aggregate(m=models.Max("pk"))["m"] or 0
        return start + 1, start + n

    def _send(self, table: _Table) -> None:
        names = table.attnames
        model = table.model
        objects = [model(**dict(zip(names, row, strict=True))) for row in table.rows]
        model.objects.bulk_create(objects, batch_size=self.batch_size)

    def abort(self) -> None:
        pass


_ORDER: list[type[models.Model]] = [
    User,
    EmailAddress,
    Membership,
    Intake,
    Learner,
    CreditAccount,
    Enrolment,
    EnrolmentStatusChange,
    CourseResult,
    LearningOutcome,
    OutcomeStatusChange,
    Accreditation,
    Conversion,
    LedgerEntry,
    CertificateRequest,
    RequestStatusChange,
    Certificate,
]
_BIG = frozenset(
    {User, EmailAddress, Learner, CreditAccount, Enrolment, EnrolmentStatusChange, CourseResult,
     LearningOutcome, OutcomeStatusChange, Accreditation, LedgerEntry, CertificateRequest,
     RequestStatusChange, Certificate}
)


# --- People ------------------------------------------------------------------------------------

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
    "姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红鹏辉建国志文斌宇浩凯健俊帆帅旭宁龙林欣"
    "颖晨雪琳晶瑶婷倩佳丹鑫波斌海峰亮成宏东振春燕梅琴云飞鹤松柏嘉德荣安康福立新永利庆祥"
)
EMPLOYERS = {
    "coal": (("China Shenhua Energy", "国家能源集团神东煤炭"), ("Datong Coal Mine Group",), ("Yankuang Energy",)),
    "social-work": (("Beijing Social Work Service Centre",), ("Shanghai Community Service Agency",)),
    "logistics": (("SF Express",), ("China Post Logistics",), ("JD Logistics",), ("Sinotrans",)),
    "textiles": (("Weiqiao Textile",), ("Luthai Textile",), ("Bosideng",)),
    "mechanical": (("BAIC Motor",), ("Shenyang Machine Tool",), ("Sany Heavy Industry",), ("XCMG",)),
    "automobile-repair": (("BAIC Motor Service",), ("Tuhu Auto Service",), ("FAW-Volkswagen Dealer",)),
    "casting": (("Kocel Machinery",), ("China First Heavy Industries",)),
    "information-security": (("Qi An Xin",), ("Venustech",), ("NSFOCUS",)),
    "circular-economy": (("GEM Co.",), ("China Recycling Development",)),
    "software": (("Neusoft",), ("Inspur",), ("Yonyou",), ("Kingsoft",)),
}
JOBS = {
    "coal": ("Mining technician", "Safety inspector", "Shift supervisor"),
    "social-work": ("Social worker", "Community worker", "Case manager"),
    "logistics": ("Warehouse supervisor", "Dispatcher", "Logistics clerk"),
    "textiles": ("Weaving technician", "Quality inspector", "Dyeing operator"),
    "mechanical": ("CNC machinist", "Fitter", "Mould maker", "Maintenance electrician"),
    "automobile-repair": ("Auto mechanic", "Service adviser", "Diagnostic technician"),
    "casting": ("Foundry worker", "Pattern maker", "Melting operator"),
    "information-security": ("Security analyst", "Network administrator", "Penetration tester"),
    "circular-economy": ("Recycling technician", "Sorting supervisor"),
    "software": ("Software developer", "Test engineer", "Operations engineer"),
}
PROVINCES = [p.value for p in Province if p.value not in {"HK", "MO", "TW"}]


@dataclass
class ScaleReport:
    """What the seed wrote: rows per table, time taken, and how many certificates are signed."""

    counts: dict[str, int]
    seconds: float
    learners: int
    bulk_seconds: float
    certificates: int
    signed: int
    heavy_entries: int

    @property
    def rows(self) -> int:
        return sum(self.counts.values())


@dataclass
class _IntakeInfo:
    id: int
    programme: _Programme
    opens: int  # epoch seconds
    closes: int
    start: int
    starts_on: datetime.date
    end: int  # teaching ends: start + the programme's duration
    requires_approval: bool
    limit: int | None  # existing intakes: seats that may still be taken; ours: None (set after)
    created: bool
    seats: int = 0
    waitlisted: int = 0


@dataclass
class _Programme:
    id: int
    code: str
    school_id: int
    school_slug: str
    school_name: str
    duration_months: int
    compulsory: list  # [_Course]
    electives: list  # [(min_credits, [_Course])]
    admin_id: int = 0
    intakes: list = field(default_factory=list)
    rules: list = field(default_factory=list)  # [_Rule]
    cert_types: list = field(default_factory=list)  # [_CertType]


@dataclass
class _Course:
    id: int
    code: str
    credits: Decimal
    level: int
    study_hours: int
    title: str
    school_name: str


@dataclass
class _Standard:
    id: int
    label: str  # "CODE vN", as str(standard)
    kinds: list
    level: int
    credit_value: Decimal
    currency_years: int
    effective_from: int  # epoch seconds
    bodies: list  # accepted association ids ([] = any)


@dataclass
class _Rule:
    id: int
    code: str
    label: str
    standard: _Standard
    course: _Course
    credits: Decimal
    effective_from: int


@dataclass
class _CertType:
    id: int
    school_id: int
    school_slug: str
    association_id: int
    validity_years: int | None


@dataclass(slots=True)
class _Entry:
    """The attributes entry_digest reads, without a model instance per entry."""

    seq: int
    kind: str
    amount: Decimal
    balance_after: Decimal
    level: int | None
    outcome_id: int
    rule_id: int | None
    programme_id: int | None
    conversion_id: int | None
    transfer_id: int | None
    reverses_id: int | None
    actor_id: int | None
    at: datetime.datetime
    reason: str
    idempotency_key: str
    prev_hash: str
    hash: str = ""


@dataclass
class _LearnerCtx:
    learner_id: int
    user_id: int
    account_id: int
    account_number: str
    registered: int
    # Ledger events: (at, order within the same second, kind, amount, level, outcome, rule,
    # programme, conversion, actor, reason, idempotency key); _Builder._ledger chains them.
    events: list = field(default_factory=list)


class _Builder:
    """Makes the rows, learner by learner, and hands them to the writer.

    Times are whole epoch seconds until a row is written (``dt``); "now" is fixed at the start so
    every decision (is an intake open, is a certificate expired) is taken against one moment.
    """

    def __init__(self, *, writer: _Writer, rng: random.Random, now: datetime.datetime, log) -> None:
        self.w = writer
        self.rng = rng
        self.now = int(now.timestamp())
        self.tz = zoneinfo.ZoneInfo(settings.TIME_ZONE)
        # The zone's offset now; China has kept one offset since 1991, so local dates are exact.
        self.offset = int(now.astimezone(self.tz).utcoffset().total_seconds())
        self.today = self.local_date(self.now)
        self.log = log
        self.password = make_password(PASSWORD)  # once: hashing per user would take hours
        self.serials: dict[tuple[int, int], int] = {}
        self.status_indexes: dict[str, int] = {}  # per issuer (school slug): its own status lists
        self.certificates = 0
        self.signable: list[int] = []
        self.account_seq = 0
        self.taken_numbers: set[str] = set(CreditAccount.objects.values_list("number", flat=True))
        self.text = {
            "accept": _("Entry requirements met."),
            "reject": _("The entry requirements for this programme are not met."),
            "full": _("The intake is full."),
            "withdraw": _("Withdrawn at the learner's request."),
            "complete": _("The credit-bank audit found every requirement met."),
            "accredit": _("Certificate checked against the standard."),
            "outcome_reject": _("The evidence does not show the certificate's level."),
            "approve": _("Requirements checked."),
            "cert_reject": _("The completion record does not match the association's register."),
            "revoke": _("Issued in error: the completion was recorded against the wrong learner."),
        }

    # -- time -------------------------------------------------------------------------------------

    def dt(self, ts: int) -> datetime.datetime:
        return self.w.stamp(ts)

    def local_date(self, ts: int) -> datetime.date:
        return datetime.date.fromordinal(719163 + (ts + self.offset) // DAY)

    def at_local(self, day: datetime.date, hour: int = 9) -> int:
        return (day.toordinal() - 719163) * DAY + hour * 3600 - self.offset

    def between(self, lo: int, hi: int) -> int:
        return lo if hi <= lo else lo + int(self.rng.random() * (hi - lo))

    # -- reference data ---------------------------------------------------------------------------

    def load_reference(self) -> None:
        schools = {s.pk: s for s in IndustrySchool.objects.all()}
        self.associations = {a.pk: a for a in PartnerAssociation.objects.all()}
        self.centres = list(LearningCentre.objects.order_by("pk").values_list("pk", flat=True))
        if not schools or not self.centres:
            raise ScaleError(_("No schools or learning centres: the reference loaders found nothing to load."))
        self.programmes: dict[int, _Programme] = {}
        for p in Programme.objects.published().order_by("pk"):
            school = schools[p.school_id]
            self.programmes[p.pk] = _Programme(
                p.pk, p.code, p.school_id, school.slug, school.name_en, p.duration_months, [], []
            )
        if not self.programmes:
            raise ScaleError(_("No published programme: run load_catalogue."))
        groups = RequirementGroup.objects.filter(programme_id__in=self.programmes).order_by(
            "programme_id", "position", "pk"
        ).prefetch_related("memberships__course")
        for group in groups:
            courses = [
                _Course(c.pk, c.code, c.credits, c.level, c.study_hours, f"{c.code} {c.name_en}"[:200],
                        schools[c.school_id].name_en)
                for c in sorted((m.course for m in group.memberships.all()), key=lambda c: c.code)
            ]
            prog = self.programmes[group.programme_id]
            if group.kind == RequirementGroup.Kind.COMPULSORY:
                prog.compulsory.extend(courses)
            else:
                prog.electives.append((group.min_credits, courses))
        # A programme without a compulsory course could be completed by accident of electives; the
        # builder leaves a compulsory course missing to keep "studying" enrolments incomplete.
        self.programme_list = [p for p in self.programmes.values() if p.compulsory]
        self.by_school: dict[int, list[_Programme]] = {}
        for prog in self.programme_list:
            self.by_school.setdefault(prog.school_id, []).append(prog)
        self.school_industry = {pk: s.industry for pk, s in schools.items() if pk in self.by_school}
        self.school_ids = sorted(self.by_school)

        self.standards: dict[int, _Standard] = {}
        for s in RecognitionStandard.objects.prefetch_related("accepted_bodies"):
            if s.effective_to is not None and s.effective_to < self.today:
                continue
            self.standards[s.pk] = _Standard(
                s.pk, str(s), list(s.outcome_kinds), s.level, s.credit_value, s.currency_years,
                self.at_local(s.effective_from, 0), [b.pk for b in s.accepted_bodies.all()],
            )
        courses_by_id = {c.id: c for p in self.programme_list for c in p.compulsory}
        courses_by_id.update({c.id: c for p in self.programme_list for _m, cs in p.electives for c in cs})
        self.rules: dict[int, _Rule] = {}
        for rule in ConversionRule.objects.filter(second_standard__isnull=True).prefetch_related("courses"):
            if rule.programme_id not in self.programmes or rule.standard_id not in self.standards:
                continue
            if rule.effective_to is not None and rule.effective_to < self.today:
                continue
            prog = self.programmes[rule.programme_id]
            for course in rule.courses.all():
                if course.pk in courses_by_id:
                    r = _Rule(rule.pk, rule.code, str(rule), self.standards[rule.standard_id],
                              courses_by_id[course.pk], rule.credits, self.at_local(rule.effective_from, 0))
                    prog.rules.append(r)
                    self.rules[rule.pk] = r
        self.rule_types: dict[str, _CertType] = {}
        for t in CertificateType.objects.select_related("school", "rule"):
            ct = _CertType(t.pk, t.school_id, t.school.slug, t.association_id, t.validity_years)
            if t.programme_id in self.programmes:
                self.programmes[t.programme_id].cert_types.append(ct)
            elif t.rule_id:
                self.rule_types[t.rule.code] = ct
        # Serial numbers and status indexes continue after whatever real issues used already.
        self.serials = {(c.school_id, c.year): c.last for c in SerialCounter.objects.all()}
        for school_id, year, number in Certificate.objects.values_list("school_id", "year", "number"):
            self.serials[(school_id, year)] = max(self.serials.get((school_id, year), 0), number)
        for purpose, last in StatusListCounter.objects.filter(purpose__startswith="issuer:").values_list("purpose", "last"):
            self.status_indexes[purpose.removeprefix("issuer:")] = last
        used = Certificate.objects.exclude(status_issuer="").values("status_issuer").annotate(m=models.Max("status_index"))
        for row in used:
            slug = row["status_issuer"]
            self.status_indexes[slug] = max(self.status_indexes.get(slug, -1), row["m"])

    def reference_texts(self) -> list[str]:
        """Every text rows are made of that does not come from the builder's own lists."""
        texts = list(self.text.values())
        texts += [self.deposit_reason, self.accredit_reason, self.conversion_reason, self.expiry_reason]
        texts += [a.name_en for a in self.associations.values()] + [a.slug for a in self.associations.values()]
        for prog in self.programmes.values():
            texts += [prog.code, prog.school_name, prog.school_slug]
            texts += [c.title for c in prog.compulsory] + [c.title for _m, cs in prog.electives for c in cs]
        texts += [s.label for s in self.standards.values()] + [r.label for r in self.rules.values()]
        return texts

    # -- staff ------------------------------------------------------------------------------------

    def _user(self, email: str, name: str, joined: int, *, staff: bool = False) -> int:
        uid = self.w.new_id(User)
        when = self.dt(joined)
        self.w.add(User, (uid, self.password, None, False, email, name, staff, True, when, when))
        self.w.add(EmailAddress, (self.w.new_id(EmailAddress), uid, email, True, True))
        return uid

    def staff(self) -> None:
        """A school administrator per school, a reviewer per partner association, one officer."""
        joined = self.at_local(datetime.date(2018, 1, 2))
        when = self.dt(joined)
        admins = {}
        for school_id, progs in self.by_school.items():
            slug = progs[0].school_slug
            uid = self._user(f"admin.{slug}@{DOMAIN}", f"Administrator, {progs[0].school_name}"[:150], joined, staff=True)
            self.w.add(Membership, (self.w.new_id(Membership), uid, Membership.Role.SCHOOL_ADMIN, school_id, None, when, None))
            admins[school_id] = uid
        for prog in self.programmes.values():
            prog.admin_id = admins.get(prog.school_id, 0)
        self.reviewers = {}
        for pk, association in self.associations.items():
            uid = self._user(f"reviewer.{association.slug}@{DOMAIN}"[:254], f"Reviewer, {association.name_en}"[:150], joined, staff=True)
            self.w.add(Membership, (self.w.new_id(Membership), uid, Membership.Role.REVIEWER, None, pk, when, None))
            self.reviewers[pk] = uid
        self.officer = self._user(f"officer@{DOMAIN}", "Credit-bank officer", joined, staff=True)
        self.w.add(Membership, (self.w.new_id(Membership), self.officer, Membership.Role.CREDIT_OFFICER, None, None, when, None))

    # -- intakes ----------------------------------------------------------------------------------

    def intakes(self) -> None:
        """Every programme gets an intake each term from spring 2019 to the term open now; the
        catalogue's own intakes are used too, within their free seats."""
        existing = {}
        for intake in Intake.objects.filter(programme_id__in=self.programmes):
            taken = intake.enrolments.filter(status__in=[S.APPLIED, S.ACCEPTED, S.ACTIVE, S.COMPLETED]).count()
            existing[(intake.programme_id, intake.year, intake.season, intake.centre_id)] = intake
            self._add_intake(self.programmes[intake.programme_id], intake.pk, intake.opens_at, intake.closes_at,
                             intake.starts_on, intake.requires_approval, max(0, intake.capacity - taken), False)
        self.created_intakes: list[_IntakeInfo] = []
        for n, prog in enumerate(self.programme_list):
            for t, (year, season) in enumerate(self._terms()):
                month, day = (3, 8) if season == Season.SPRING else (9, 7)
                starts_on = datetime.date(year, month, day)
                opens = datetime.datetime(year - 1 if season == Season.SPRING else year, 11 if season == Season.SPRING else 5,
                                          17, 9, tzinfo=self.tz)
                closes = datetime.datetime(year, month - 1, 22, tzinfo=self.tz)
                if opens.timestamp() > self.now:
                    continue
                centre = self.centres[(n + t) % len(self.centres)]
                if (prog.id, year, season, centre) in existing:
                    continue
                if any(k[:3] == (prog.id, year, season) for k in existing):
                    continue  # the catalogue already runs this programme this term
                pk = self.w.new_id(Intake)
                info = self._add_intake(prog, pk, opens, closes, starts_on, True, None, True)
                info.year, info.season, info.centre = year, season, centre
                self.created_intakes.append(info)

    def _terms(self) -> list[tuple[int, str]]:
        last_year = self.local_date(self.now).year + 1
        return [(y, s) for y in range(2019, last_year + 1) for s in (Season.SPRING, Season.AUTUMN)]

    def _add_intake(self, prog, pk, opens, closes, starts_on, requires_approval, limit, created) -> _IntakeInfo:
        start = self.at_local(starts_on)
        months = starts_on.month - 1 + prog.duration_months
        end_day = datetime.date(starts_on.year + months // 12, months % 12 + 1, min(starts_on.day, 28))
        info = _IntakeInfo(pk, prog, int(opens.timestamp()), int(closes.timestamp()), start, starts_on,
                           self.at_local(end_day), requires_approval, limit, created)
        prog.intakes.append(info)
        return info

    def write_intakes(self) -> None:
        """Our intakes with the capacity their seats need: full where anyone waits, else a few free."""
        for info in self.created_intakes:
            if info.waitlisted or info.closes <= self.now:
                capacity = max(1, info.seats)
            else:
                capacity = info.seats + max(5, info.seats // 10)
            self.w.add(Intake, (info.id, self.w.uuid(), info.programme.id, info.year, info.season, info.centre,
                                self.dt(info.opens), self.dt(info.closes), info.starts_on, capacity, True,
                                self.dt(info.opens - 30 * DAY)))

    # -- learners ---------------------------------------------------------------------------------

    def learner(self, email: str, *, plan: list[tuple[_Programme, _IntakeInfo, str]] | None = None,
                entries: int = 0) -> _LearnerCtx:
        """One learner: account, profile, credit account, enrolments with all that follows, perhaps an
        outcome brought from elsewhere, and the ledger. ``entries``: top up with accredited "1+X"
        certificates until the ledger holds at least that many entries (the heavy learner)."""
        rng = self.rng
        industry_school = rng.choice(self.school_ids)
        ordinary = plan is None
        if plan is None:
            plan = self._plan(industry_school)
        industry = self.school_industry[industry_school]
        applied = [self._applied_at(intake) for _p, intake, _s in plan]
        first = min(applied) if applied else self.now - rng.randrange(30, 2000) * DAY
        registered = max(first - rng.randrange(1, 60) * DAY - rng.randrange(DAY), self.at_local(datetime.date(2018, 1, 2)))
        name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2))))
        uid = self._user(email, name, registered)
        lid = self.w.new_id(Learner)
        when = self.dt(registered)
        employer = rng.choice(EMPLOYERS.get(industry, (("OUC partner enterprise",),)))[0]
        job = rng.choice(JOBS.get(industry, ("Technician",)))
        centre = plan[0][1].centre if plan and plan[0][1].created else rng.choice(self.centres)
        phone = f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}"
        self.w.add(Learner, (lid, self.w.uuid(), uid, when, name, phone, employer, job, industry,
                             rng.choice(PROVINCES), centre, when))
        aid = self.w.new_id(CreditAccount)
        number = self._account_number(registered)
        self.w.add(CreditAccount, (aid, lid, number, when))
        ctx = _LearnerCtx(lid, uid, aid, number, registered)
        for (prog, intake, status), applied_at in zip(plan, applied, strict=True):
            self._enrolment(ctx, prog, intake, status, applied_at)
        if ordinary:
            x = rng.random()
            for _ in range(0 if x < 0.2 else 1 if x < 0.5 else 2 if x < 0.8 else 3):
                self._free_outcome(ctx)
        while entries and len(ctx.events) + len(self.expiring) < entries:
            if not self._free_outcome(ctx, kind=OutcomeKind.ONE_PLUS_X):
                break
        self._ledger(ctx)
        return ctx

    def _account_number(self, opened: int) -> str:
        while True:
            self.account_seq += 1
            # A fixed odd multiplier spreads consecutive learners over the nine digits; unique
            # below 10**9 accounts a year, and checked against the numbers already taken.
            body = f"{self.local_date(opened).year}{(self.account_seq * 738_208_117) % 10**9:09d}"
            number = account_number(body)
            if number not in self.taken_numbers:
                return number

    def _plan(self, home_school: int) -> list[tuple[_Programme, _IntakeInfo, str]]:
        rng = self.rng
        x = rng.random()
        count = 1 if x < 0.15 else 2 if x < 0.55 else 3 if x < 0.85 else 4
        chosen: list[_Programme] = []
        while len(chosen) < count:
            pool = self.by_school[home_school] if not chosen and rng.random() < 0.8 else self.programme_list
            prog = rng.choice(pool)
            if prog not in chosen:
                chosen.append(prog)
        plan = []
        for prog in chosen:
            intake = rng.choice(prog.intakes)
            plan.append((prog, intake, self._status_for(intake)))
        return plan

    def _status_for(self, intake: _IntakeInfo) -> str:
        x = self.rng.random()
        if intake.closes > self.now:  # applications open now
            return "applied" if x < 0.5 else "accepted" if x < 0.7 else "rejected" if x < 0.8 else (
                "withdrawn" if x < 0.88 else "waitlisted")
        if intake.start > self.now:
            return "accepted" if x < 0.85 else "rejected" if x < 0.95 else "withdrawn"
        if intake.end > self.now:  # teaching
            return "active" if x < 0.82 else "withdrawn_late" if x < 0.92 else "rejected"
        return "completed" if x < 0.72 else "active" if x < 0.85 else "withdrawn_late" if x < 0.95 else "rejected"

    def _applied_at(self, intake: _IntakeInfo) -> int:
        return self.between(intake.opens, min(intake.closes, self.now - 3600))

    def _change(self, enrolment_id: int, frm: str, to: str, actor: int | None, reason: str, at: int) -> None:
        self.w.add(EnrolmentStatusChange, (self.w.new_id(EnrolmentStatusChange), enrolment_id, frm, to, actor, reason, self.dt(at)))

    def _enrolment(self, ctx: _LearnerCtx, prog: _Programme, intake: _IntakeInfo, status: str, applied: int) -> None:
        rng = self.rng
        full = intake.limit is not None and intake.seats >= intake.limit
        if status == "waitlisted" and intake.limit is not None and not full:
            status = "applied"  # nobody waits for an intake with a free seat
        holds_seat = status in {"applied", "accepted", "active", "completed"}
        if holds_seat and full:
            status = "waitlisted" if intake.closes > self.now else "rejected"
            holds_seat = False
        eid = self.w.new_id(Enrolment)
        user, admin = ctx.user_id, prog.admin_id
        decided = min(applied + rng.randrange(3600, 14 * DAY), intake.closes, self.now - 60)
        decided = max(decided, applied + 1)
        first = S.ACCEPTED if not intake.requires_approval else S.APPLIED
        if status == "waitlisted":
            self._change(eid, "", S.WAITLISTED, user, "", applied)
            final, changed = S.WAITLISTED, applied
            intake.waitlisted += 1
        else:
            self._change(eid, "", first, user, "", applied)
            final, changed = first, applied
            if status == "rejected" and first == S.APPLIED:
                reason = self.text["full"] if full else self.text["reject"]
                self._change(eid, S.APPLIED, S.REJECTED, admin, reason, decided)
                final, changed = S.REJECTED, decided
            elif status == "withdrawn" or (status == "rejected" and first != S.APPLIED):
                self._change(eid, first, S.WITHDRAWN, user, self.text["withdraw"], decided)
                final, changed = S.WITHDRAWN, decided
            elif status != "applied":
                if first == S.APPLIED:
                    self._change(eid, S.APPLIED, S.ACCEPTED, admin, self.text["accept"], decided)
                final, changed = S.ACCEPTED, decided
        if status in {"active", "completed", "withdrawn_late"}:
            started = max(intake.start, decided + 60)
            self._change(eid, S.ACCEPTED, S.ACTIVE, admin, "", started)
            final, changed = S.ACTIVE, started
            last = self._studies(ctx, prog, intake, eid, status, decided, started)
            if status == "completed":
                self._change(eid, S.ACTIVE, S.COMPLETED, None, self.text["complete"], last + 1)
                final, changed = S.COMPLETED, last + 1
                for cert_type in prog.cert_types:
                    self._request(ctx, cert_type, eid, last + 1, actor=None)
            elif status == "withdrawn_late":
                gone = min(max(last, started) + rng.randrange(DAY, 60 * DAY), self.now - 60)
                self._change(eid, S.ACTIVE, S.WITHDRAWN, user, self.text["withdraw"], gone)
                final, changed = S.WITHDRAWN, gone
        if holds_seat:
            intake.seats += 1
        self.w.add(Enrolment, (eid, self.w.uuid(), ctx.learner_id, intake.id, prog.id, final, self.dt(applied), self.dt(changed)))

    def _studies(self, ctx, prog: _Programme, intake: _IntakeInfo, eid: int, status: str, accepted: int, started: int) -> int:
        """Results (and perhaps a conversion) of a studying enrolment; returns the last event's time."""
        rng = self.rng
        plan = list(prog.compulsory)
        for minimum, courses in prog.electives:
            picked, total = [], Decimal(0)
            for course in rng.sample(courses, len(courses)):
                if total >= minimum:
                    break
                picked.append(course)
                total += course.credits
            plan.extend(picked)
        last = started
        exempt = None
        if prog.rules and status in {"active", "completed"} and rng.random() < 0.5:
            rule = rng.choice(prog.rules)
            conversion_at = self._conversion(ctx, prog, rule, eid, accepted)
            if conversion_at:
                exempt = rule.course
                last = max(last, conversion_at)
        todo = [c for c in plan if c is not exempt]
        end = min(intake.end, self.now - DAY)
        missing = None
        if status != "completed":
            candidates = [c for c in prog.compulsory if c is not exempt]
            missing = rng.choice(candidates)
            if status == "withdrawn_late":
                todo = todo[: rng.randrange(0, 4)]
            elif intake.end > self.now:
                share = (self.now - intake.start) / max(1, intake.end - intake.start)
                todo = todo[: int(len(todo) * share)]
            else:
                todo = todo[: max(0, len(todo) - rng.randrange(0, 3))]
        span = max(DAY, end - started - 20 * DAY)
        for i, course in enumerate(todo):
            day = started + 20 * DAY + int(span * (i + rng.random()) / max(1, len(todo)))
            if status == "withdrawn_late":
                day = min(day, started + 60 * DAY, self.now - 2 * DAY)
            if status != "completed" and not started <= day <= self.now - DAY:
                continue  # not assessed yet
            fail = course is missing or (status != "completed" and rng.random() < 0.08)
            last = max(last, self._result(ctx, prog, eid, course, day, fail=fail))
        return last

    def _result(self, ctx, prog: _Programme, eid: int, course: _Course, day: int, *, fail: bool) -> int:
        rand = self.rng.random
        # Scores to two decimals, graded by the enrolment app's own bands (precomputed once).
        score, grade, passed = self.scores[int(rand() * 3950) if fail else 4000 + int(rand() * 4001)]
        assessed_on = self.local_date(day)
        recorded = min(self.at_local(assessed_on, 10) + int(rand() * 5 * DAY), self.now - 60)
        when = self.dt(recorded)
        rid = self.w.new_id(CourseResult)
        self.w.add(CourseResult, (rid, eid, course.id, score, grade, passed, assessed_on, prog.admin_id, when))
        if passed:
            oid = self.w.new_id(LearningOutcome)
            self.w.add(LearningOutcome, (oid, self.w.uuid(), ctx.account_id, COURSE_RESULT, course.title, None,
                                         course.school_name, assessed_on, None, course.level, course.study_hours, grade,
                                         "", rid, ACCREDITED, when))
            reason = self.deposit_reason % {"course": course.code, "score": score}
            ctx.events.append((recorded, 0, EntryKind.DEPOSIT, course.credits, course.level, oid, None, prog.id, None,
                               prog.admin_id, reason, f"result:{rid}"))
        return recorded

    def _outcome(self, ctx, standard: _Standard | None, kind: str, *, submitted: int, achieved: datetime.date,
                 level: int, status: str) -> tuple[int, int]:
        """A learning outcome the learner submitted and an officer decided; returns (id, decided at)."""
        rng = self.rng
        body = None
        if standard is not None and standard.bodies:
            body = rng.choice(standard.bodies)
        elif kind != OutcomeKind.DIPLOMA and rng.random() < 0.7:
            body = rng.choice(list(self.associations))
        body_name = self.associations[body].name_en if body else "Provincial Vocational Skills Appraisal Centre"
        expires = None
        if kind == OutcomeKind.ONE_PLUS_X:
            expires = datetime.date(achieved.year + 3, achieved.month, min(achieved.day, 28))
        titles = {
            OutcomeKind.VOCATIONAL: "Vocational qualification certificate (level 4)",
            OutcomeKind.ONE_PLUS_X: '"1+X" vocational skill level certificate (intermediate)',
            OutcomeKind.DIPLOMA: "Secondary vocational school diploma",
            OutcomeKind.TRAINING: "Enterprise training programme",
            OutcomeKind.WORK_EXPERIENCE: "Three years' work experience",
            OutcomeKind.AWARD: "Provincial skills competition award",
        }
        oid = self.w.new_id(LearningOutcome)
        self.w.add(LearningOutcome, (oid, self.w.uuid(), ctx.account_id, kind, titles.get(kind, "Learning outcome"), body,
                                     body_name, achieved, expires, level, None, "", f"{rng.randrange(10**11):011d}", None,
                                     status, self.dt(submitted)))
        add = self.w.add
        new = self.w.new_id
        add(OutcomeStatusChange, (new(OutcomeStatusChange), oid, "", OS.SUBMITTED, ctx.user_id, "", self.dt(submitted)))
        review = submitted + rng.randrange(3600, 3 * DAY)
        decided = review + rng.randrange(3600, 7 * DAY)
        if status == OS.SUBMITTED:
            return oid, submitted
        add(OutcomeStatusChange, (new(OutcomeStatusChange), oid, OS.SUBMITTED, OS.UNDER_REVIEW, self.officer, "", self.dt(review)))
        if status == OS.UNDER_REVIEW:
            return oid, review
        if status == OS.REJECTED:
            add(OutcomeStatusChange, (new(OutcomeStatusChange), oid, OS.UNDER_REVIEW, OS.REJECTED, self.officer,
                                      self.text["outcome_reject"], self.dt(decided)))
            return oid, decided
        reason = self.text["accredit"]
        add(OutcomeStatusChange, (new(OutcomeStatusChange), oid, OS.UNDER_REVIEW, OS.ACCREDITED, self.officer, reason, self.dt(decided)))
        add(Accreditation, (new(Accreditation), oid, standard.id, standard.credit_value, self.officer, reason, self.dt(decided)))
        ctx.events.append((decided, 1, EntryKind.ACCREDITATION, standard.credit_value, level, oid, None, None, None,
                           self.officer, self.accredit_reason % {"std": standard.label, "why": reason}, f"accredit:{oid}"))
        if expires is not None and expires < self.today:
            # The nightly expiry (creditbank.services.outcomes_expire) took what was left.
            self.expiring.append((ctx, oid, standard.credit_value, level, expires))
        return oid, decided

    def _free_outcome(self, ctx: _LearnerCtx, kind: str | None = None) -> bool:
        """An outcome brought to the credit bank outside any programme: mostly accredited."""
        rng = self.rng
        if kind is None and rng.random() < 0.15:
            kind = rng.choice((OutcomeKind.TRAINING, OutcomeKind.WORK_EXPERIENCE, OutcomeKind.AWARD))
            submitted = self.between(ctx.registered + DAY, self.now - DAY)
            status = rng.choice((OS.SUBMITTED, OS.UNDER_REVIEW, OS.REJECTED))
            achieved = self.local_date(submitted - rng.randrange(10, 300) * DAY)
            self._outcome(ctx, None, kind, submitted=submitted, achieved=achieved, level=4, status=status)
            return True
        fits = [s for s in self.standards.values() if kind is None or kind in s.kinds]
        if not fits:
            return False
        standard = rng.choice(fits)
        kind = kind or rng.choice(standard.kinds)
        lo = max(ctx.registered + DAY, standard.effective_from + 30 * DAY)
        if lo >= self.now - 10 * DAY:
            return False
        submitted = self.between(lo, self.now - 10 * DAY)
        achieved = self.local_date(max(submitted - rng.randrange(10, 300) * DAY, standard.effective_from))
        x = rng.random()
        status = OS.ACCREDITED if x < 0.8 or kind == "1+x" and self.heavy else (
            OS.UNDER_REVIEW if x < 0.9 else OS.REJECTED if x < 0.95 else OS.SUBMITTED)
        self._outcome(ctx, standard, kind, submitted=submitted, achieved=achieved, level=max(standard.level, 4), status=status)
        return True

    def _conversion(self, ctx, prog: _Programme, rule: _Rule, eid: int, accepted: int) -> int | None:
        """The learner's certificate accredited under the rule's standard exempts the rule's course."""
        rng = self.rng
        standard = rule.standard
        submitted = max(accepted + rng.randrange(3600, 5 * DAY), ctx.registered + 3600)
        # Accredited by the conversion's day, in force, current, unexpired: else no conversion.
        accredited_by = submitted + 10 * DAY + 1
        at = accredited_by + rng.randrange(DAY, 10 * DAY)
        if at >= self.now - DAY or submitted < standard.effective_from or at < rule.effective_from:
            return None
        kind = standard.kinds[0]
        achieved = self.local_date(max(submitted - rng.randrange(20, 400) * DAY, standard.effective_from))
        oid, decided = self._outcome(ctx, standard, kind, submitted=submitted, achieved=achieved,
                                     level=max(standard.level, rule.course.level), status=OS.ACCREDITED)
        cid = self.w.new_id(Conversion)
        self.w.add(Conversion, (cid, self.w.uuid(), oid, None, eid, ctx.learner_id, prog.id, rule.course.id, rule.id,
                                rule.credits, self.officer, self.dt(at), "active", None, ""))
        reason = self.conversion_reason % {"course": rule.course.code, "rule": rule.label}
        ctx.events.append((at, 2, EntryKind.CONVERSION, -rule.credits, max(standard.level, rule.course.level), oid,
                           rule.id, prog.id, cid, self.officer, reason, f"conversion:{cid}"))
        self.used[oid] = self.used.get(oid, ZERO) + rule.credits
        cert_type = self.rule_types.get(rule.code)
        if cert_type is not None and rng.random() < 0.6:
            self._request(ctx, cert_type, eid, at + rng.randrange(DAY, 30 * DAY), actor=ctx.user_id)
        return at

    # -- the ledger -------------------------------------------------------------------------------

    def _ledger(self, ctx: _LearnerCtx) -> None:
        """The account's entries in time order, each chained to the one before by entry_digest."""
        for owner, oid, granted, level, expires in self.expiring:
            left = granted - self.used.get(oid, ZERO)
            if owner is ctx and left > 0:
                at = min(self.at_local(expires + datetime.timedelta(days=1), 2), self.now - 60)
                reason = self.expiry_reason % {"day": expires.isoformat()}
                ctx.events.append((at, 3, EntryKind.EXPIRY, -left, level, oid, None, None, None, None, reason, f"expiry:{oid}"))
        self.expiring.clear()
        self.used.clear()
        ctx.events.sort(key=lambda e: (e[0], e[1]))
        balance, prev = ZERO, GENESIS
        add, new = self.w.add, self.w.new_id
        number, account = ctx.account_number, ctx.account_id
        for seq, (at, _order, kind, amount, level, oid, rule, prog, conv, actor, reason, key) in enumerate(ctx.events, 1):
            balance += amount
            if balance < 0:
                raise ScaleError(f"builder bug: account {number} would go negative at entry {seq}")
            when = self.w.ledger_time(at)
            entry = _Entry(seq, kind, amount, balance, level, oid, rule, prog, conv, None, None, actor, when, reason, key, prev)
            digest = entry_digest(entry, account_number=number)
            add(LedgerEntry, (new(LedgerEntry), account, seq, kind, amount, balance, level, oid, rule, prog, conv, None,
                              None, actor, when, reason, key, prev, digest))
            prev = digest
        self.entries = len(ctx.events)

    # -- certificates -----------------------------------------------------------------------------

    def _request(self, ctx, cert_type: _CertType, eid: int | None, opened: int, *, actor: int | None) -> None:
        rng = self.rng
        if opened >= self.now:
            return
        rid = self.w.new_id(CertificateRequest)
        reviewer = self.reviewers[cert_type.association_id]
        add, new = self.w.add, self.w.new_id

        def change(frm: str, to: str, who: int | None, reason: str, at: int) -> None:
            add(RequestStatusChange, (new(RequestStatusChange), rid, frm, to, who, reason, self.dt(at)))

        change("", R.REQUESTED, actor, "", opened)
        age = self.now - opened
        x = rng.random()
        status = R.REQUESTED
        if age > 14 * DAY:
            status = R.ISSUED if x < 0.86 else R.REJECTED if x < 0.9 else R.UNDER_REVIEW if x < 0.96 else R.REQUESTED
        elif age > 2 * DAY:
            status = R.UNDER_REVIEW if x < 0.5 else R.REQUESTED
        at = opened
        if status != R.REQUESTED:
            review = opened + rng.randrange(3600, 2 * DAY)
            if status == R.UNDER_REVIEW or rng.random() < 0.5:
                change(R.REQUESTED, R.UNDER_REVIEW, reviewer, "", review)
                frm = R.UNDER_REVIEW
            else:
                frm = R.REQUESTED
            at = review + rng.randrange(3600, 10 * DAY)
            if status == R.REJECTED:
                change(frm, R.REJECTED, reviewer, self.text["cert_reject"], at)
            elif status == R.ISSUED:
                change(frm, R.APPROVED, reviewer, self.text["approve"], at)
                issued = at + rng.randrange(5, 600)
                change(R.APPROVED, R.ISSUED, None, "", issued)
                revoked = None
                if rng.random() < 0.01:
                    revoked = issued + rng.randrange(10 * DAY, 300 * DAY)
                    if revoked < self.now:
                        change(R.ISSUED, R.REVOKED, reviewer, self.text["revoke"], revoked)
                        status = R.REVOKED
                    else:
                        revoked = None
                self._certificate(rid, cert_type, issued, revoked)
        add(CertificateRequest, (rid, self.w.uuid(), ctx.learner_id, cert_type.id, eid, status, self.dt(opened), None,
                                 1 if status in {R.ISSUED, R.REVOKED} else 0, None, ""))

    def _certificate(self, rid: int, cert_type: _CertType, issued: int, revoked: int | None) -> None:
        day = self.local_date(issued)
        key = (cert_type.school_id, day.year)
        number = self.serials.get(key, 0) + 1
        self.serials[key] = number
        status_index = self.status_indexes.get(cert_type.school_slug, -1) + 1
        self.status_indexes[cert_type.school_slug] = status_index
        expires = None
        if cert_type.validity_years:
            expires = datetime.date(day.year + cert_type.validity_years, day.month, min(day.day, 28))
        cid = self.w.new_id(Certificate)
        serial = serial_for(cert_type.school_slug, day.year, number)
        status = Certificate.Status.REVOKED if revoked else Certificate.Status.VALID
        self.w.add(Certificate, (cid, rid, cert_type.school_id, day.year, number, serial, new_verification_code(), day, expires,
                                 "", None, "", status_index, status, self.dt(revoked) if revoked else None,
                                 self.text["revoke"] if revoked else "", None, "", cert_type.school_slug, None, ""))
        self.certificates += 1
        if not revoked and (expires is None or expires > self.today):
            self.signable.append(cid)

    def prepare(self) -> None:
        """Reasons as the services word them, formatted once per run in the active language."""
        self.scores = []
        for n in range(2000, 10001):
            score = Decimal(n).scaleb(-2)
            self.scores.append((score, *grade_for(score)))
        self.deposit_reason = _("Passed %(course)s with %(score)s")
        self.accredit_reason = _("Accredited under %(std)s: %(why)s")
        self.conversion_reason = _("%(course)s exempted under %(rule)s")
        self.expiry_reason = _("Certificate expired on %(day)s")
        self.expiring: list = []
        self.used: dict[int, Decimal] = {}
        self.heavy = False
        self.entries = 0

    def heavy_learner(self, entries: int) -> int:
        """heavy@: results in several programmes (the longest ones), and a long run of accredited,
        later expired, "1+X" certificates until the account holds at least ``entries`` entries."""
        plan = []
        for i, prog in enumerate(sorted(self.programme_list, key=lambda p: (-len(p.compulsory), p.id))[:6]):
            ended = [t for t in prog.intakes if t.end <= self.now and t.limit is None]
            if ended:
                plan.append((prog, ended[0], "completed" if i % 2 == 0 else "active"))
        self.heavy = True
        try:
            self.learner(HEAVY_EMAIL, plan=plan, entries=entries)
        finally:
            self.heavy = False
        if self.entries < entries:
            raise ScaleError(
                _("The heavy learner got %(got)s ledger entries, fewer than the %(want)s asked for: "
                  "no recognition standard accepts \"1+X\" certificates (run load_recognition).")
                % {"got": self.entries, "want": entries}
            )
        return self.entries

    def finish(self) -> None:
        """Counters past every value used, so the next real issue takes a fresh serial and index."""
        for (school_id, year), last in self.serials.items():
            SerialCounter.objects.update_or_create(school_id=school_id, year=year, defaults={"last": last})
        for slug, last in self.status_indexes.items():
            StatusListCounter.objects.update_or_create(purpose=f"issuer:{slug}", defaults={"last": last})


# --- Entry point -----------------------------------------------------------------------------------


def scale_learners_exist() -> bool:
    return User.objects.filter(email__iendswith=f"@{DOMAIN}").exists()


def seed_scale(
    *,
    learners: int,
    seed: int = 2026,
    heavy_entries: int = 1000,
    signed_certificates: int = 200,
    chunk_size: int = 5_000,
    log: Callable[[str], None] = lambda message: None,
) -> ScaleReport:
    """Build the scale dataset in this database (reference data must be loaded already)."""
    if learners < 1:
        raise ScaleError(_("--learners must be at least 1 (got %(n)s).") % {"n": learners})
    if heavy_entries < 1:
        raise ScaleError(_("--heavy-entries must be at least 1 (got %(n)s).") % {"n": heavy_entries})
    if signed_certificates < 0:
        raise ScaleError(_("--signed-certificates cannot be negative (got %(n)s).") % {"n": signed_certificates})
    if chunk_size < 1:
        raise ScaleError(_("The chunk size must be at least 1 (got %(n)s).") % {"n": chunk_size})
    if scale_learners_exist():
        raise ScaleError(_("This database is already seeded; use a fresh database."))
    started = time.perf_counter()
    writer_class = _CopyWriter if connection.vendor == "postgresql" else _BulkWriter
    writer = writer_class(_ORDER)
    builder = _Builder(writer=writer, rng=random.Random(seed), now=timezone.now(), log=log)
    builder.prepare()
    extra_rows = 0
    with transaction.atomic():
        builder.load_reference()
        if not needs_escaping(builder.reference_texts()):
            for table in writer.tables.values():
                table.skip_escaping()
        writer.start()
        try:
            builder.staff()
            builder.intakes()
            done = 0
            while done < learners:
                size = min(chunk_size, learners - done)
                for i in range(done + 1, done + size + 1):
                    builder.learner(f"learner{i:06d}@{DOMAIN}")
                writer.flush()
                done += size
                log(f"  {done} learners ({time.perf_counter() - started:.1f} s)")
            heavy = builder.heavy_learner(heavy_entries)
            builder.write_intakes()
            writer.flush()
            log(f"  heavy learner and intakes written ({time.perf_counter() - started:.1f} s)")
            writer.close()
            log(f"  every COPY done, foreign keys checked in {writer.fk_seconds:.1f} s ({time.perf_counter() - started:.1f} s)")
        except BaseException:
            writer.abort()
            raise
        builder.finish()
        extra_rows += len(builder.serials) + 1
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                for model in _ORDER:
                    cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
    bulk_seconds = time.perf_counter() - started
    log(f"  bulk rows written ({bulk_seconds:.1f} s)")
    signed = sign_certificates(builder.signable, limit=signed_certificates, rng=random.Random(seed), log=log)
    log(f"  {signed} certificates signed ({time.perf_counter() - started:.1f} s)")
    counts = dict(writer.counts)
    counts["counters (serial and status list)"] = extra_rows
    return ScaleReport(
        counts, time.perf_counter() - started, learners + 1, bulk_seconds, builder.certificates, signed, heavy
    )


def sign_certificates(ids: list[int], *, limit: int, rng: random.Random, log=lambda m: None) -> int:
    """Issue ``limit`` of the seeded certificates in full: a signed credential and the PDF, made by
    the app's own builders, each stored in its own short transaction as the issuing task does.

    Each costs a good tenth of a second of CPU, so after the seed has committed they are shared
    among worker processes, one a core. The first is made here, before the fork, so the JSON
    schemas, fonts and stylesheets are loaded once and every worker inherits them. Inside an outer
    transaction (the tests), or on a database other processes cannot reach, they are made here.
    """
    chosen = sorted(rng.sample(ids, min(limit, len(ids))))
    if not chosen:
        return 0
    signed = _sign(chosen[:1])
    rest = chosen[1:]
    workers = min(os.cpu_count() or 1, 4)
    if len(rest) < 20 or workers < 2 or connection.in_atomic_block or connection.vendor != "postgresql":
        return signed + _sign(rest)
    connection.close()  # each worker opens its own; a connection shared across a fork breaks both
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        signed += sum(pool.map(_sign_in_worker, [rest[i::workers] for i in range(workers)]))
    log(f"  {signed} certificates signed by {workers} processes")
    return signed


def _sign_in_worker(ids: list[int]) -> int:
    try:
        return _sign(ids)
    finally:
        connection.close()


def _sign(ids: list[int]) -> int:
    from certificates.credentials.builders import certificate_credential, signed_holder_name
    from certificates.rendering import certificate_pdf

    related = (
        "request__learner__user", "request__type__school", "request__type__association",
        "request__type__programme", "request__enrolment", "school",
    )
    signed = 0
    for certificate in Certificate.objects.select_related(*related).filter(pk__in=ids).order_by("pk"):
        credential = certificate_credential(certificate)
        certificate.holder_name = signed_holder_name(credential)
        pdf = certificate_pdf(certificate)
        with transaction.atomic():
            certificate.credential = credential
            certificate.pdf.save(f"{certificate.serial}.pdf", ContentFile(pdf), save=False)
            certificate.save(update_fields=["credential", "holder_name", "pdf"])
        signed += 1
    return signed
