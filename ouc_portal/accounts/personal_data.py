"""A person's own data: everything the portal holds about them, and closing their account.

Two use cases, one module, because they must agree on what "the person's data" is:

- ``personal_data_export`` builds the JSON document a signed-in person downloads from
  ``/me/data/``. It reads every kind of record in one query each (joins and prefetches), so the
  cost does not grow with how much the person has done on the portal.
- ``account_close`` closes an account. Personal data is erased or anonymised; the records other
  people rely on are kept: the credit ledger is append-only and hash-chained (DESIGN.md), and
  certificates and transcripts were issued to third parties' trust, so their public verification
  and their signed credentials (immutable, signed with the name at the time) keep working.

The kernel imports no domain app, so each app answers for its own records: it registers a
``PersonalDataPart`` in its ``AppConfig.ready`` (``enrolment/personal_data.py``,
``creditbank/personal_data.py``, ``certificates/personal_data.py``) with what it exports, counts
and erases. This module keeps what is the kernel's (the account, its addresses and second
factors, sessions, the audit log) and walks the parts in the order the apps are installed, which
is the order of the document's sections.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Callable
from dataclasses import dataclass
from importlib import import_module
from typing import Any

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.apps import apps
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.models import Session
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ouc_portal.accounts.models import User
from ouc_portal.accounts.roles import holds_staff_role
from ouc_portal.audit import services as audit
from ouc_portal.audit.models import AuditEvent

logger = logging.getLogger(__name__)

EXPORT_FORMAT = "ouc-portal-personal-data/1"
CLOSED_DOMAIN = "closed.invalid"  # RFC 2606: can never be a real mailbox


@dataclass(frozen=True)
class PersonalDataPart:
    """What one app holds about a person, registered in its ``AppConfig.ready``.

    - ``export(user)``: the app's sections of the export document, each always present (empty
      when the person has no such records), keys in document order.
    - ``count(user)``: how many records of each kind, one COUNT a kind (``/me/data/`` lists them).
    - ``erase(user)``: what closing the account erases or anonymises in the app, inside the
      closing transaction; returns numbers worth telling the person (``evidence_files``).
    """

    app: str
    export: Callable[[User], dict[str, Any]]
    count: Callable[[User], dict[str, int]]
    erase: Callable[[User], dict[str, int]] | None = None


_parts: dict[str, PersonalDataPart] = {}


def register_personal_data(part: PersonalDataPart) -> None:
    """Add ``part`` (registering an app again replaces its part, keeping its place)."""
    _parts[part.app] = part


def personal_data_parts() -> list[PersonalDataPart]:
    return list(_parts.values())


class AccountCloseError(Exception):
    """Closing was refused; ``message`` says why, in words for the person."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


def closed_email(user_id: int) -> str:
    """The placeholder address of a closed account: unique (the id) and undeliverable."""
    return f"closed-{user_id}@{CLOSED_DOMAIN}"


def is_closed(user: User) -> bool:
    return not user.is_active and user.email == closed_email(user.pk)


def staff_refusal(user: User) -> str | None:
    """Why ``user`` may not close their own account here, or None if they may.

    Staff act for schools, associations and the credit bank: their account is referenced by
    decisions other people rely on, and removing it is an administrator's decision.
    """
    if user.is_staff or user.is_superuser or holds_staff_role(user):
        return _(
            "Staff accounts cannot be closed here. Ask a portal administrator to close your "
            "account once your roles are handed over."
        )
    return None


# --- Reading --------------------------------------------------------------------------------------


def personal_data_summary(user: User) -> dict[str, int]:
    """How many records of each kind the portal holds about ``user``: what ``/me/data/`` lists.

    One COUNT a kind, whatever the numbers are.
    """
    counts: dict[str, int] = {}
    for part in personal_data_parts():
        counts.update(part.count(user))
    counts["audit_events"] = AuditEvent.objects.filter(actor=user).count()
    return counts


def history_rows(rows, user: User) -> list[dict[str, Any]]:
    """A record's status history, as every part of the export shows it."""
    # Who else acted (a school administrator, a reviewer) is their data, not this person's:
    # the export says only whether it was the person themself.
    return [
        {
            "from": row.from_status,
            "to": row.to_status,
            "at": row.at,
            "by_you": row.actor_id == user.pk,
            "reason": row.reason,
        }
        for row in rows
    ]


def _audit_events(user: User) -> list[dict[str, Any]]:
    events = AuditEvent.objects.filter(actor=user).order_by("at", "pk")
    return [
        {
            "at": e.at,
            "action": e.action,
            "record_type": e.object_type,
            "record": e.object_id,
            "summary": e.summary,
            "address": e.ip,
            "method": e.method,
            "path": e.path,
            "answer": e.status_code,
        }
        for e in events.iterator(chunk_size=2000)
    ]


def personal_data_export(*, user: User) -> dict[str, Any]:
    """Everything the portal holds about ``user``, as one JSON-ready document.

    Only ``user``'s own records: every query is filtered by this person's learner profile,
    credit account or user id. Files (evidence, PDFs) are listed with links, not embedded.
    """
    document: dict[str, Any] = {
        "format": EXPORT_FORMAT,
        "exported_at": timezone.now(),
        "portal": settings.SITE_URL,
        "account": {
            "email": user.email,
            "name": user.name,
            "date_joined": user.date_joined,
            "last_login": user.last_login,
            "active": user.is_active,
            "email_addresses": [
                {"email": a.email, "verified": a.verified, "primary": a.primary}
                for a in EmailAddress.objects.filter(user=user).order_by("pk")
            ],
            "second_factors": [
                {"type": a.type, "created_at": a.created_at, "last_used_at": a.last_used_at}
                for a in Authenticator.objects.filter(user=user).order_by("pk")
            ],
        },
    }
    for part in personal_data_parts():
        document.update(part.export(user))
    document["audit_events"] = _audit_events(user)
    return document


def export_filename(moment: datetime.datetime | None = None) -> str:
    moment = timezone.localtime(moment or timezone.now())
    return f"ouc-portal-my-data-{moment:%Y%m%d-%H%M}.json"


# --- Closing --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClosedAccount:
    """What closing did, in numbers (the confirmation page and the audit event say them)."""

    user_id: int
    evidence_files: int
    sessions: int


def _end_sessions(user_id: int) -> int:
    """Delete every stored session of ``user_id``, through the session engine (its cache too).

    Sessions are not indexed by user, so this reads the unexpired ones; closing an account is
    rare. They are dead anyway (an inactive user with a new password hash is refused by the
    authentication backend), this removes what they hold.
    """
    engine = import_module(settings.SESSION_ENGINE)
    decoder = engine.SessionStore()
    ended = 0
    live = Session.objects.filter(expire_date__gt=timezone.now()).only("session_key", "session_data")
    for session in live.iterator(chunk_size=1000):
        if str(decoder.decode(session.session_data).get(SESSION_KEY)) == str(user_id):
            engine.SessionStore(session_key=session.session_key).delete()
            ended += 1
    return ended


@transaction.atomic
def account_close(*, user: User) -> ClosedAccount:
    """Close ``user``'s account: erase and anonymise their personal data, keep the records.

    Erased: email (a unique placeholder), name, password (unusable), email addresses, second
    factors, social accounts, sessions; and, by the apps' registered parts, the learner
    profile's personal fields, evidence files and their names. Kept: enrolments and results,
    learning outcomes, the credit ledger (never touched: it is append-only and its hashes must
    still verify), certificate requests, certificates and transcripts with their PDFs and signed
    credentials, and audit events.
    """
    locked = User.objects.select_for_update().get(pk=user.pk)
    if not locked.is_active:
        raise AccountCloseError(_("This account is already closed."))
    refusal = staff_refusal(locked)
    if refusal:
        raise AccountCloseError(refusal)

    erased: dict[str, int] = {}
    for part in personal_data_parts():
        if part.erase is not None:
            erased.update(part.erase(locked))
    files = erased.get("evidence_files", 0)

    EmailAddress.objects.filter(user=locked).delete()
    Authenticator.objects.filter(user=locked).delete()
    if apps.is_installed("allauth.socialaccount"):
        apps.get_model("socialaccount", "SocialAccount").objects.filter(user=locked).delete()

    locked.email = closed_email(locked.pk)
    locked.name = ""
    locked.set_unusable_password()
    locked.is_active = False
    locked.save(update_fields=["email", "name", "password", "is_active"])
    sessions = _end_sessions(locked.pk)

    audit.record(
        action="account.closed",
        actor=locked,
        obj=locked,
        summary=(
            f"Account closed by its holder: personal data erased, {files} evidence file(s) "
            f"deleted, {sessions} session(s) ended; ledger, certificates and transcripts kept."
        ),
    )
    return ClosedAccount(user_id=locked.pk, evidence_files=files, sessions=sessions)
