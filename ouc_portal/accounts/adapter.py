from allauth.account.adapter import DefaultAccountAdapter


class AccountAdapter(DefaultAccountAdapter):
    """Keeps email addresses in one case so the same person cannot sign up twice."""

    def clean_email(self, email: str) -> str:
        return super().clean_email(email).lower()
