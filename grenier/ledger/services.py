"""The only writes to the ledger: record an entry, reverse one. Every other module moves money through these."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from django.db import IntegrityError, connection, transaction
from django.db.models import Model
from django.utils import timezone
from django.utils.translation import gettext as _

from grenier.core.idempotency import KeyReused
from grenier.core.models import Territory, User
from grenier.ledger.errors import InsufficientBalance, UnbalancedEntry
from grenier.ledger.models import Account, Entry, Posting, Unit


@dataclass(frozen=True)
class Recorded:
    entry: Entry
    created: bool  # False when the idempotency key had already been used: nothing was written again


class AccountRow(NamedTuple):
    """An account as bulk work reads it: plain values, not a model instance (the same attribute names, so the ledger's
    checks and its portable path take either)."""

    pk: int
    code: str
    unit: str
    guarded: bool
    territory_id: int
    balance_cents: int


AccountLike = Account | AccountRow


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
    unit, ``InsufficientBalance`` if a guarded account would go below zero (and then nothing is written), and
    ``KeyReused`` if the entry already recorded under the key is of another kind or moves other amounts.
    """
    existing = Entry.objects.filter(territory=territory, idempotency_key=idempotency_key).first()
    if existing is not None:
        return Recorded(_replayed(existing, kind, legs), created=False)
    _check_balanced(territory, legs)
    try:
        with transaction.atomic():
            entry, _balances = _write_entry(territory, idempotency_key, kind, legs, memo, actor, reverses)
    except IntegrityError:
        existing = Entry.objects.filter(territory=territory, idempotency_key=idempotency_key).first()
        if existing is None:
            raise
        return Recorded(_replayed(existing, kind, legs), created=False)
    return Recorded(entry, created=True)


def _replayed(entry: Entry, kind: str, legs: Sequence[tuple[Account, int]]) -> Entry:
    """The entry already recorded under a key, if it is the one asked for again: its postings are its request's
    fingerprint (same kind, same net amount on each account); anything else is another request (``KeyReused``)."""
    wanted: dict[int, int] = defaultdict(int)
    for account, amount in legs:
        wanted[account.pk] += amount
    recorded: dict[int, int] = defaultdict(int)
    for account_id, amount in entry.postings.values_list("account_id", "amount_cents"):
        recorded[account_id] += amount
    if entry.kind != kind or {k: v for k, v in wanted.items() if v} != {
        k: v for k, v in recorded.items() if v
    }:
        raise KeyReused(entry.idempotency_key)
    return entry


def entry_insert(
    *,
    territory: Territory,
    idempotency_key: str,
    kind: str,
    legs: Sequence[tuple[Account, int]],
    memo: str = "",
    actor: User | None = None,
) -> tuple[Entry, dict[int, int]]:
    """Write a new entry in the caller's transaction: ``entry_record`` for a busy path that has already checked its
    own idempotency key (a payment checks the payment's), so without the key look-up and without a savepoint.

    Same rules: balanced per unit (``UnbalancedEntry``), guarded accounts never below zero
    (``InsufficientBalance``). A key already used raises ``IntegrityError``, which spoils the caller's transaction:
    the caller lets it roll back and then reads what the other request wrote. Must run inside
    ``transaction.atomic()``. Returns the entry and, for each account it moved, the balance right after it.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("entry_insert() runs inside the caller's transaction.atomic().")
    _check_balanced(territory, legs)
    return _write_entry(territory, idempotency_key, kind, legs, memo, actor, None)


def _write_entry(
    territory: Territory,
    idempotency_key: str,
    kind: str,
    legs: Sequence[tuple[Account, int]],
    memo: str,
    actor: User | None,
    reverses: Entry | None,
) -> tuple[Entry, dict[int, int]]:
    # The entry row goes first: a concurrent request with the same key blocks here on the unique index until this
    # transaction ends, then fails; balances are never touched twice. Then the postings, then the balances, so the
    # row locks on the accounts are taken as late as possible and held for the shortest time.
    entry = Entry.objects.create(
        territory=territory,
        idempotency_key=idempotency_key,
        kind=kind,
        memo=memo[:300],
        actor=actor,
        reverses=reverses,
    )
    moving = [(account, amount) for account, amount in legs if amount != 0]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {_table(Posting)} (entry_id, account_id, unit, amount_cents) VALUES "  # noqa: S608 - our table name
            + ", ".join(["(%s, %s, %s, %s)"] * len(moving)),
            [value for account, amount in moving for value in (entry.pk, account.pk, account.unit, amount)],
        )
    return entry, _apply_to_balances(legs)


def _table(model: type[Model]) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _check_balanced(territory: Territory, legs: Sequence[tuple[AccountLike, int]]) -> None:
    if len(legs) == 2:
        # The common case (a payment, each entry of the monthly run), checked without building anything: two plain
        # int amounts, opposite and not zero, on two accounts of the same unit in the territory. Anything else
        # goes through the general check below, which gives the reason.
        (first, amount), (second, other) = legs
        if (
            type(amount) is int
            and type(other) is int
            and amount != 0
            and amount + other == 0
            and first.unit == second.unit
            and first.territory_id == territory.pk
            and second.territory_id == territory.pk
        ):
            return
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


def _lock_order(account: AccountLike) -> tuple[bool, int]:
    """The one global order in which balances are updated: guarded accounts first, then the others, each by id.

    Any fixed order keeps two transactions from waiting on each other's rows (no deadlock); this one takes the
    busy shared rows (a store's account, the issuer), which are never guarded, last, so their locks are held for
    the shortest time.
    """
    return (not account.guarded, account.pk)


def _apply_to_balances(legs: Sequence[tuple[AccountLike, int]]) -> dict[int, int]:
    """Add each account's net change to its balance, in the global order; the new balances, by account id."""
    deltas: dict[int, int] = defaultdict(int)
    accounts: dict[int, AccountLike] = {}
    for account, amount in legs:
        deltas[account.pk] += amount
        accounts[account.pk] = account
    table = _table(Account)
    balances: dict[int, int] = {}
    with connection.cursor() as cursor:
        for account in sorted(accounts.values(), key=_lock_order):
            delta = deltas[account.pk]
            if delta == 0:
                continue
            if account.guarded and delta < 0:
                # The race: two payments read the same balance and both spend it. This UPDATE re-checks the balance
                # under the row lock it takes, so the second one sees the first one's debit and matches no row.
                cursor.execute(
                    f"UPDATE {table} SET balance_cents = balance_cents + %s "  # noqa: S608 - our table name
                    "WHERE id = %s AND balance_cents >= %s RETURNING balance_cents",
                    [delta, account.pk, -delta],
                )
            else:
                cursor.execute(
                    f"UPDATE {table} SET balance_cents = balance_cents + %s "  # noqa: S608 - our table name
                    "WHERE id = %s RETURNING balance_cents",
                    [delta, account.pk],
                )
            row = cursor.fetchone()
            if row is None:
                raise InsufficientBalance(
                    _("Not enough on the account for this operation."), account_code=account.code
                )
            balances[account.pk] = row[0]
    return balances


@dataclass(frozen=True)
class EntrySpec:
    idempotency_key: str
    kind: str
    legs: Sequence[tuple[AccountLike, int]]
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
    if connection.vendor == "postgresql":
        with transaction.atomic():
            # Keys already present are skipped by the insert itself (ON CONFLICT DO NOTHING), not looked up first.
            return _write_batch_postgresql(territory, specs, actor)
    with transaction.atomic():
        present = set(
            Entry.objects.filter(territory=territory, idempotency_key__in=keys).values_list(
                "idempotency_key", flat=True
            )
        )
        todo = [spec for spec in specs if spec.idempotency_key not in present]
        if not todo:
            return 0
        _write_batch_portable(territory, todo, actor)
    return len(todo)


def _write_batch_portable(territory: Territory, todo: Sequence[EntrySpec], actor: User | None) -> None:
    """Any database: Django's bulk inserts, then each account's net change in the global order."""
    now = timezone.now()
    entries = Entry.objects.bulk_create(
        Entry(
            territory=territory,
            idempotency_key=spec.idempotency_key,
            kind=spec.kind,
            memo=spec.memo[:300],
            actor=actor,
            created_at=spec.at or now,
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
    legs: list[tuple[AccountLike, int]] = []
    for entry, spec in zip(entries, todo, strict=True):
        for account, amount in spec.legs:
            if amount != 0:
                postings.append(
                    Posting(entry_id=entry.pk, account_id=account.pk, unit=account.unit, amount_cents=amount)
                )
                legs.append((account, amount))
    Posting.objects.bulk_create(postings, batch_size=2000)
    _apply_to_balances(legs)


def _write_batch_postgresql(territory: Territory, specs: Sequence[EntrySpec], actor: User | None) -> int:
    """PostgreSQL: entries in one ``INSERT … SELECT FROM unnest(arrays) ON CONFLICT DO NOTHING`` (a key already
    recorded is skipped, with its postings), postings in one ``INSERT … SELECT FROM unnest``; the balances locked in
    the global order by one ``SELECT … FOR UPDATE``, then changed by one conditional ``UPDATE … FROM unnest``.
    Returns how many entries were written."""
    now = timezone.now()
    dated = any(spec.at is not None for spec in specs)
    todo = specs
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {_table(Entry)} "  # noqa: S608 - our table name
            "(territory_id, idempotency_key, kind, memo, actor_id, reverses_id, created_at) "
            "SELECT %s, u.key, u.kind, u.memo, %s, NULL, "
            + (
                "u.at FROM unnest(%s::varchar[], %s::varchar[], %s::varchar[], %s::timestamptz[]) "
                "AS u(key, kind, memo, at) "
                if dated
                else "%s FROM unnest(%s::varchar[], %s::varchar[], %s::varchar[]) AS u(key, kind, memo) "
            )
            + "ON CONFLICT (territory_id, idempotency_key) DO NOTHING RETURNING idempotency_key, id",
            [
                territory.pk,
                actor.pk if actor is not None else None,
                *([] if dated else [now]),
                text_array([spec.idempotency_key for spec in todo]),
                text_array([spec.kind for spec in todo]),
                text_array([spec.memo[:300] for spec in todo]),
                *([[spec.at or now for spec in todo]] if dated else []),
            ],
        )
        ids = dict(cursor.fetchall())
        todo = [spec for spec in specs if spec.idempotency_key in ids]
        if not todo:
            return 0
        entry_ids: list[int] = []
        account_ids: list[int] = []
        units: list[str] = []
        amounts: list[int] = []
        deltas: dict[int, int] = defaultdict(int)
        accounts: dict[int, AccountLike] = {}
        for spec in todo:
            entry_id = ids[spec.idempotency_key]
            for account, amount in spec.legs:
                if amount != 0:
                    entry_ids.append(entry_id)
                    account_ids.append(account.pk)
                    units.append(account.unit)
                    amounts.append(amount)
                    deltas[account.pk] += amount
                    accounts[account.pk] = account
        cursor.execute(
            f"INSERT INTO {_table(Posting)} (entry_id, account_id, unit, amount_cents) "  # noqa: S608 - our table name
            "SELECT * FROM unnest(%s::bigint[], %s::bigint[], %s::varchar[], %s::bigint[])",
            [_int_array(entry_ids), _int_array(account_ids), text_array(units), _int_array(amounts)],
        )
        moved = sorted((a for a in accounts.values() if deltas[a.pk] != 0), key=_lock_order)
        if not moved:
            return len(todo)
        table = _table(Account)
        cursor.execute(
            f"SELECT id FROM {table} WHERE id = ANY(%s::bigint[]) ORDER BY NOT guarded, id FOR UPDATE",  # noqa: S608 - our table name
            [_int_array([a.pk for a in moved])],
        )
        # Guarded accounts that would go below zero match no row (the check runs under the row lock just taken).
        cursor.execute(
            f"UPDATE {table} AS a SET balance_cents = a.balance_cents + d.delta "  # noqa: S608 - our table name
            "FROM unnest(%s::bigint[], %s::bigint[]) AS d(id, delta) "
            "WHERE a.id = d.id AND (d.delta >= 0 OR NOT a.guarded OR a.balance_cents + d.delta >= 0) "
            "RETURNING a.id",
            [_int_array([a.pk for a in moved]), _int_array([deltas[a.pk] for a in moved])],
        )
        updated = {row[0] for row in cursor.fetchall()}
    refused = [a for a in moved if a.pk not in updated]
    if refused:
        raise InsufficientBalance(
            _("Not enough on the account for this operation."), account_code=refused[0].code
        )
    return len(todo)


def accounts_ensure_locked(
    *, territory: Territory, codes: Sequence[str], unit: Unit, guarded: bool
) -> dict[str, AccountRow]:
    """The accounts with these codes, those absent created (``unit``, ``guarded``), every one locked for the caller's
    transaction (in id order), by code. A unit or guard that differs from an existing account's is a bug
    (``ValueError``), as in ``account_ensure``. Must run inside ``transaction.atomic()``.

    On PostgreSQL one statement: the missing ones inserted (their new rows are the transaction's own), the others
    locked by a ``SELECT … ORDER BY id FOR UPDATE``."""
    if not codes:
        return {}
    table = _table(Account)
    columns = "id, code, unit, guarded, territory_id, balance_cents"
    found: dict[str, AccountRow] = {}
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                f"WITH wanted AS (SELECT code FROM unnest(%s::varchar[]) AS u(code)), "  # noqa: S608 - our table name
                f"created AS (INSERT INTO {table} (territory_id, code, name, unit, guarded, balance_cents, created_at) "
                "SELECT %s, w.code, '', %s, %s, 0, %s FROM wanted w "
                f"WHERE NOT EXISTS (SELECT 1 FROM {table} a WHERE a.territory_id = %s AND a.code = w.code) "
                f"ON CONFLICT (territory_id, code) DO NOTHING RETURNING {columns}), "
                f"present AS (SELECT {columns} FROM {table} "
                "WHERE territory_id = %s AND code = ANY(%s::varchar[]) ORDER BY id FOR UPDATE) "
                "SELECT * FROM present UNION ALL SELECT * FROM created",
                [
                    text_array(codes),
                    territory.pk,
                    unit.value,
                    guarded,
                    timezone.now(),
                    territory.pk,
                    territory.pk,
                    text_array(codes),
                ],
            )
            found = {row[1]: AccountRow(*row) for row in cursor.fetchall()}
    if len(found) < len(codes):
        # Elsewhere, or an account another transaction created meanwhile (committed after this statement began):
        # the portable way, create what is missing, then lock and read every one.
        Account.objects.bulk_create(
            [
                Account(territory=territory, code=code, unit=unit, guarded=guarded)
                for code in codes
                if code not in found
            ],
            ignore_conflicts=True,
        )
        found = {
            row[1]: AccountRow(*row)
            for row in Account.objects.select_for_update()
            .filter(territory=territory, code__in=list(codes))
            .order_by("pk")
            .values_list("pk", "code", "unit", "guarded", "territory_id", "balance_cents")
        }
    for row in found.values():
        if row.unit != unit or row.guarded != guarded:
            raise ValueError(f"Account {row.code} exists with unit {row.unit} guarded={row.guarded}")
    return found


def transfers_record_batch(
    *,
    territory: Territory,
    keys: Sequence[str],
    kinds: Sequence[str],
    sources: Sequence[AccountLike],
    targets: Sequence[AccountLike],
    amounts: Sequence[int],
    actor: User | None = None,
) -> int:
    """Record many two-leg entries at once, given as columns: entry ``i``, under key ``keys[i]`` and of kind
    ``kinds[i]``, moves ``amounts[i]`` cents from ``sources[i]`` to ``targets[i]`` (postings ``-amount`` and
    ``+amount``). The same rules and result as ``entries_record_batch`` with the same entries (which it is, off
    PostgreSQL): balanced (same unit, same territory, a whole non-zero amount), keys already present skipped, guarded
    accounts never below zero (then nothing of the batch is written). Must run inside the caller's transaction.

    On PostgreSQL the entries, their postings and every balance are written by **one** statement (a data-modifying
    ``WITH``): the entries inserted (``ON CONFLICT DO NOTHING``), the postings of those inserted, each account's net
    change, the accounts locked in the global order (``ORDER BY NOT guarded, id FOR UPDATE``) and updated with the
    guard. Returns how many entries were written."""
    count = len(keys)
    if not (len(kinds) == len(sources) == len(targets) == len(amounts) == count):
        raise ValueError("Every column of a batch of transfers has one value per entry.")
    if not count:
        return 0
    if len(set(keys)) != count:
        raise UnbalancedEntry(_("An idempotency key appears twice in the same batch."))
    units = _transfer_units(territory, sources, targets, amounts)
    if connection.vendor != "postgresql":
        specs = [
            EntrySpec(key, kind, [(source, -amount), (target, amount)])
            for key, kind, source, target, amount in zip(keys, kinds, sources, targets, amounts, strict=True)
        ]
        return entries_record_batch(territory=territory, specs=specs, actor=actor)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            _TRANSFERS_SQL.format(entry=_table(Entry), posting=_table(Posting), account=_table(Account)),
            {
                "territory": territory.pk,
                "actor": actor.pk if actor is not None else None,
                "now": timezone.now(),
                "keys": text_array(keys),
                "kinds": text_array(kinds),
                "units": text_array(units),
                "sources": _int_array([account.pk for account in sources]),
                "targets": _int_array([account.pk for account in targets]),
                "amounts": _int_array(amounts),
            },
        )
        written, refused = cursor.fetchone()
    if refused:
        codes = {account.pk: account.code for account in (*sources, *targets)}
        raise InsufficientBalance(
            _("Not enough on the account for this operation."), account_code=codes[min(refused)]
        )
    return int(written)


def _transfer_units(
    territory: Territory,
    sources: Sequence[AccountLike],
    targets: Sequence[AccountLike],
    amounts: Sequence[int],
) -> list[str]:
    """Each transfer's unit, once checked balanced (``UnbalancedEntry`` otherwise, with the reason)."""
    if any(type(amount) is not int for amount in amounts):
        raise UnbalancedEntry(_("Amounts are whole cents."))
    if 0 in amounts:
        raise UnbalancedEntry(_("An entry needs at least two postings."))
    units = [source.unit for source in sources]
    if units != [target.unit for target in targets]:
        raise UnbalancedEntry(_("The postings of an entry must sum to zero in each unit."))
    outside = {account.territory_id for account in (*sources, *targets)} - {territory.pk}
    if outside:
        raise UnbalancedEntry(_("Every account of an entry belongs to its territory."))
    return units


# One statement for a batch of transfers (see ``transfers_record_batch``). The accounts are locked by ``locked``, in the
# global order, before ``changed`` updates them: the update reads its rows through ``locked``, so no row is changed
# before its lock is taken in that order. A guarded account that would go below zero matches no row of ``changed``
# and comes back in ``refused``; the caller's savepoint then undoes the whole statement.
_TRANSFERS_SQL = """
WITH given AS MATERIALIZED (
    SELECT * FROM unnest(%(keys)s::varchar[], %(kinds)s::varchar[], %(units)s::varchar[], %(sources)s::bigint[],
                         %(targets)s::bigint[], %(amounts)s::bigint[]) WITH ORDINALITY
        AS g(key, kind, unit, source, target, amount, n)
), written AS (
    INSERT INTO {entry} (territory_id, idempotency_key, kind, memo, actor_id, reverses_id, created_at)
    SELECT %(territory)s, g.key, g.kind, '', %(actor)s, NULL, %(now)s FROM given g ORDER BY g.n
    ON CONFLICT (territory_id, idempotency_key) DO NOTHING
    RETURNING id, idempotency_key
), posted AS (
    INSERT INTO {posting} (entry_id, account_id, unit, amount_cents)
    SELECT w.id, leg.account_id, g.unit, leg.amount
    FROM written w JOIN given g ON g.key = w.idempotency_key
    CROSS JOIN LATERAL (VALUES (1, g.source, -g.amount), (2, g.target, g.amount)) AS leg(side, account_id, amount)
    ORDER BY w.id, leg.side
    RETURNING account_id, amount_cents
), deltas AS MATERIALIZED (
    SELECT account_id, sum(amount_cents) AS delta FROM posted GROUP BY account_id HAVING sum(amount_cents) <> 0
), locked AS MATERIALIZED (
    SELECT a.id, d.delta FROM {account} a JOIN deltas d ON d.account_id = a.id
    ORDER BY NOT a.guarded, a.id FOR UPDATE OF a
), changed AS (
    UPDATE {account} a SET balance_cents = a.balance_cents + l.delta FROM locked l
    WHERE a.id = l.id AND (l.delta >= 0 OR NOT a.guarded OR a.balance_cents + l.delta >= 0)
    RETURNING a.id
)
SELECT (SELECT count(*) FROM written),
       ARRAY(SELECT account_id FROM deltas WHERE account_id NOT IN (SELECT id FROM changed))
"""


def _int_array(values: Sequence[int]) -> str:
    """A PostgreSQL array literal of integers (``{1,-2,3}``), for a ``%s::bigint[]`` parameter: far cheaper for the
    driver than adapting a Python list element by element."""
    return "{" + ",".join(str(int(value)) for value in values) + "}"


def text_array(values: Sequence[str]) -> str:
    """A PostgreSQL array literal of strings (``{"a","b\\"c"}``), for a ``%s::varchar[]`` parameter: every element
    in double quotes, its backslashes and double quotes escaped (so ``NULL``, commas and braces stay text); far
    cheaper for the driver than adapting a Python list of strings element by element."""
    return (
        "{" + ",".join('"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"' for value in values) + "}"
    )
