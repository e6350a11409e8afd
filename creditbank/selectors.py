"""Reads on the credit bank that pages and the API share. Nothing here writes.

Each function stands alone: it takes what it reads by keyword and returns querysets, model
instances or plain data, so the learner's pages, the officers' pages and the API can share them.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import (
    BooleanField,
    Count,
    Exists,
    ExpressionWrapper,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from creditbank import ledger
from creditbank.models import (
    Accreditation,
    ApplicationStatus,
    Conversion,
    ConversionRule,
    CreditAccount,
    EntryKind,
    LearningOutcome,
    LedgerEntry,
    OutcomeEvidence,
    OutcomeStatus,
    OutcomeStatusChange,
    RecognitionStandard,
    Transfer,
)
from enrolment.models import (
    Course,
    CourseResult,
    Enrolment,
    EnrolmentStatus,
    EnrolmentStatusChange,
    Learner,
    Programme,
    RequirementGroup,
)

# Enrolments toward which credits may be applied (services.OPEN_ENROLMENT_STATES reads this).
OPEN_ENROLMENT_STATES = frozenset({EnrolmentStatus.ACCEPTED, EnrolmentStatus.ACTIVE})

# --- The learner's account ----------------------------------------------------------------------


def learner_account(*, learner: Learner) -> CreditAccount | None:
    """The learner's credit account, or None; reading never opens one (``services.account_for`` does)."""
    return CreditAccount.objects.filter(learner=learner).first()


def account_ledger(*, account: CreditAccount) -> QuerySet[LedgerEntry]:
    """The account's ledger, newest first, with the source of every line read in the same query."""
    return (
        LedgerEntry.objects.filter(account=account)
        .select_related("outcome", "rule", "programme", "reverses")
        .order_by("-seq")
    )


def account_outcomes(*, account: CreditAccount) -> QuerySet[LearningOutcome]:
    return LearningOutcome.objects.filter(account=account).order_by("-submitted_at", "-pk")


def learner_enrolments_for_audit(*, learner: Learner) -> QuerySet[Enrolment]:
    return (
        Enrolment.objects.filter(learner=learner)
        .select_related("programme", "intake__centre")
        .order_by("-applied_at", "-pk")
    )


def learner_enrolment(*, learner: Learner, public_id) -> Enrolment:
    """One of the learner's enrolments; another learner's raises ``Enrolment.DoesNotExist``."""
    return Enrolment.objects.select_related("programme__school", "intake__centre").get(
        public_id=public_id, learner=learner
    )


# --- One outcome --------------------------------------------------------------------------------


@dataclass
class OutcomePage:
    outcome: LearningOutcome
    history: list[OutcomeStatusChange]
    accreditation: Accreditation | None
    conversions: list[Conversion]
    transfers: list[Transfer]
    entries: list[LedgerEntry]
    evidence: list[OutcomeEvidence]


def _outcome_page(outcome: LearningOutcome) -> OutcomePage:
    return OutcomePage(
        outcome=outcome,
        history=list(OutcomeStatusChange.objects.filter(outcome=outcome).select_related("actor").order_by("at", "pk")),
        accreditation=Accreditation.objects.filter(outcome=outcome).select_related("standard", "officer").first(),
        conversions=list(
            Conversion.objects.filter(Q(outcome=outcome) | Q(second_outcome=outcome))
            .select_related("course", "programme", "rule", "outcome", "second_outcome")
            .order_by("at", "pk")
        ),
        transfers=list(
            Transfer.objects.filter(outcome=outcome).select_related("programme", "group").order_by("at", "pk")
        ),
        entries=list(
            LedgerEntry.objects.filter(outcome=outcome).select_related("rule", "programme").order_by("seq")
        ),
        evidence=list(OutcomeEvidence.objects.filter(outcome=outcome).order_by("uploaded_at", "pk")),
    )


def learner_outcome(*, learner: Learner, public_id) -> OutcomePage:
    """One of the learner's outcomes with everything about it; another learner's raises
    ``LearningOutcome.DoesNotExist``."""
    return _outcome_page(
        LearningOutcome.objects.select_related("account__learner", "issuing_body", "course_result__course").get(
            public_id=public_id, account__learner=learner
        )
    )


def evidence_for_download(*, public_id, learner: Learner | None, officer: bool) -> OutcomeEvidence:
    """An evidence file its owner or a credit-bank officer may read; anyone else's lookup raises
    ``OutcomeEvidence.DoesNotExist`` (a 404, so nobody learns that the file exists)."""
    evidence = OutcomeEvidence.objects.filter(public_id=public_id)
    if not officer:
        if learner is None:
            raise OutcomeEvidence.DoesNotExist
        evidence = evidence.filter(outcome__account__learner=learner)
    return evidence.get()


# --- Standards ----------------------------------------------------------------------------------


def in_force(day: datetime.date) -> Q:
    """Versions of standards or rules in force on ``day``."""
    return Q(effective_from__lte=day) & (Q(effective_to__isnull=True) | Q(effective_to__gte=day))


def standards_in_force(*, day: datetime.date | None = None) -> QuerySet[RecognitionStandard]:
    return RecognitionStandard.objects.filter(in_force(day or timezone.localdate())).order_by("code", "-version")


# --- The what-if view ---------------------------------------------------------------------------


@dataclass
class WhatIf:
    before: object  # creditbank.audit.Audit as it stands
    after: object  # the same audit with the hypothetical exemptions
    standard: RecognitionStandard
    level: int
    rules: list
    moves: list  # the hypothetical CourseLines

    @property
    def credits_moved(self) -> Decimal:
        return sum((line.credits for line in self.moves), Decimal("0.0"))

    @property
    def exceeds_outcome(self) -> bool:
        """The exemptions would need more credits than one outcome under the standard brings."""
        return self.credits_moved > self.standard.credit_value


def audit_what_if(*, enrolment: Enrolment, standard: RecognitionStandard, level: int) -> WhatIf:
    """The audit now and as it would be if an outcome accredited under ``standard`` at ``level``
    were converted by the programme's rules. Reads only."""
    from creditbank.audit import programme_audit, what_if

    before = programme_audit(enrolment)
    after, rules = what_if(enrolment, standard_code=standard.code, level=level, base=before)
    moves = [line for group in after.groups for line in group.courses if line.hypothetical]
    return WhatIf(before=before, after=after, standard=standard, level=level, rules=rules, moves=moves)


# --- The personal lifelong-learning file --------------------------------------------------------


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def _dec(value) -> str | None:
    return str(value) if value is not None else None


def _actor(user_id: int | None, *, learner_user_id: int, staff: str) -> str:
    # The file names the learner's own acts; staff act for their institution, never by email.
    if user_id is None:
        return "portal"
    return "learner" if user_id == learner_user_id else staff


def lifelong_file(*, learner: Learner) -> dict:
    """Everything the learner ever did, as plain JSON-ready data: dates in ISO 8601, decimals
    as strings, each section and the timeline in time order. Only this learner's rows are read."""
    user_id = learner.user_id
    account = CreditAccount.objects.filter(learner=learner).first()

    enrolments = list(
        Enrolment.objects.filter(learner=learner)
        .select_related("programme__school", "intake__centre")
        .prefetch_related(
            Prefetch("history", queryset=EnrolmentStatusChange.objects.order_by("at", "pk"), to_attr="changes")
        )
        .order_by("applied_at", "pk")
    )
    results = list(
        CourseResult.objects.filter(enrolment__learner=learner)
        .select_related("course", "enrolment")
        .order_by("recorded_at", "pk")
    )
    outcomes = list(
        LearningOutcome.objects.filter(account__learner=learner)
        .select_related("issuing_body", "course_result")
        .prefetch_related(
            Prefetch("history", queryset=OutcomeStatusChange.objects.order_by("at", "pk"), to_attr="changes"),
            Prefetch("evidence", queryset=OutcomeEvidence.objects.order_by("uploaded_at", "pk"), to_attr="files"),
        )
        .order_by("submitted_at", "pk")
    )
    accreditations = list(
        Accreditation.objects.filter(outcome__account__learner=learner)
        .select_related("standard", "outcome")
        .order_by("at", "pk")
    )
    conversions = list(
        Conversion.objects.filter(learner=learner)
        .select_related("outcome", "second_outcome", "enrolment", "programme", "course", "rule")
        .order_by("at", "pk")
    )
    transfers = list(
        Transfer.objects.filter(learner=learner)
        .select_related("outcome", "enrolment", "programme", "group")
        .order_by("at", "pk")
    )
    entries = list(
        LedgerEntry.objects.filter(account__learner=learner)
        .select_related("outcome", "rule", "programme", "conversion", "transfer", "reverses")
        .order_by("seq")
    )

    data_enrolments = [
        {
            "id": str(e.public_id),
            "programme": {"code": e.programme.code, "name_en": e.programme.name_en, "name_zh": e.programme.name_zh},
            "school": e.programme.school.name_en,
            "intake": {"year": e.intake.year, "season": e.intake.season, "centre": e.intake.centre.name_en},
            "status": e.status,
            "applied_at": _iso(e.applied_at),
            "history": [
                {
                    "at": _iso(c.at),
                    "from": c.from_status,
                    "to": c.to_status,
                    "by": _actor(c.actor_id, learner_user_id=user_id, staff="school"),
                    "reason": c.reason,
                }
                for c in e.changes
            ],
        }
        for e in enrolments
    ]
    data_results = [
        {
            "enrolment": str(r.enrolment.public_id),
            "course": {"code": r.course.code, "name_en": r.course.name_en, "credits": _dec(r.course.credits)},
            "score": _dec(r.score),
            "grade": r.grade,
            "passed": r.passed,
            "assessed_on": _iso(r.assessed_on),
            "recorded_at": _iso(r.recorded_at),
        }
        for r in results
    ]
    data_outcomes = [
        {
            "id": str(o.public_id),
            "kind": o.kind,
            "title": o.title,
            "issuing_body": o.issuing_body_name,
            "issuing_association": o.issuing_body.slug if o.issuing_body else None,
            "achieved_on": _iso(o.achieved_on),
            "expires_on": _iso(o.expires_on),
            "level": o.level,
            "study_hours": o.study_hours,
            "grade": o.grade,
            "certificate_number": o.certificate_number,
            "status": o.status,
            "submitted_at": _iso(o.submitted_at),
            "history": [
                {
                    "at": _iso(c.at),
                    "from": c.from_status,
                    "to": c.to_status,
                    "by": _actor(c.actor_id, learner_user_id=user_id, staff="credit-bank"),
                    "reason": c.reason,
                }
                for c in o.changes
            ],
            "evidence": [
                {
                    "id": str(f.public_id),
                    "name": f.original_name,
                    "content_type": f.content_type,
                    "size": f.size,
                    "sha256": f.sha256,
                    "uploaded_at": _iso(f.uploaded_at),
                }
                for f in o.files
            ],
        }
        for o in outcomes
    ]
    data_accreditations = [
        {
            "outcome": str(a.outcome.public_id),
            "standard": {"code": a.standard.code, "version": a.standard.version, "title_en": a.standard.title_en},
            "credits": _dec(a.credits),
            "reason": a.reason,
            "at": _iso(a.at),
        }
        for a in accreditations
    ]
    data_conversions = [
        {
            "id": str(c.public_id),
            "outcome": str(c.outcome.public_id),
            "second_outcome": str(c.second_outcome.public_id) if c.second_outcome else None,
            "enrolment": str(c.enrolment.public_id),
            "programme": c.programme.code,
            "course": c.course.code,
            "rule": {"code": c.rule.code, "version": c.rule.version},
            "credits": _dec(c.credits),
            "status": c.status,
            "at": _iso(c.at),
            "reversed_at": _iso(c.reversed_at),
            "reversal_reason": c.reversal_reason,
        }
        for c in conversions
    ]
    data_transfers = [
        {
            "id": str(t.public_id),
            "outcome": str(t.outcome.public_id),
            "enrolment": str(t.enrolment.public_id),
            "programme": t.programme.code,
            "group": t.group.name_en,
            "credits": _dec(t.credits),
            "status": t.status,
            "at": _iso(t.at),
            "reversed_at": _iso(t.reversed_at),
            "reversal_reason": t.reversal_reason,
        }
        for t in transfers
    ]
    data_ledger = [
        {
            "seq": e.seq,
            "at": _iso(e.at),
            "kind": e.kind,
            "amount": _dec(e.amount),
            "balance_after": _dec(e.balance_after),
            "level": e.level,
            "outcome": str(e.outcome.public_id),
            "rule": {"code": e.rule.code, "version": e.rule.version} if e.rule else None,
            "programme": e.programme.code if e.programme else None,
            "conversion": str(e.conversion.public_id) if e.conversion else None,
            "transfer": str(e.transfer.public_id) if e.transfer else None,
            "reverses": e.reverses.seq if e.reverses else None,
            "reason": e.reason,
            "prev_hash": e.prev_hash,
            "hash": e.hash,
        }
        for e in entries
    ]

    # One line a thing that happened, all kinds merged in time order, each pointing at its record.
    events: list[tuple[datetime.datetime, int, dict]] = []

    def add(at, what: str, **ref) -> None:
        if at is not None:
            events.append((at, len(events), {"at": _iso(at), "event": what, **ref}))

    add(learner.registered_at, "registered")
    if account is not None:
        add(account.opened_at, "account-opened", account=account.number)
    for e in enrolments:
        add(e.applied_at, "enrolment-applied", enrolment=str(e.public_id), programme=e.programme.code)
        for c in e.changes:
            add(c.at, "enrolment-status-changed", enrolment=str(e.public_id), to=c.to_status)
    for r in results:
        add(r.recorded_at, "result-recorded", enrolment=str(r.enrolment.public_id), course=r.course.code,
            passed=r.passed)
    for o in outcomes:
        add(o.submitted_at, "outcome-added", outcome=str(o.public_id), kind=o.kind)
        for c in o.changes:
            add(c.at, "outcome-status-changed", outcome=str(o.public_id), to=c.to_status)
    for a in accreditations:
        add(a.at, "outcome-accredited", outcome=str(a.outcome.public_id), standard=str(a.standard))
    for c in conversions:
        add(c.at, "conversion", conversion=str(c.public_id), course=c.course.code, rule=str(c.rule))
        add(c.reversed_at, "conversion-reversed", conversion=str(c.public_id))
    for t in transfers:
        add(t.at, "transfer", transfer=str(t.public_id), programme=t.programme.code)
        add(t.reversed_at, "transfer-reversed", transfer=str(t.public_id))
    for e in entries:
        add(e.at, "ledger-entry", seq=e.seq, kind=e.kind, amount=_dec(e.amount))
    events.sort(key=lambda item: (item[0], item[1]))

    return {
        "file": "OUC credit bank: personal lifelong-learning file",
        "generated_at": _iso(timezone.now()),
        "profile": {
            "id": str(learner.public_id),
            "email": learner.user.email,
            "legal_name": learner.legal_name,
            "phone": learner.phone,
            "employer": learner.employer,
            "job_title": learner.job_title,
            "industry": learner.industry,
            "province": learner.province,
            "learning_centre": learner.centre.name_en if learner.centre_id else None,
            "registered_at": _iso(learner.registered_at),
            "privacy_consent_at": _iso(learner.privacy_consent_at),
        },
        "account": {
            "number": account.number if account else None,
            "opened_at": _iso(account.opened_at) if account else None,
            "balance": data_ledger[-1]["balance_after"] if data_ledger else "0.0",
        },
        "timeline": [event for _at, _n, event in events],
        "enrolments": data_enrolments,
        "results": data_results,
        "outcomes": data_outcomes,
        "accreditations": data_accreditations,
        "conversions": data_conversions,
        "transfers": data_transfers,
        "ledger": data_ledger,
    }


# --- The officers' desk -------------------------------------------------------------------------


def officer_queue(*, statuses: list[str], kind: str | None = None) -> QuerySet[LearningOutcome]:
    """Outcomes waiting for an officer, oldest submission first, with what a queue row shows read in
    the same query whatever the page's length."""
    outcomes = LearningOutcome.objects.filter(status__in=statuses)
    if kind:
        outcomes = outcomes.filter(kind=kind)
    # The evidence count is a correlated subquery, not a JOIN + GROUP BY: grouped, the database
    # joins and groups every waiting outcome before it can sort and keep a page of 50; as a
    # subquery it walks the ``outcome_waiting_queue`` index in order and stops after the page.
    evidence_count = (
        OutcomeEvidence.objects.filter(outcome=OuterRef("pk"))
        .order_by()
        .values("outcome")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return (
        outcomes.select_related("account__learner__user")
        .annotate(evidence_count=Coalesce(Subquery(evidence_count), Value(0)))
        .order_by("submitted_at", "pk")
    )


def officer_outcome(*, public_id) -> OutcomePage:
    """Any learner's outcome with everything about it; an unknown id raises ``DoesNotExist``."""
    return _outcome_page(
        LearningOutcome.objects.select_related(
            "account__learner__user", "account__learner__centre", "issuing_body", "course_result__course"
        ).get(public_id=public_id)
    )


def standards_for_outcome(
    *, outcome: LearningOutcome, day: datetime.date | None = None
) -> QuerySet[RecognitionStandard]:
    """Standards in force that accept the outcome's kind (an empty list of kinds accepts every kind).

    The kinds are a JSON list, which SQLite cannot search inside; standards are few, so they are
    filtered here and handed back as a queryset a form field can validate against.
    """
    day = day or timezone.localdate()
    fitting = [
        pk
        for pk, kinds in RecognitionStandard.objects.filter(in_force(day)).values_list(
            "pk", "outcome_kinds"
        )
        if not kinds or outcome.kind in kinds
    ]
    return RecognitionStandard.objects.filter(pk__in=fitting).order_by("code", "-version")


@dataclass
class RevocationPreview:
    """What revoking an outcome would do, read the way ``services.outcome_revoke`` selects it."""

    conversions: list[Conversion]
    transfers: list[Transfer]
    entries: list[LedgerEntry]  # the entries that would be reversed, each undone by ``-amount``

    @property
    def moves(self) -> list[tuple[LedgerEntry, Decimal]]:
        """Each entry with the amount its reversal will post."""
        return [(entry, -entry.amount) for entry in self.entries]

    @property
    def balance_change(self) -> Decimal:
        return -sum((entry.amount for entry in self.entries), Decimal("0.0"))


def revocation_preview(*, outcome: LearningOutcome) -> RevocationPreview:
    conversions = list(
        Conversion.objects.filter(
            Q(outcome=outcome) | Q(second_outcome=outcome), status=ApplicationStatus.ACTIVE
        )
        .select_related("course", "programme", "rule", "outcome", "learner__user")
        .order_by("at", "pk")
    )
    transfers = list(
        Transfer.objects.filter(outcome=outcome, status=ApplicationStatus.ACTIVE)
        .select_related("programme", "group")
        .order_by("at", "pk")
    )
    entries = list(
        LedgerEntry.objects.filter(
            Q(outcome=outcome) | Q(conversion__in=conversions), reversed_by__isnull=True
        )
        .exclude(kind=EntryKind.REVERSAL)
        .select_related("outcome", "programme", "rule")
        .order_by("seq")
    )
    return RevocationPreview(conversions=conversions, transfers=transfers, entries=entries)


def officer_standards(*, day: datetime.date | None = None) -> QuerySet[RecognitionStandard]:
    """Every standard and version, with whether it is in force, in use (frozen), and the latest."""
    day = day or timezone.localdate()
    return RecognitionStandard.objects.annotate(
        in_force_now=ExpressionWrapper(in_force(day), output_field=BooleanField()),
        in_use=ExpressionWrapper(
            Q(Exists(Accreditation.objects.filter(standard=OuterRef("pk"))))
            | Q(Exists(ConversionRule.objects.filter(standard=OuterRef("pk"))))
            | Q(Exists(ConversionRule.objects.filter(second_standard=OuterRef("pk")))),
            output_field=BooleanField(),
        ),
        latest=~Exists(
            RecognitionStandard.objects.filter(
                code=OuterRef("code"), version__gt=OuterRef("version")
            )
        ),
    ).order_by("code", "-version")


def officer_rules(*, day: datetime.date | None = None) -> QuerySet[ConversionRule]:
    day = day or timezone.localdate()
    return (
        ConversionRule.objects.annotate(
            in_force_now=ExpressionWrapper(in_force(day), output_field=BooleanField()),
            in_use=Exists(Conversion.objects.filter(rule=OuterRef("pk"))),
            latest=~Exists(
                ConversionRule.objects.filter(
                    code=OuterRef("code"), version__gt=OuterRef("version")
                )
            ),
        )
        .select_related("standard", "second_standard", "programme", "approving_body")
        .prefetch_related(Prefetch("courses", queryset=Course.objects.order_by("code")))
        .order_by("code", "-version")
    )


@dataclass
class LearnerDesk:
    """What an officer needs to apply a learner's credits: the outcomes, and the open enrolments."""

    learner: Learner
    account: CreditAccount | None
    balance: Decimal
    outcomes: list[LearningOutcome]  # every outcome, newest first
    accredited_outcomes: QuerySet[LearningOutcome]  # with ``available`` credits
    usable_outcomes: QuerySet[LearningOutcome]  # accredited, with credits left to apply
    enrolments: list[Enrolment]


def learner_desk(*, public_id) -> LearnerDesk:
    """A learner by public id (``Learner.DoesNotExist`` if unknown). Reads only: a learner without
    a credit account yet shows an empty one rather than having one opened by a GET."""
    learner = Learner.objects.select_related("user", "centre").get(public_id=public_id)
    account = CreditAccount.objects.filter(learner=learner).first()
    accredited = (
        LearningOutcome.objects.filter(account__learner=learner, status=OutcomeStatus.ACCREDITED)
        .select_related("accreditation__standard")
        .annotate(available=Coalesce(Sum("entries__amount"), Value(Decimal("0.0"))))
        .order_by("-achieved_on", "-pk")
    )
    return LearnerDesk(
        learner=learner,
        account=account,
        balance=ledger.balance(account) if account else ledger.ZERO,
        outcomes=list(
            LearningOutcome.objects.filter(account__learner=learner).order_by(
                "-submitted_at", "-pk"
            )
        ),
        accredited_outcomes=accredited,
        usable_outcomes=accredited.filter(available__gt=0),
        enrolments=list(
            Enrolment.objects.filter(learner=learner, status__in=OPEN_ENROLMENT_STATES)
            .select_related("programme__school", "intake__centre")
            .order_by("applied_at", "pk")
        ),
    )


def rules_in_force(
    *, programme: Programme, day: datetime.date | None = None
) -> QuerySet[ConversionRule]:
    day = day or timezone.localdate()
    return (
        ConversionRule.objects.filter(in_force(day), programme=programme)
        .select_related("standard", "second_standard")
        .order_by("code", "-version")
    )


def programme_courses(*, programme: Programme) -> QuerySet[Course]:
    return Course.objects.filter(group_memberships__programme=programme).order_by("code")


def programme_groups(*, programme: Programme) -> QuerySet[RequirementGroup]:
    return RequirementGroup.objects.filter(programme=programme).order_by("position", "pk")


def school_enrolment_for_audit(*, school, public_id) -> Enrolment:
    """One enrolment in ``school``'s programmes; another school's raises ``Enrolment.DoesNotExist``."""
    return Enrolment.objects.select_related(
        "programme__school", "learner__user", "intake__centre"
    ).get(public_id=public_id, programme__school=school)
