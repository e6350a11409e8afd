"""Shapes of the public verification API. Read-only: they describe ``views.public.Verification``."""

from __future__ import annotations

from rest_framework import serializers

VERIFICATION_KINDS = [("certificate", "Certificate"), ("transcript", "Transcript")]
VERIFICATION_STATUSES = [
    ("valid", "Valid"),
    ("revoked", "Revoked"),
    ("suspended", "Suspended"),
    ("expired", "Expired"),
    ("superseded", "Superseded"),
]


class IssuerSerializer(serializers.Serializer):
    slug = serializers.CharField(source="issuer_slug", read_only=True, help_text="Issuer profile slug.")
    name_en = serializers.CharField(source="issuer_name_en", read_only=True)
    name_zh = serializers.CharField(source="issuer_name_zh", read_only=True)
    profile_url = serializers.URLField(read_only=True, help_text="The issuer's OB 3.0 Profile with its public keys.")
    approved_by_en = serializers.CharField(
        source="approver_name_en", read_only=True, help_text="The partner association that approved it (certificates)."
    )
    approved_by_zh = serializers.CharField(source="approver_name_zh", read_only=True)


class VerificationSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=VERIFICATION_KINDS, read_only=True)
    status = serializers.ChoiceField(
        choices=VERIFICATION_STATUSES, read_only=True, help_text="Today's status: revocation, expiry and supersession included."
    )
    status_text = serializers.CharField(read_only=True, help_text="The status in words, in the request's language.")
    revoked_on = serializers.DateField(read_only=True, allow_null=True)
    revocation_reason = serializers.CharField(read_only=True)
    expires_on = serializers.DateField(read_only=True, allow_null=True)
    superseded_on = serializers.DateField(read_only=True, allow_null=True)
    serial = serializers.CharField(read_only=True, allow_null=True, help_text="Certificate serial number; null for transcripts.")
    learner_name = serializers.CharField(
        read_only=True,
        help_text="The holder's name as the credential was signed with it (empty when it names nobody); "
        "a later change of the learner's profile does not change it.",
    )
    title_en = serializers.CharField(read_only=True)
    title_zh = serializers.CharField(read_only=True)
    issuer = IssuerSerializer(source="*", read_only=True)
    issued_on = serializers.DateField(read_only=True)
    credential_url = serializers.URLField(read_only=True, help_text="The signed credential (JSON-LD) as issued.")
    verified = serializers.BooleanField(
        read_only=True, help_text="Whether the stored credential's proof verifies now with the issuer's public key."
    )


class VerifyErrorSerializer(serializers.Serializer):
    detail = serializers.CharField(read_only=True)
