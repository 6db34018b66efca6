"""The ledger's invariants: balanced, append-only, idempotent, guarded balances, consistent under races."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, IntegrityError, connection, connections, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grenier.core import services as core_services
from grenier.core.idempotency import KeyReused
from grenier.core.models import Territory
from grenier.ledger import services
from grenier.ledger.errors import InsufficientBalance, UnbalancedEntry
from grenier.ledger.models import Account, Entry, Posting, Unit
from grenier.ledger.selectors import balance, ledger_check


@pytest.fixture
def territory(db: None) -> Territory:
    return core_services.territory_create(slug="grand-livre", name="Grand livre")


def accounts(territory: Territory) -> tuple[Account, Account, Account]:
    issuer = services.account_ensure(territory=territory, code="fund:credit-issued", unit=Unit.CREDIT)
    wallet = services.account_ensure(
        territory=territory, code="household:1:credit", unit=Unit.CREDIT, guarded=True
    )
    store = services.account_ensure(
        territory=territory, code="store:1:credit", unit=Unit.CREDIT, guarded=True
    )
    return issuer, wallet, store


def test_a_balanced_entry_moves_balances(territory: Territory) -> None:
    issuer, wallet, _store = accounts(territory)
    recorded = services.entry_record(
        territory=territory,
        idempotency_key="alloc-1",
        kind="allocation",
        legs=[(issuer, -10000), (wallet, 10000)],
    )
    assert recorded.created
    assert balance(wallet) == 10000 and balance(issuer) == -10000
    assert recorded.entry.postings.count() == 2


def test_the_same_key_records_once_and_returns_the_first(territory: Territory) -> None:
    issuer, wallet, _store = accounts(territory)
    first = services.entry_record(
        territory=territory, idempotency_key="k", kind="a", legs=[(issuer, -500), (wallet, 500)]
    )
    second = services.entry_record(
        territory=territory, idempotency_key="k", kind="a", legs=[(issuer, -500), (wallet, 500)]
    )
    assert not second.created and second.entry.pk == first.entry.pk
    assert balance(wallet) == 500


@pytest.mark.parametrize(
    "legs",
    [
        lambda i, w, s: [(i, -100), (w, 90)],
        lambda i, w, s: [(w, 100)],
        lambda i, w, s: [],
        lambda i, w, s: [(i, -100), (w, 100.0)],
    ],
)
def test_unbalanced_entries_are_refused(territory: Territory, legs: Callable) -> None:
    issuer, wallet, store = accounts(territory)
    with pytest.raises(UnbalancedEntry):
        services.entry_record(
            territory=territory, idempotency_key="bad", kind="x", legs=legs(issuer, wallet, store)
        )
    assert not Entry.objects.exists()


def test_units_balance_separately(territory: Territory) -> None:
    _issuer, wallet, _store = accounts(territory)
    cash = services.account_ensure(territory=territory, code="fund:eur", unit=Unit.EUR)
    with pytest.raises(UnbalancedEntry):
        services.entry_record(
            territory=territory, idempotency_key="mix", kind="x", legs=[(cash, -100), (wallet, 100)]
        )


def test_accounts_of_another_territory_are_refused(territory: Territory) -> None:
    issuer, _wallet, _store = accounts(territory)
    elsewhere = core_services.territory_create(slug="ailleurs", name="Ailleurs")
    foreign = services.account_ensure(territory=elsewhere, code="x", unit=Unit.CREDIT)
    with pytest.raises(UnbalancedEntry):
        services.entry_record(
            territory=territory, idempotency_key="f", kind="x", legs=[(issuer, -1), (foreign, 1)]
        )


def test_a_guarded_account_never_goes_below_zero(territory: Territory) -> None:
    issuer, wallet, store = accounts(territory)
    services.entry_record(
        territory=territory, idempotency_key="a", kind="a", legs=[(issuer, -1000), (wallet, 1000)]
    )
    with pytest.raises(InsufficientBalance):
        services.entry_record(
            territory=territory, idempotency_key="p", kind="p", legs=[(wallet, -1001), (store, 1001)]
        )
    assert balance(wallet) == 1000 and balance(store) == 0
    assert not Entry.objects.filter(idempotency_key="p").exists()
    services.entry_record(
        territory=territory, idempotency_key="p2", kind="p", legs=[(wallet, -1000), (store, 1000)]
    )
    assert balance(wallet) == 0


def test_a_correction_is_a_new_entry_and_the_original_stays(territory: Territory) -> None:
    issuer, wallet, store = accounts(territory)
    services.entry_record(
        territory=territory, idempotency_key="a", kind="a", legs=[(issuer, -1000), (wallet, 1000)]
    )
    paid = services.entry_record(
        territory=territory, idempotency_key="p", kind="p", legs=[(wallet, -300), (store, 300)]
    )
    legs = [
        (posting.account, -posting.amount_cents) for posting in paid.entry.postings.select_related("account")
    ]
    services.entry_record(territory=territory, idempotency_key="p-fix", kind="p.correction", legs=legs)
    assert balance(wallet) == 1000 and balance(store) == 0
    assert Posting.objects.filter(entry=paid.entry).count() == 2
    assert (
        services.entry_record(
            territory=territory, idempotency_key="p-fix", kind="p.correction", legs=legs
        ).created
        is False
    )


def test_the_check_command_reports_a_breach(territory: Territory) -> None:
    issuer, wallet, _store = accounts(territory)
    services.entry_record(
        territory=territory, idempotency_key="a", kind="a", legs=[(issuer, -700), (wallet, 700)]
    )
    call_command("ledger", "check", "--territory", territory.slug)
    Account.objects.filter(pk=wallet.pk).update(balance_cents=701)  # a kept balance that lies
    report = ledger_check(territory)
    assert not report.ok and "household:1:credit" in report.breaches[0]
    with pytest.raises(CommandError):
        call_command("ledger", "check")


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the database-level refusal exists on PostgreSQL"
)
def test_postgresql_refuses_to_edit_or_delete_postings(territory: Territory) -> None:
    issuer, wallet, _store = accounts(territory)
    services.entry_record(
        territory=territory, idempotency_key="a", kind="a", legs=[(issuer, -700), (wallet, 700)]
    )
    for statement in [
        "UPDATE ledger_posting SET amount_cents = 1",
        "DELETE FROM ledger_posting",
        "UPDATE ledger_entry SET kind = 'x'",
    ]:
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(statement)
    assert Posting.objects.count() == 2


OPERATIONS = st.lists(
    st.tuples(
        st.sampled_from(["allocate", "pay", "refund", "reverse", "retry"]),
        st.integers(min_value=1, max_value=20_000),
    ),
    min_size=1,
    max_size=30,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(operations=OPERATIONS)
def test_random_sequences_keep_every_invariant(
    territory: Territory, operations: list[tuple[str, int]]
) -> None:
    with transaction.atomic():
        issuer, wallet, store = accounts(territory)
        entries: list[Entry] = []
        for index, (operation, amount) in enumerate(operations):
            key = f"op-{index}"
            legs = {
                "allocate": [(issuer, -amount), (wallet, amount)],
                "pay": [(wallet, -amount), (store, amount)],
                "refund": [(store, -amount), (wallet, amount)],
            }.get(operation)
            try:
                if (
                    operation == "reverse" and entries
                ):  # a correction: the entry's postings negated, as a new entry
                    wrong = entries[amount % len(entries)]
                    services.entry_record(
                        territory=territory,
                        idempotency_key=key,
                        kind=f"{wrong.kind}.correction",
                        legs=[(p.account, -p.amount_cents) for p in wrong.postings.select_related("account")],
                    )
                elif operation == "retry" and entries:
                    again = entries[amount % len(entries)]
                    same = [(p.account, p.amount_cents) for p in again.postings.select_related("account")]
                    assert (
                        services.entry_record(
                            territory=territory,
                            idempotency_key=again.idempotency_key,
                            kind=again.kind,
                            legs=same,
                        ).entry
                        == again
                    )
                    with pytest.raises(KeyReused):  # the key of another request: refused, nothing written
                        services.entry_record(
                            territory=territory,
                            idempotency_key=again.idempotency_key,
                            kind=again.kind,
                            legs=[(account, cents * 2) for account, cents in same],
                        )
                elif legs:
                    entries.append(
                        services.entry_record(
                            territory=territory, idempotency_key=key, kind=operation, legs=legs
                        ).entry
                    )
            except InsufficientBalance:
                pass
            assert balance(wallet) >= 0 and balance(store) >= 0
        report = ledger_check(territory)
        assert report.ok, report.breaches
        transaction.set_rollback(True)  # each example starts from an empty ledger


T = TypeVar("T")


def _in_threads(count: int, work: Callable[[int], T]) -> list[T | Exception]:
    """Run ``work`` in ``count`` threads released together; each result, or the exception it raised."""
    results: list[T | Exception] = [RuntimeError("did not run")] * count
    barrier = threading.Barrier(count)

    def run(index: int) -> None:
        try:
            barrier.wait()
            results[index] = work(index)
        except Exception as exc:
            results[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


@pytest.mark.django_db(transaction=True)
def test_concurrent_spending_never_overdraws() -> None:
    territory = core_services.territory_create(slug="course", name="Course")
    issuer, wallet, store = accounts(territory)
    services.entry_record(
        territory=territory, idempotency_key="a", kind="a", legs=[(issuer, -10_000), (wallet, 10_000)]
    )
    # 16 payments of 15 € against 100 € of credit: exactly 6 can succeed.
    results = _in_threads(
        16,
        lambda i: services.entry_record(
            territory=territory, idempotency_key=f"pay-{i}", kind="pay", legs=[(wallet, -1500), (store, 1500)]
        ),
    )
    succeeded = [r for r in results if not isinstance(r, Exception)]
    refused = [r for r in results if isinstance(r, InsufficientBalance)]
    assert len(succeeded) == 6 and len(refused) == 10, results
    assert balance(wallet) == 1000 and balance(store) == 9000
    assert ledger_check(territory).ok


@pytest.mark.django_db(transaction=True)
def test_one_payment_retried_concurrently_debits_once() -> None:
    territory = core_services.territory_create(slug="retry", name="Retry")
    issuer, wallet, store = accounts(territory)
    services.entry_record(
        territory=territory, idempotency_key="a", kind="a", legs=[(issuer, -10_000), (wallet, 10_000)]
    )
    results = _in_threads(
        8,
        lambda i: services.entry_record(
            territory=territory,
            idempotency_key="same-payment",
            kind="pay",
            legs=[(wallet, -2350), (store, 2350)],
        ),
    )
    assert all(not isinstance(r, Exception) for r in results), results
    assert len({r.entry.pk for r in results}) == 1  # type: ignore[union-attr]
    assert [r.created for r in results].count(True) == 1  # type: ignore[union-attr]
    assert balance(wallet) == 10_000 - 2350


def test_a_batch_that_would_overdraw_writes_nothing(territory: Territory) -> None:
    issuer, wallet, store = accounts(territory)
    services.entry_record(
        territory=territory, idempotency_key="fill", kind="a", legs=[(issuer, -1000), (wallet, 1000)]
    )
    specs = [
        services.EntrySpec("spend-1", "pay", [(wallet, -600), (store, 600)]),
        services.EntrySpec("spend-2", "pay", [(wallet, -600), (store, 600)]),  # together: 1 200 of 1 000
    ]
    with pytest.raises(InsufficientBalance), transaction.atomic():
        services.entries_record_batch(territory=territory, specs=specs)
    assert balance(wallet) == 1000 and balance(store) == 0
    assert not Entry.objects.filter(territory=territory, idempotency_key__startswith="spend-").exists()
    with transaction.atomic():
        written = services.entries_record_batch(territory=territory, specs=specs[:1])
        again = services.entries_record_batch(
            territory=territory, specs=specs[:1]
        )  # keys already there: skipped
    assert (written, again) == (1, 0)
    assert balance(wallet) == 400 and balance(store) == 600
    assert ledger_check(territory).ok


def test_entry_insert_refuses_overdraws_and_reused_keys(territory: Territory) -> None:
    issuer, wallet, _store = accounts(territory)
    with transaction.atomic():
        entry, balances = services.entry_insert(
            territory=territory, idempotency_key="x", kind="a", legs=[(issuer, -700), (wallet, 700)]
        )
    assert balances[wallet.pk] == 700 and entry.postings.count() == 2
    with pytest.raises(InsufficientBalance), transaction.atomic():
        services.entry_insert(
            territory=territory, idempotency_key="y", kind="a", legs=[(wallet, -701), (issuer, 701)]
        )
    with pytest.raises(IntegrityError), transaction.atomic():  # the same key again: the caller rolls back
        services.entry_insert(
            territory=territory, idempotency_key="x", kind="a", legs=[(issuer, -700), (wallet, 700)]
        )
    assert balance(wallet) == 700
    assert ledger_check(territory).ok


@pytest.mark.django_db
def test_text_arrays_reach_postgresql_as_they_were() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("array literals are for PostgreSQL")
    values = ["plain", "", "NULL", 'say "hi"', "back\\slash", "a,b", "{braces}", " spaced ", "é ü €", "end\\"]
    with connection.cursor() as cursor:
        cursor.execute("SELECT unnest(%s::varchar[])", [services.text_array(values)])
        assert [row[0] for row in cursor.fetchall()] == values
