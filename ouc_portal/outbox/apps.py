from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OutboxConfig(AppConfig):
    name = "ouc_portal.outbox"
    label = "outbox"
    verbose_name = _("Queued work")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from ouc_portal.outbox import receivers  # noqa: F401 - records final task failures
