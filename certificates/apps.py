from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from ouc_portal.celery import register_warm_up


class CertificatesConfig(AppConfig):
    name = "certificates"
    verbose_name = _("Certificates")

    def ready(self) -> None:
        from certificates import checks, receivers, verify_cache  # noqa: F401  (registers checks, connects receivers)
        from certificates.models import RequestStatusChange
        from certificates.personal_data import PART
        from ouc_portal.accounts.personal_data import register_personal_data
        from ouc_portal.audit.receivers import audit_status_history

        verify_cache.connect()
        register_warm_up(warm_up)
        audit_status_history(
            RequestStatusChange, subject="request", dispatch_uid="audit-certificate-request-status"
        )
        register_personal_data(PART)


def warm_up() -> None:
    """What a worker loads before its first certificate: the URL configuration (PDFs and QR codes
    carry verification links) and the PDF stylesheets and fonts. Imported here, not at start-up,
    so a web process never loads WeasyPrint for nothing."""
    from django.urls import reverse

    from certificates import rendering

    reverse("verify:lookup")
    rendering.warm_up()
