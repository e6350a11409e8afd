from allauth.account.signals import user_signed_up
from django.dispatch import receiver

from ouc_portal.accounts import services


@receiver(user_signed_up, dispatch_uid="accounts.welcome_on_signup")
def queue_welcome_email(sender, request, user, **kwargs) -> None:
    services.user_welcome_queue(user=user)
