"""Trigram index for the catalogue search on PostgreSQL.

The catalogue matches ``UPPER(search_text) LIKE UPPER('%term%')`` (Django's icontains). A GIN
trigram index on that expression serves it for Chinese and English terms alike, where PostgreSQL's
full-text parser would not split Chinese words. SQLite keeps a plain scan.
"""

from django.db import migrations

CREATE = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS enrolment_programme_search_trgm "
    "ON enrolment_programme USING gin (UPPER(search_text) gin_trgm_ops)",
]
DROP = ["DROP INDEX IF EXISTS enrolment_programme_search_trgm"]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for sql in statements:
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("enrolment", "0002_catalogue_and_enrolment")]
    operations = [migrations.RunPython(_run(CREATE), _run(DROP))]
