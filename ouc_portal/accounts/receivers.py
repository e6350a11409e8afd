from allauth.account.signals import user_signed_up
from allauth.mfa.models import Authenticator
from allauth.mfa.signals import authenticator_added
from django.dispatch import receiver

from ouc_portal.accounts import services
from ouc_portal.accounts.second_factor import record_second_factor_set_up


@receiver(user_signed_up, dispatch_uid="accounts.welcome_on_signup")
def queue_welcome_email(sender, request, user, **kwargs) -> None:
    services.user_welcome_queue(user=user)


@receiver(authenticator_added, dispatch_uid="accounts.second_factor_set_up")
def count_set_up_code(sender, request=None, user=None, authenticator=None, **kwargs) -> None:
    """The code typed to set up an app is this session's second factor (see second_factor)."""
    if request is not None and authenticator is not None and authenticator.type == Authenticator.Type.TOTP:
        record_second_factor_set_up(request, user, authenticator)
