from allauth.account.signals import user_signed_up
from django.dispatch import receiver

from enrolment import services


@receiver(user_signed_up, dispatch_uid="enrolment.learner_on_signup")
def register_learner(sender, request, user, **kwargs) -> None:
    services.learner_register(user=user)
