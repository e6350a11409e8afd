from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CreditbankConfig(AppConfig):
    name = "creditbank"
    verbose_name = _("Credit bank")

    def ready(self) -> None:
        from creditbank import receivers  # noqa: F401  (connects signal receivers)
        from creditbank.models import OutcomeStatusChange
        from creditbank.personal_data import PART
        from ouc_portal.accounts.personal_data import register_personal_data
        from ouc_portal.audit.receivers import audit_status_history

        audit_status_history(
            OutcomeStatusChange, subject="outcome", dispatch_uid="audit-outcome-status"
        )
        register_personal_data(PART)
