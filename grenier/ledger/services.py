"""The only writes to the ledger: record an entry, reverse one. Every other module moves money through these."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils.translation import gettext as _

from grenier.core.models import Territory, User
from grenier.ledger.errors import InsufficientBalance, UnbalancedEntry
from grenier.ledger.models import Account, Entry, Posting, Unit


@dataclass(frozen=True)
class Recorded:
    entry: Entry
    created: bool  # False when the idempotency key had already been used: nothing was written again


def account_ensure(*, territory: Territory, code: str, unit: Unit, guarded: bool = False, name: str = "") -> Account:
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
                territory=territory, idempotency_key=idempotency_key, kind=kind, memo=memo[:300], actor=actor,
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


def entry_reverse(*, entry: Entry, idempotency_key: str, actor: User | None = None, memo: str = "") -> Recorded:
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
