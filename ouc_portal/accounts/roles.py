"""Does a person hold a role beyond learner? The kernel asks; the apps that grant roles answer.

Roles are granted by domain apps (``schools`` keeps the memberships: school administrator,
reviewer, credit-bank officer), which sit above the kernel, so the kernel cannot import them. An
app that grants roles registers a predicate in its ``AppConfig.ready``; the kernel's questions
(must this person use a second factor, may they close their own account) go through
``holds_staff_role``. Django's own ``is_staff`` and ``is_superuser`` flags are the kernel's and
are checked by the callers, not here.
"""

from __future__ import annotations

from collections.abc import Callable

StaffPredicate = Callable[[object], bool]

_predicates: list[StaffPredicate] = []


def register_staff_role(predicate: StaffPredicate) -> None:
    """Count ``user`` as staff whenever ``predicate(user)`` is true (registering twice is once)."""
    if predicate not in _predicates:
        _predicates.append(predicate)


def holds_staff_role(user) -> bool:
    """Whether any app says ``user`` holds a role beyond learner."""
    return any(predicate(user) for predicate in _predicates)
