"""The credit bank: accounts, learning outcomes, recognition standards, conversion rules, and the
append-only credit ledger.

Ledger rules (DESIGN.md): entries are never updated or deleted — a correction is a reversing
entry; a balance is the sum of the ledger and never negative. Every entry carries the running
balance and a hash chaining it to the account's previous entry, so ``manage.py verify_ledger``
finds any row changed behind the application's back. On PostgreSQL a trigger refuses UPDATE and
DELETE on the table; on every database the model and its queryset refuse them too.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from enrolment.models import (
    QF_LEVELS,
    Course,
    CourseResult,
    Enrolment,
    Learner,
    Programme,
    RequirementGroup,
)
from ouc_portal.i18n import pick
from schools.models import PartnerAssociation

CREDITS = {"max_digits": 7, "decimal_places": 1}


class CreditAccount(models.Model):
    learner = models.OneToOneField(Learner, on_delete=models.PROTECT, related_name="credit_account")
    number = models.CharField(_("account number"), max_length=20, unique=True)
    opened_at = models.DateTimeField(_("opened"), default=timezone.now)

    class Meta:
        verbose_name = _("credit account")
        verbose_name_plural = _("credit accounts")

    def __str__(self) -> str:
        return self.number


class OutcomeKind(models.TextChoices):
    COURSE_RESULT = "course-result", _("Course result")
    VOCATIONAL = "vocational", _("Vocational qualification certificate")
    ONE_PLUS_X = "1+x", _('"1+X" certificate')
    TRAINING = "training", _("Non-degree training")
    WORK_EXPERIENCE = "work-experience", _("Work experience")
    AWARD = "award", _("Award")
    DIPLOMA = "diploma", _("Academic diploma")


class OutcomeStatus(models.TextChoices):
    SUBMITTED = "submitted", _("Submitted")
    UNDER_REVIEW = "under-review", _("Under review")
    ACCREDITED = "accredited", _("Accredited")
    REJECTED = "rejected", pgettext_lazy("learning outcome", "Rejected")
    REVOKED = "revoked", _("Revoked")


OS = OutcomeStatus
OUTCOME_TRANSITIONS: dict[str, frozenset[str]] = {
    OS.SUBMITTED: frozenset({OS.UNDER_REVIEW, OS.ACCREDITED, OS.REJECTED}),
    OS.UNDER_REVIEW: frozenset({OS.ACCREDITED, OS.REJECTED}),
    OS.ACCREDITED: frozenset({OS.REVOKED}),
    OS.REJECTED: frozenset(),
    OS.REVOKED: frozenset(),
}


class LearningOutcome(models.Model):
    """Something a learner brings to the credit bank: a result, a certificate, training, experience."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    account = models.ForeignKey(CreditAccount, on_delete=models.PROTECT, related_name="outcomes")
    kind = models.CharField(_("kind"), max_length=20, choices=OutcomeKind.choices)
    title = models.CharField(_("title"), max_length=200)
    issuing_body = models.ForeignKey(
        PartnerAssociation,
        verbose_name=_("issuing partner association"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="issued_outcomes",
    )
    issuing_body_name = models.CharField(_("issuing body"), max_length=200)
    achieved_on = models.DateField(_("achieved on"))
    expires_on = models.DateField(_("expires on"), null=True, blank=True)
    level = models.PositiveSmallIntegerField(
        _("level"), choices=QF_LEVELS, validators=[MinValueValidator(1), MaxValueValidator(8)]
    )
    study_hours = models.PositiveIntegerField(_("study hours"), null=True, blank=True)
    grade = models.CharField(_("grade"), max_length=20, blank=True)
    certificate_number = models.CharField(_("certificate number"), max_length=60, blank=True)
    # A course result is deposited once: the one-to-one makes a second deposit impossible.
    course_result = models.OneToOneField(
        CourseResult, on_delete=models.PROTECT, null=True, blank=True, related_name="outcome"
    )
    status = models.CharField(_("status"), max_length=20, choices=OutcomeStatus.choices)
    submitted_at = models.DateTimeField(_("submitted"), default=timezone.now)

    class Meta:
        verbose_name = _("learning outcome")
        verbose_name_plural = _("learning outcomes")
        ordering = ["-achieved_on", "-pk"]
        indexes = [
            models.Index(fields=["status", "submitted_at"]),
            models.Index(fields=["account", "-achieved_on"]),
            # The officers' queue: only waiting outcomes, oldest first, so a page of 50 is read
            # from the front of a small index however many outcomes were ever decided.
            models.Index(
                fields=["submitted_at", "id"],
                condition=Q(status__in=["submitted", "under-review"]),
                name="outcome_waiting_queue",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.get_kind_display()})"


class OutcomeStatusChange(models.Model):
    outcome = models.ForeignKey(LearningOutcome, on_delete=models.CASCADE, related_name="history")
    from_status = models.CharField(max_length=20, choices=OutcomeStatus.choices, blank=True)
    to_status = models.CharField(max_length=20, choices=OutcomeStatus.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reason = models.TextField(blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["outcome", "at", "pk"]

    def __str__(self) -> str:
        return f"{self.outcome_id}: {self.from_status or '-'} → {self.to_status}"


def evidence_path(instance: OutcomeEvidence, filename: str) -> str:
    # Stored under a random name: the learner's file name is kept only as data.
    return f"evidence/{instance.outcome.public_id}/{uuid.uuid4().hex}"


class OutcomeEvidence(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    outcome = models.ForeignKey(LearningOutcome, on_delete=models.CASCADE, related_name="evidence")
    file = models.FileField(upload_to=evidence_path)
    original_name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=50)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["outcome", "uploaded_at"]

    def __str__(self) -> str:
        return self.original_name


class RecognitionStandard(models.Model):
    """An accreditation unit: what an outcome must show to be worth its credits. Versioned."""

    code = models.CharField(_("code"), max_length=30)
    version = models.PositiveSmallIntegerField(_("version"), default=1)
    title_en = models.CharField(_("title (English)"), max_length=200)
    title_zh = models.CharField(_("title (Chinese)"), max_length=200, blank=True)
    outcome_kinds = models.JSONField(_("kinds of outcome accepted"), default=list)
    level = models.PositiveSmallIntegerField(_("level"), choices=QF_LEVELS)
    credit_value = models.DecimalField(_("credit value"), **CREDITS, validators=[MinValueValidator(0)])
    criteria_en = models.TextField(_("criteria (English)"), blank=True)
    criteria_zh = models.TextField(_("criteria (Chinese)"), blank=True)
    accepted_bodies = models.ManyToManyField(
        PartnerAssociation, verbose_name=_("issuing bodies accepted"), blank=True, related_name="+"
    )
    currency_years = models.PositiveSmallIntegerField(_("years an outcome stays current"), default=5)
    effective_from = models.DateField(_("effective from"))
    effective_to = models.DateField(_("effective until"), null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("recognition standard")
        verbose_name_plural = _("recognition standards")
        ordering = ["code", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["code", "version"], name="standard_code_version_unique")
        ]

    def __str__(self) -> str:
        return f"{self.code} v{self.version}"

    @property
    def title(self) -> str:
        return pick(self.title_en, self.title_zh)

    def in_force(self, day) -> bool:
        return self.effective_from <= day and (self.effective_to is None or day <= self.effective_to)


class Accreditation(models.Model):
    # One accreditation per outcome, held by the database.
    outcome = models.OneToOneField(LearningOutcome, on_delete=models.PROTECT, related_name="accreditation")
    standard = models.ForeignKey(RecognitionStandard, on_delete=models.PROTECT, related_name="accreditations")
    credits = models.DecimalField(_("credits granted"), **CREDITS)
    officer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reason = models.TextField(_("reason"))
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("accreditation")
        verbose_name_plural = _("accreditations")

    def __str__(self) -> str:
        return f"{self.outcome_id} → {self.standard} ({self.credits})"


class ConversionMode(models.TextChoices):
    STUDY = "study", _("Exempt from study")
    EXAM = "exam", _("Exempt from the exam")
    BOTH = "both", _("Exempt from study and exam")


class ConversionRule(models.Model):
    """"Replacement of Courses": an accredited outcome exempts courses of a programme.

    With ``second_standard`` it is a "Convergence of Two Certificates" rule: an academic diploma
    and a vocational certificate together. Versioned, and frozen once a conversion used it.
    """

    code = models.CharField(_("code"), max_length=30)
    version = models.PositiveSmallIntegerField(_("version"), default=1)
    standard = models.ForeignKey(
        RecognitionStandard, verbose_name=_("source standard"), on_delete=models.PROTECT, related_name="rules"
    )
    second_standard = models.ForeignKey(
        RecognitionStandard,
        verbose_name=_("second source standard (two certificates)"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="second_rules",
    )
    min_grade = models.CharField(_("minimum grade"), max_length=20, blank=True)
    max_age_years = models.PositiveSmallIntegerField(_("maximum age of the outcome (years)"), null=True, blank=True)
    programme = models.ForeignKey(Programme, on_delete=models.PROTECT, related_name="conversion_rules")
    courses = models.ManyToManyField(Course, verbose_name=_("courses replaced"), related_name="conversion_rules")
    mode = models.CharField(_("mode"), max_length=10, choices=ConversionMode.choices, default=ConversionMode.BOTH)
    credits = models.DecimalField(_("credits per course"), **CREDITS, validators=[MinValueValidator(0)])
    effective_from = models.DateField(_("effective from"))
    effective_to = models.DateField(_("effective until"), null=True, blank=True)
    approving_body = models.ForeignKey(
        PartnerAssociation, verbose_name=_("approving body"), on_delete=models.PROTECT, null=True, blank=True
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("conversion rule")
        verbose_name_plural = _("conversion rules")
        ordering = ["code", "-version"]
        constraints = [models.UniqueConstraint(fields=["code", "version"], name="rule_code_version_unique")]

    def __str__(self) -> str:
        return f"{self.code} v{self.version}"

    def in_force(self, day) -> bool:
        return self.effective_from <= day and (self.effective_to is None or day <= self.effective_to)


class ApplicationStatus(models.TextChoices):
    ACTIVE = "active", _("In effect")
    REVERSED = "reversed", _("Reversed")


class Conversion(models.Model):
    """A conversion rule applied: ``outcome`` exempts ``course`` in the learner's programme."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    outcome = models.ForeignKey(LearningOutcome, on_delete=models.PROTECT, related_name="conversions")
    second_outcome = models.ForeignKey(
        LearningOutcome, on_delete=models.PROTECT, null=True, blank=True, related_name="second_conversions"
    )
    enrolment = models.ForeignKey(Enrolment, on_delete=models.PROTECT, related_name="conversions")
    learner = models.ForeignKey(Learner, on_delete=models.PROTECT, related_name="conversions")
    programme = models.ForeignKey(Programme, on_delete=models.PROTECT, related_name="conversions")
    course = models.ForeignKey(Course, on_delete=models.PROTECT, related_name="conversions")
    rule = models.ForeignKey(ConversionRule, on_delete=models.PROTECT, related_name="conversions")
    credits = models.DecimalField(**CREDITS)
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(default=timezone.now)
    status = models.CharField(max_length=10, choices=ApplicationStatus.choices, default=ApplicationStatus.ACTIVE)
    reversed_at = models.DateTimeField(null=True, blank=True)
    reversal_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-at"]
        constraints = [
            # One course is exempted at most once per learner and programme.
            models.UniqueConstraint(
                fields=["learner", "programme", "course"],
                condition=Q(status="active"),
                name="course_exempted_once_per_programme",
            )
        ]

    def __str__(self) -> str:
        return f"{self.outcome_id} exempts {self.course_id} ({self.status})"


class Transfer(models.Model):
    """Credits from an outcome earned elsewhere applied toward a programme."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    outcome = models.ForeignKey(LearningOutcome, on_delete=models.PROTECT, related_name="transfers")
    enrolment = models.ForeignKey(Enrolment, on_delete=models.PROTECT, related_name="transfers")
    learner = models.ForeignKey(Learner, on_delete=models.PROTECT, related_name="transfers")
    programme = models.ForeignKey(Programme, on_delete=models.PROTECT, related_name="transfers")
    group = models.ForeignKey(RequirementGroup, on_delete=models.PROTECT, related_name="transfers")
    credits = models.DecimalField(**CREDITS, validators=[MinValueValidator(0)])
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(default=timezone.now)
    status = models.CharField(max_length=10, choices=ApplicationStatus.choices, default=ApplicationStatus.ACTIVE)
    reversed_at = models.DateTimeField(null=True, blank=True)
    reversal_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-at"]
        constraints = [
            models.UniqueConstraint(
                fields=["outcome", "programme"],
                condition=Q(status="active"),
                name="outcome_transferred_once_per_programme",
            )
        ]

    def __str__(self) -> str:
        return f"{self.outcome_id} → {self.programme_id}: {self.credits} ({self.status})"


class LedgerQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise LedgerImmutable("Ledger entries are never updated: write a reversing entry.")

    def delete(self):
        raise LedgerImmutable("Ledger entries are never deleted: write a reversing entry.")


class LedgerImmutable(Exception):
    pass


class EntryKind(models.TextChoices):
    DEPOSIT = "deposit", _("Deposit")
    ACCREDITATION = "accreditation", _("Accreditation")
    CONVERSION = "conversion", _("Conversion")
    TRANSFER = "transfer", _("Transfer")
    REVERSAL = "reversal", _("Reversal")
    EXPIRY = "expiry", _("Expiry")


class LedgerEntry(models.Model):
    account = models.ForeignKey(CreditAccount, on_delete=models.PROTECT, related_name="entries")
    seq = models.PositiveIntegerField(_("number"))
    kind = models.CharField(_("kind"), max_length=20, choices=EntryKind.choices)
    amount = models.DecimalField(_("credits"), **CREDITS)
    balance_after = models.DecimalField(_("balance"), **CREDITS)
    level = models.PositiveSmallIntegerField(_("level"), null=True, blank=True)
    outcome = models.ForeignKey(LearningOutcome, on_delete=models.PROTECT, related_name="entries")
    rule = models.ForeignKey(ConversionRule, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    programme = models.ForeignKey(Programme, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    conversion = models.ForeignKey(Conversion, on_delete=models.PROTECT, null=True, blank=True, related_name="entries")
    transfer = models.ForeignKey(Transfer, on_delete=models.PROTECT, null=True, blank=True, related_name="entries")
    # A reversal names the entry it undoes; an entry is undone at most once.
    reverses = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="reversed_by"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    at = models.DateTimeField(_("time"))
    reason = models.TextField(_("reason"))
    idempotency_key = models.CharField(max_length=120)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    objects = LedgerQuerySet.as_manager()

    class Meta:
        verbose_name = _("ledger entry")
        verbose_name_plural = _("ledger entries")
        ordering = ["account", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["account", "seq"], name="ledger_seq_unique"),
            models.UniqueConstraint(fields=["account", "idempotency_key"], name="ledger_idempotency_unique"),
            models.CheckConstraint(condition=Q(balance_after__gte=0), name="ledger_balance_never_negative"),
        ]
        indexes = [models.Index(fields=["outcome", "seq"])]

    def __str__(self) -> str:
        return f"{self.account_id}#{self.seq} {self.kind} {self.amount}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise LedgerImmutable("Ledger entries are never updated: write a reversing entry.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise LedgerImmutable("Ledger entries are never deleted: write a reversing entry.")
