"""The task outbox: queued work is written to PostgreSQL with the action that causes it.

``enqueue_on_commit`` stores the task (name and arguments) in the same transaction as the action,
and publishes it to the broker once the transaction commits. If the broker is down then, the
action still succeeds and the row waits; the ``outbox.reconcile`` beat task publishes every row
still waiting once the broker answers again. In the worker, Celery's signals write on the row
what became of its task: retried (with the error), done, or failed for good (after its own
retries), so staff see it in the admin and can send a failed one again (docs/operations.md).
A row queued with ``sensitive=True`` (allauth's emails, rendered with their keys and links) has
its arguments hidden from the admin and Celery's logs, and blanked once its task is done.
"""
