"""``grenier ledger check`` finds every way an entry can be wrong, even when the totals hide it; on PostgreSQL the
ledger's tables cannot be emptied with TRUNCATE.

The bad rows are written by raw SQL, as a hand-made fix in a database console would: the services never write them.
Each kind keeps the per-territory sums at zero and the kept balances equal to the postings, so that only the
per-entry checks can see it.
"""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from grenier.core import services as core_services
from grenier.core.models import Territory
from grenier.ledger import services
from grenier.ledger.models import Account, Posting, Unit
from grenier.ledger.selectors import ledger_check


@pytest.fixture
def territory(db: None) -> Territory:
    return core_services.territory_create(slug="grand-livre", name="Grand livre")


def account(territory: Territory, code: str, unit: Unit = Unit.EUR) -> Account:
    return services.account_ensure(territory=territory, code=code, unit=unit)


def raw_entry(territory: Territory, key: str, *postings: tuple[Account, int, str | None]) -> None:
    """An entry and its postings (account, amount, unit; ``None``: the account's), inserted by SQL, each kept
    balance moved as the services would."""
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO ledger_entry (territory_id, idempotency_key, kind, memo, created_at) "
            "VALUES (%s, %s, 'by-hand', '', %s) RETURNING id",
            [territory.pk, key, now],
        )
        entry_id = cursor.fetchone()[0]
        for target, amount, unit in postings:
            cursor.execute(
                "INSERT INTO ledger_posting (entry_id, account_id, unit, amount_cents) VALUES (%s, %s, %s, %s)",
                [entry_id, target.pk, unit or target.unit, amount],
            )
            cursor.execute(
                "UPDATE ledger_account SET balance_cents = balance_cents + %s WHERE id = %s",
                [amount, target.pk],
            )


def one_posting_each(territory: Territory) -> None:
    """+100 and -100 in two entries of one posting each: the territory's EUR postings still sum to zero."""
    raw_entry(territory, "half-1", (account(territory, "a"), 100, None))
    raw_entry(territory, "half-2", (account(territory, "b"), -100, None))


def unbalanced_pair(territory: Territory) -> None:
    """Two postings each, +50 and -50 overall: the two errors cancel out in the territory's sum."""
    a, b = account(territory, "a"), account(territory, "b")
    raw_entry(territory, "over", (a, 100, None), (b, -50, None))
    raw_entry(territory, "under", (a, -25, None), (b, -25, None))


def no_posting(territory: Territory) -> None:
    raw_entry(territory, "empty")


def wrong_unit(territory: Territory) -> None:
    """CREDIT posted on a EUR account: the entry sums to zero in CREDIT, the account's balance moves in euros."""
    raw_entry(
        territory,
        "wrong-unit",
        (account(territory, "fund:eur"), 100, "CREDIT"),
        (account(territory, "wallet", Unit.CREDIT), -100, None),
    )


def other_territory(territory: Territory) -> None:
    """A posting on another territory's account."""
    elsewhere = core_services.territory_create(slug="ailleurs", name="Ailleurs")
    raw_entry(
        territory, "across", (account(territory, "a"), 100, None), (account(elsewhere, "b"), -100, None)
    )
    # the way back, recorded in the other territory, evens both territories' sums
    raw_entry(elsewhere, "back", (account(elsewhere, "c"), 100, None), (account(territory, "d"), -100, None))


BAD = {
    "one posting each, cancelling out": (one_posting_each, "has 1 posting(s), not at least 2"),
    "unbalanced entries cancelling out": (unbalanced_pair, "sums to 50 in EUR, not 0"),
    "an entry without postings": (no_posting, "has 0 posting(s), not at least 2"),
    "a posting in another unit than its account's": (
        wrong_unit,
        "posts 100 CREDIT on fund:eur, an account in EUR",
    ),
    "a posting on another territory's account": (other_territory, "posts on b of the territory ailleurs"),
}


def test_a_sound_ledger_passes(territory: Territory) -> None:
    issuer = account(territory, "fund:credit-issued", Unit.CREDIT)
    wallet = account(territory, "household:1:credit", Unit.CREDIT)
    services.entry_record(
        territory=territory, idempotency_key="k", kind="a", legs=[(issuer, -700), (wallet, 700)]
    )
    report = ledger_check(territory)
    assert report.ok, report.breaches
    assert (report.entries, report.postings) == (1, 2)
    call_command("ledger", "check", "--territory", territory.slug)


@pytest.mark.parametrize("kind", BAD)
def test_every_kind_of_bad_entry_fails_the_check(territory: Territory, kind: str) -> None:
    write, breach = BAD[kind]
    assert ledger_check(territory).ok
    write(territory)
    report = ledger_check(territory)
    assert not report.ok
    assert any(breach in line for line in report.breaches), report.breaches
    assert all(line.startswith(f"{territory.slug}: entry ") for line in report.breaches), report.breaches
    with pytest.raises(CommandError, match="breaches found"):
        call_command("ledger", "check", "--territory", territory.slug)


def test_many_bad_entries_are_counted_not_all_listed(territory: Territory) -> None:
    for index in range(30):
        raw_entry(territory, f"lonely-{index}")
    report = ledger_check(territory)
    assert len(report.breaches) == 21
    assert report.breaches[-1] == "grand-livre: … and 10 more entries with fewer than two postings"


TRUNCATES = [
    "TRUNCATE ledger_posting",
    "TRUNCATE ledger_entry CASCADE",
    "TRUNCATE ledger_account CASCADE",
    "TRUNCATE core_territory CASCADE",  # reaches the ledger's tables by their foreign keys
]


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the database-level refusal exists on PostgreSQL"
)
@pytest.mark.parametrize("statement", TRUNCATES)
def test_postgresql_refuses_to_truncate_the_ledger(territory: Territory, statement: str) -> None:
    wallet, issuer = account(territory, "wallet"), account(territory, "issuer")
    services.entry_record(
        territory=territory, idempotency_key="k", kind="a", legs=[(issuer, -700), (wallet, 700)]
    )
    with (
        pytest.raises(DatabaseError, match="append-only: TRUNCATE"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        # as in production, where no session allows it (the test suite's connections do, see tests/settings.py)
        cursor.execute("SET LOCAL grenier.allow_ledger_truncate = ''")
        cursor.execute(
            "SET CONSTRAINTS ALL IMMEDIATE"
        )  # TRUNCATE waits for no deferred check of this test's rows
        cursor.execute(statement)
    assert Posting.objects.filter(entry__territory=territory).count() == 2
    assert ledger_check(territory).ok
