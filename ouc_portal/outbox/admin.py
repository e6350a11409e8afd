"""Staff see queued work that waits for the broker, is retrying (an SMTP server away) or failed
(an email that could not be sent), and send it again."""

from __future__ import annotations

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from ouc_portal.admin_base import ReadOnlyAdmin
from ouc_portal.outbox.models import OutboxTask
from ouc_portal.outbox.services import send_again


class StateFilter(admin.SimpleListFilter):
    title = _("state")
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("failed", _("Failed")), ("retrying", _("Retrying")), ("waiting", _("Waiting for the broker")),
                ("published", _("Handed to a worker")), ("done", _("Done"))]  # fmt: skip

    def queryset(self, request, queryset):
        # The same order of precedence as OutboxTask.state.
        value = self.value()
        if value == "failed":
            return queryset.filter(failed_at__isnull=False)
        live = queryset.filter(failed_at__isnull=True)
        if value == "done":
            return live.filter(done_at__isnull=False)
        if value == "retrying":
            return live.filter(done_at__isnull=True).exclude(retry_error="")
        if value == "waiting":
            return live.filter(done_at__isnull=True, retry_error="", published_at__isnull=True)
        if value == "published":
            return live.filter(done_at__isnull=True, retry_error="", published_at__isnull=False)
        return queryset


@admin.register(OutboxTask)
class OutboxTaskAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "task", "arguments", "state", "publish_attempts", "retries", "retry_error",
                    "failed_at", "failure")  # fmt: skip
    list_filter = (StateFilter, "task")
    search_fields = ("task", "failure", "last_error", "retry_error")
    show_full_result_count = False
    # The arguments through ``arguments``, which hides those of a row that holds a secret.
    readonly_fields = ["arguments"] + [f.name for f in OutboxTask._meta.fields if f.name not in ("args", "kwargs")]
    exclude = ("args", "kwargs")

    @admin.display(description=_("arguments"))
    def arguments(self, row: OutboxTask) -> str:
        if row.sensitive:
            return _("hidden: an account email with its confirmation key or link")
        return f"{tuple(row.args)} {row.kwargs}" if row.kwargs else str(tuple(row.args))
    actions = ["send_again_action"]

    # Only failed tasks, and tasks waiting for the broker or lost with it, are sent (services.
    # may_send_again); one a worker holds or has done is not: its email would go twice.
    @admin.action(description=_("Send the chosen tasks again"), permissions=["view"])
    def send_again_action(self, request, queryset) -> None:
        sent = sum(1 for row in queryset if send_again(row))
        self.message_user(
            request,
            ngettext("%(n)d task sent again.", "%(n)d tasks sent again.", sent) % {"n": sent},
            messages.SUCCESS if sent == queryset.count() else messages.WARNING,
        )
