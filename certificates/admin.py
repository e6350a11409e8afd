"""Certificate types are reference data kept by superusers; requests, certificates and transcripts
change only through the services (review desk, issuing tasks), so the admin shows them read-only."""

from django.contrib import admin

from certificates.models import Certificate, CertificateRequest, CertificateType, Transcript
from ouc_portal.admin_base import ReadOnlyAdmin


@admin.register(CertificateType)
class CertificateTypeAdmin(admin.ModelAdmin):
    list_display = ["code", "name_en", "school", "association", "kind", "validity_years"]
    list_filter = ["kind", "school", "association"]
    search_fields = ["code", "name_en", "name_zh"]
    raw_id_fields = ["programme", "rule"]


@admin.register(CertificateRequest)
class CertificateRequestAdmin(ReadOnlyAdmin):
    list_display = ["public_id", "learner", "type", "status", "requested_at", "issue_failed_at"]
    list_filter = ["status", "type__association"]
    search_fields = ["learner__user__email", "learner__legal_name"]


@admin.register(Certificate)
class CertificateAdmin(ReadOnlyAdmin):
    list_display = ["serial", "status", "issued_on", "expires_on", "flagged_at"]
    list_filter = ["status", "school"]
    search_fields = ["serial"]
    exclude = ["verification_code"]


@admin.register(Transcript)
class TranscriptAdmin(ReadOnlyAdmin):
    list_display = ["public_id", "learner", "status", "requested_at", "superseded_at", "flagged_at"]
    list_filter = ["status"]
    exclude = ["verification_code"]
