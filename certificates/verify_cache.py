"""The verification page, cached whole for anonymous visitors (ouc_portal.pagecache).

What ``/verify/<code>/`` shows comes from the certificate or transcript (the holder's name
among it, as signed: ``holder_name``), its type, school and association. The learner's profile is
not on the page, so a renamed profile leaves every stored page as it is. Every save (of a
transcript: once it is ready) or delete of those rows bumps one counter in the shared cache (``verify_version``), now and again when the transaction commits,
so a revocation, a supersession (the new transcript is saved in the same transaction as the old
ones are marked) or a renamed school shows at once in every process, in both languages. The
receivers are connected in ``CertificatesConfig.ready``, so web processes and Celery workers
alike bump the counter.

Whether a certificate has expired depends on the day: a stored page ends at the next local
midnight.

The lookup rate limit counts what the cache cannot answer. It is there against guessing codes
(an unknown code is a 404, never stored, so every guess is counted) and to spare the database;
a stored page of a real code costs neither, and counting it would cost two more Redis round
trips on every answer, a third of the page's time.
"""

from __future__ import annotations

import datetime
import logging

from django.conf import settings
from django.db.models.signals import post_delete, post_save
from django.utils import timezone

from ouc_portal.pagecache import PagePolicy, VersionCounter

logger = logging.getLogger(__name__)

VERSION_KEY = "verify:version"


VERIFY = VersionCounter(VERSION_KEY, "verify cache")


def verify_version() -> int:
    return VERIFY.current()


def verification_changed(*, using: str | None = None) -> None:
    """Every stored verification page is stale: now, and again after the commit."""
    VERIFY.changed(using=using)


def _changed(sender, using: str | None = None, **kwargs) -> None:
    verification_changed(using=using)


def _transcript_saved(sender, instance, using: str | None = None, **kwargs) -> None:
    # Only a transcript that verifies (ready; superseded ones are ready too) can be on a stored
    # page, and its building marks the older ones superseded in the same transaction. A queued,
    # building or failed one answers 404, which is never stored: nothing to make stale.
    if instance.status == instance.Status.READY:
        verification_changed(using=using)


def connect() -> None:
    """Connect the receivers (idempotent: each has a dispatch_uid).

    Certificate requests are left out: a request's learner and type never change, and its
    status is not what the page shows (the certificate's is). Learners are left out: the page
    shows the name the credential was signed with, stored on the certificate or transcript.
    """
    from certificates.models import Certificate, CertificateType, Transcript
    from schools.models import IndustrySchool, PartnerAssociation

    for model in (Certificate, CertificateType, Transcript, IndustrySchool, PartnerAssociation):
        label = model._meta.label_lower
        receiver = _transcript_saved if model is Transcript else _changed
        post_save.connect(receiver, sender=model, dispatch_uid=f"verify-cache-save-{label}")
        post_delete.connect(_changed, sender=model, dispatch_uid=f"verify-cache-delete-{label}")


def _version(request, kwargs) -> str:
    return str(verify_version())


def _next_midnight() -> float:
    today = timezone.localdate()
    midnight = datetime.datetime.combine(today + datetime.timedelta(days=1), datetime.time.min)
    return timezone.make_aware(midnight).timestamp()


def _max_age() -> int:
    return settings.CATALOGUE_CACHE_SECONDS


# vary_accept: the page's URL is also the credential's id, which answers JSON-LD when asked.
VERIFY_PAGE = PagePolicy(
    name="verify", version=_version, max_age=_max_age, valid_until=_next_midnight, vary_accept=True
)
