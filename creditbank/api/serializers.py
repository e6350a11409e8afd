"""Shapes of credit-bank data in the API. No workflow here: writes go through creditbank.services.

Output serializers read models (or the audit's dataclasses) as they are; input serializers only
check the shape of a request. Looking up what a request names (a standard by code and version, a
course by code within a programme) is the view's job, deciding whether it is allowed the service's.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from creditbank.models import (
    CREDITS,
    Accreditation,
    Conversion,
    ConversionMode,
    ConversionRule,
    CreditAccount,
    LearningOutcome,
    LedgerEntry,
    OutcomeEvidence,
    OutcomeKind,
    OutcomeStatusChange,
    RecognitionStandard,
    Transfer,
)
from enrolment.models import Programme, RequirementGroup
from ouc_portal.validators import LONG_TEXT_MAX, MULTI_LINE, REASON_MAX, PlainTextSerializerMixin
from schools.models import PartnerAssociation

AUDIT_STATES = ["passed", "exempted", "failed", "to do"]


@extend_schema_field(OpenApiTypes.BINARY)
class UploadField(serializers.FileField):
    """A file sent as multipart form data (documented as binary, so the docs offer a file picker)."""


def credits_field(**kwargs) -> serializers.DecimalField:
    return serializers.DecimalField(**CREDITS, **kwargs)


# --- Accounts and the ledger --------------------------------------------------------------------


class CreditAccountSerializer(serializers.ModelSerializer):
    balance = credits_field(read_only=True, help_text="Sum of the ledger.")

    class Meta:
        model = CreditAccount
        fields = ["number", "opened_at", "balance"]


class LedgerEntrySerializer(serializers.ModelSerializer):
    outcome = serializers.UUIDField(source="outcome.public_id", read_only=True)
    outcome_title = serializers.CharField(source="outcome.title", read_only=True)
    rule = serializers.StringRelatedField(allow_null=True, help_text='Conversion rule as "CODE vN".')
    programme = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    reverses = serializers.IntegerField(
        source="reverses.seq", read_only=True, allow_null=True, help_text="Number of the entry this one reverses."
    )

    class Meta:
        model = LedgerEntry
        fields = [
            "seq", "kind", "amount", "balance_after", "level", "reason", "at",
            "outcome", "outcome_title", "rule", "programme", "reverses", "hash",
        ]  # fmt: skip


class LedgerTotalSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=LedgerEntry._meta.get_field("kind").choices, read_only=True)
    amount = credits_field(read_only=True)
    entries = serializers.IntegerField(read_only=True)


class AccountSummarySerializer(serializers.Serializer):
    """An account as an officer sees it: whose it is, the balance, and the ledger in short."""

    number = serializers.CharField(read_only=True)
    opened_at = serializers.DateTimeField(read_only=True)
    learner_name = serializers.CharField(read_only=True)
    learner_email = serializers.EmailField(read_only=True)
    balance = credits_field(read_only=True)
    entry_count = serializers.IntegerField(read_only=True)
    totals = LedgerTotalSerializer(many=True, read_only=True, help_text="Sum and count of entries by kind.")
    recent_entries = LedgerEntrySerializer(many=True, read_only=True, help_text="The latest entries, newest first.")


# --- Learning outcomes --------------------------------------------------------------------------


class EvidenceSerializer(serializers.ModelSerializer):
    class Meta:
        model = OutcomeEvidence
        fields = ["public_id", "original_name", "content_type", "size", "sha256", "uploaded_at"]


class OutcomeStatusChangeSerializer(serializers.ModelSerializer):
    actor = serializers.StringRelatedField(allow_null=True)

    class Meta:
        model = OutcomeStatusChange
        fields = ["from_status", "to_status", "actor", "reason", "at"]


class AccreditationSerializer(serializers.ModelSerializer):
    standard = serializers.StringRelatedField(help_text='Recognition standard as "CODE vN".')
    standard_code = serializers.CharField(source="standard.code", read_only=True)
    standard_version = serializers.IntegerField(source="standard.version", read_only=True)
    officer = serializers.StringRelatedField()

    class Meta:
        model = Accreditation
        fields = ["standard", "standard_code", "standard_version", "credits", "officer", "reason", "at"]


class OutcomeSerializer(serializers.ModelSerializer):
    issuing_body = serializers.SlugRelatedField(slug_field="slug", read_only=True, allow_null=True)

    class Meta:
        model = LearningOutcome
        fields = [
            "public_id", "kind", "title", "issuing_body", "issuing_body_name", "achieved_on", "expires_on",
            "level", "study_hours", "grade", "certificate_number", "status", "submitted_at",
        ]  # fmt: skip


class OutcomeDetailSerializer(OutcomeSerializer):
    history = OutcomeStatusChangeSerializer(many=True, read_only=True)
    accreditation = AccreditationSerializer(read_only=True, allow_null=True)
    evidence = EvidenceSerializer(many=True, read_only=True)

    class Meta(OutcomeSerializer.Meta):
        fields = OutcomeSerializer.Meta.fields + ["history", "accreditation", "evidence"]


class OutcomeSubmitSerializer(PlainTextSerializerMixin, serializers.Serializer):
    """A learner's submission: the outcome's facts and one or more ``evidence`` files."""

    kind = serializers.ChoiceField(choices=OutcomeKind.choices)
    title = serializers.CharField(max_length=200)
    issuing_body = serializers.SlugRelatedField(
        slug_field="slug",
        queryset=PartnerAssociation.objects.all(),
        required=False,
        allow_null=True,
        help_text="Slug of the partner association that issued it, if it is one.",
    )
    issuing_body_name = serializers.CharField(
        max_length=200, required=False, allow_blank=True, help_text="Name of the issuing body (any organisation)."
    )
    achieved_on = serializers.DateField()
    expires_on = serializers.DateField(required=False, allow_null=True)
    level = serializers.IntegerField(min_value=1, max_value=8, help_text="Qualification-framework level, 1-8.")
    # The same bounds as the submission form (creditbank/forms.py).
    study_hours = serializers.IntegerField(min_value=0, max_value=100000, required=False, allow_null=True)
    grade = serializers.CharField(max_length=20, required=False, allow_blank=True)
    certificate_number = serializers.CharField(max_length=60, required=False, allow_blank=True)
    evidence = serializers.ListField(
        child=UploadField(allow_empty_file=True, use_url=False),
        required=False,
        help_text="One or more files: PDF, JPEG or PNG, at most 5 MB each (the type is read from the content).",
    )


class OfficerOutcomeSerializer(OutcomeSerializer):
    account = serializers.CharField(source="account.number", read_only=True)
    learner_name = serializers.CharField(source="account.learner.legal_name", read_only=True)
    learner_email = serializers.EmailField(source="account.learner.user.email", read_only=True)
    evidence = EvidenceSerializer(many=True, read_only=True)

    class Meta(OutcomeSerializer.Meta):
        fields = OutcomeSerializer.Meta.fields + ["account", "learner_name", "learner_email", "evidence"]


class ConversionSerializer(serializers.ModelSerializer):
    outcome = serializers.UUIDField(source="outcome.public_id", read_only=True)
    second_outcome = serializers.UUIDField(source="second_outcome.public_id", read_only=True, allow_null=True)
    enrolment = serializers.UUIDField(source="enrolment.public_id", read_only=True)
    programme = serializers.SlugRelatedField(slug_field="code", read_only=True)
    course = serializers.SlugRelatedField(slug_field="code", read_only=True)
    rule = serializers.StringRelatedField(help_text='Conversion rule as "CODE vN".')
    approved_by = serializers.StringRelatedField()
    entry_seqs = serializers.SlugRelatedField(source="entries", slug_field="seq", many=True, read_only=True)

    class Meta:
        model = Conversion
        fields = [
            "public_id", "outcome", "second_outcome", "enrolment", "programme", "course", "rule", "credits",
            "approved_by", "at", "status", "reversed_at", "reversal_reason", "entry_seqs",
        ]  # fmt: skip


class TransferSerializer(serializers.ModelSerializer):
    outcome = serializers.UUIDField(source="outcome.public_id", read_only=True)
    enrolment = serializers.UUIDField(source="enrolment.public_id", read_only=True)
    programme = serializers.SlugRelatedField(slug_field="code", read_only=True)
    group = serializers.IntegerField(source="group.pk", read_only=True)
    group_name_en = serializers.CharField(source="group.name_en", read_only=True)
    approved_by = serializers.StringRelatedField()
    entry_seqs = serializers.SlugRelatedField(source="entries", slug_field="seq", many=True, read_only=True)

    class Meta:
        model = Transfer
        fields = [
            "public_id", "outcome", "enrolment", "programme", "group", "group_name_en", "credits",
            "approved_by", "at", "status", "reversed_at", "reversal_reason", "entry_seqs",
        ]  # fmt: skip


class OfficerOutcomeDetailSerializer(OfficerOutcomeSerializer):
    history = OutcomeStatusChangeSerializer(many=True, read_only=True)
    accreditation = AccreditationSerializer(read_only=True, allow_null=True)
    conversions = ConversionSerializer(many=True, read_only=True)
    transfers = TransferSerializer(many=True, read_only=True)

    class Meta(OfficerOutcomeSerializer.Meta):
        fields = OfficerOutcomeSerializer.Meta.fields + ["history", "accreditation", "conversions", "transfers"]


class AccreditSerializer(PlainTextSerializerMixin, serializers.Serializer):
    standard_code = serializers.CharField(max_length=30)
    standard_version = serializers.IntegerField(min_value=1)
    credits = credits_field(
        required=False, allow_null=True, help_text="Credits to grant; the standard's credit value when left out."
    )
    reason = serializers.CharField(
        max_length=REASON_MAX,
        style=MULTI_LINE,
        help_text="Why the outcome meets the standard.",
        # Required, as on the officers' page: named here rather than refused by the service.
        error_messages={"blank": _("Say why the outcome meets the standard.")},
    )


class OutcomeReasonSerializer(PlainTextSerializerMixin, serializers.Serializer):
    reason = serializers.CharField(max_length=REASON_MAX, allow_blank=True, style=MULTI_LINE)


# --- Programme audit (the audit's dataclasses, read as they are) --------------------------------


class AuditCourseSerializer(serializers.Serializer):
    code = serializers.CharField(source="course.code", read_only=True)
    name_en = serializers.CharField(source="course.name_en", read_only=True)
    name_zh = serializers.CharField(source="course.name_zh", read_only=True)
    level = serializers.IntegerField(source="course.level", read_only=True)
    state = serializers.ChoiceField(choices=AUDIT_STATES, read_only=True)
    credits = credits_field(read_only=True)
    grade = serializers.CharField(source="result.grade", read_only=True, allow_null=True)
    entry_seqs = serializers.ListField(
        child=serializers.IntegerField(), read_only=True, help_text="Ledger entries behind this line."
    )
    rule = serializers.CharField(source="rule_label", read_only=True, help_text='Conversion rule as "CODE vN", if any.')
    hypothetical = serializers.BooleanField(read_only=True, help_text="True only in a what-if audit.")


class AuditTransferSerializer(serializers.ModelSerializer):
    outcome = serializers.UUIDField(source="outcome.public_id", read_only=True)
    outcome_title = serializers.CharField(source="outcome.title", read_only=True)
    entry_seqs = serializers.SlugRelatedField(source="entries", slug_field="seq", many=True, read_only=True)

    class Meta:
        model = Transfer
        fields = ["public_id", "outcome", "outcome_title", "credits", "at", "entry_seqs"]


class AuditGroupSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="group.pk", read_only=True, help_text="Group id within the programme.")
    name_en = serializers.CharField(source="group.name_en", read_only=True)
    name_zh = serializers.CharField(source="group.name_zh", read_only=True)
    kind = serializers.ChoiceField(source="group.kind", choices=RequirementGroup.Kind.choices, read_only=True)
    required = credits_field(read_only=True)
    earned = credits_field(read_only=True)
    exempted = credits_field(read_only=True)
    transferred = credits_field(read_only=True)
    missing = credits_field(read_only=True)
    satisfied = serializers.BooleanField(read_only=True)
    courses = AuditCourseSerializer(many=True, read_only=True)
    transfers = AuditTransferSerializer(many=True, read_only=True)


class AuditSerializer(serializers.Serializer):
    enrolment = serializers.UUIDField(source="enrolment.public_id", read_only=True)
    enrolment_status = serializers.CharField(source="enrolment.status", read_only=True)
    programme = serializers.CharField(source="enrolment.programme.code", read_only=True)
    programme_name_en = serializers.CharField(source="enrolment.programme.name_en", read_only=True)
    programme_name_zh = serializers.CharField(source="enrolment.programme.name_zh", read_only=True)
    required = credits_field(read_only=True)
    earned = credits_field(read_only=True)
    exempted = credits_field(read_only=True)
    transferred = credits_field(read_only=True)
    missing = credits_field(read_only=True)
    complete = serializers.BooleanField(read_only=True)
    groups = AuditGroupSerializer(many=True, read_only=True)


class WhatIfQuerySerializer(PlainTextSerializerMixin, serializers.Serializer):
    standard = serializers.CharField(max_length=30, help_text="Code of a recognition standard.")
    level = serializers.IntegerField(min_value=1, max_value=8, help_text="Level of the outcome, 1-8.")


class WhatIfRuleSerializer(serializers.ModelSerializer):
    courses = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)

    class Meta:
        model = ConversionRule
        fields = ["code", "version", "credits", "mode", "courses"]


class WhatIfSerializer(serializers.Serializer):
    standard = serializers.CharField(read_only=True)
    level = serializers.IntegerField(read_only=True)
    rules = WhatIfRuleSerializer(many=True, read_only=True, help_text="The rules in force that would apply.")
    audit = AuditSerializer(read_only=True, help_text="The audit with the hypothetical exemptions marked.")


# --- Recognition standards ----------------------------------------------------------------------


class StandardSerializer(PlainTextSerializerMixin, serializers.ModelSerializer):
    outcome_kinds = serializers.ListField(
        child=serializers.ChoiceField(choices=OutcomeKind.choices),
        required=False,
        help_text="Kinds of outcome accepted; empty accepts every kind.",
    )
    accepted_bodies = serializers.SlugRelatedField(
        slug_field="slug",
        queryset=PartnerAssociation.objects.all(),
        many=True,
        required=False,
        help_text="Slugs of the partner associations whose outcomes are accepted; empty accepts any.",
    )
    in_use = serializers.BooleanField(read_only=True, help_text="Used by an accreditation or a rule: frozen.")

    class Meta:
        model = RecognitionStandard
        fields = [
            "code", "version", "title_en", "title_zh", "outcome_kinds", "level", "credit_value",
            "criteria_en", "criteria_zh", "accepted_bodies", "currency_years", "effective_from",
            "effective_to", "in_use", "created_at",
        ]  # fmt: skip
        read_only_fields = ["version", "created_at"]
        # The criteria are TextFields: limited here, as on the officers' page.
        extra_kwargs = {"criteria_en": {"max_length": LONG_TEXT_MAX}, "criteria_zh": {"max_length": LONG_TEXT_MAX}}
        # (code, version) uniqueness is the model's to check, in the service's full_clean().
        validators: list = []


class StandardUpdateSerializer(StandardSerializer):
    class Meta(StandardSerializer.Meta):
        read_only_fields = ["code", "version", "created_at"]


class StandardNewVersionSerializer(PlainTextSerializerMixin, serializers.ModelSerializer):
    """The next version: when it starts, and what changes (anything left out stays as it was)."""

    outcome_kinds = serializers.ListField(child=serializers.ChoiceField(choices=OutcomeKind.choices), required=False)

    class Meta:
        model = RecognitionStandard
        fields = [
            "effective_from", "title_en", "title_zh", "outcome_kinds", "level", "credit_value",
            "criteria_en", "criteria_zh", "currency_years",
        ]  # fmt: skip
        extra_kwargs = {name: {"required": False} for name in fields if name != "effective_from"}
        extra_kwargs["effective_from"] = {"required": True}
        for name in ("criteria_en", "criteria_zh"):
            extra_kwargs[name]["max_length"] = LONG_TEXT_MAX


# --- Conversion rules ---------------------------------------------------------------------------


class RuleSerializer(serializers.ModelSerializer):
    standard_code = serializers.CharField(source="standard.code", read_only=True)
    standard_version = serializers.IntegerField(source="standard.version", read_only=True)
    second_standard_code = serializers.CharField(source="second_standard.code", read_only=True, allow_null=True)
    second_standard_version = serializers.IntegerField(
        source="second_standard.version", read_only=True, allow_null=True
    )
    programme = serializers.SlugRelatedField(slug_field="code", read_only=True)
    courses = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)
    approving_body = serializers.SlugRelatedField(slug_field="slug", read_only=True, allow_null=True)
    in_use = serializers.BooleanField(read_only=True, help_text="Used by a conversion: frozen.")

    class Meta:
        model = ConversionRule
        fields = [
            "code", "version", "standard_code", "standard_version", "second_standard_code",
            "second_standard_version", "min_grade", "max_age_years", "programme", "courses", "mode",
            "credits", "effective_from", "effective_to", "approving_body", "in_use", "created_at",
        ]  # fmt: skip


class RuleUpdateSerializer(PlainTextSerializerMixin, serializers.Serializer):
    """A rule's terms. The standards are named by code and version, courses by code in the programme."""

    standard_code = serializers.CharField(max_length=30)
    standard_version = serializers.IntegerField(min_value=1)
    second_standard_code = serializers.CharField(
        max_length=30, required=False, allow_blank=True, help_text='For "Convergence of Two Certificates".'
    )
    second_standard_version = serializers.IntegerField(min_value=1, required=False, allow_null=True)
    min_grade = serializers.CharField(max_length=20, required=False, allow_blank=True)
    max_age_years = serializers.IntegerField(min_value=0, max_value=100, required=False, allow_null=True)
    programme = serializers.SlugRelatedField(
        slug_field="code", queryset=Programme.objects.all(), help_text="Programme code."
    )
    courses = serializers.ListField(
        child=serializers.CharField(max_length=30), allow_empty=False, help_text="Codes of the courses replaced."
    )
    mode = serializers.ChoiceField(choices=ConversionMode.choices, required=False)
    credits = credits_field(min_value=0, help_text="Credits per course.")
    effective_from = serializers.DateField()
    effective_to = serializers.DateField(required=False, allow_null=True)
    approving_body = serializers.SlugRelatedField(
        slug_field="slug", queryset=PartnerAssociation.objects.all(), required=False, allow_null=True
    )


class RuleCreateSerializer(RuleUpdateSerializer):
    code = serializers.CharField(max_length=30)


class RuleNewVersionSerializer(PlainTextSerializerMixin, serializers.Serializer):
    """The next version: when it starts, and what changes (anything left out stays as it was)."""

    effective_from = serializers.DateField()
    min_grade = serializers.CharField(max_length=20, required=False, allow_blank=True)
    max_age_years = serializers.IntegerField(min_value=0, max_value=100, required=False, allow_null=True)
    mode = serializers.ChoiceField(choices=ConversionMode.choices, required=False)
    credits = credits_field(min_value=0, required=False)
    approving_body = serializers.SlugRelatedField(
        slug_field="slug", queryset=PartnerAssociation.objects.all(), required=False, allow_null=True
    )


# --- Conversions and transfers ------------------------------------------------------------------


class ConversionApplySerializer(PlainTextSerializerMixin, serializers.Serializer):
    outcome = serializers.UUIDField(help_text="Public id of the accredited outcome.")
    enrolment = serializers.UUIDField(help_text="Public id of the learner's enrolment.")
    course_code = serializers.CharField(max_length=30, help_text="Code of the course exempted, in the programme.")
    rule_code = serializers.CharField(max_length=30)
    rule_version = serializers.IntegerField(min_value=1)
    second_outcome = serializers.UUIDField(
        required=False, allow_null=True, help_text='The second outcome of a "Convergence of Two Certificates" rule.'
    )


class TransferApplySerializer(PlainTextSerializerMixin, serializers.Serializer):
    outcome = serializers.UUIDField(help_text="Public id of the accredited outcome.")
    enrolment = serializers.UUIDField(help_text="Public id of the learner's enrolment.")
    group = serializers.IntegerField(help_text="Id of the requirement group within the enrolment's programme.")
    credits = credits_field(help_text="Credits to transfer.")
