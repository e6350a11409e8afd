"""The network: industry schools, partner associations, their agreements, and learning centres.

Facts come from the seed documents (``manage.py load_network``); every row has a stable ``slug``
or ``code`` so loading again updates in place instead of duplicating.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ouc_portal.i18n import BilingualName, pick
from schools.regions import Province


class Industry(models.TextChoices):
    COAL = "coal", _("Coal")
    SOCIAL_WORK = "social-work", _("Social work")
    LOGISTICS = "logistics", _("Logistics")
    TEXTILES = "textiles", _("Textiles")
    MECHANICAL = "mechanical", _("Mechanical industries")
    AUTOMOBILE_REPAIR = "automobile-repair", _("Automobile repair")
    CASTING = "casting", _("Casting")
    INFORMATION_SECURITY = "information-security", _("Information security")
    CIRCULAR_ECONOMY = "circular-economy", _("Circular economy")
    SOFTWARE = "software", _("Software")


class TimestampedModel(models.Model):
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        abstract = True


RESERVED_ISSUER_SLUGS = frozenset({"ouc", "credit-bank"})


def not_a_reserved_issuer(value: str) -> None:
    if value in RESERVED_ISSUER_SLUGS:
        raise ValidationError(_("“%(slug)s” is reserved for the university's own credentials."), params={"slug": value})


class IndustrySchool(BilingualName, TimestampedModel):
    # "ouc" and "credit-bank" name the university and the credit bank as credential issuers
    # (/credentials/issuers/<slug>/), so no school may take them.
    slug = models.SlugField(_("slug"), max_length=80, unique=True, validators=[not_a_reserved_issuer])
    name_en = models.CharField(_("name (English)"), max_length=200)
    name_zh = models.CharField(_("name (Chinese)"), max_length=200, blank=True)
    industry = models.CharField(_("industry"), max_length=40, choices=Industry.choices)
    founded_on = models.DateField(_("founded"))
    description_en = models.TextField(_("description (English)"), blank=True)
    description_zh = models.TextField(_("description (Chinese)"), blank=True)

    class Meta:
        verbose_name = _("industry school")
        verbose_name_plural = _("industry schools")
        ordering = ["founded_on", "slug"]
        indexes = [models.Index(fields=["industry"])]

    def __str__(self) -> str:
        return self.name_en

    def get_absolute_url(self) -> str:
        return reverse("schools:school_detail", kwargs={"slug": self.slug})

    @property
    def description(self) -> str:
        return pick(self.description_en, self.description_zh)


class PartnerAssociation(BilingualName, TimestampedModel):
    class Kind(models.TextChoices):
        INDUSTRY_ASSOCIATION = "industry-association", _("National industry association")
        PROFESSIONAL_SOCIETY = "professional-society", _("Professional society")
        PUBLIC_INSTITUTION = "public-institution", _("Public institution")
        TRAINING_INSTITUTION = "training-institution", _("Training institution")
        ENTERPRISE = "enterprise", _("Enterprise")

    slug = models.SlugField(_("slug"), max_length=80, unique=True)
    name_en = models.CharField(_("name (English)"), max_length=200)
    name_zh = models.CharField(_("name (Chinese)"), max_length=200, blank=True)
    kind = models.CharField(_("kind"), max_length=40, choices=Kind.choices)
    website = models.URLField(_("website"), blank=True)
    description_en = models.TextField(_("description (English)"), blank=True)
    description_zh = models.TextField(_("description (Chinese)"), blank=True)

    class Meta:
        verbose_name = _("partner association")
        verbose_name_plural = _("partner associations")
        ordering = ["name_en"]
        indexes = [models.Index(fields=["kind"])]

    def __str__(self) -> str:
        return self.name_en

    def get_absolute_url(self) -> str:
        return reverse("schools:association_detail", kwargs={"slug": self.slug})

    @property
    def description(self) -> str:
        return pick(self.description_en, self.description_zh)


class OperatingLevel(models.TextChoices):
    """OUC's "four-level operation" (seed 002): national, provincial, prefectural, county."""

    NATIONAL = "national", _("National")
    PROVINCIAL = "provincial", _("Provincial")
    PREFECTURAL = "prefectural", _("Prefectural")
    COUNTY = "county", _("County")


class LearningCentre(BilingualName, TimestampedModel):
    class Kind(models.TextChoices):
        BRANCH = "branch", _("OUC branch or experimental school")
        LEARNING_CENTRE = "learning-centre", _("Learning centre")
        TEACHING_POINT = "teaching-point", _("Teaching point")
        TRAINING_CENTRE = "training-centre", _("Training centre")

    code = models.SlugField(_("code"), max_length=80, unique=True)
    name_en = models.CharField(_("name (English)"), max_length=200)
    name_zh = models.CharField(_("name (Chinese)"), max_length=200, blank=True)
    kind = models.CharField(_("kind"), max_length=40, choices=Kind.choices)
    level = models.CharField(_("operating level"), max_length=20, choices=OperatingLevel.choices)
    province = models.CharField(_("province"), max_length=2, choices=Province.choices)
    city = models.CharField(_("city"), max_length=100, blank=True)
    host_en = models.CharField(_("host enterprise or branch (English)"), max_length=200, blank=True)
    host_zh = models.CharField(_("host enterprise or branch (Chinese)"), max_length=200, blank=True)
    operator_en = models.CharField(_("operated by (English)"), max_length=200, blank=True)
    operator_zh = models.CharField(_("operated by (Chinese)"), max_length=200, blank=True)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent centre"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
    )
    schools = models.ManyToManyField(
        IndustrySchool,
        verbose_name=_("industry schools teaching here"),
        related_name="centres",
        blank=True,
    )
    opened_on = models.DateField(_("opened"), null=True, blank=True)
    description_en = models.TextField(_("description (English)"), blank=True)
    description_zh = models.TextField(_("description (Chinese)"), blank=True)

    class Meta:
        verbose_name = _("learning centre")
        verbose_name_plural = _("learning centres")
        ordering = ["level", "province", "name_en"]
        indexes = [models.Index(fields=["level", "province"]), models.Index(fields=["province"])]

    def __str__(self) -> str:
        return self.name_en

    def get_absolute_url(self) -> str:
        return reverse("schools:centre_detail", kwargs={"code": self.code})

    @property
    def host(self) -> str:
        return pick(self.host_en, self.host_zh)

    @property
    def operator(self) -> str:
        return pick(self.operator_en, self.operator_zh)

    @property
    def description(self) -> str:
        return pick(self.description_en, self.description_zh)


class CooperationAgreement(TimestampedModel):
    """An agreement OUC (through a school or a centre) signed with a partner."""

    code = models.SlugField(_("code"), max_length=120, unique=True)
    school = models.ForeignKey(
        IndustrySchool,
        verbose_name=_("industry school"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="agreements",
    )
    learning_centre = models.ForeignKey(
        LearningCentre,
        verbose_name=_("learning centre"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="agreements",
    )
    association = models.ForeignKey(
        PartnerAssociation,
        verbose_name=_("partner"),
        on_delete=models.PROTECT,
        related_name="agreements",
    )
    signed_on = models.DateField(_("signed"))
    title_en = models.CharField(_("title (English)"), max_length=300)
    title_zh = models.CharField(_("title (Chinese)"), max_length=300, blank=True)
    summary_en = models.TextField(_("summary (English)"), blank=True)
    summary_zh = models.TextField(_("summary (Chinese)"), blank=True)
    source = models.CharField(_("source"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("cooperation agreement")
        verbose_name_plural = _("cooperation agreements")
        ordering = ["signed_on", "code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(school__isnull=False) | Q(learning_centre__isnull=False),
                name="agreement_has_school_or_centre",
                violation_error_message=_("An agreement is signed for a school or a learning centre."),
            )
        ]

    def __str__(self) -> str:
        return self.title_en

    @property
    def title(self) -> str:
        return pick(self.title_en, self.title_zh)

    @property
    def summary(self) -> str:
        return pick(self.summary_en, self.summary_zh)


class AgreementSignatory(models.Model):
    class Side(models.TextChoices):
        OUC = "ouc", _("Open University of China")
        PARTNER = "partner", _("Partner")

    agreement = models.ForeignKey(
        CooperationAgreement, on_delete=models.CASCADE, related_name="signatories"
    )
    side = models.CharField(_("side"), max_length=10, choices=Side.choices)
    name_en = models.CharField(_("name (English)"), max_length=120)
    name_zh = models.CharField(_("name (Chinese)"), max_length=120, blank=True)
    title_en = models.CharField(_("title (English)"), max_length=200)
    title_zh = models.CharField(_("title (Chinese)"), max_length=200, blank=True)
    position = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("signatory")
        verbose_name_plural = _("signatories")
        ordering = ["agreement", "side", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["agreement", "side", "name_en"], name="signatory_once_per_side"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name_en}, {self.title_en}"

    @property
    def name(self) -> str:
        return pick(self.name_en, self.name_zh)

    @property
    def title(self) -> str:
        return pick(self.title_en, self.title_zh)


class Membership(models.Model):
    """Who may act for what: the one place staff roles are held.

    A school administrator acts for one industry school, a reviewer for one partner association,
    a credit-bank officer for the whole credit bank. A person may hold several memberships.
    """

    class Role(models.TextChoices):
        SCHOOL_ADMIN = "school-admin", _("School administrator")
        REVIEWER = "reviewer", _("Partner-association reviewer")
        CREDIT_OFFICER = "credit-officer", _("Credit-bank officer")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    school = models.ForeignKey(
        IndustrySchool,
        verbose_name=_("industry school"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="memberships",
    )
    association = models.ForeignKey(
        PartnerAssociation,
        verbose_name=_("partner association"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="memberships",
    )
    granted_at = models.DateTimeField(_("granted"), auto_now_add=True)
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("granted by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        ordering = ["user", "role"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(role="school-admin", school__isnull=False, association__isnull=True)
                    | Q(role="reviewer", school__isnull=True, association__isnull=False)
                    | Q(role="credit-officer", school__isnull=True, association__isnull=True)
                ),
                name="membership_scope_matches_role",
                violation_error_message=_(
                    "A school administrator needs a school, a reviewer an association, "
                    "and a credit-bank officer neither."
                ),
            ),
            models.UniqueConstraint(
                fields=["user", "school"],
                condition=Q(role="school-admin"),
                name="membership_unique_school_admin",
            ),
            models.UniqueConstraint(
                fields=["user", "association"],
                condition=Q(role="reviewer"),
                name="membership_unique_reviewer",
            ),
            models.UniqueConstraint(
                fields=["user"],
                condition=Q(role="credit-officer"),
                name="membership_unique_credit_officer",
            ),
        ]

    def __str__(self) -> str:
        scope = self.school or self.association or _("credit bank")
        return f"{self.user} — {self.get_role_display()} — {scope}"


class PartnerToken(models.Model):
    """A partner system's key to the API, acting for one association like its reviewers do.

    The token acts through a service user of its own (``user``): a person-less account with an
    unusable password and a reviewer membership of ``association``, so every selector and service
    that scopes a reviewer scopes the token the same way, and every history row and audit event
    it causes names it. Only the key's SHA-256 digest is stored; the key itself is shown once.
    Revoking keeps the row (who revoked, when) and deactivates the service user.
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    association = models.ForeignKey(
        PartnerAssociation, verbose_name=_("partner association"), on_delete=models.PROTECT,
        related_name="api_tokens",
    )  # fmt: skip
    name = models.CharField(_("name"), max_length=100)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, verbose_name=_("service user"), on_delete=models.PROTECT,
        related_name="partner_token",
    )  # fmt: skip
    # The key's first characters, shown in lists so a partner can tell which key is which.
    prefix = models.CharField(_("key prefix"), max_length=20, unique=True)
    key_digest = models.CharField(max_length=64, unique=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("created by"), on_delete=models.SET_NULL,
        null=True, blank=True, related_name="+",
    )  # fmt: skip
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("revoked by"), on_delete=models.SET_NULL,
        null=True, blank=True, related_name="+",
    )  # fmt: skip

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["association", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
