"""Superusers search the audit log in the admin; nobody adds, changes or deletes an event."""

from __future__ import annotations

from django.contrib import admin

from ouc_portal.admin_base import ReadOnlyAdmin
from ouc_portal.audit.models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ("at", "actor", "action", "object_type", "object_id", "summary", "ip", "status_code")
    list_filter = ("action", "object_type", "method")
    search_fields = ("=object_id", "actor__email", "summary", "path", "=ip")
    date_hierarchy = "at"
    list_select_related = ("actor",)
    # The log grows for ever: no COUNT(*) of the whole table on every page.
    show_full_result_count = False
    list_per_page = 50
    readonly_fields = [f.name for f in AuditEvent._meta.fields]

    def has_module_permission(self, request) -> bool:
        return request.user.is_active and request.user.is_superuser

    def has_view_permission(self, request, obj=None) -> bool:
        return request.user.is_active and request.user.is_superuser

