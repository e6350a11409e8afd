"""The programme audit: what a learner's enrolment requires, and what meets it, with provenance.

For each requirement group: credits required, earned (passed results), exempted (conversions),
transferred, and missing — every line citing the ledger entries and rule versions behind it. The
audit reads a fixed number of queries whatever the ledger's length, and writes nothing; the
what-if view runs it with hypothetical conversions added.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import F, Prefetch

from creditbank.models import ApplicationStatus, Conversion, ConversionRule, LedgerEntry, Transfer
from enrolment.models import CourseResult, Enrolment, GroupCourse, RequirementGroup

ZERO = Decimal("0.0")


@dataclass
class CourseLine:
    course: object
    state: str  # "passed", "exempted", "failed", "to do"
    credits: Decimal
    result: CourseResult | None = None
    conversion: Conversion | None = None
    entry_seqs: list[int] = field(default_factory=list)
    rule_label: str = ""
    hypothetical: bool = False


@dataclass
class GroupLine:
    group: RequirementGroup
    required: Decimal
    earned: Decimal = ZERO
    exempted: Decimal = ZERO
    transferred: Decimal = ZERO
    courses: list[CourseLine] = field(default_factory=list)
    transfers: list[Transfer] = field(default_factory=list)

    @property
    def done(self) -> Decimal:
        return self.earned + self.exempted + self.transferred

    @property
    def missing(self) -> Decimal:
        if self.group.kind == RequirementGroup.Kind.COMPULSORY:
            return sum((c.credits for c in self.courses if c.state not in {"passed", "exempted"}), ZERO)
        return max(self.required - self.done, ZERO)

    @property
    def satisfied(self) -> bool:
        return self.missing == 0


@dataclass
class Audit:
    enrolment: Enrolment
    groups: list[GroupLine]

    @property
    def required(self) -> Decimal:
        return sum((g.required for g in self.groups), ZERO)

    @property
    def earned(self) -> Decimal:
        return sum((g.earned for g in self.groups), ZERO)

    @property
    def exempted(self) -> Decimal:
        return sum((g.exempted for g in self.groups), ZERO)

    @property
    def transferred(self) -> Decimal:
        return sum((g.transferred for g in self.groups), ZERO)

    @property
    def missing(self) -> Decimal:
        return sum((g.missing for g in self.groups), ZERO)

    @property
    def complete(self) -> bool:
        return bool(self.groups) and all(g.satisfied for g in self.groups)


def _entry_seqs(entries: list[LedgerEntry]) -> list[int]:
    return sorted(e.seq for e in entries)


@dataclass
class AuditInputs:
    """What the audits of several enrolments read, loaded set-wise: a fixed number of queries
    for all of them (``audit_inputs``), however many learners and programmes they span."""

    groups: dict[int, list[RequirementGroup]]  # programme id -> its groups, memberships prefetched
    results: dict[tuple[int, int], dict[int, CourseResult]]  # (learner, programme) -> course id -> result
    conversions: dict[tuple[int, int], dict[int, Conversion]]  # (learner, programme) -> course id -> conversion
    transfers: dict[tuple[int, int], dict[int, list[Transfer]]]  # (learner, programme) -> group id -> transfers
    deposits: dict[tuple[int, int], dict[int, LedgerEntry]]  # (learner, programme) -> result id -> deposit


def audit_inputs(enrolments: list[Enrolment], *, provenance: bool = True) -> AuditInputs:
    """The audit inputs of ``enrolments`` (their learners' records in their programmes), in eight
    queries. Rows of a learner in another of the programmes are read and left unused: an import
    is one intake, so in practice there is one programme.

    ``provenance=False``: for the numbers only (is the programme complete?), one query fewer and
    about half the rows: results are read without their outcome, and the deposits behind passed
    results are not read, so passed lines cite no ledger entry."""
    learner_ids = sorted({e.learner_id for e in enrolments})
    programme_ids = sorted({e.programme_id for e in enrolments})
    pairs = {(e.learner_id, e.programme_id) for e in enrolments}
    inputs = AuditInputs(
        groups={pk: [] for pk in programme_ids},
        results={pair: {} for pair in pairs},
        conversions={pair: {} for pair in pairs},
        transfers={pair: {} for pair in pairs},
        deposits={pair: {} for pair in pairs},
    )
    for group in (
        RequirementGroup.objects.filter(programme_id__in=programme_ids)
        .order_by("position", "pk")
        .prefetch_related(Prefetch("memberships", queryset=GroupCourse.objects.select_related("course").order_by("course__code")))
    ):
        inputs.groups[group.programme_id].append(group)
    results_query = (
        CourseResult.objects.filter(enrolment__learner_id__in=learner_ids, enrolment__programme_id__in=programme_ids)
        .annotate(audit_learner_id=F("enrolment__learner_id"), audit_programme_id=F("enrolment__programme_id"))
        .order_by("assessed_on", "pk")
    )
    if provenance:
        results_query = results_query.select_related("outcome")
    else:
        results_query = results_query.only("pk", "enrolment_id", "course_id", "passed", "assessed_on")
    for result in results_query:
        results = inputs.results.get((result.audit_learner_id, result.audit_programme_id))
        # A pass counts whenever it came; a later fail does not undo it.
        if results is not None and (result.course_id not in results or result.passed):
            results[result.course_id] = result
    for conversion in (
        Conversion.objects.filter(learner_id__in=learner_ids, programme_id__in=programme_ids, status=ApplicationStatus.ACTIVE)
        .select_related("rule", "outcome")
        .prefetch_related(Prefetch("entries", queryset=LedgerEntry.objects.only("seq", "conversion_id")))
    ):
        conversions = inputs.conversions.get((conversion.learner_id, conversion.programme_id))
        if conversions is not None:
            conversions[conversion.course_id] = conversion
    for transfer in (
        Transfer.objects.filter(learner_id__in=learner_ids, programme_id__in=programme_ids, status=ApplicationStatus.ACTIVE)
        .select_related("outcome")
        .prefetch_related(Prefetch("entries", queryset=LedgerEntry.objects.only("seq", "transfer_id")))
    ):
        transfers = inputs.transfers.get((transfer.learner_id, transfer.programme_id))
        if transfers is not None:
            transfers.setdefault(transfer.group_id, []).append(transfer)
    if not provenance:
        return inputs
    for entry in (
        LedgerEntry.objects.filter(account__learner_id__in=learner_ids, programme_id__in=programme_ids, kind="deposit")
        .annotate(audit_learner_id=F("account__learner_id"))
        .select_related("outcome")
        .only("seq", "programme_id", "outcome__course_result_id")
    ):
        deposits = inputs.deposits.get((entry.audit_learner_id, entry.programme_id))
        if deposits is not None:
            deposits[entry.outcome.course_result_id] = entry
    return inputs


def programme_audits(enrolments: list[Enrolment], *, provenance: bool = True) -> dict[int, Audit]:
    """enrolment id -> the audit of each of ``enrolments``, from one ``audit_inputs``: what
    ``programme_audit`` finds for each, in eight queries for all of them (see ``audit_inputs``
    for ``provenance``)."""
    inputs = audit_inputs(enrolments, provenance=provenance)
    return {e.pk: programme_audit(e, inputs=inputs) for e in enrolments}


def programme_audit(
    enrolment: Enrolment, *, hypothetical: list[tuple[object, Decimal, str]] = (), inputs: AuditInputs | None = None
) -> Audit:
    """The audit of one enrolment's programme for its learner (across all their enrolments in it).

    ``hypothetical`` adds (course, credits, rule label) exemptions that are not recorded, for the
    what-if view. ``inputs``: the records already loaded for a batch of enrolments including this
    one (``audit_inputs``); read here when not given.
    """
    if inputs is None:
        inputs = audit_inputs([enrolment])
    pair = (enrolment.learner_id, enrolment.programme_id)
    groups = inputs.groups[enrolment.programme_id]
    results = inputs.results[pair]
    conversions = inputs.conversions[pair]
    transfers = inputs.transfers[pair]
    deposits = inputs.deposits[pair]
    extra = {course.pk: (credits, label) for course, credits, label in hypothetical}

    lines = []
    for group in groups:
        memberships = list(group.memberships.all())
        if group.kind == RequirementGroup.Kind.COMPULSORY:
            required = sum((m.course.credits for m in memberships), ZERO)
        else:
            required = group.min_credits
        line = GroupLine(group=group, required=required, transfers=transfers.get(group.pk, []))
        for membership in memberships:
            course = membership.course
            result = results.get(course.pk)
            conversion = conversions.get(course.pk)
            if result is not None and result.passed:
                deposit = deposits.get(result.pk)
                line.courses.append(
                    CourseLine(course, "passed", course.credits, result=result, entry_seqs=[deposit.seq] if deposit else [])
                )
                line.earned += course.credits
            elif conversion is not None:
                line.courses.append(
                    CourseLine(
                        course, "exempted", conversion.credits, conversion=conversion,
                        entry_seqs=_entry_seqs(list(conversion.entries.all())), rule_label=str(conversion.rule),
                    )
                )
                line.exempted += conversion.credits
            elif course.pk in extra:
                credits, label = extra[course.pk]
                line.courses.append(CourseLine(course, "exempted", credits, rule_label=label, hypothetical=True))
                line.exempted += credits
            else:
                state = "failed" if result is not None else "to do"
                line.courses.append(CourseLine(course, state, course.credits, result=result))
        line.transferred = sum((t.credits for t in line.transfers), ZERO)
        lines.append(line)
    return Audit(enrolment=enrolment, groups=lines)


def what_if(
    enrolment: Enrolment, *, standard_code: str, level: int, base: Audit | None = None
) -> tuple[Audit, list[ConversionRule]]:
    """The audit if an outcome accredited under ``standard_code`` were converted by every rule that fits.

    ``base`` is the audit as it stands, when the caller already has it.
    """
    from django.utils import timezone

    today = timezone.localdate()
    rules = [
        rule
        for rule in ConversionRule.objects.filter(programme_id=enrolment.programme_id, standard__code=standard_code, second_standard__isnull=True)
        .prefetch_related("courses")
        .order_by("code", "-version")
        if rule.in_force(today)
    ]
    base = base or programme_audit(enrolment)
    open_courses = {c.course.pk for g in base.groups for c in g.courses if c.state in {"to do", "failed"}}
    hypothetical = [
        (course, rule.credits, str(rule))
        for rule in rules
        for course in rule.courses.all()
        if course.pk in open_courses and level >= course.level
    ]
    return programme_audit(enrolment, hypothetical=hypothetical), rules


# --- The audit page, cached per enrolment and fingerprint ---------------------------------------


def audit_fingerprint(enrolment: Enrolment) -> tuple:
    """In one query, what changes when anything the audit page shows changes, catalogue aside.

    Course results are only ever added (one per course), so their count and last id move with
    every new one; the ledger only grows, and every conversion, transfer, deposit and reversal
    posts to it, so the account's last sequence number moves with each of them. The programme's
    structure and names are the catalogue's (``enrolment.cache.catalogue_version``), and the
    enrolment's status is read with the enrolment itself.
    """
    from django.db import connection

    from creditbank.models import CreditAccount

    result, enrolment_table = CourseResult._meta.db_table, Enrolment._meta.db_table
    entry, account = LedgerEntry._meta.db_table, CreditAccount._meta.db_table
    results = (
        f"FROM {result} INNER JOIN {enrolment_table} ON {enrolment_table}.id = {result}.enrolment_id "
        f"WHERE {enrolment_table}.learner_id = %s AND {enrolment_table}.programme_id = %s"
    )
    # Table names from the models' own _meta; every value is a parameter.
    ledger = f"FROM {entry} INNER JOIN {account} ON {account}.id = {entry}.account_id WHERE {account}.learner_id = %s"
    sql = f"SELECT (SELECT COUNT(*) {results}), (SELECT MAX({result}.id) {results}), (SELECT MAX({entry}.seq) {ledger})"  # noqa: S608
    learner_id, programme_id = enrolment.learner_id, enrolment.programme_id
    with connection.cursor() as cursor:
        cursor.execute(sql, [learner_id, programme_id, learner_id, programme_id, learner_id])
        return tuple(cursor.fetchone())


def audit_page_body(enrolment: Enrolment, *, request=None) -> str:
    """The audit page's body (``creditbank/learner/_audit_body.html``) for ``enrolment``, from
    the cache while nothing it shows has changed: one query instead of the audit's seven, and
    no rendering of the programme's every course."""
    from django.conf import settings
    from django.template.loader import render_to_string

    from enrolment.cache import catalogue_version
    from ouc_portal.pagecache import cached_fragment

    parts = (enrolment.pk, enrolment.status, catalogue_version(), audit_fingerprint(enrolment))
    return cached_fragment(
        "audit",
        parts,
        lambda: render_to_string(
            "creditbank/learner/_audit_body.html",
            {"enrolment": enrolment, "audit": programme_audit(enrolment)},
            request=request,
        ),
        timeout=settings.CATALOGUE_CACHE_SECONDS,
    )
