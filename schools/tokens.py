"""API tokens for partner systems: made, listed, found by key, revoked.

A token acts through its own service user, who holds a reviewer membership of the token's
association: the reviewers' selectors and services (``certificates.selectors.reviewer_*``,
``certificates.services.request_approve`` …) scope and record it exactly as they do a person.
The key (``oucpt_`` and 43 random URL-safe characters, 256 bits) is shown once, when the token is
made; the database keeps its SHA-256 digest, which is all a lookup needs (a key this long and
random needs no slow hash: there is nothing to guess from the digest).

Making and revoking are audited (``schools.partnertoken.created`` / ``.revoked``), and so is the
membership the service user gains or loses (``ouc_portal.audit.receivers``).
"""

from __future__ import annotations

import datetime
import hashlib
import logging
import secrets
import uuid
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from ouc_portal.audit.services import record
from schools.models import Membership, PartnerAssociation, PartnerToken
from schools.roles import forget_roles, roles_for
from schools.services import membership_grant, membership_revoke

logger = logging.getLogger(__name__)

KEY_PREFIX = "oucpt_"
# What lists show of a key: the fixed prefix and eight random characters.
VISIBLE_CHARS = len(KEY_PREFIX) + 8
NAME_MAX_LENGTH = PartnerToken._meta.get_field("name").max_length
# Service users' addresses: the reserved .invalid domain (RFC 2606) can never receive mail, so
# no password-reset or other mail reaches anyone.
SERVICE_EMAIL_DOMAIN = "partner-tokens.invalid"
# ``last_used_at`` is written at most this often per token: a busy partner system costs one
# UPDATE a minute, not one per call.
LAST_USED_RESOLUTION = datetime.timedelta(minutes=1)


class TokenError(ValidationError):
    """A refused token action; its message says why."""


def key_digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def is_service_user(user) -> bool:
    """Whether ``user`` is a token's service user (not a person: no log-in, no second factor)."""
    if not getattr(user, "pk", None):
        return False
    try:
        token = user.partner_token  # the reverse one-to-one, cached on the user once read
    except PartnerToken.DoesNotExist:
        return False
    return token is not None


# --- Reads ------------------------------------------------------------------------------------------


def tokens_for(*, reviewer) -> QuerySet[PartnerToken]:
    """Tokens of the associations ``reviewer`` reviews for (every token for a superuser), active
    first, newest first."""
    roles = roles_for(reviewer)
    scope = Q() if roles.superuser else Q(association_id__in=sorted(roles.association_ids))
    return (
        PartnerToken.objects.filter(scope)
        .select_related("association", "created_by", "revoked_by")
        .order_by(F("revoked_at").desc(nulls_first=True), "-created_at", "-pk")
    )


def token_for(*, reviewer, public_id) -> PartnerToken:
    """One token the reviewer may manage; any other raises ``PartnerToken.DoesNotExist``."""
    return tokens_for(reviewer=reviewer).get(public_id=public_id)


def token_by_key(key: str) -> PartnerToken | None:
    """The token whose key this is (revoked or not), with its service user; None if unknown."""
    if not key.startswith(KEY_PREFIX):
        return None
    return PartnerToken.objects.select_related("user", "association").filter(key_digest=key_digest(key)).first()


# --- Writes -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NewToken:
    token: PartnerToken
    key: str  # shown once; never stored


def _require_manager(actor, association: PartnerAssociation) -> None:
    if actor is None or is_service_user(actor) or not roles_for(actor).reviews_for(association.pk):
        raise TokenError(
            _("Only reviewers of %(body)s manage its API tokens.") % {"body": association.name},
            code="not_a_reviewer",
        )


def _clean_name(name: str) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise TokenError(_("Give the token a name, e.g. the partner system that will use it."), code="name_missing")
    if len(name) > NAME_MAX_LENGTH:
        raise TokenError(
            _("The name is %(length)d characters long; at most %(max)d are allowed.")
            % {"length": len(name), "max": NAME_MAX_LENGTH},
            code="name_too_long",
        )
    return name


@transaction.atomic
def partner_token_create(*, association: PartnerAssociation, name: str, created_by=None) -> NewToken:
    """A new token for ``association``: its service user, the user's reviewer membership, and the
    key, returned once. ``created_by`` must review for the association (``None``: an operator's
    command, no person to check)."""
    if created_by is not None:
        _require_manager(created_by, association)
    name = _clean_name(name)
    public_id = uuid.uuid4()
    user = get_user_model().objects.create_user(
        email=f"token-{public_id.hex}@{SERVICE_EMAIL_DOMAIN}",
        password=None,  # unusable: the service user cannot log in
        name=f"{name} (API token, {association.name})"[:150],
    )
    for _attempt in range(5):
        key = KEY_PREFIX + secrets.token_urlsafe(32)
        token = PartnerToken(
            public_id=public_id, association=association, name=name, user=user,
            prefix=key[:VISIBLE_CHARS], key_digest=key_digest(key), created_by=created_by,
        )  # fmt: skip
        try:
            with transaction.atomic():  # a prefix taken already (once in 2**48): draw again
                token.save(force_insert=True)
            break
        except IntegrityError:
            continue
    else:  # pragma: no cover - five collisions of 48 random bits
        raise TokenError(_("Could not make a unique key; try again."))
    membership_grant(user=user, role=Membership.Role.REVIEWER, association=association, granted_by=created_by)
    record(
        action="schools.partnertoken.created",
        actor=created_by,
        obj=token,
        summary=f"API token {token.prefix}… “{name}” for {association.slug}",
    )
    logger.info("API token %s created for %s by %s", token.prefix, association.slug, getattr(created_by, "email", None))
    return NewToken(token=token, key=key)


@transaction.atomic
def partner_token_revoke(*, token: PartnerToken, revoked_by=None) -> PartnerToken:
    """Revoke: the key stops working at once, the service user is deactivated and loses its
    membership. The token row, the user and everything it did stay, for the record. Revoking a
    revoked token is refused (nothing changes)."""
    token = PartnerToken.objects.select_for_update().select_related("association", "user").get(pk=token.pk)
    if revoked_by is not None:
        _require_manager(revoked_by, token.association)
    if token.revoked_at is not None:
        raise TokenError(
            _("This token was already revoked on %(date)s.")
            % {"date": timezone.localtime(token.revoked_at).strftime("%Y-%m-%d %H:%M")},
            code="already_revoked",
        )
    token.revoked_at = timezone.now()
    token.revoked_by = revoked_by
    token.save(update_fields=["revoked_at", "revoked_by"])
    user = token.user
    membership_revoke(user=user, role=Membership.Role.REVIEWER, association=token.association, revoked_by=revoked_by)
    user.is_active = False
    user.save(update_fields=["is_active"])
    forget_roles(user)
    record(
        action="schools.partnertoken.revoked",
        actor=revoked_by,
        obj=token,
        summary=f"API token {token.prefix}… “{token.name}” of {token.association.slug} revoked",
    )
    logger.info("API token %s revoked by %s", token.prefix, getattr(revoked_by, "email", None))
    return token


def partner_token_touch(*, token: PartnerToken, now: datetime.datetime | None = None) -> bool:
    """Note that the token was used now, at most once a ``LAST_USED_RESOLUTION``: one conditional
    UPDATE that changes nothing (and locks nothing) when the last note is recent."""
    now = now or timezone.now()
    if token.last_used_at is not None and now - token.last_used_at < LAST_USED_RESOLUTION:
        return False
    changed = (
        PartnerToken.objects.filter(pk=token.pk)
        .filter(Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_RESOLUTION))
        .update(last_used_at=now)
    )
    if changed:
        token.last_used_at = now
    return bool(changed)
