"""Who may act for what: the helpers every later view, API view and admin uses.

``roles_for(user)`` reads a person's memberships once per request (cached on the user object) and
answers the questions views ask: does this person administer that school, review for that
association, work for the credit bank?
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.http import Http404

from schools.models import Membership

_CACHE_ATTR = "_ouc_roles"


@dataclass(frozen=True)
class Roles:
    authenticated: bool = False
    superuser: bool = False
    school_ids: frozenset[int] = field(default_factory=frozenset)
    association_ids: frozenset[int] = field(default_factory=frozenset)
    credit_officer: bool = False

    @property
    def is_school_admin(self) -> bool:
        return bool(self.school_ids)

    @property
    def is_reviewer(self) -> bool:
        return bool(self.association_ids)

    @property
    def is_staff_role(self) -> bool:
        """Holds any role beyond learner (these people must use a second factor)."""
        return self.superuser or self.is_school_admin or self.is_reviewer or self.credit_officer

    def administers(self, school_id: int | None) -> bool:
        return self.superuser or (school_id is not None and school_id in self.school_ids)

    def reviews_for(self, association_id: int | None) -> bool:
        return self.superuser or (association_id is not None and association_id in self.association_ids)

    def is_credit_officer(self) -> bool:
        return self.superuser or self.credit_officer


ANONYMOUS = Roles()


def roles_for(user) -> Roles:
    if user is None or not user.is_authenticated or not user.is_active:
        return ANONYMOUS
    cached = getattr(user, _CACHE_ATTR, None)
    if cached is not None:
        return cached
    school_ids: set[int] = set()
    association_ids: set[int] = set()
    officer = False
    for role, school_id, association_id in Membership.objects.filter(user=user).values_list(
        "role", "school_id", "association_id"
    ):
        if role == Membership.Role.SCHOOL_ADMIN:
            school_ids.add(school_id)
        elif role == Membership.Role.REVIEWER:
            association_ids.add(association_id)
        elif role == Membership.Role.CREDIT_OFFICER:
            officer = True
    roles = Roles(
        authenticated=True,
        superuser=user.is_superuser,
        school_ids=frozenset(school_ids),
        association_ids=frozenset(association_ids),
        credit_officer=officer,
    )
    setattr(user, _CACHE_ATTR, roles)
    return roles


def holds_staff_role(user) -> bool:
    """Any role beyond learner (registered with the kernel: ``ouc_portal.accounts.roles``)."""
    return roles_for(user).is_staff_role


def forget_roles(user) -> None:
    """Drop the cached roles, after a membership of this user changed."""
    if hasattr(user, _CACHE_ATTR):
        delattr(user, _CACHE_ATTR)


def require_school_admin(user, school_id: int) -> Roles:
    """404 (not 403) for a school the person does not administer: its data is not theirs to see."""
    roles = roles_for(user)
    if not roles.administers(school_id):
        raise Http404
    return roles


def require_reviewer(user, association_id: int) -> Roles:
    roles = roles_for(user)
    if not roles.reviews_for(association_id):
        raise Http404
    return roles
