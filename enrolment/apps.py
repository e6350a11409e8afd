from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EnrolmentConfig(AppConfig):
    name = "enrolment"
    verbose_name = _("Programmes and enrolment")

    def ready(self) -> None:
        from enrolment import cache_signals, receivers  # noqa: F401  (connects signal receivers)
        from enrolment.models import EnrolmentStatusChange
        from enrolment.personal_data import PART
        from ouc_portal.accounts.personal_data import register_personal_data
        from ouc_portal.audit.receivers import audit_status_history

        cache_signals.connect()
        audit_status_history(
            EnrolmentStatusChange, subject="enrolment", dispatch_uid="audit-enrolment-status"
        )
        register_personal_data(PART)
