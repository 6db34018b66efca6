"""Batches of two-leg entries given as columns (``transfers_record_batch``, one statement on PostgreSQL) and accounts
created and locked in bulk (``accounts_ensure_locked``): the same rows, refusals and balances as the general batch."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grenier.core import services as core_services
from grenier.core.models import Territory
from grenier.ledger import services
from grenier.ledger.errors import InsufficientBalance, UnbalancedEntry
from grenier.ledger.models import Account, Entry, Posting, Unit
from grenier.ledger.selectors import balance, ledger_check

CODES = ("fund:credit-issued", "household:1:credit", "household:2:credit", "store:1:credit")
GUARDED = {"household:1:credit", "household:2:credit"}
_slugs = itertools.count()


def ledger_of(slug: str) -> tuple[Territory, dict[str, Account]]:
    territory = core_services.territory_create(slug=slug, name=slug)
    accounts = {
        code: services.account_ensure(
            territory=territory, code=code, unit=Unit.CREDIT, guarded=code in GUARDED
        )
        for code in CODES
    }
    return territory, accounts


def written_rows(territory: Territory) -> set[tuple[str, str, str, int]]:
    """(key, kind, account code, amount) of every posting of the territory."""
    return set(
        Posting.objects.filter(entry__territory=territory).values_list(
            "entry__idempotency_key", "entry__kind", "account__code", "amount_cents"
        )
    )


def balances(accounts: dict[str, Account]) -> dict[str, int]:
    return {code: balance(account) for code, account in accounts.items()}


def transfers(
    territory: Territory, accounts: dict[str, Account], moves: list[tuple[str, str, str, int]]
) -> int:
    with transaction.atomic():
        return services.transfers_record_batch(
            territory=territory,
            keys=[key for key, _source, _target, _amount in moves],
            kinds=["move"] * len(moves),
            sources=[accounts[source] for _key, source, _target, _amount in moves],
            targets=[accounts[target] for _key, _source, target, _amount in moves],
            amounts=[amount for _key, _source, _target, amount in moves],
        )


def specs(territory: Territory, accounts: dict[str, Account], moves: list[tuple[str, str, str, int]]) -> int:
    with transaction.atomic():
        return services.entries_record_batch(
            territory=territory,
            specs=[
                services.EntrySpec(key, "move", [(accounts[source], -amount), (accounts[target], amount)])
                for key, source, target, amount in moves
            ],
        )


Write = Callable[[Territory, dict[str, Account], list[tuple[str, str, str, int]]], int]


def outcome(
    write: Write, territory: Territory, accounts: dict[str, Account], moves: list[tuple[str, str, str, int]]
) -> int | str:
    try:
        return write(territory, accounts, moves)
    except InsufficientBalance:
        return "refused"


moves_strategy = st.lists(
    st.lists(
        st.tuples(
            st.integers(min_value=0, max_value=6),  # the key: the same key again in a later batch is skipped
            st.sampled_from(CODES),
            st.sampled_from(CODES),
            st.integers(min_value=1, max_value=900),
        ),
        min_size=1,
        max_size=6,
        unique_by=lambda move: move[0],
    ),
    min_size=1,
    max_size=4,
)


@pytest.mark.django_db
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batches=moves_strategy)
def test_transfers_write_what_the_general_batch_writes(
    batches: list[list[tuple[int, str, str, int]]],
) -> None:
    index = next(_slugs)
    mine, my_accounts = ledger_of(f"transfers-{index}")
    theirs, their_accounts = ledger_of(f"specs-{index}")
    for ledger, accounts, write in ((mine, my_accounts, transfers), (theirs, their_accounts, specs)):
        outcome(write, ledger, accounts, [("fill", "fund:credit-issued", "household:1:credit", 1000)])
    for batch in batches:
        moves = [(f"k{key}", source, target, amount) for key, source, target, amount in batch]
        assert outcome(transfers, mine, my_accounts, moves) == outcome(specs, theirs, their_accounts, moves)
        assert balances(my_accounts) == balances(their_accounts)
    assert written_rows(mine) == written_rows(theirs)
    assert ledger_check(mine).ok


@pytest.mark.django_db
def test_a_refused_batch_leaves_nothing_even_when_the_caller_goes_on() -> None:
    territory, accounts = ledger_of("refused")
    transfers(territory, accounts, [("fill", "fund:credit-issued", "household:1:credit", 1000)])
    with transaction.atomic():
        with pytest.raises(InsufficientBalance) as refused:
            transfers(
                territory,
                accounts,
                [
                    ("spend-1", "household:1:credit", "store:1:credit", 600),
                    ("spend-2", "household:1:credit", "store:1:credit", 600),  # together: 1 200 of 1 000
                ],
            )
        # still inside the caller's transaction: the batch's statement was undone by its savepoint
        assert not Entry.objects.filter(territory=territory, idempotency_key__startswith="spend-").exists()
        assert balance(accounts["household:1:credit"]) == 1000
    assert refused.value.account_code == "household:1:credit"
    assert balance(accounts["store:1:credit"]) == 0
    assert ledger_check(territory).ok


@pytest.mark.django_db
def test_unbalanced_transfers_are_refused_before_anything_is_written() -> None:
    territory, accounts = ledger_of("unbalanced")
    euros = services.account_ensure(territory=territory, code="fund:eur", unit=Unit.EUR)
    _elsewhere, foreign = ledger_of("unbalanced-elsewhere")
    issuer = accounts["fund:credit-issued"]
    wallet = accounts["household:1:credit"]
    wrong = [
        ([issuer], [euros], [100]),  # two units
        ([issuer], [foreign["household:1:credit"]], [100]),  # another territory's account
        ([issuer], [wallet], [0]),  # nothing moves
        ([issuer], [wallet], [1.5]),  # not whole cents
        ([issuer], [wallet], [True]),
    ]
    for sources, targets, amounts in wrong:
        with pytest.raises(UnbalancedEntry), transaction.atomic():
            services.transfers_record_batch(
                territory=territory,
                keys=["k"],
                kinds=["move"],
                sources=sources,
                targets=targets,
                amounts=amounts,  # type: ignore[arg-type]
            )
    with pytest.raises(UnbalancedEntry), transaction.atomic():
        services.transfers_record_batch(
            territory=territory,
            keys=["k", "k"],
            kinds=["move", "move"],
            sources=[issuer, issuer],
            targets=[wallet, wallet],
            amounts=[1, 2],
        )
    assert not Entry.objects.filter(territory=territory).exists()


@pytest.mark.django_db
def test_accounts_are_created_once_locked_and_read_as_plain_rows() -> None:
    territory, accounts = ledger_of("wallets")
    transfers(territory, accounts, [("fill", "fund:credit-issued", "household:1:credit", 1000)])
    codes = ["household:1:credit", "household:3:credit", "household:4:credit"]
    with transaction.atomic():
        rows = services.accounts_ensure_locked(
            territory=territory, codes=codes, unit=Unit.CREDIT, guarded=True
        )
        again = services.accounts_ensure_locked(
            territory=territory, codes=codes, unit=Unit.CREDIT, guarded=True
        )
    assert rows == again and sorted(rows) == sorted(codes)
    assert rows["household:1:credit"].pk == accounts["household:1:credit"].pk
    assert rows["household:1:credit"].balance_cents == 1000 and rows["household:3:credit"].balance_cents == 0
    assert all(
        row.guarded and row.unit == Unit.CREDIT and row.territory_id == territory.pk for row in rows.values()
    )
    assert Account.objects.filter(territory=territory, code__in=codes).count() == 3
    with pytest.raises(ValueError), transaction.atomic():  # an existing account of another kind is a bug
        services.accounts_ensure_locked(
            territory=territory, codes=["store:1:credit"], unit=Unit.CREDIT, guarded=True
        )
