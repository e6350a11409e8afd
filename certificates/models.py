"""Certificates: types co-run by a school and a partner association, requests that the association
approves, and the certificates issued from them.

A request produces at most one certificate: the one-to-one from Certificate to its request is held
by the database, so an issuing task that runs twice (or is retried after failing half-way) finds
the certificate it made instead of making another. Serial numbers are per school and year, taken
from a locked counter, and never reused. Verification codes carry 192 random bits.
"""

from __future__ import annotations

import datetime
import secrets
import uuid

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from enrolment.models import Enrolment, Learner, Programme
from ouc_portal.i18n import BilingualName
from schools.models import IndustrySchool, PartnerAssociation


class CertificateKind(models.TextChoices):
    COMPLETION = "completion", _("Programme completion")
    VOCATIONAL = "vocational", _("Vocational qualification")
    TRAINING = "training", _("Non-degree training")
    ONE_PLUS_X = "1+x", _('"1+X" certificate')


class CertificateType(BilingualName, models.Model):
    code = models.SlugField(_("code"), max_length=60, unique=True)
    school = models.ForeignKey(IndustrySchool, on_delete=models.PROTECT, related_name="certificate_types")
    association = models.ForeignKey(
        PartnerAssociation, verbose_name=_("approving partner association"), on_delete=models.PROTECT,
        related_name="certificate_types",
    )
    kind = models.CharField(_("kind"), max_length=20, choices=CertificateKind.choices)
    name_en = models.CharField(_("name (English)"), max_length=200)
    name_zh = models.CharField(_("name (Chinese)"), max_length=200, blank=True)
    programme = models.ForeignKey(
        Programme, verbose_name=_("programme certified"), on_delete=models.PROTECT, null=True, blank=True,
        related_name="certificate_types",
    )
    # A certificate earned by a credit-bank route instead of a programme: a learner with an active
    # conversion under this rule (any version of its code) is eligible.
    rule = models.ForeignKey(
        "creditbank.ConversionRule", verbose_name=_("conversion rule certified"), on_delete=models.PROTECT,
        null=True, blank=True, related_name="certificate_types",
    )
    validity_years = models.PositiveSmallIntegerField(
        _("valid for (years)"), null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(50)],
        help_text=_("Empty: the certificate does not expire."),
    )

    class Meta:
        verbose_name = _("certificate type")
        verbose_name_plural = _("certificate types")
        ordering = ["school", "code"]

    def __str__(self) -> str:
        return self.name_en


class RequestStatus(models.TextChoices):
    REQUESTED = "requested", _("Requested")
    UNDER_REVIEW = "under-review", _("Under review")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", pgettext_lazy("certificate request", "Rejected")
    ISSUED = "issued", _("Issued")
    REVOKED = "revoked", _("Revoked")


R = RequestStatus
REQUEST_TRANSITIONS: dict[str, frozenset[str]] = {
    R.REQUESTED: frozenset({R.UNDER_REVIEW, R.APPROVED, R.REJECTED}),
    R.UNDER_REVIEW: frozenset({R.APPROVED, R.REJECTED}),
    R.APPROVED: frozenset({R.ISSUED}),
    R.ISSUED: frozenset({R.REVOKED}),
    R.REJECTED: frozenset(),
    R.REVOKED: frozenset(),
}
OPEN_REQUEST_STATES = frozenset({R.REQUESTED, R.UNDER_REVIEW, R.APPROVED, R.ISSUED})


class CertificateRequest(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    learner = models.ForeignKey(Learner, on_delete=models.PROTECT, related_name="certificate_requests")
    type = models.ForeignKey(CertificateType, on_delete=models.PROTECT, related_name="requests")
    enrolment = models.ForeignKey(
        Enrolment, on_delete=models.PROTECT, null=True, blank=True, related_name="certificate_requests"
    )
    status = models.CharField(_("status"), max_length=20, choices=RequestStatus.choices, default=R.REQUESTED)
    requested_at = models.DateTimeField(_("requested"), default=timezone.now)
    # A bulk decision this request was part of (its page shows the batch's progress).
    batch = models.ForeignKey(
        "ReviewBatch", on_delete=models.SET_NULL, null=True, blank=True, related_name="requests"
    )
    # Issuing: attempts so far, and the last failure (staff see it and can retry).
    issue_attempts = models.PositiveSmallIntegerField(default=0)
    issue_failed_at = models.DateTimeField(null=True, blank=True)
    issue_error = models.TextField(blank=True)

    class Meta:
        verbose_name = _("certificate request")
        verbose_name_plural = _("certificate requests")
        ordering = ["-requested_at"]
        indexes = [
            models.Index(fields=["status", "requested_at"]),
            # A reviewer's queue and certificate list: the association's certificate types, then
            # their requests by status and date (docs/performance.md).
            models.Index(fields=["type", "status", "requested_at"], name="request_type_queue"),
            # The waiting queue oldest first, read in order and stopped after a page (the type
            # filter checked per row); and every request newest first, the same read backwards.
            # Without them PostgreSQL joins every matching request before sorting (seed_scale:
            # 54 ms and 101 ms; with them 3 ms and 2 ms; docs/performance.md).
            models.Index(
                fields=["requested_at", "id"],
                condition=Q(status__in=["requested", "under-review"]),
                name="request_waiting_queue",
            ),
            models.Index(fields=["requested_at", "id"], name="request_newest"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["learner", "type"],
                condition=Q(status__in=sorted(OPEN_REQUEST_STATES)),
                name="one_open_request_per_learner_and_type",
            )
        ]

    def __str__(self) -> str:
        return f"{self.learner} — {self.type} ({self.status})"


class RequestStatusChange(models.Model):
    request = models.ForeignKey(CertificateRequest, on_delete=models.CASCADE, related_name="history")
    from_status = models.CharField(max_length=20, choices=RequestStatus.choices, blank=True)
    to_status = models.CharField(max_length=20, choices=RequestStatus.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reason = models.TextField(blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["request", "at", "pk"]

    def __str__(self) -> str:
        return f"{self.request_id}: {self.from_status or '-'} → {self.to_status}"


class SerialCounter(models.Model):
    """The last serial number used by a school in a year; locked while the next one is taken."""

    school = models.ForeignKey(IndustrySchool, on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["school", "year"], name="one_counter_per_school_year")]

    def __str__(self) -> str:
        return f"{self.school_id}/{self.year}: {self.last}"


class ReviewBatch(models.Model):
    """Many requests approved (or rejected) by one reviewer at once; its page follows their issuing."""

    class Decision(models.TextChoices):
        APPROVE = "approve", _("Approve")
        REJECT = "reject", pgettext_lazy("certificate request", "Reject")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    association = models.ForeignKey(PartnerAssociation, on_delete=models.PROTECT, related_name="+")
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    decision = models.CharField(max_length=10, choices=Decision.choices)
    reason = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    size = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.decision} × {self.size} ({self.created_at:%Y-%m-%d %H:%M})"


def new_verification_code() -> str:
    return secrets.token_urlsafe(24)  # 192 random bits, 32 URL-safe characters


class StatusListCounter(models.Model):
    """The last status-list index handed out in one index space.

    ``issuer:<slug>``: an issuer's own space (issue 17); its credentials are numbered in its
    revocation and suspension lists alike. ``revocation``: the one space every credential shared
    before, still served at ``/credentials/status/<n>/`` for what was signed then. List ``n`` of a
    space holds indexes ``n * STATUS_LIST_SIZE`` to ``(n + 1) * STATUS_LIST_SIZE - 1``.
    """

    purpose = models.CharField(max_length=120, unique=True)
    last = models.BigIntegerField(default=-1)

    def __str__(self) -> str:
        return f"{self.purpose}: {self.last}"


STATUS_LIST_SIZE = 131072  # 16 KiB of bits: the Bitstring Status List minimum, for herd privacy


class Certificate(models.Model):
    class Status(models.TextChoices):
        VALID = "valid", _("Valid")
        REVOKED = "revoked", _("Revoked")

    # One certificate per request, held by the database: the issuing task's idempotency.
    request = models.OneToOneField(CertificateRequest, on_delete=models.PROTECT, related_name="certificate")
    school = models.ForeignKey(IndustrySchool, on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField()
    number = models.PositiveIntegerField()
    serial = models.CharField(_("serial number"), max_length=100, unique=True)
    verification_code = models.CharField(max_length=64, unique=True, default=new_verification_code, editable=False)
    issued_on = models.DateField(_("issued on"))
    expires_on = models.DateField(_("expires on"), null=True, blank=True)
    pdf = models.FileField(upload_to="certificates/", blank=True)
    credential = models.JSONField(_("signed credential"), null=True, blank=True)
    # The holder's name as the credential was signed with it (its credentialSubject's name; empty
    # when it names nobody), stored with the credential and never changed afterwards: verification
    # shows what was signed, not the profile's name of today. A new legal name is a new issue.
    holder_name = models.CharField(_("holder's name, as signed"), max_length=200, blank=True, editable=False)
    # Position in the status lists named in the credential's credentialStatus: the lists of the
    # issuer ``status_issuer`` (the school), or, empty, the one shared list of before issue 17.
    status_index = models.BigIntegerField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.VALID)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revocation_reason = models.TextField(blank=True)
    # Set when something it was built on (a learning outcome) is revoked: staff must review it.
    flagged_at = models.DateTimeField(null=True, blank=True)
    flag_reason = models.TextField(blank=True)
    status_issuer = models.CharField(max_length=100, blank=True, default="")
    # Suspended while under review: its bit is set in the school's suspension list; reinstating clears it.
    suspended_at = models.DateTimeField(null=True, blank=True)
    suspension_reason = models.TextField(blank=True)

    class Meta:
        verbose_name = _("certificate")
        verbose_name_plural = _("certificates")
        ordering = ["-issued_on", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["school", "year", "number"], name="serial_once_per_school_year"),
            models.UniqueConstraint(fields=["status_issuer", "status_index"], name="certificate_status_index_once"),
        ]

    def __str__(self) -> str:
        return self.serial

    @property
    def is_ready(self) -> bool:
        """Issued in full: the signed credential and the PDF are stored."""
        return self.credential is not None and bool(self.pdf)

    def status_on(self, day: datetime.date | None = None) -> str:
        """valid, revoked, suspended or expired, on ``day`` (today by default)."""
        if self.status == self.Status.REVOKED:
            return "revoked"
        if self.suspended_at is not None:
            return "suspended"
        day = day or timezone.localdate()
        if self.expires_on is not None and self.expires_on <= day:
            return "expired"
        return "valid"


class Transcript(models.Model):
    """A learner's credit-bank record at one moment, as PDF and signed CLR 2.0 credential.

    A newer ready transcript supersedes the older ones; they stay verifiable, as superseded.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        WORKING = "working", _("Working")
        READY = "ready", _("Ready")
        FAILED = "failed", _("Failed")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    learner = models.ForeignKey(Learner, on_delete=models.PROTECT, related_name="transcripts")
    requested_at = models.DateTimeField(_("requested"), default=timezone.now)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.QUEUED)
    built_at = models.DateTimeField(_("built"), null=True, blank=True)
    verification_code = models.CharField(max_length=64, unique=True, default=new_verification_code, editable=False)
    pdf = models.FileField(upload_to="transcripts/", blank=True)
    credential = models.JSONField(_("signed credential"), null=True, blank=True)
    # As on Certificate: the name the credential was signed with, fixed when it is stored.
    holder_name = models.CharField(_("holder's name, as signed"), max_length=200, blank=True, editable=False)
    status_index = models.BigIntegerField(null=True, blank=True)
    superseded_by = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="supersedes"
    )
    superseded_at = models.DateTimeField(null=True, blank=True)
    # Set when an outcome it lists is revoked: staff must review it.
    flagged_at = models.DateTimeField(null=True, blank=True)
    flag_reason = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True)
    # The issuer whose status lists ``status_index`` is in (the credit bank), or, empty, the one
    # shared list of before issue 17. A superseded transcript's bit is set in the suspension list.
    status_issuer = models.CharField(max_length=100, blank=True, default="")

    class Meta:
        verbose_name = _("transcript")
        verbose_name_plural = _("transcripts")
        ordering = ["-requested_at", "-pk"]
        indexes = [models.Index(fields=["learner", "status", "-requested_at"])]
        constraints = [
            models.UniqueConstraint(fields=["status_issuer", "status_index"], name="transcript_status_index_once"),
        ]

    def __str__(self) -> str:
        return f"{self.learner} @ {self.requested_at:%Y-%m-%d %H:%M} ({self.status})"

    def status_on(self, day: datetime.date | None = None) -> str:
        """valid or superseded (a transcript records a moment; it does not expire)."""
        return "superseded" if self.superseded_by_id else "valid"


class IssuerKey(models.Model):
    """One published Ed25519 key of one issuer (a school, ``credit-bank`` or ``ouc``), by version.

    No private key is stored: it is derived when needed from ``CREDENTIAL_SIGNING_KEY`` with HKDF,
    the issuer's slug and the version (``certificates.credentials.issuer_keys``, decision 0006).
    The public key is stored so that it stays published, and verifiable, whatever the master key
    becomes later. The newest version neither retired nor revoked signs; a retired key signs
    nothing new but keeps verifying what it signed; a revoked one (compromised) verifies nothing.
    """

    issuer = models.CharField(max_length=100)
    version = models.PositiveIntegerField()
    public_key_multibase = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    retired_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("issuer key")
        verbose_name_plural = _("issuer keys")
        ordering = ["issuer", "version"]
        constraints = [models.UniqueConstraint(fields=["issuer", "version"], name="one_key_per_issuer_version")]

    def __str__(self) -> str:
        return f"{self.issuer} key {self.version}"

    @property
    def in_use(self) -> bool:
        return self.retired_at is None and self.revoked_at is None
