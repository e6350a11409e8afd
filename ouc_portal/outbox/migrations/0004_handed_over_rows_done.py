"""Rows handed to a worker before the outbox recorded what became of their tasks (0002) never
get a "done": after the deploy they would look lost with the broker, and staff could send their
emails a second time. Their tasks ran long ago: mark them done, at the time they were handed over.
A row that failed, was never handed over, or has a retry on record (a worker reports on it: it was
handed over after 0002) keeps its state."""

from django.db import migrations
from django.db.models import F


def mark_handed_over_done(apps, schema_editor):
    OutboxTask = apps.get_model("outbox", "OutboxTask")
    OutboxTask.objects.using(schema_editor.connection.alias).filter(
        published_at__isnull=False, failed_at__isnull=True, done_at__isnull=True, retried_at__isnull=True
    ).update(done_at=F("published_at"))


class Migration(migrations.Migration):
    dependencies = [
        ("outbox", "0003_outbox_task_sensitive"),
    ]

    operations = [
        # Going back leaves the rows done: which of them were marked here is not known.
        migrations.RunPython(mark_handed_over_done, migrations.RunPython.noop, elidable=True),
    ]
