from django.core.exceptions import ValidationError


class CreditBankError(ValidationError):
    """A refused credit-bank action; its message says why and is shown to the person as it is."""
