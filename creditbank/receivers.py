"""The credit bank's side of the enrolment app's signals: runs inside the sender's transaction."""

from django.dispatch import receiver

from creditbank import services
from enrolment.signals import learner_registered, results_recorded


@receiver(learner_registered, dispatch_uid="creditbank.open_account")
def open_account(sender, learner, **kwargs) -> None:
    services.account_open(learner=learner)


@receiver(results_recorded, dispatch_uid="creditbank.deposit_results")
def deposit_results(sender, results, **kwargs) -> None:
    services.results_deposit(results=results)
