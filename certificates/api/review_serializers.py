"""Shapes of the reviewers' API (``certificates.api.review``): requests, certificates, decisions."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from certificates.models import Certificate, CertificateRequest, RequestStatus, RequestStatusChange
from ouc_portal.validators import MULTI_LINE, REASON_MAX, PlainTextSerializerMixin

CERTIFICATE_STATES = [("valid", "Valid"), ("revoked", "Revoked"), ("suspended", "Suspended"), ("expired", "Expired")]


class LearnerSerializer(serializers.Serializer):
    public_id = serializers.UUIDField(read_only=True)
    legal_name = serializers.CharField(read_only=True)
    email = serializers.EmailField(source="user.email", read_only=True)


class TypeSerializer(serializers.Serializer):
    code = serializers.CharField(read_only=True)
    name_en = serializers.CharField(read_only=True)
    name_zh = serializers.CharField(read_only=True)
    school = serializers.CharField(source="school.slug", read_only=True, help_text="The industry school's slug.")
    association = serializers.CharField(
        source="association.slug", read_only=True, help_text="The approving partner association's slug."
    )


class HistorySerializer(serializers.ModelSerializer):
    actor = serializers.SerializerMethodField(help_text="Who moved it (a person's or an API token's name), or null.")

    class Meta:
        model = RequestStatusChange
        fields = ["from_status", "to_status", "at", "reason", "actor"]

    def get_actor(self, change: RequestStatusChange) -> str | None:
        return str(change.actor) if change.actor_id else None


class ReviewRequestSerializer(serializers.ModelSerializer):
    learner = LearnerSerializer(read_only=True)
    type = TypeSerializer(read_only=True)
    programme = serializers.SerializerMethodField(help_text="The code of the programme the request rests on, or null.")
    issue_failed = serializers.SerializerMethodField(help_text="Approved, and issuing its certificate failed (retry on the desk).")
    certificate_serial = serializers.SerializerMethodField(help_text="The serial of its certificate, once issued.")

    class Meta:
        model = CertificateRequest
        fields = ["public_id", "status", "requested_at", "learner", "type", "programme", "issue_failed", "certificate_serial"]
        read_only_fields = fields

    def get_programme(self, request: CertificateRequest) -> str | None:
        programme = request.enrolment.programme if request.enrolment_id else request.type.programme
        return programme.code if programme is not None else None

    def get_issue_failed(self, request: CertificateRequest) -> bool:
        return request.status == RequestStatus.APPROVED and request.issue_failed_at is not None

    def get_certificate_serial(self, request: CertificateRequest) -> str | None:
        certificate = getattr(request, "certificate", None)
        return certificate.serial if certificate is not None else None


class ReviewRequestDetailSerializer(ReviewRequestSerializer):
    history = HistorySerializer(many=True, read_only=True, help_text="Every status change, oldest first.")

    class Meta(ReviewRequestSerializer.Meta):
        fields = [*ReviewRequestSerializer.Meta.fields, "history"]
        read_only_fields = fields


class ReviewApproveSerializer(PlainTextSerializerMixin, serializers.Serializer):
    reason = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=REASON_MAX,
        default="",
        style=MULTI_LINE,
        help_text="Optional note kept with the decision.",
    )


class ReviewReasonSerializer(PlainTextSerializerMixin, serializers.Serializer):
    reason = serializers.CharField(max_length=REASON_MAX, style=MULTI_LINE, help_text="Why; the learner sees it.")


class ReviewCertificateSerializer(serializers.ModelSerializer):
    state = serializers.SerializerMethodField(help_text="valid, revoked or expired today.")
    request = serializers.UUIDField(source="request.public_id", read_only=True, help_text="Its request's public id.")
    learner = LearnerSerializer(source="request.learner", read_only=True)
    type = TypeSerializer(source="request.type", read_only=True)
    holder_name = serializers.CharField(
        read_only=True, help_text="The name the certificate was issued and signed to; the learner's profile may differ now."
    )

    class Meta:
        model = Certificate
        fields = [
            "serial", "state", "issued_on", "expires_on", "revoked_at", "revocation_reason", "request", "learner", "type",
            "holder_name",
        ]  # fmt: skip
        read_only_fields = fields

    @extend_schema_field(serializers.ChoiceField(choices=CERTIFICATE_STATES))
    def get_state(self, certificate: Certificate) -> str:
        return certificate.status_on()
