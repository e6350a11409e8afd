"""Writes on the credit bank: one function a use case, each in one transaction.

Every function that moves credits locks the learner's credit account first and makes its checks
under that lock, so concurrent requests for the same credits are served one after the other and
the second sees what the first did.
"""

from __future__ import annotations

import datetime
import logging
import secrets
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from creditbank import ledger
from creditbank.errors import CreditBankError
from creditbank.evidence import check_evidence
from creditbank.models import (
    OUTCOME_TRANSITIONS,
    Accreditation,
    ApplicationStatus,
    Conversion,
    ConversionRule,
    CreditAccount,
    EntryKind,
    LearningOutcome,
    LedgerEntry,
    OutcomeEvidence,
    OutcomeKind,
    OutcomeStatus,
    OutcomeStatusChange,
    RecognitionStandard,
    Transfer,
)
from creditbank.selectors import OPEN_ENROLMENT_STATES
from creditbank.signals import outcome_revoked
from enrolment.models import (
    CourseResult,
    Enrolment,
    EnrolmentStatus,
    GroupCourse,
    Learner,
    RequirementGroup,
)

logger = logging.getLogger(__name__)
OS = OutcomeStatus
ACTIVE = ApplicationStatus.ACTIVE
REVERSED = ApplicationStatus.REVERSED

# --- Accounts -----------------------------------------------------------------------------------


def account_number(body: str) -> str:
    """The account number of a 13-digit ``body`` (year + 9 digits): CB2026-482173905-7, the last
    digit a Luhn check digit so a mistyped number is caught."""
    return f"CB{body[:4]}-{body[4:]}-{_luhn_digit(body)}"


def _luhn_digit(digits: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            d = d - 9 if d > 9 else d
        total += d
    return str((10 - total % 10) % 10)


def new_account_number() -> str:
    """CB + year + 9 random digits + a check digit, e.g. CB2026-482173905-7 (typos are caught)."""
    return account_number(f"{timezone.now().year}{secrets.randbelow(10**9):09d}")


@transaction.atomic
def account_open(*, learner: Learner) -> CreditAccount:
    existing = CreditAccount.objects.filter(learner=learner).first()
    if existing:
        return existing
    for _attempt in range(5):
        try:
            with transaction.atomic():
                return CreditAccount.objects.create(learner=learner, number=new_account_number())
        except IntegrityError:
            existing = CreditAccount.objects.filter(learner=learner).first()
            if existing:
                return existing
    raise RuntimeError("could not find a free account number")


def account_for(learner: Learner) -> CreditAccount:
    return CreditAccount.objects.filter(learner=learner).first() or account_open(learner=learner)


# --- Outcome life cycle -------------------------------------------------------------------------


def _move(outcome: LearningOutcome, *, to: str, actor, reason: str = "") -> None:
    if to not in OUTCOME_TRANSITIONS.get(outcome.status, frozenset()):
        raise CreditBankError(
            _("An outcome that is %(from)s cannot become %(to)s.")
            % {"from": OS(outcome.status).label, "to": OS(to).label}
        )
    OutcomeStatusChange.objects.create(
        outcome=outcome, from_status=outcome.status, to_status=to, actor=actor, reason=reason
    )
    outcome.status = to
    outcome.save(update_fields=["status"])


def _locked_outcome(outcome: LearningOutcome) -> LearningOutcome:
    ledger.lock_account(outcome.account_id)
    return LearningOutcome.objects.select_for_update().select_related("account__learner__user").get(pk=outcome.pk)


@transaction.atomic
def outcome_submit(*, learner: Learner, files: list, **fields) -> LearningOutcome:
    """A learner submits an outcome with its evidence for review. Nothing is kept if a file is bad."""
    if fields.get("kind") == OutcomeKind.COURSE_RESULT:
        raise CreditBankError(_("Course results are deposited by the portal when they are recorded."))
    if not files:
        raise CreditBankError(_("Attach at least one evidence file (PDF, JPEG or PNG)."))
    checked = [(upload, *check_evidence(upload)) for upload in files]
    expires = fields.get("expires_on")
    if expires and expires <= fields["achieved_on"]:
        raise CreditBankError(_("The expiry date must come after the date it was achieved."))
    if fields["achieved_on"] > timezone.localdate():
        raise CreditBankError(_("The date achieved is in the future."))
    body = fields.get("issuing_body")
    if body is not None and not fields.get("issuing_body_name"):
        fields["issuing_body_name"] = body.name_en
    outcome = LearningOutcome(account=account_for(learner), status=OS.SUBMITTED, **fields)
    outcome.full_clean()
    outcome.save()
    OutcomeStatusChange.objects.create(outcome=outcome, to_status=OS.SUBMITTED, actor=learner.user)
    for upload, content_type, digest in checked:
        OutcomeEvidence.objects.create(
            outcome=outcome,
            file=upload,
            original_name=upload.name[:200],
            content_type=content_type,
            size=upload.size,
            sha256=digest,
        )
    return outcome


@transaction.atomic
def outcome_start_review(*, outcome: LearningOutcome, officer) -> LearningOutcome:
    outcome = _locked_outcome(outcome)
    _refuse_own(outcome, officer)
    _move(outcome, to=OS.UNDER_REVIEW, actor=officer)
    return outcome


def _refuse_own(outcome: LearningOutcome, officer) -> None:
    if outcome.account.learner.user_id == officer.pk:
        raise CreditBankError(_("An officer never decides on their own learning outcome."))


def _current(outcome: LearningOutcome, *, years: int, today: datetime.date) -> bool:
    try:
        cutoff = today.replace(year=today.year - years)
    except ValueError:  # 29 February
        cutoff = today.replace(year=today.year - years, day=28)
    return outcome.achieved_on >= cutoff


def _check_usable(outcome: LearningOutcome, *, today: datetime.date, years: int | None = None) -> None:
    if outcome.status != OS.ACCREDITED:
        raise CreditBankError(_("Only an accredited outcome can be used; this one is %(status)s.") % {"status": OS(outcome.status).label})
    if outcome.expires_on and outcome.expires_on < today:
        raise CreditBankError(_("This outcome expired on %(day)s.") % {"day": outcome.expires_on.isoformat()})
    years = years or settings.CREDITBANK_CURRENCY_YEARS
    if not _current(outcome, years=years, today=today):
        raise CreditBankError(
            _("This outcome was achieved on %(day)s: only outcomes of the last %(years)s years count.")
            % {"day": outcome.achieved_on.isoformat(), "years": years}
        )


@transaction.atomic
def outcome_accredit(
    *, outcome: LearningOutcome, standard: RecognitionStandard, officer, reason: str, credits: Decimal | None = None
) -> Accreditation:
    """Accredit an outcome against a standard: the standard's credits enter the ledger once."""
    outcome = _locked_outcome(outcome)
    _refuse_own(outcome, officer)
    if not reason.strip():
        raise CreditBankError(_("Say why the outcome meets the standard."))
    today = timezone.localdate()
    if outcome.status not in {OS.SUBMITTED, OS.UNDER_REVIEW}:
        raise CreditBankError(_("Only a submitted outcome can be accredited; this one is %(status)s.") % {"status": OS(outcome.status).label})
    if not standard.in_force(today):
        raise CreditBankError(_("Standard %(std)s is not in force today.") % {"std": str(standard)})
    if standard.outcome_kinds and outcome.kind not in standard.outcome_kinds:
        raise CreditBankError(_("Standard %(std)s does not accept this kind of outcome.") % {"std": str(standard)})
    accepted = set(standard.accepted_bodies.values_list("pk", flat=True))
    if accepted and outcome.issuing_body_id not in accepted:
        raise CreditBankError(_("Standard %(std)s does not accept outcomes issued by %(body)s.") % {"std": str(standard), "body": outcome.issuing_body_name})
    if outcome.level < standard.level:
        raise CreditBankError(
            _("The outcome's level (%(have)s) is below the standard's (%(need)s).") % {"have": outcome.level, "need": standard.level}
        )
    if outcome.expires_on and outcome.expires_on < today:
        raise CreditBankError(_("This outcome expired on %(day)s.") % {"day": outcome.expires_on.isoformat()})
    if not _current(outcome, years=standard.currency_years, today=today):
        raise CreditBankError(
            _("This outcome was achieved on %(day)s: the standard accepts outcomes of the last %(years)s years.")
            % {"day": outcome.achieved_on.isoformat(), "years": standard.currency_years}
        )
    granted = standard.credit_value if credits is None else credits
    if granted < 0 or granted > standard.credit_value:
        raise CreditBankError(_("Grant between 0 and %(max)s credits.") % {"max": standard.credit_value})
    accreditation = Accreditation.objects.create(
        outcome=outcome, standard=standard, credits=granted, officer=officer, reason=reason
    )
    _move(outcome, to=OS.ACCREDITED, actor=officer, reason=reason)
    ledger.post(
        account=outcome.account,
        kind=EntryKind.ACCREDITATION,
        amount=granted,
        outcome=outcome,
        key=f"accredit:{outcome.pk}",
        reason=_("Accredited under %(std)s: %(why)s") % {"std": str(standard), "why": reason},
        actor=officer,
        level=outcome.level,
    )
    return accreditation


@transaction.atomic
def outcome_reject(*, outcome: LearningOutcome, officer, reason: str) -> LearningOutcome:
    outcome = _locked_outcome(outcome)
    _refuse_own(outcome, officer)
    if not reason.strip():
        raise CreditBankError(pgettext("learning outcome", "Give the learner a reason for the rejection."))
    _move(outcome, to=OS.REJECTED, actor=officer, reason=reason)
    return outcome


# --- Course results become deposits -------------------------------------------------------------


# Results deposited per step: bounds the parameters of each query and the rows held at once.
DEPOSIT_CHUNK = 2000


@transaction.atomic
def results_deposit(*, results: list[CourseResult]) -> list[LedgerEntry]:
    """Deposit the credits of passed results; each result is deposited at most once.

    A CSV import sends every result of its file here at once (100,000 in the benchmark), so the
    work is batched: a fixed number of queries per chunk of results, not per result. Every
    account is locked once, up front and in primary-key order, before anything is written, so a
    concurrent import or posting over the same learners waits instead of deadlocking. Outcomes
    and entries are inserted in bulk; the ledger's hash chain is extended by ``ledger.post_many``.
    Each enrolment touched is audited for completion once, after every deposit is in.
    """
    passed_ids = list(dict.fromkeys(r.pk for r in results if r.passed))
    if not passed_ids:
        return []
    enrolment_learner = _learners_of_results(passed_ids)
    accounts = _accounts_for_learners(sorted(set(enrolment_learner.values())))
    ledger.lock_accounts([a.pk for a in accounts.values()])
    entries: list[LedgerEntry] = []
    for start in range(0, len(passed_ids), DEPOSIT_CHUNK):
        chunk = passed_ids[start : start + DEPOSIT_CHUNK]
        entries.extend(_deposit_chunk(chunk, enrolment_learner=enrolment_learner, accounts=accounts))
    _complete_many(list(enrolment_learner))
    return entries


def _learners_of_results(result_ids: list[int]) -> dict[int, int]:
    """enrolment id -> learner id for the enrolments of ``result_ids``, in first-seen order."""
    mapping: dict[int, int] = {}
    for start in range(0, len(result_ids), DEPOSIT_CHUNK):
        rows = (
            CourseResult.objects.filter(pk__in=result_ids[start : start + DEPOSIT_CHUNK])
            .order_by("enrolment_id")
            .values_list("enrolment_id", "enrolment__learner_id")
            .distinct()
        )
        mapping.update(rows)
    return mapping


def _accounts_for_learners(learner_ids: list[int]) -> dict[int, CreditAccount]:
    """learner id -> credit account, opening the (rare) missing ones as ``account_for`` would."""
    accounts: dict[int, CreditAccount] = {}
    for start in range(0, len(learner_ids), DEPOSIT_CHUNK):
        for account in CreditAccount.objects.filter(learner_id__in=learner_ids[start : start + DEPOSIT_CHUNK]):
            accounts[account.learner_id] = account
    missing = [pk for pk in learner_ids if pk not in accounts]
    for learner in Learner.objects.filter(pk__in=missing).order_by("pk") if missing else []:
        accounts[learner.pk] = account_open(learner=learner)
    return accounts


def _deposit_chunk(
    result_ids: list[int], *, enrolment_learner: dict[int, int], accounts: dict[int, CreditAccount]
) -> list[LedgerEntry]:
    """The outcomes and deposit entries of one chunk of passed results, in a few bulk queries."""
    rows = list(
        CourseResult.objects.filter(pk__in=result_ids).select_related("course__school", "enrolment")
    )
    outcomes = {o.course_result_id: o for o in LearningOutcome.objects.filter(course_result_id__in=result_ids)}
    fresh = []
    for result in rows:
        if result.pk in outcomes:
            continue
        course = result.course
        fresh.append(
            LearningOutcome(
                account=accounts[enrolment_learner[result.enrolment_id]],
                course_result=result,
                kind=OutcomeKind.COURSE_RESULT,
                title=f"{course.code} {course.name_en}",
                issuing_body_name=course.school.name_en,
                achieved_on=result.assessed_on,
                level=course.level,
                study_hours=course.study_hours,
                grade=result.grade,
                status=OS.ACCREDITED,
            )
        )
    LearningOutcome.objects.bulk_create(fresh, batch_size=DEPOSIT_CHUNK)
    if any(o.pk is None for o in fresh):  # a backend that cannot return ids from a bulk insert
        fresh = list(LearningOutcome.objects.filter(course_result_id__in=[o.course_result_id for o in fresh]))
    outcomes.update((o.course_result_id, o) for o in fresh)
    drafts = []
    for result in rows:
        course = result.course
        drafts.append(
            LedgerEntry(
                account=accounts[enrolment_learner[result.enrolment_id]],
                kind=EntryKind.DEPOSIT,
                amount=course.credits,
                outcome=outcomes[result.pk],
                idempotency_key=f"result:{result.pk}",
                reason=_("Passed %(course)s with %(score)s") % {"course": course.code, "score": result.score},
                actor_id=result.recorded_by_id,
                level=course.level,
                programme_id=result.enrolment.programme_id,
            )
        )
    return [entry for entry, _created in ledger.post_many(drafts)]


def _complete_many(enrolment_ids: list[int]) -> None:
    """``complete_if_done`` for many enrolments: one query loads the studying ones among them,
    then each is audited once, however many of its results the batch held."""
    ids = sorted(enrolment_ids)
    for start in range(0, len(ids), DEPOSIT_CHUNK):
        chunk = ids[start : start + DEPOSIT_CHUNK]
        studying = list(Enrolment.objects.filter(pk__in=chunk, status=EnrolmentStatus.ACTIVE).order_by("pk"))
        _complete_audited_many(_may_be_complete(studying))


def _complete_audited_many(enrolments: list[Enrolment]) -> None:
    """``_complete_if_audit_done`` for many: the audits read set-wise, the completions in bulk."""
    from creditbank.audit import programme_audits
    from enrolment import services as enrolment_services

    audits = programme_audits(enrolments, provenance=False)  # only ``complete`` is read
    done = [e for e in enrolments if audits[e.pk].complete]
    if done:
        enrolment_services.enrolments_complete(
            enrolments=done, actor=None, reason=_("The credit-bank audit found every requirement met.")
        )


def _may_be_complete(enrolments: list[Enrolment]) -> list[Enrolment]:
    """The enrolments whose audit could find them complete, in four queries for all of them.

    A necessary condition only, so the full audit (seven queries) runs just for learners who
    may have finished: the programme has requirement groups, and every compulsory course that
    carries credits has a pass (in any of the learner's enrolments in it) or an active
    conversion, as ``programme_audit`` counts them. Elective minimums are left to the audit.
    An import of one course's results then audits only the learners it may have finished.
    """
    if not enrolments:
        return []
    programme_ids = {e.programme_id for e in enrolments}
    learner_ids = sorted({e.learner_id for e in enrolments})
    with_groups = set(
        RequirementGroup.objects.filter(programme_id__in=programme_ids).values_list("programme_id", flat=True)
    )
    compulsory: dict[int, set[int]] = {pk: set() for pk in programme_ids}
    for programme_id, course_id in GroupCourse.objects.filter(
        programme_id__in=programme_ids, group__kind=RequirementGroup.Kind.COMPULSORY, course__credits__gt=0
    ).values_list("programme_id", "course_id"):
        compulsory[programme_id].add(course_id)
    done: dict[tuple[int, int], set[int]] = {}
    passes = CourseResult.objects.filter(
        passed=True, enrolment__learner_id__in=learner_ids, enrolment__programme_id__in=programme_ids
    ).values_list("enrolment__learner_id", "enrolment__programme_id", "course_id")
    exemptions = Conversion.objects.filter(
        status=ACTIVE, learner_id__in=learner_ids, programme_id__in=programme_ids
    ).values_list("learner_id", "programme_id", "course_id")
    for learner_id, programme_id, course_id in [*passes, *exemptions]:
        done.setdefault((learner_id, programme_id), set()).add(course_id)
    return [
        e
        for e in enrolments
        if e.programme_id in with_groups
        and compulsory[e.programme_id] <= done.get((e.learner_id, e.programme_id), set())
    ]


def _complete_if_audit_done(enrolment: Enrolment) -> bool:
    """``complete_if_done`` for an enrolment just loaded as studying (no second read)."""
    from creditbank.audit import programme_audit
    from enrolment import services as enrolment_services

    if not programme_audit(enrolment).complete:
        return False
    enrolment_services.enrolment_complete(
        enrolment=enrolment, actor=None, reason=_("The credit-bank audit found every requirement met.")
    )
    return True


# --- Conversion ("Replacement of Courses") and transfer -----------------------------------------


def _lock_enrolment_context(enrolment: Enrolment, outcome: LearningOutcome):
    if outcome.account.learner_id != enrolment.learner_id:
        raise CreditBankError(_("The outcome and the enrolment belong to different learners."))
    if enrolment.status not in OPEN_ENROLMENT_STATES:
        raise CreditBankError(_("Credits can be applied only to an accepted or studying enrolment."))


def _recognised_so_far(learner_id: int, programme_id: int) -> Decimal:
    conversions = Conversion.objects.filter(learner_id=learner_id, programme_id=programme_id, status=ACTIVE)
    transfers = Transfer.objects.filter(learner_id=learner_id, programme_id=programme_id, status=ACTIVE)
    total = Decimal(0)
    for qs in (conversions, transfers):
        total += qs.aggregate(s=Sum("credits"))["s"] or Decimal(0)
    return total


def _check_share(enrolment: Enrolment, adding: Decimal) -> None:
    programme = enrolment.programme
    limit = (programme.total_credits * settings.CREDITBANK_MAX_RECOGNISED_SHARE).quantize(Decimal("0.1"))
    so_far = _recognised_so_far(enrolment.learner_id, programme.pk)
    if so_far + adding > limit:
        raise CreditBankError(
            _("At most %(limit)s of this programme's %(total)s credits may come from transfer and conversion; %(used)s already do.")
            % {"limit": limit, "total": ledger.credits(programme.total_credits), "used": ledger.credits(so_far)}
        )


def _check_source_cap(outcome: LearningOutcome, adding: Decimal, today: datetime.date) -> None:
    cap = settings.CREDITBANK_YEARLY_SOURCE_CAP
    same_source = Q(outcome__issuing_body_name=outcome.issuing_body_name)
    if outcome.issuing_body_id:
        same_source |= Q(outcome__issuing_body_id=outcome.issuing_body_id)
    this_year = Q(at__year=today.year, status=ACTIVE, learner_id=outcome.account.learner_id)
    used = Decimal(0)
    for model in (Conversion, Transfer):
        used += model.objects.filter(this_year & same_source).aggregate(s=Sum("credits"))["s"] or Decimal(0)
    if used + adding > cap:
        raise CreditBankError(
            _("At most %(cap)s credits a year may come from %(body)s; %(used)s already have this year.")
            % {"cap": cap, "body": outcome.issuing_body_name, "used": ledger.credits(used)}
        )


def _check_available(outcome: LearningOutcome, needed: Decimal) -> None:
    available = ledger.outcome_available(outcome)
    if needed > available:
        raise CreditBankError(
            _("This outcome has %(available)s credits left to apply; %(needed)s are needed.")
            % {"available": available, "needed": needed}
        )


def _check_limits(outcome: LearningOutcome, enrolment: Enrolment, credits: Decimal, today: datetime.date) -> None:
    """What every application of credits must respect, checked under the account lock."""
    _check_available(outcome, credits)
    _check_share(enrolment, credits)
    _check_source_cap(outcome, credits, today)


@transaction.atomic
def conversion_apply(
    *,
    outcome: LearningOutcome,
    enrolment: Enrolment,
    course,
    rule: ConversionRule,
    officer,
    second_outcome: LearningOutcome | None = None,
) -> Conversion:
    """Apply a conversion rule: the outcome exempts ``course`` in the enrolment's programme."""
    outcome = _locked_outcome(outcome)
    _refuse_own(outcome, officer)
    enrolment = Enrolment.objects.select_for_update().select_related("programme").get(pk=enrolment.pk)
    _lock_enrolment_context(enrolment, outcome)
    today = timezone.localdate()
    if rule.programme_id != enrolment.programme_id:
        raise CreditBankError(_("Rule %(rule)s is for another programme.") % {"rule": str(rule)})
    if not rule.in_force(today):
        raise CreditBankError(_("Rule %(rule)s is not in force today.") % {"rule": str(rule)})
    if not rule.courses.filter(pk=course.pk).exists():
        raise CreditBankError(_("Rule %(rule)s does not replace %(course)s.") % {"rule": str(rule), "course": course.code})
    if not GroupCourse.objects.filter(programme_id=enrolment.programme_id, course=course).exists():
        raise CreditBankError(_("%(course)s is not part of this programme.") % {"course": course.code})
    _check_usable(outcome, today=today, years=rule.max_age_years)
    if outcome.accreditation.standard.code != rule.standard.code:
        raise CreditBankError(
            _("Rule %(rule)s needs an outcome accredited under %(std)s.") % {"rule": str(rule), "std": rule.standard.code}
        )
    if rule.min_grade and (outcome.grade or "") < rule.min_grade:
        raise CreditBankError(_("Rule %(rule)s needs at least grade %(grade)s.") % {"rule": str(rule), "grade": rule.min_grade})
    if rule.second_standard_id:
        if second_outcome is None or second_outcome.pk == outcome.pk:
            raise CreditBankError(
                _("Rule %(rule)s converges two certificates: it needs a second outcome accredited under %(std)s.")
                % {"rule": str(rule), "std": rule.second_standard.code}
            )
        second_outcome = LearningOutcome.objects.select_related("accreditation__standard").get(pk=second_outcome.pk)
        if second_outcome.account_id != outcome.account_id:
            raise CreditBankError(_("Both outcomes must belong to the learner."))
        _check_usable(second_outcome, today=today, years=rule.max_age_years)
        if second_outcome.accreditation.standard.code != rule.second_standard.code:
            raise CreditBankError(
                _("The second outcome must be accredited under %(std)s.") % {"std": rule.second_standard.code}
            )
    elif second_outcome is not None:
        raise CreditBankError(_("Rule %(rule)s takes one outcome only.") % {"rule": str(rule)})
    if outcome.level < course.level:
        raise CreditBankError(
            _("The outcome's level (%(have)s) is below the course's (%(need)s).") % {"have": outcome.level, "need": course.level}
        )
    if CourseResult.objects.filter(enrolment__learner_id=enrolment.learner_id, enrolment__programme_id=enrolment.programme_id, course=course, passed=True).exists():
        raise CreditBankError(_("%(course)s is already passed: there is nothing to exempt.") % {"course": course.code})
    if Conversion.objects.filter(learner_id=enrolment.learner_id, programme_id=enrolment.programme_id, course=course, status=ACTIVE).exists():
        raise CreditBankError(_("%(course)s is already exempted in this programme.") % {"course": course.code})
    credits = rule.credits
    _check_limits(outcome, enrolment, credits, today)
    conversion = Conversion.objects.create(
        outcome=outcome,
        second_outcome=second_outcome,
        enrolment=enrolment,
        learner_id=enrolment.learner_id,
        programme_id=enrolment.programme_id,
        course=course,
        rule=rule,
        credits=credits,
        approved_by=officer,
    )
    ledger.post(
        account=outcome.account,
        kind=EntryKind.CONVERSION,
        amount=-credits,
        outcome=outcome,
        key=f"conversion:{conversion.pk}",
        reason=_("%(course)s exempted under %(rule)s") % {"course": course.code, "rule": str(rule)},
        actor=officer,
        level=outcome.level,
        rule=rule,
        programme=enrolment.programme,
        conversion=conversion,
    )
    complete_if_done(enrolment=enrolment)
    return conversion


@transaction.atomic
def transfer_apply(
    *, outcome: LearningOutcome, enrolment: Enrolment, group: RequirementGroup, credits: Decimal, officer
) -> Transfer:
    """Apply credits of an outcome earned elsewhere toward a requirement group of the programme."""
    outcome = _locked_outcome(outcome)
    _refuse_own(outcome, officer)
    enrolment = Enrolment.objects.select_for_update().select_related("programme").get(pk=enrolment.pk)
    _lock_enrolment_context(enrolment, outcome)
    today = timezone.localdate()
    if group.programme_id != enrolment.programme_id:
        raise CreditBankError(_("That requirement group belongs to another programme."))
    if credits <= 0:
        raise CreditBankError(_("Transfer a positive number of credits."))
    _check_usable(outcome, today=today)
    if outcome.course_result_id and outcome.course_result.enrolment.programme_id == enrolment.programme_id:
        raise CreditBankError(_("A result of this programme already counts toward it; it cannot be transferred in."))
    levels = list(group.courses.values_list("level", flat=True))
    if levels and outcome.level < min(levels):
        raise CreditBankError(
            _("The outcome's level (%(have)s) is below the level of this group's courses (%(need)s).")
            % {"have": outcome.level, "need": min(levels)}
        )
    if Transfer.objects.filter(outcome=outcome, programme_id=enrolment.programme_id, status=ACTIVE).exists():
        raise CreditBankError(_("Credits of this outcome are already transferred to this programme."))
    _check_limits(outcome, enrolment, credits, today)
    transfer = Transfer.objects.create(
        outcome=outcome,
        enrolment=enrolment,
        learner_id=enrolment.learner_id,
        programme_id=enrolment.programme_id,
        group=group,
        credits=credits,
        approved_by=officer,
    )
    ledger.post(
        account=outcome.account,
        kind=EntryKind.TRANSFER,
        amount=-credits,
        outcome=outcome,
        key=f"transfer:{transfer.pk}",
        reason=_("Transferred to %(programme)s") % {"programme": enrolment.programme.code},
        actor=officer,
        level=outcome.level,
        programme=enrolment.programme,
        transfer=transfer,
    )
    complete_if_done(enrolment=enrolment)
    return transfer


# --- Revocation ---------------------------------------------------------------------------------


@transaction.atomic
def outcome_revoke(*, outcome: LearningOutcome, officer, reason: str) -> list[LedgerEntry]:
    """Revoke an accredited outcome: reverse its entries, undo what depended on it, tell the apps above."""
    outcome = _locked_outcome(outcome)
    _refuse_own(outcome, officer)
    if not reason.strip():
        raise CreditBankError(_("Give a reason for the revocation."))
    _move(outcome, to=OS.REVOKED, actor=officer, reason=reason)
    now = timezone.now()
    conversions = list(
        Conversion.objects.select_for_update().filter(Q(outcome=outcome) | Q(second_outcome=outcome), status=ACTIVE)
    )
    transfers = list(Transfer.objects.select_for_update().filter(outcome=outcome, status=ACTIVE))
    for item in [*conversions, *transfers]:
        item.status, item.reversed_at, item.reversal_reason = REVERSED, now, reason
        item.save(update_fields=["status", "reversed_at", "reversal_reason"])
    # Debits are reversed before credits, so the running balance never dips below zero.
    originals = list(
        LedgerEntry.objects.filter(Q(outcome=outcome) | Q(conversion__in=conversions), reversed_by__isnull=True)
        .exclude(kind=EntryKind.REVERSAL)
        .order_by("amount", "seq")
    )
    reversals = []
    for original in originals:
        entry, _new = ledger.post(
            account=original.account,
            kind=EntryKind.REVERSAL,
            amount=-original.amount,
            outcome=original.outcome,
            key=f"reverse:{original.pk}",
            reason=_("Reversal of entry %(seq)s: %(why)s") % {"seq": original.seq, "why": reason},
            actor=officer,
            level=original.level,
            rule=original.rule,
            programme=original.programme,
            conversion=original.conversion,
            transfer=original.transfer,
            reverses=original,
        )
        reversals.append(entry)
    outcome_revoked.send(
        sender=LearningOutcome, outcome=outcome, conversions=conversions, transfers=transfers, reason=reason
    )
    return reversals


# --- Standards and rules: versioned, frozen once used -------------------------------------------


def standard_in_use(standard: RecognitionStandard) -> bool:
    return standard.accreditations.exists() or standard.rules.exists() or standard.second_rules.exists()


@transaction.atomic
def standard_save(*, standard: RecognitionStandard, accepted_bodies=None) -> RecognitionStandard:
    if standard.pk and standard_in_use(RecognitionStandard.objects.get(pk=standard.pk)):
        raise CreditBankError(
            _("Standard %(std)s is in use and frozen: publish a new version instead.") % {"std": str(standard)}
        )
    standard.full_clean()
    standard.save()
    if accepted_bodies is not None:
        standard.accepted_bodies.set(accepted_bodies)
    return standard


def _successor(model, current, *, effective_from: datetime.date, changes: dict):
    """The next version of a versioned record (standard or rule); the current one closes the day
    before. Closing a version's validity is not an edit of its meaning: its terms stay as used."""
    latest = model.objects.filter(code=current.code).order_by("-version").first()
    if latest.pk != current.pk:
        raise CreditBankError(_("Only the latest version of %(code)s gets a successor.") % {"code": current.code})
    if effective_from <= current.effective_from:
        raise CreditBankError(_("The new version must start after the current one started."))
    successor = model.objects.get(pk=current.pk)
    successor.pk = None
    successor.version = current.version + 1
    successor.effective_from = effective_from
    successor.effective_to = None
    successor.created_at = timezone.now()
    for name, value in changes.items():
        setattr(successor, name, value)
    successor.full_clean()
    successor.save()
    model.objects.filter(pk=current.pk).update(effective_to=effective_from - datetime.timedelta(days=1))
    return successor


@transaction.atomic
def standard_new_version(
    *, standard: RecognitionStandard, effective_from: datetime.date, accepted_bodies=None, **changes
) -> RecognitionStandard:
    current = RecognitionStandard.objects.select_for_update().get(pk=standard.pk)
    bodies = list(current.accepted_bodies.all()) if accepted_bodies is None else accepted_bodies
    successor = _successor(RecognitionStandard, current, effective_from=effective_from, changes=changes)
    successor.accepted_bodies.set(bodies)
    return successor


def _check_programme_courses(programme, courses) -> None:
    foreign = [c.code for c in courses if not GroupCourse.objects.filter(programme=programme, course=c).exists()]
    if foreign:
        raise CreditBankError(
            _("Not courses of %(programme)s: %(codes)s") % {"programme": programme.code, "codes": ", ".join(foreign)}
        )


def rule_in_use(rule: ConversionRule) -> bool:
    return rule.conversions.exists()


@transaction.atomic
def rule_save(*, rule: ConversionRule, courses=None) -> ConversionRule:
    if rule.pk and rule_in_use(ConversionRule.objects.get(pk=rule.pk)):
        raise CreditBankError(_("Rule %(rule)s is in use and frozen: publish a new version instead.") % {"rule": str(rule)})
    rule.full_clean()
    rule.save()
    if courses is not None:
        _check_programme_courses(rule.programme, courses)
        rule.courses.set(courses)
    return rule


@transaction.atomic
def rule_new_version(
    *, rule: ConversionRule, effective_from: datetime.date, courses=None, **changes
) -> ConversionRule:
    current = ConversionRule.objects.select_for_update().get(pk=rule.pk)
    courses = list(current.courses.all()) if courses is None else courses
    successor = _successor(ConversionRule, current, effective_from=effective_from, changes=changes)
    _check_programme_courses(successor.programme, courses)
    successor.courses.set(courses)
    return successor


# --- Completion ---------------------------------------------------------------------------------


def complete_if_done(*, enrolment: Enrolment) -> bool:
    """The credit bank's audit decides completion; the enrolment service carries it out."""
    from creditbank.audit import programme_audit
    from enrolment import services as enrolment_services

    enrolment = Enrolment.objects.get(pk=enrolment.pk)
    if enrolment.status != EnrolmentStatus.ACTIVE:
        return False
    if not programme_audit(enrolment).complete:
        return False
    enrolment_services.enrolment_complete(
        enrolment=enrolment, actor=None, reason=_("The credit-bank audit found every requirement met.")
    )
    return True


# --- Expiry -------------------------------------------------------------------------------------


def outcomes_expire(*, today: datetime.date | None = None) -> int:
    """Expire the unused credits of accredited outcomes whose certificate has expired.

    Each outcome expires once (its idempotency key); each in its own transaction, so one learner's
    problem never holds back the others. Returns how many outcomes expired.
    """
    today = today or timezone.localdate()
    expired = 0
    candidates = LearningOutcome.objects.filter(status=OS.ACCREDITED, expires_on__lt=today).values_list("pk", flat=True)
    for outcome_id in candidates.iterator(chunk_size=500):
        with transaction.atomic():
            outcome = _locked_outcome(LearningOutcome.objects.only("pk", "account_id").get(pk=outcome_id))
            left = ledger.outcome_available(outcome)
            if left <= 0:
                continue
            _entry, created = ledger.post(
                account=outcome.account,
                kind=EntryKind.EXPIRY,
                amount=-left,
                outcome=outcome,
                key=f"expiry:{outcome.pk}",
                reason=_("Certificate expired on %(day)s") % {"day": outcome.expires_on.isoformat()},
                level=outcome.level,
            )
            expired += int(created)
    return expired


def _delete_files(names: list[str]) -> None:
    from django.core.files.storage import default_storage

    for name in names:
        try:
            default_storage.delete(name)
        except OSError:
            # The row no longer names the person; a file left behind is found by its path.
            logger.exception("evidence erase: could not delete file %s", name)


def evidence_erase(*, learner: Learner) -> int:
    """Erase the evidence ``learner`` uploaded (closing the account): the files, once the caller's
    transaction commits (a rollback must lose nothing), and their original names now. The rows
    keep their random storage path so each outcome's record stays whole; a download of one now
    answers "not found". Returns how many files are deleted."""
    evidence = OutcomeEvidence.objects.filter(outcome__account__learner=learner)
    files = [name for name in evidence.values_list("file", flat=True) if name]
    evidence.update(original_name="")
    transaction.on_commit(lambda: _delete_files(files))
    return len(files)
