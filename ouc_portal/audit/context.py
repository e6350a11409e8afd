"""Where the current action comes from: the web request being served, if any.

The middleware sets it for the length of a request; code that writes audit events reads it, so a
status change made in a view records the address it came from, and one made by a Celery task
records none.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True)
class Origin:
    ip: str | None
    method: str
    path: str
    request: object = None  # its ``user`` is read only when an event needs it (it may query)

    @property
    def user(self):
        user = getattr(self.request, "user", None)
        return user if user is not None and user.is_authenticated else None


current: ContextVar[Origin | None] = ContextVar("audit_origin", default=None)
