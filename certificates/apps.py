from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CertificatesConfig(AppConfig):
    name = "certificates"
    verbose_name = _("Certificates")

    def ready(self) -> None:
        from certificates import checks, receivers, verify_cache  # noqa: F401  (registers checks, connects receivers)

        verify_cache.connect()
