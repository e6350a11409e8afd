"""Programmes, courses, intakes, learners and their enrolments.

The enrolment life cycle is an explicit state machine (``ENROLMENT_TRANSITIONS``); every change
goes through ``enrolment.services`` and leaves an ``EnrolmentStatusChange`` row behind.
"""

from __future__ import annotations

import uuid
from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from ouc_portal.i18n import BilingualName, pick
from schools.models import Industry, IndustrySchool, LearningCentre
from schools.regions import Province


def _level_label(n: int) -> str:
    return gettext("Level %(n)s") % {"n": n}


# Labels stay lazy: formatted at import they would freeze in whatever language was active then.
QF_LEVELS = [(n, lazy(_level_label, str)(n)) for n in range(1, 9)]


class ProgrammeKind(models.TextChoices):
    ASSOCIATE = "associate", _("Junior college (associate) degree")
    BACHELOR = "bachelor", _("Bachelor degree")
    TRAINING = "training", _("Non-degree training")
    VOCATIONAL = "vocational", _("Vocational certificate")
    ONE_PLUS_X = "1+x", _('"1+X" certificate')


class DeliveryMode(models.TextChoices):
    ONLINE = "online", _("Online")
    BLENDED = "blended", _("Blended")
    ONSITE = "onsite", _("On-site")


class ProgrammeStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")
    ARCHIVED = "archived", _("Archived")


class ProgrammeQuerySet(models.QuerySet):
    def published(self):
        return self.filter(status=ProgrammeStatus.PUBLISHED)


class Programme(BilingualName, models.Model):
    school = models.ForeignKey(
        IndustrySchool, verbose_name=_("industry school"), on_delete=models.PROTECT, related_name="programmes"
    )
    code = models.CharField(_("code"), max_length=30, unique=True)
    slug = models.SlugField(_("slug"), max_length=100, unique=True)
    name_en = models.CharField(_("name (English)"), max_length=200)
    name_zh = models.CharField(_("name (Chinese)"), max_length=200, blank=True)
    kind = models.CharField(_("kind"), max_length=20, choices=ProgrammeKind.choices)
    qf_level = models.PositiveSmallIntegerField(
        _("qualification-framework level"),
        choices=QF_LEVELS,
        validators=[MinValueValidator(1), MaxValueValidator(8)],
    )
    total_credits = models.DecimalField(
        _("credits to complete"),
        max_digits=6,
        decimal_places=1,
        validators=[MinValueValidator(Decimal("0.5"))],
    )
    duration_months = models.PositiveSmallIntegerField(
        _("duration (months)"), validators=[MinValueValidator(1), MaxValueValidator(120)]
    )
    delivery_mode = models.CharField(_("delivery mode"), max_length=20, choices=DeliveryMode.choices)
    description_en = models.TextField(_("description (English)"), blank=True)
    description_zh = models.TextField(_("description (Chinese)"), blank=True)
    outcomes_en = models.TextField(_("learning outcomes (English)"), blank=True)
    outcomes_zh = models.TextField(_("learning outcomes (Chinese)"), blank=True)
    entry_requirements_en = models.TextField(_("entry requirements (English)"), blank=True)
    entry_requirements_zh = models.TextField(_("entry requirements (Chinese)"), blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=ProgrammeStatus.choices, default=ProgrammeStatus.DRAFT
    )
    # Names, codes and the school's names in both languages, lower-cased: what the catalogue
    # search matches. Kept by the services that write programmes.
    search_text = models.TextField(editable=False, blank=True, default="")
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = ProgrammeQuerySet.as_manager()

    class Meta:
        verbose_name = _("programme")
        verbose_name_plural = _("programmes")
        ordering = ["name_en"]
        indexes = [
            models.Index(fields=["status", "name_en"]),
            models.Index(fields=["status", "kind"]),
            models.Index(fields=["status", "qf_level"]),
            models.Index(fields=["status", "delivery_mode"]),
            models.Index(fields=["school", "status"]),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name_en}"

    def get_absolute_url(self) -> str:
        return reverse("enrolment:programme_detail", kwargs={"slug": self.slug})

    @property
    def description(self) -> str:
        return pick(self.description_en, self.description_zh)

    @property
    def outcomes(self) -> str:
        return pick(self.outcomes_en, self.outcomes_zh)

    @property
    def entry_requirements(self) -> str:
        return pick(self.entry_requirements_en, self.entry_requirements_zh)

    @property
    def is_published(self) -> bool:
        return self.status == ProgrammeStatus.PUBLISHED


class Course(BilingualName, models.Model):
    school = models.ForeignKey(
        IndustrySchool, verbose_name=_("industry school"), on_delete=models.PROTECT, related_name="courses"
    )
    code = models.CharField(_("code"), max_length=30)
    name_en = models.CharField(_("name (English)"), max_length=200)
    name_zh = models.CharField(_("name (Chinese)"), max_length=200, blank=True)
    credits = models.DecimalField(
        _("credits"), max_digits=4, decimal_places=1, validators=[MinValueValidator(Decimal("0.5"))]
    )
    study_hours = models.PositiveSmallIntegerField(_("study hours"), validators=[MinValueValidator(1)])
    level = models.PositiveSmallIntegerField(
        _("level"), choices=QF_LEVELS, validators=[MinValueValidator(1), MaxValueValidator(8)]
    )
    description_en = models.TextField(_("description (English)"), blank=True)
    description_zh = models.TextField(_("description (Chinese)"), blank=True)

    class Meta:
        verbose_name = _("course")
        verbose_name_plural = _("courses")
        ordering = ["code"]
        constraints = [
            models.UniqueConstraint(fields=["school", "code"], name="course_code_unique_in_school")
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name_en}"

    @property
    def description(self) -> str:
        return pick(self.description_en, self.description_zh)


class RequirementGroup(BilingualName, models.Model):
    """Part of a programme's structure: compulsory courses, or an elective group with a minimum."""

    class Kind(models.TextChoices):
        COMPULSORY = "compulsory", _("Compulsory")
        ELECTIVE = "elective", _("Elective")

    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="groups")
    name_en = models.CharField(_("name (English)"), max_length=200)
    name_zh = models.CharField(_("name (Chinese)"), max_length=200, blank=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    min_credits = models.DecimalField(
        _("minimum credits"),
        max_digits=6,
        decimal_places=1,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0"))],
        help_text=_("For an elective group: credits a learner must earn from its courses."),
    )
    position = models.PositiveSmallIntegerField(_("order"), default=0)
    courses = models.ManyToManyField(Course, through="GroupCourse", related_name="groups")

    class Meta:
        verbose_name = _("requirement group")
        verbose_name_plural = _("requirement groups")
        ordering = ["programme", "position", "pk"]

    def __str__(self) -> str:
        return f"{self.programme.code}: {self.name_en}"


class GroupCourse(models.Model):
    group = models.ForeignKey(RequirementGroup, on_delete=models.CASCADE, related_name="memberships")
    course = models.ForeignKey(Course, on_delete=models.PROTECT, related_name="group_memberships")
    # The programme again, so the database can hold "a course once per programme".
    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="+")

    class Meta:
        ordering = ["group", "course__code"]
        constraints = [
            models.UniqueConstraint(fields=["programme", "course"], name="course_once_per_programme")
        ]

    def __str__(self) -> str:
        return f"{self.group_id}: {self.course_id}"


class Season(models.TextChoices):
    SPRING = "spring", _("Spring")
    AUTUMN = "autumn", _("Autumn")


class IntakeQuerySet(models.QuerySet):
    def open_at(self, moment):
        return self.filter(opens_at__lte=moment, closes_at__gt=moment)


class Intake(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    programme = models.ForeignKey(
        Programme, verbose_name=_("programme"), on_delete=models.PROTECT, related_name="intakes"
    )
    year = models.PositiveSmallIntegerField(
        _("year"), validators=[MinValueValidator(2000), MaxValueValidator(2100)]
    )
    season = models.CharField(_("term"), max_length=10, choices=Season.choices)
    centre = models.ForeignKey(
        LearningCentre, verbose_name=_("learning centre"), on_delete=models.PROTECT, related_name="intakes"
    )
    opens_at = models.DateTimeField(_("applications open"))
    closes_at = models.DateTimeField(_("applications close"))
    starts_on = models.DateField(_("teaching starts"))
    capacity = models.PositiveIntegerField(_("seats"), validators=[MinValueValidator(1)])
    requires_approval = models.BooleanField(
        _("applications need approval"),
        default=True,
        help_text=_("Off: an application with a free seat is accepted at once."),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = IntakeQuerySet.as_manager()

    class Meta:
        verbose_name = _("intake")
        verbose_name_plural = _("intakes")
        ordering = ["-year", "season", "programme"]
        indexes = [
            models.Index(fields=["programme", "opens_at", "closes_at"]),
            models.Index(fields=["centre"]),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["programme", "year", "season", "centre"], name="intake_once_per_term_and_centre"
            ),
            models.CheckConstraint(
                condition=Q(closes_at__gt=models.F("opens_at")),
                name="intake_window_closes_after_it_opens",
                violation_error_message=_("Applications must close after they open."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.programme.code} {self.term_label} @ {self.centre.code}"

    @property
    def term_label(self) -> str:
        return f"{self.get_season_display()} {self.year}"

    def is_open(self, moment=None) -> bool:
        moment = moment or timezone.now()
        return self.opens_at <= moment < self.closes_at


class Learner(models.Model):
    """A person who learns with OUC, and the profile they finish before their first application."""

    public_id = models.UUIDField(_("public id"), default=uuid.uuid4, unique=True, editable=False)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="learner"
    )
    registered_at = models.DateTimeField(_("registered"), auto_now_add=True)
    legal_name = models.CharField(_("legal name"), max_length=100, blank=True)
    phone = models.CharField(_("mobile phone"), max_length=20, blank=True)
    employer = models.CharField(_("employer"), max_length=200, blank=True)
    job_title = models.CharField(_("job title"), max_length=100, blank=True)
    industry = models.CharField(_("industry"), max_length=40, choices=Industry.choices, blank=True)
    province = models.CharField(_("province"), max_length=2, choices=Province.choices, blank=True)
    centre = models.ForeignKey(
        LearningCentre,
        verbose_name=_("learning centre"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="learners",
    )
    privacy_consent_at = models.DateTimeField(_("agreed to the privacy notice"), null=True, blank=True)

    class Meta:
        verbose_name = _("learner")
        verbose_name_plural = _("learners")
        ordering = ["-registered_at"]

    def __str__(self) -> str:
        return self.legal_name or str(self.user)

    @property
    def profile_complete(self) -> bool:
        required = (self.legal_name, self.phone, self.employer, self.job_title, self.industry, self.province)
        return all(required) and self.privacy_consent_at is not None


class EnrolmentStatus(models.TextChoices):
    APPLIED = "applied", _("Applied, awaiting approval")
    WAITLISTED = "waitlisted", _("Waitlisted")
    ACCEPTED = "accepted", _("Accepted")
    REJECTED = "rejected", _("Rejected")
    ACTIVE = "active", _("Studying")
    COMPLETED = "completed", _("Completed")
    WITHDRAWN = "withdrawn", _("Withdrawn")


S = EnrolmentStatus
# The one table of allowed moves. Anything not listed is refused by enrolment_transition.
ENROLMENT_TRANSITIONS: dict[str, frozenset[str]] = {
    S.APPLIED: frozenset({S.ACCEPTED, S.REJECTED, S.WAITLISTED, S.WITHDRAWN}),
    S.WAITLISTED: frozenset({S.APPLIED, S.ACCEPTED, S.REJECTED, S.WITHDRAWN}),
    S.ACCEPTED: frozenset({S.ACTIVE, S.WITHDRAWN}),
    S.ACTIVE: frozenset({S.COMPLETED, S.WITHDRAWN}),
    S.REJECTED: frozenset(),
    S.COMPLETED: frozenset(),
    S.WITHDRAWN: frozenset(),
}
# States that hold one of the intake's seats.
SEAT_STATES = frozenset({S.APPLIED, S.ACCEPTED, S.ACTIVE, S.COMPLETED})
# States in which the learner is still "in" the programme: at most one per learner and programme.
LIVE_STATES = frozenset({S.APPLIED, S.WAITLISTED, S.ACCEPTED, S.ACTIVE})


class Enrolment(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    learner = models.ForeignKey(Learner, on_delete=models.PROTECT, related_name="enrolments")
    intake = models.ForeignKey(Intake, on_delete=models.PROTECT, related_name="enrolments")
    # Copied from the intake so the database can hold "one live enrolment per programme".
    programme = models.ForeignKey(Programme, on_delete=models.PROTECT, related_name="enrolments")
    status = models.CharField(_("status"), max_length=20, choices=EnrolmentStatus.choices)
    applied_at = models.DateTimeField(_("applied"), default=timezone.now)
    status_changed_at = models.DateTimeField(_("status changed"), default=timezone.now)

    class Meta:
        verbose_name = _("enrolment")
        verbose_name_plural = _("enrolments")
        ordering = ["-applied_at"]
        indexes = [
            models.Index(fields=["intake", "status", "applied_at"]),
            models.Index(fields=["learner", "-applied_at"]),
            # A school's application queue and its dashboard's "waiting" count: the school's
            # programmes, one status, oldest first (docs/performance.md).
            models.Index(fields=["programme", "status", "applied_at"], name="enrolment_programme_queue"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["learner", "programme"],
                condition=Q(status__in=sorted(LIVE_STATES)),
                name="one_live_enrolment_per_programme",
                violation_error_message=_("You already have a live application for this programme."),
            )
        ]

    def __str__(self) -> str:
        return f"{self.learner} → {self.intake} ({self.status})"

    def get_absolute_url(self) -> str:
        return reverse("enrolment:my_enrolment", kwargs={"public_id": self.public_id})

    @property
    def holds_seat(self) -> bool:
        return self.status in SEAT_STATES

    @property
    def is_live(self) -> bool:
        return self.status in LIVE_STATES


class EnrolmentStatusChange(models.Model):
    """Who moved an enrolment from what to what, when and why. Never edited."""

    enrolment = models.ForeignKey(Enrolment, on_delete=models.CASCADE, related_name="history")
    from_status = models.CharField(max_length=20, choices=EnrolmentStatus.choices, blank=True)
    to_status = models.CharField(max_length=20, choices=EnrolmentStatus.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reason = models.TextField(blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["enrolment", "at", "pk"]
        indexes = [models.Index(fields=["enrolment", "at"])]

    def __str__(self) -> str:
        return f"{self.enrolment_id}: {self.from_status or '-'} → {self.to_status}"


class CourseResult(models.Model):
    enrolment = models.ForeignKey(Enrolment, on_delete=models.PROTECT, related_name="results")
    course = models.ForeignKey(Course, on_delete=models.PROTECT, related_name="results")
    score = models.DecimalField(
        _("score"),
        max_digits=5,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
    )
    grade = models.CharField(_("grade"), max_length=4)
    passed = models.BooleanField(_("passed"))
    assessed_on = models.DateField(_("assessed on"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("recorded by")
    )
    recorded_at = models.DateTimeField(_("recorded"), auto_now_add=True)

    class Meta:
        verbose_name = _("course result")
        verbose_name_plural = _("course results")
        ordering = ["enrolment", "course__code"]
        constraints = [
            models.UniqueConstraint(fields=["enrolment", "course"], name="one_result_per_course"),
            models.CheckConstraint(
                condition=Q(score__gte=0) & Q(score__lte=100), name="result_score_in_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.enrolment_id} {self.course.code}: {self.score}"
