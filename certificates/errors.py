from django.core.exceptions import ValidationError


class CertificateError(ValidationError):
    """A refused certificate action; its message says why and is shown as it is."""
