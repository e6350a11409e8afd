"""State changes become audit events: each history row the apps write is one event.

The credit ledger and course results are not copied here: the ledger is its own append-only,
hash-chained record with actor and time, and results carry who recorded them; the staff request
that wrote them is an event (see the middleware).
"""

from __future__ import annotations

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from certificates.models import RequestStatusChange
from creditbank.models import OutcomeStatusChange
from enrolment.models import EnrolmentStatusChange
from ouc_portal.audit.services import record, status_event
from schools.models import Membership


@receiver(post_save, sender=EnrolmentStatusChange, dispatch_uid="audit-enrolment-status")
@receiver(post_save, sender=RequestStatusChange, dispatch_uid="audit-certificate-request-status")
@receiver(post_save, sender=OutcomeStatusChange, dispatch_uid="audit-outcome-status")
def status_changed(sender, instance, created: bool, raw: bool = False, **kwargs) -> None:
    if not created or raw:
        return
    record(**status_event(instance))


@receiver(post_save, sender=Membership, dispatch_uid="audit-membership-saved")
def membership_saved(sender, instance: Membership, created: bool, raw: bool = False, **kwargs) -> None:
    if raw:
        return
    record(action="schools.membership.granted" if created else "schools.membership.changed",
           obj=instance, summary=str(instance))  # fmt: skip


@receiver(post_delete, sender=Membership, dispatch_uid="audit-membership-removed")
def membership_removed(sender, instance: Membership, **kwargs) -> None:
    record(action="schools.membership.removed", obj=instance, summary=str(instance))
