"""The certificates app's side of the lower apps' signals: runs inside the sender's transaction."""

from django.dispatch import receiver

from certificates import services
from creditbank.signals import outcome_revoked
from enrolment.signals import enrolment_completed, enrolments_completed


@receiver(enrolment_completed, dispatch_uid="certificates.request_on_completion")
def open_completion_requests(sender, enrolment, **kwargs) -> None:
    services.requests_for_completion(enrolment=enrolment)


@receiver(enrolments_completed, dispatch_uid="certificates.requests_on_completions")
def open_completions_requests(sender, enrolments, **kwargs) -> None:
    services.requests_for_completions(enrolments=enrolments)


@receiver(outcome_revoked, dispatch_uid="certificates.flag_on_revocation")
def flag_certificates(sender, outcome, conversions, transfers, reason, **kwargs) -> None:
    enrolments = {c.enrolment_id for c in conversions} | {t.enrolment_id for t in transfers}
    if enrolments:
        services.certificates_flag(enrolment_ids=enrolments, reason=reason)
    # Every transcript built since the outcome counted lists it.
    accreditation = getattr(outcome, "accreditation", None)
    since = accreditation.at if accreditation is not None else outcome.submitted_at
    services.transcripts_flag(learner_id=outcome.account.learner_id, since=since, reason=reason)
