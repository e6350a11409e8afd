"""Writing audit events. Every write goes through ``record`` / ``record_many``."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import models

from ouc_portal.audit.context import current
from ouc_portal.audit.models import AuditEvent

SUMMARY_LIMIT = 2000
# ``actor`` not given: whoever is signed in to the request being served (none in a task).
FROM_REQUEST = object()


def _event(
    *, action: str, actor=FROM_REQUEST, obj: models.Model | None = None, summary: str = "",
    status_code: int | None = None,
) -> AuditEvent:  # fmt: skip
    origin = current.get()
    if actor is FROM_REQUEST:
        actor = origin.user if origin else None
    return AuditEvent(
        action=action,
        actor=actor if getattr(actor, "pk", None) else None,
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        summary=summary[:SUMMARY_LIMIT],
        ip=origin.ip if origin else None,
        method=origin.method if origin else "",
        path=origin.path[:500] if origin else "",
        status_code=status_code,
    )


def record(**fields) -> AuditEvent:
    """One event: ``action``, and as known ``actor``, ``obj``, ``summary``, ``status_code``."""
    event = _event(**fields)
    event.save()
    return event


def record_many(events: Iterable[dict]) -> int:
    """Several events at once (a bulk decision): one INSERT per 500."""
    rows = [_event(**event) for event in events]
    AuditEvent.objects.bulk_create(rows, batch_size=500)
    return len(rows)


def _status_summary(change) -> str:
    moved = f"{change.from_status or '-'} → {change.to_status}"
    return f"{moved}: {change.reason}" if change.reason else moved


# Each audited status-history model and the field naming the record whose status moved, as the
# apps register them (``ouc_portal.audit.receivers.audit_status_history``).
_status_subjects: dict[type, str] = {}


def status_history_register(model: type, *, subject: str) -> None:
    _status_subjects[model] = subject


def status_event(change) -> dict:
    """The audit event of one history row (also for rows written in bulk, which send no signal)."""
    subject = getattr(change, _status_subjects[type(change)])
    return {
        "action": f"{subject._meta.label_lower}.status",
        "actor": change.actor,
        "obj": subject,
        "summary": _status_summary(change),
    }
