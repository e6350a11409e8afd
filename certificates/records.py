"""A learner's credit-bank record at one moment: what a transcript shows, as plain data.

One read feeds both renderings of a transcript (the PDF and the signed CLR 2.0 credential), so the
two always say the same thing. Every credit line names where it came from: the outcome, the
recognition standard or conversion rule (with its version) and the ledger entries that moved it.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Prefetch
from django.utils import timezone

from certificates.models import Certificate
from creditbank.audit import programme_audit
from creditbank.models import (
    Accreditation,
    ApplicationStatus,
    Conversion,
    CreditAccount,
    LedgerEntry,
    OutcomeStatus,
    Transfer,
)
from enrolment.models import Enrolment, EnrolmentStatus, Learner


@dataclass(frozen=True)
class OutcomeLine:
    public_id: str
    kind: str
    title: str
    issuing_body: str
    achieved_on: datetime.date
    level: int | None
    credits: Decimal
    standard_code: str
    standard_version: int
    standard_title_en: str
    standard_title_zh: str
    accredited_at: datetime.datetime
    entry_seqs: tuple[int, ...]


@dataclass(frozen=True)
class ConversionLine:
    public_id: str
    outcome_id: str
    outcome_title: str
    programme_code: str
    programme_name_en: str
    programme_name_zh: str
    course_code: str
    course_name_en: str
    course_name_zh: str
    credits: Decimal
    rule_code: str
    rule_version: int
    at: datetime.datetime
    entry_seqs: tuple[int, ...]


@dataclass(frozen=True)
class TransferLine:
    public_id: str
    outcome_id: str
    outcome_title: str
    programme_code: str
    programme_name_en: str
    programme_name_zh: str
    group_name_en: str
    group_name_zh: str
    credits: Decimal
    at: datetime.datetime
    entry_seqs: tuple[int, ...]


@dataclass(frozen=True)
class AuditLine:
    enrolment_id: str
    programme_code: str
    programme_name_en: str
    programme_name_zh: str
    school_name_en: str
    school_name_zh: str
    status: str
    required: Decimal
    earned: Decimal
    exempted: Decimal
    transferred: Decimal
    complete: bool
    completed_on: datetime.date | None


@dataclass(frozen=True)
class CertificateLine:
    serial: str
    name_en: str
    name_zh: str
    issued_on: datetime.date
    status: str
    verification_code: str


@dataclass
class TranscriptRecord:
    learner_id: str
    legal_name: str
    email: str
    account_number: str
    at: datetime.datetime
    outcomes: list[OutcomeLine] = field(default_factory=list)
    conversions: list[ConversionLine] = field(default_factory=list)
    transfers: list[TransferLine] = field(default_factory=list)
    audits: list[AuditLine] = field(default_factory=list)
    certificates: list[CertificateLine] = field(default_factory=list)

    @property
    def balance(self) -> Decimal:
        return sum((o.credits for o in self.outcomes), Decimal(0))


def _seqs(entries) -> tuple[int, ...]:
    return tuple(sorted(e.seq for e in entries))


def transcript_record(*, learner: Learner, at: datetime.datetime | None = None) -> TranscriptRecord:
    """The learner's record now: accredited outcomes, active conversions and transfers, every
    programme audit and the valid certificates, each with its provenance."""
    at = at or timezone.now()
    account = CreditAccount.objects.filter(learner=learner).first()
    record = TranscriptRecord(
        learner_id=str(learner.public_id),
        legal_name=learner.legal_name or learner.user.email,
        email=learner.user.email,
        account_number=account.number if account else "",
        at=at,
    )
    entries = Prefetch("entries", queryset=LedgerEntry.objects.order_by("seq"), to_attr="moves")
    for acc in (
        Accreditation.objects.filter(outcome__account__learner=learner, outcome__status=OutcomeStatus.ACCREDITED)
        .select_related("standard", "outcome")
        .prefetch_related(Prefetch("outcome__entries", queryset=LedgerEntry.objects.order_by("seq"), to_attr="moves"))
        .order_by("outcome__achieved_on", "pk")
    ):
        o = acc.outcome
        record.outcomes.append(
            OutcomeLine(
                public_id=str(o.public_id),
                kind=o.kind,
                title=o.title,
                issuing_body=o.issuing_body_name,
                achieved_on=o.achieved_on,
                level=o.level,
                credits=acc.credits,
                standard_code=acc.standard.code,
                standard_version=acc.standard.version,
                standard_title_en=acc.standard.title_en,
                standard_title_zh=acc.standard.title_zh,
                accredited_at=acc.at,
                entry_seqs=_seqs(o.moves),
            )
        )
    for c in (
        Conversion.objects.filter(learner=learner, status=ApplicationStatus.ACTIVE)
        .select_related("outcome", "programme", "course", "rule")
        .prefetch_related(entries)
        .order_by("at", "pk")
    ):
        record.conversions.append(
            ConversionLine(
                public_id=str(c.public_id),
                outcome_id=str(c.outcome.public_id),
                outcome_title=c.outcome.title,
                programme_code=c.programme.code,
                programme_name_en=c.programme.name_en,
                programme_name_zh=c.programme.name_zh,
                course_code=c.course.code,
                course_name_en=c.course.name_en,
                course_name_zh=c.course.name_zh,
                credits=c.credits,
                rule_code=c.rule.code,
                rule_version=c.rule.version,
                at=c.at,
                entry_seqs=_seqs(c.moves),
            )
        )
    for t in (
        Transfer.objects.filter(learner=learner, status=ApplicationStatus.ACTIVE)
        .select_related("outcome", "programme", "group")
        .prefetch_related(entries)
        .order_by("at", "pk")
    ):
        record.transfers.append(
            TransferLine(
                public_id=str(t.public_id),
                outcome_id=str(t.outcome.public_id),
                outcome_title=t.outcome.title,
                programme_code=t.programme.code,
                programme_name_en=t.programme.name_en,
                programme_name_zh=t.programme.name_zh,
                group_name_en=t.group.name_en,
                group_name_zh=t.group.name_zh,
                credits=t.credits,
                at=t.at,
                entry_seqs=_seqs(t.moves),
            )
        )
    for enrolment in (
        Enrolment.objects.filter(learner=learner, status__in=[EnrolmentStatus.ACTIVE, EnrolmentStatus.COMPLETED])
        .select_related("programme__school", "learner")
        .order_by("applied_at", "pk")
    ):
        audit = programme_audit(enrolment)
        completed = enrolment.history.filter(to_status=EnrolmentStatus.COMPLETED).order_by("-at").first()
        record.audits.append(
            AuditLine(
                enrolment_id=str(enrolment.public_id),
                programme_code=enrolment.programme.code,
                programme_name_en=enrolment.programme.name_en,
                programme_name_zh=enrolment.programme.name_zh,
                school_name_en=enrolment.programme.school.name_en,
                school_name_zh=enrolment.programme.school.name_zh,
                status=enrolment.status,
                required=audit.required,
                earned=audit.earned,
                exempted=audit.exempted,
                transferred=audit.transferred,
                complete=audit.complete,
                completed_on=timezone.localdate(completed.at) if completed else None,
            )
        )
    for cert in (
        Certificate.objects.filter(request__learner=learner, credential__isnull=False)
        .select_related("request__type")
        .order_by("issued_on", "pk")
    ):
        record.certificates.append(
            CertificateLine(
                serial=cert.serial,
                name_en=cert.request.type.name_en,
                name_zh=cert.request.type.name_zh,
                issued_on=cert.issued_on,
                status=cert.status_on(),
                verification_code=cert.verification_code,
            )
        )
    return record
