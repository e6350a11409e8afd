from django.core.exceptions import ValidationError


class CertificateError(ValidationError):
    """A refused certificate action; its message says why and is shown as it is."""


class CredentialInvalid(Exception):
    """A credential could not be built, signed, schema-checked or self-verified; it is not issued.

    Not a ``CertificateError``: that one means "refused, nothing to do", while this one is a fault
    the issuing task records for staff to see and retry.
    """
