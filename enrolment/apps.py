from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EnrolmentConfig(AppConfig):
    name = "enrolment"
    verbose_name = _("Programmes and enrolment")

    def ready(self) -> None:
        from enrolment import cache_signals, receivers  # noqa: F401  (connects signal receivers)

        cache_signals.connect()
