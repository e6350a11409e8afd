"""The ledger only grows: the model, the database and verify_ledger each hold that."""

from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from creditbank import ledger, services
from creditbank.models import LedgerEntry, LedgerImmutable


def test_the_model_refuses_to_change_or_remove_an_entry(world, accredited):
    entry = LedgerEntry.objects.get()
    entry.amount = Decimal("100")
    with pytest.raises(LedgerImmutable):
        entry.save()
    with pytest.raises(LedgerImmutable):
        entry.delete()
    with pytest.raises(LedgerImmutable):
        LedgerEntry.objects.filter(pk=entry.pk).update(amount=Decimal("100"))
    with pytest.raises(LedgerImmutable):
        LedgerEntry.objects.all().delete()
    assert LedgerEntry.objects.get().amount == Decimal("8.0")


def test_every_entry_chains_to_the_one_before(world, accredited):
    services.conversion_apply(outcome=accredited, enrolment=world.enrolment, course=world.cnc, rule=world.rule, officer=world.officer)
    first, second = LedgerEntry.objects.order_by("seq")
    assert first.prev_hash == ledger.GENESIS and second.prev_hash == first.hash
    assert (first.balance_after, second.balance_after) == (Decimal("8.0"), Decimal("4.0"))
    assert ledger.verify_account(accredited.account) is None


def test_posting_the_same_key_again_returns_the_first_entry(world, accredited):
    with transaction.atomic():
        again, created = ledger.post(
            account=accredited.account, kind="accreditation", amount=Decimal("8"), outcome=accredited,
            key=f"accredit:{accredited.pk}", reason="retry",
        )
    assert not created and again.seq == 1 and LedgerEntry.objects.count() == 1


def test_a_balance_never_goes_below_zero(world, accredited):
    with pytest.raises(ledger.LedgerError, match="below zero"), transaction.atomic():
        ledger.post(account=accredited.account, kind="expiry", amount=Decimal("-8.1"), outcome=accredited, key="x", reason="x")
    assert ledger.balance(accredited.account) == Decimal("8.0")


def _tamper(entry_pk: int, amount: str) -> None:
    """Change a row as someone with database access would, around the application."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # ALTER TABLE waits for no deferred constraint check: settle them first.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("ALTER TABLE creditbank_ledgerentry DISABLE TRIGGER creditbank_ledger_append_only")
        cursor.execute("UPDATE creditbank_ledgerentry SET amount = %s WHERE id = %s", [amount, entry_pk])
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE creditbank_ledgerentry ENABLE TRIGGER creditbank_ledger_append_only")


def test_verify_ledger_names_the_first_entry_changed_behind_the_applications_back(world, accredited, capsys):
    services.conversion_apply(outcome=accredited, enrolment=world.enrolment, course=world.cnc, rule=world.rule, officer=world.officer)
    call_command("verify_ledger")
    assert "every ledger chain is intact" in capsys.readouterr().out
    second = LedgerEntry.objects.get(seq=2)
    _tamper(second.pk, "-1.0")
    with pytest.raises(CommandError, match="1 of 1 accounts"):
        call_command("verify_ledger")
    err = capsys.readouterr().err
    assert f"account {accredited.account.number}: entry 2:" in err
    with pytest.raises(CommandError, match="No credit account"):
        call_command("verify_ledger", account="CB0000-000000000-0")


def test_the_database_refuses_update_and_delete(require_postgres, world, accredited):
    entry = LedgerEntry.objects.get()
    for sql in (
        "UPDATE creditbank_ledgerentry SET amount = 100 WHERE id = %s",
        "DELETE FROM creditbank_ledgerentry WHERE id = %s",
    ):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, [entry.pk])
    assert LedgerEntry.objects.get().amount == Decimal("8.0")
