"""The database itself refuses to change or remove a ledger entry (PostgreSQL).

The application never issues UPDATE or DELETE on the ledger; this trigger makes sure nobody else
does either, short of disabling it (which ``verify_ledger`` would then catch by the hash chain).
"""

from django.db import migrations

CREATE = [
    """
    CREATE OR REPLACE FUNCTION creditbank_ledger_append_only() RETURNS trigger AS $$
    BEGIN
        RAISE EXCEPTION 'creditbank_ledgerentry is append-only: % refused (write a reversing entry)', TG_OP
            USING ERRCODE = 'insufficient_privilege';
    END;
    $$ LANGUAGE plpgsql
    """,
    "DROP TRIGGER IF EXISTS creditbank_ledger_append_only ON creditbank_ledgerentry",
    """
    CREATE TRIGGER creditbank_ledger_append_only
    BEFORE UPDATE OR DELETE ON creditbank_ledgerentry
    FOR EACH ROW EXECUTE FUNCTION creditbank_ledger_append_only()
    """,
]
# TRUNCATE is not refused: Django's test flush and a restore from backup both need it, and a
# truncated ledger cannot pass unnoticed (every account's balance and chain would be gone).
DROP = [
    "DROP TRIGGER IF EXISTS creditbank_ledger_append_only ON creditbank_ledgerentry",
    "DROP FUNCTION IF EXISTS creditbank_ledger_append_only()",
]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for sql in statements:
            schema_editor.execute(sql, params=None)  # the % in RAISE is not a placeholder

    return run


class Migration(migrations.Migration):
    dependencies = [("creditbank", "0001_credit_bank")]
    operations = [migrations.RunPython(_run(CREATE), _run(DROP))]
