"""The only writes to the ledger: record an entry, reverse one. Every other module moves money through these."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import Case, F, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from grenier.core.models import Territory, User
from grenier.ledger.errors import InsufficientBalance, UnbalancedEntry
from grenier.ledger.models import Account, Entry, Posting, Unit


@dataclass(frozen=True)
class Recorded:
    entry: Entry
    created: bool  # False when the idempotency key had already been used: nothing was written again


def account_ensure(
    *, territory: Territory, code: str, unit: Unit, guarded: bool = False, name: str = ""
) -> Account:
    """The account with this code, created if absent. A unit or guard that differs from the existing one is a bug."""
    account, created = Account.objects.get_or_create(
        territory=territory, code=code, defaults={"unit": unit, "guarded": guarded, "name": name}
    )
    if not created and (account.unit != unit or account.guarded != guarded):
        raise ValueError(f"Account {code} exists with unit {account.unit} guarded={account.guarded}")
    return account


def entry_record(
    *,
    territory: Territory,
    idempotency_key: str,
    kind: str,
    legs: Sequence[tuple[Account, int]],
    memo: str = "",
    actor: User | None = None,
    reverses: Entry | None = None,
) -> Recorded:
    """Record one balanced entry, or return the one already recorded under ``idempotency_key``.

    ``legs`` are (account, signed amount in cents). Raises ``UnbalancedEntry`` if the legs do not sum to zero per
    unit, ``InsufficientBalance`` if a guarded account would go below zero (and then nothing is written).
    """
    existing = Entry.objects.filter(territory=territory, idempotency_key=idempotency_key).first()
    if existing is not None:
        return Recorded(existing, created=False)
    _check_balanced(territory, legs)
    try:
        with transaction.atomic():
            # The entry row goes first: a concurrent request with the same key blocks here on the unique index
            # until this transaction ends, then fails and returns this entry; balances are never touched twice.
            entry = Entry.objects.create(
                territory=territory,
                idempotency_key=idempotency_key,
                kind=kind,
                memo=memo[:300],
                actor=actor,
                reverses=reverses,
            )
            _apply_to_balances(legs)
            Posting.objects.bulk_create(
                Posting(entry=entry, account=account, unit=account.unit, amount_cents=amount)
                for account, amount in legs
                if amount != 0
            )
    except IntegrityError:
        existing = Entry.objects.filter(territory=territory, idempotency_key=idempotency_key).first()
        if existing is None:
            raise
        return Recorded(existing, created=False)
    return Recorded(entry, created=True)


def _check_balanced(territory: Territory, legs: Sequence[tuple[Account, int]]) -> None:
    moving = [(account, amount) for account, amount in legs if amount != 0]
    if len(moving) < 2:
        raise UnbalancedEntry(_("An entry needs at least two postings."))
    sums: dict[str, int] = defaultdict(int)
    for account, amount in moving:
        if not isinstance(amount, int) or isinstance(amount, bool):
            raise UnbalancedEntry(_("Amounts are whole cents."))
        if account.territory_id != territory.pk:
            raise UnbalancedEntry(_("Every account of an entry belongs to its territory."))
        sums[account.unit] += amount
    if any(total != 0 for total in sums.values()):
        raise UnbalancedEntry(_("The postings of an entry must sum to zero in each unit."))


def _apply_to_balances(legs: Sequence[tuple[Account, int]]) -> None:
    deltas: dict[int, int] = defaultdict(int)
    accounts: dict[int, Account] = {}
    for account, amount in legs:
        deltas[account.pk] += amount
        accounts[account.pk] = account
    # In id order, so two entries touching the same accounts lock them in the same order and cannot deadlock.
    for account_id in sorted(deltas):
        delta = deltas[account_id]
        if delta == 0:
            continue
        account = accounts[account_id]
        rows = Account.objects.filter(pk=account_id)
        if account.guarded and delta < 0:
            # The race: two payments read the same balance and both spend it. This UPDATE re-checks the balance
            # under the row lock it takes, so the second one sees the first one's debit and matches no row.
            rows = rows.filter(balance_cents__gte=-delta)
        if rows.update(balance_cents=F("balance_cents") + delta) != 1:
            raise InsufficientBalance(
                _("Not enough on the account for this operation."), account_code=account.code
            )


def entry_reverse(
    *, entry: Entry, idempotency_key: str, actor: User | None = None, memo: str = ""
) -> Recorded:
    """A correction: a new entry with every posting of ``entry`` negated. The original stays as it was."""
    legs = [(posting.account, -posting.amount_cents) for posting in entry.postings.select_related("account")]
    return entry_record(
        territory=entry.territory,
        idempotency_key=idempotency_key,
        kind=f"{entry.kind}.reversal",
        legs=legs,
        memo=memo or f"reversal of {entry.idempotency_key}",
        actor=actor,
        reverses=entry,
    )


@dataclass(frozen=True)
class EntrySpec:
    idempotency_key: str
    kind: str
    legs: Sequence[tuple[Account, int]]
    memo: str = ""
    at: datetime | None = None  # when it happened, for history recorded after the fact; now by default


def entries_record_batch(
    *, territory: Territory, specs: Sequence[EntrySpec], actor: User | None = None
) -> int:
    """Record many entries at once, set-based, for bulk work (the monthly run). Same rules as ``entry_record``:
    balanced per unit, keys recorded once (keys already present are skipped), guarded accounts never negative
    (if one would go below zero, nothing of the batch is written). Must run inside the caller's transaction.

    Returns how many entries were written.
    """
    if not specs:
        return 0
    keys = [spec.idempotency_key for spec in specs]
    if len(set(keys)) != len(keys):
        raise UnbalancedEntry(_("An idempotency key appears twice in the same batch."))
    for spec in specs:
        _check_balanced(territory, spec.legs)
    with transaction.atomic():
        present = set(
            Entry.objects.filter(territory=territory, idempotency_key__in=keys).values_list(
                "idempotency_key", flat=True
            )
        )
        todo = [spec for spec in specs if spec.idempotency_key not in present]
        if not todo:
            return 0
        entries = Entry.objects.bulk_create(
            Entry(
                territory=territory,
                idempotency_key=spec.idempotency_key,
                kind=spec.kind,
                memo=spec.memo[:300],
                actor=actor,
                created_at=spec.at or timezone.now(),
            )
            for spec in todo
        )
        if any(entry.pk is None for entry in entries):  # a database that cannot return ids from a bulk insert
            by_key = dict(
                Entry.objects.filter(
                    territory=territory, idempotency_key__in=[s.idempotency_key for s in todo]
                ).values_list("idempotency_key", "pk")
            )
            for entry in entries:
                entry.pk = by_key[entry.idempotency_key]
        postings: list[Posting] = []
        legs: list[tuple[Account, int]] = []
        for entry, spec in zip(entries, todo, strict=True):
            for account, amount in spec.legs:
                if amount != 0:
                    postings.append(
                        Posting(entry_id=entry.pk, account=account, unit=account.unit, amount_cents=amount)
                    )
                    legs.append((account, amount))
        _apply_to_balances_in_bulk(legs)
        Posting.objects.bulk_create(postings, batch_size=2000)
    return len(todo)


def _apply_to_balances_in_bulk(legs: Sequence[tuple[Account, int]]) -> None:
    deltas: dict[int, int] = defaultdict(int)
    accounts: dict[int, Account] = {}
    for account, amount in legs:
        deltas[account.pk] += amount
        accounts[account.pk] = account
    # Guarded accounts that lose money go one by one through the conditional update (they are few: returns of
    # unspent credit); every other account takes its net change in one statement per group of rows.
    plain: dict[int, int] = {}
    for account_id, delta in deltas.items():
        if delta == 0:
            continue
        if accounts[account_id].guarded and delta < 0:
            _apply_to_balances([(accounts[account_id], delta)])
        else:
            plain[account_id] = delta
    ids = sorted(plain)
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        Account.objects.filter(pk__in=chunk).update(
            balance_cents=F("balance_cents")
            + Case(
                *(When(pk=account_id, then=Value(plain[account_id])) for account_id in chunk),
                default=Value(0),
            )
        )
