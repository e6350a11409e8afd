"""The task outbox: queued work is written to PostgreSQL with the action that causes it.

``enqueue_on_commit`` stores the task (name and arguments) in the same transaction as the action,
and publishes it to the broker once the transaction commits. If the broker is down then, the
action still succeeds and the row waits; the ``outbox.reconcile`` beat task publishes every row
still waiting once the broker answers again. A task that fails for good (after its own retries)
is marked on its row, so staff see it in the admin and can send it again.
"""
