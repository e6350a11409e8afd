"""State changes become audit events: each history row the apps write is one event, and so does
signing in and every change to what protects an account.

The credit ledger and course results are not copied here: the ledger is its own append-only,
hash-chained record with actor and time, and results carry who recorded them; the staff request
that wrote them is an event (see the middleware).
"""

from __future__ import annotations

from allauth.account.signals import password_changed, password_reset, password_set
from allauth.mfa.signals import authenticator_added, authenticator_removed, authenticator_reset
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from ouc_portal.audit.services import record, status_event, status_history_register

# --- What the apps register ----------------------------------------------------------------------
# The kernel imports no domain app: each app names, in its AppConfig.ready, the models whose saves
# are audit events here.


def _status_changed(sender, instance, created: bool, raw: bool = False, **kwargs) -> None:
    if not created or raw:
        return
    record(**status_event(instance))


def audit_status_history(model, *, subject: str, dispatch_uid: str) -> None:
    """Each new row of ``model`` (a status-history table whose ``subject`` field is the record
    that moved) is one audit event (``status_event``)."""
    status_history_register(model, subject=subject)
    post_save.connect(_status_changed, sender=model, dispatch_uid=dispatch_uid)


def audit_grants(model, *, action: str, dispatch_uid: str) -> None:
    """Saving a row of ``model`` is ``<action>.granted`` (new) or ``<action>.changed``, deleting
    it ``<action>.removed``; the summary is the row's ``str``."""

    def saved(sender, instance, created: bool, raw: bool = False, **kwargs) -> None:
        if raw:
            return
        record(action=f"{action}.granted" if created else f"{action}.changed",
               obj=instance, summary=str(instance))  # fmt: skip

    def removed(sender, instance, **kwargs) -> None:
        record(action=f"{action}.removed", obj=instance, summary=str(instance))

    post_save.connect(saved, sender=model, dispatch_uid=f"{dispatch_uid}-saved", weak=False)
    post_delete.connect(removed, sender=model, dispatch_uid=f"{dispatch_uid}-removed", weak=False)


# --- Signing in, and what protects an account ---------------------------------------------------
# Who came in, who failed to, and every change to a password or a second factor: the events a
# superuser looks for after a suspected break-in. A failed log-in has no actor; its summary names
# the address that was tried (cut short: it is whatever a stranger typed).


@receiver(user_logged_in, dispatch_uid="audit-logged-in")
def logged_in(sender, request, user, **kwargs) -> None:
    record(action="auth.login", actor=user, obj=user)


@receiver(user_logged_out, dispatch_uid="audit-logged-out")
def logged_out(sender, request, user, **kwargs) -> None:
    if user is not None:
        record(action="auth.logout", actor=user, obj=user)


@receiver(user_login_failed, dispatch_uid="audit-login-failed")
def login_failed(sender, credentials, request=None, **kwargs) -> None:
    tried = credentials.get("email") or credentials.get("username") or credentials.get("login") or ""
    record(action="auth.login_failed", actor=None, summary=f"log-in refused for {str(tried)[:254]}")


def _account_event(action: str):
    def receiver_(sender, request=None, user=None, **kwargs) -> None:
        authenticator = kwargs.get("authenticator")
        summary = getattr(authenticator, "type", "") if authenticator is not None else ""
        record(action=action, actor=user, obj=user, summary=summary)

    return receiver_


for _signal, _action in (
    (password_changed, "auth.password_changed"),
    (password_set, "auth.password_set"),
    (password_reset, "auth.password_reset"),
    (authenticator_added, "auth.second_factor_added"),
    (authenticator_removed, "auth.second_factor_removed"),
    (authenticator_reset, "auth.second_factor_reset"),
):
    _signal.connect(_account_event(_action), dispatch_uid=f"audit-{_action}", weak=False)
