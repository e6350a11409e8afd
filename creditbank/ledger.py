"""Posting to the credit ledger, and checking it.

``post`` is the only code that writes a ledger row. It runs inside the caller's transaction with
the account row locked (``select_for_update``), so two postings to one account are serialised:
the running balance, the sequence number and the hash chain are read and extended under the lock.
An idempotency key unique per account makes a retried posting return the entry it already wrote.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import OuterRef, Subquery, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from creditbank.models import CreditAccount, LearningOutcome, LedgerEntry

GENESIS = "0" * 64
ZERO = Decimal("0.0")
TENTH = Decimal("0.1")
# Rows a query names at once: far under SQLite's 32,766 parameters and PostgreSQL's 65,535.
POST_MANY_CHUNK = 2000


def credits(value: Decimal) -> Decimal:
    """Credits as the ledger stores them (one decimal place), so a hash reads the same after a
    round trip through the database as before it."""
    return Decimal(value).quantize(TENTH)


class LedgerError(Exception):
    """A posting refused (it would make a balance negative); the message is shown as it is."""


def entry_digest(entry: LedgerEntry, *, account_number: str) -> str:
    """The hash of an entry's content and of the entry before it."""
    content = {
        "account": account_number,
        "seq": entry.seq,
        "kind": entry.kind,
        "amount": str(credits(entry.amount)),
        "balance_after": str(credits(entry.balance_after)),
        "level": entry.level,
        "outcome": entry.outcome_id,
        "rule": entry.rule_id,
        "programme": entry.programme_id,
        "conversion": entry.conversion_id,
        "transfer": entry.transfer_id,
        "reverses": entry.reverses_id,
        "actor": entry.actor_id,
        "at": entry.at.isoformat(),
        "reason": entry.reason,
        "key": entry.idempotency_key,
        "prev": entry.prev_hash,
    }
    canonical = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def lock_account(account_id: int) -> CreditAccount:
    return CreditAccount.objects.select_for_update().get(pk=account_id)


def lock_accounts(account_ids: list[int]) -> dict[int, CreditAccount]:
    """Lock many accounts, in primary-key order, so two batches over the same learners queue up
    behind each other instead of each holding a lock the other waits for."""
    accounts: dict[int, CreditAccount] = {}
    ids = sorted(set(account_ids))
    for start in range(0, len(ids), POST_MANY_CHUNK):
        chunk = ids[start : start + POST_MANY_CHUNK]
        for account in CreditAccount.objects.select_for_update().filter(pk__in=chunk).order_by("pk"):
            accounts[account.pk] = account
    missing = [pk for pk in ids if pk not in accounts]
    if missing:
        raise LedgerError(_("No credit account with id %(ids)s to post to.") % {"ids": missing[:10]})
    return accounts


def outcome_available(outcome: LearningOutcome) -> Decimal:
    """Credits of ``outcome`` not yet used: what it brought in, less what was applied from it."""
    total = LedgerEntry.objects.filter(outcome=outcome).aggregate(s=Sum("amount"))["s"]
    return credits(total) if total is not None else ZERO


def post(
    *,
    account: CreditAccount,
    kind: str,
    amount: Decimal,
    outcome: LearningOutcome,
    key: str,
    reason: str,
    actor=None,
    level: int | None = None,
    rule=None,
    programme=None,
    conversion=None,
    transfer=None,
    reverses: LedgerEntry | None = None,
) -> tuple[LedgerEntry, bool]:
    """Append one entry; returns (entry, created). The same ``key`` again returns the first entry."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("ledger.post runs inside the caller's transaction")
    account = lock_account(account.pk)
    existing = LedgerEntry.objects.filter(account=account, idempotency_key=key).first()
    if existing is not None:
        return existing, False
    amount = credits(amount) or ZERO  # never a negative zero in the ledger
    last = LedgerEntry.objects.filter(account=account).order_by("-seq").only("seq", "hash", "balance_after").first()
    balance = (last.balance_after if last else ZERO) + amount
    if balance < 0:
        raise LedgerError(
            _("This would take the balance below zero (%(balance)s credits available).")
            % {"balance": last.balance_after if last else ZERO}
        )
    entry = LedgerEntry(
        account=account,
        seq=(last.seq + 1) if last else 1,
        kind=kind,
        amount=amount,
        balance_after=balance,
        level=level,
        outcome=outcome,
        rule=rule,
        programme=programme,
        conversion=conversion,
        transfer=transfer,
        reverses=reverses,
        actor=actor,
        at=timezone.now(),
        reason=reason,
        idempotency_key=key,
        prev_hash=last.hash if last else GENESIS,
    )
    entry.hash = entry_digest(entry, account_number=account.number)
    entry.save()
    return entry, True


def _last_entries(account_ids: list[int]) -> dict[int, LedgerEntry]:
    """The newest entry of each account (seq, hash, balance), in one query per chunk of ids."""
    last: dict[int, LedgerEntry] = {}
    for start in range(0, len(account_ids), POST_MANY_CHUNK):
        ids = account_ids[start : start + POST_MANY_CHUNK]
        fields = ("account_id", "seq", "hash", "balance_after")
        if connection.vendor == "postgresql":
            # DISTINCT ON reads one row per account from the (account, seq) index.
            query = (
                LedgerEntry.objects.filter(account_id__in=ids)
                .order_by("account_id", "-seq")
                .distinct("account_id")
            )
        else:
            newest = LedgerEntry.objects.filter(account_id=OuterRef("account_id")).order_by("-seq")
            query = LedgerEntry.objects.filter(
                account_id__in=ids, seq=Subquery(newest.values("seq")[:1])
            ).order_by()
        for entry in query.only(*fields):
            last[entry.account_id] = entry
    return last


def post_many(drafts: list[LedgerEntry]) -> list[tuple[LedgerEntry, bool]]:
    """Append many entries at once, as ``post`` appends one; returns (entry, created) per draft.

    A draft is an unsaved entry with its account, kind, amount, outcome, idempotency key, reason
    and any other references set; this fills in the sequence, running balance, time and hash
    chain. It exists so an import of thousands of results pays a few queries per chunk instead
    of four per entry: every account is locked once, in primary-key order (two imports touching
    the same learners then wait for each other instead of deadlocking), the newest entry of each
    is read once, and the new entries are inserted with ``bulk_create``. A key already on the
    account, or repeated among the drafts, returns the first entry with it, as ``post`` does.
    Runs inside the caller's transaction, like ``post``.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("ledger.post_many runs inside the caller's transaction")
    if not drafts:
        return []
    account_ids = sorted({d.account_id for d in drafts})
    accounts = lock_accounts(account_ids)

    known: dict[tuple[int, str], LedgerEntry] = {}
    keys = sorted({d.idempotency_key for d in drafts})
    for start in range(0, len(keys), POST_MANY_CHUNK):
        for entry in LedgerEntry.objects.filter(
            account_id__in=account_ids, idempotency_key__in=keys[start : start + POST_MANY_CHUNK]
        ):
            known[(entry.account_id, entry.idempotency_key)] = entry

    last = _last_entries(account_ids)
    posted: list[tuple[LedgerEntry, bool]] = []
    new: list[LedgerEntry] = []
    for draft in drafts:
        account = accounts[draft.account_id]
        existing = known.get((account.pk, draft.idempotency_key))
        if existing is not None:
            posted.append((existing, False))
            continue
        previous = last.get(account.pk)
        amount = credits(draft.amount) or ZERO  # never a negative zero in the ledger
        balance_before = previous.balance_after if previous else ZERO
        if balance_before + amount < 0:
            raise LedgerError(
                _("This would take the balance of %(account)s below zero (%(balance)s credits available).")
                % {"account": account.number, "balance": balance_before}
            )
        draft.account = account
        draft.amount = amount
        draft.balance_after = balance_before + amount
        draft.seq = (previous.seq + 1) if previous else 1
        draft.prev_hash = previous.hash if previous else GENESIS
        draft.at = timezone.now()
        draft.hash = entry_digest(draft, account_number=account.number)
        known[(account.pk, draft.idempotency_key)] = draft
        last[account.pk] = draft
        new.append(draft)
        posted.append((draft, True))
    LedgerEntry.objects.bulk_create(new, batch_size=POST_MANY_CHUNK)
    return posted


def balance(account: CreditAccount) -> Decimal:
    last = LedgerEntry.objects.filter(account=account).order_by("-seq").only("balance_after").first()
    return last.balance_after if last else ZERO


@dataclass(frozen=True)
class Break:
    account: str
    seq: int
    problem: str


def verify_account(account: CreditAccount) -> Break | None:
    """Walk one account's chain; the first entry whose sequence, balance or hash is wrong."""
    previous_hash, running, expected_seq = GENESIS, ZERO, 1
    for entry in LedgerEntry.objects.filter(account=account).order_by("seq").iterator(chunk_size=2000):
        if entry.seq != expected_seq:
            return Break(account.number, entry.seq, f"sequence jumps from {expected_seq - 1} to {entry.seq}")
        running += entry.amount
        if entry.balance_after != running:
            return Break(account.number, entry.seq, f"balance {entry.balance_after} but the sum is {running}")
        if entry.prev_hash != previous_hash:
            return Break(account.number, entry.seq, "does not chain to the entry before it")
        if entry_digest(entry, account_number=account.number) != entry.hash:
            return Break(account.number, entry.seq, "content does not match its hash (changed after writing)")
        previous_hash, expected_seq = entry.hash, expected_seq + 1
    return None
