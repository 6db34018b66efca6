"""A payment's rarer paths, on each payment path: a household whose credit account does not exist yet, and the same
request sent again while the first one still holds the household's account (PostgreSQL: the second waits on the
first's row lock, deterministically, then answers the payment the first one recorded)."""

from __future__ import annotations

import threading
import time
from datetime import date
from typing import Any

import pytest
from django.db import connection, connections, transaction

from grenier.core.cards import luhn_check_digit
from grenier.core.errors import Conflict
from grenier.core.models import Household
from grenier.fund import services
from grenier.fund.models import Payment
from grenier.ledger.models import Account, Entry
from grenier.ledger.selectors import ledger_check

from .conftest import Fund


def test_a_household_without_a_credit_account_is_refused_and_nothing_moves(
    fund: Fund, payment_path: str
) -> None:
    body = "77000000001"
    newcomer = Household.objects.create(
        territory=fund.cast.territory,
        name="Foyer Nouveau",
        card_number=body + luhn_check_digit(body),
        joined_on=date(2026, 1, 1),
    )
    code = services.household_credit_code(newcomer.pk)
    assert not Account.objects.filter(territory=fund.cast.territory, code=code).exists()
    with pytest.raises(Conflict) as refused:
        services.pay(
            store=fund.store, card=newcomer.card_number, total_cents=300, idempotency_key="new-1", actor=None
        )
    assert refused.value.extra == {"remaining_credit_cents": 0}
    assert not Payment.objects.filter(household=newcomer).exists()
    assert not Entry.objects.filter(idempotency_key=f"payment:{fund.store.pk}:new-1").exists()
    wallet = Account.objects.filter(territory=fund.cast.territory, code=code).first()
    assert wallet is None or (wallet.balance_cents == 0 and wallet.guarded and wallet.unit == "CREDIT")
    assert ledger_check(fund.cast.territory).ok


def _waiting_on_me() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_locks WHERE NOT granted AND pg_backend_pid() = ANY (pg_blocking_pids(pid))"
        )
        return int(cursor.fetchone()[0])


def _second_waiting_on_the_first(first_key: str, second_key: str, **request: Any) -> tuple[Any, Any]:
    """The first payment made and its transaction kept open while the second, from another connection, provably
    waits on its row lock; then the first commits. Both outcomes (the second's may be the error it raised)."""
    second: list[Any] = []

    def pay_second() -> None:
        try:
            second.append(services.pay(**request, idempotency_key=second_key))
        except Exception as exc:  # reported by the caller, with what it was
            second.append(exc)
        finally:
            connections.close_all()

    with transaction.atomic():
        first = services.pay(**request, idempotency_key=first_key)
        thread = threading.Thread(target=pay_second)
        thread.start()
        deadline = time.monotonic() + 20
        while _waiting_on_me() == 0 and thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.02)
        assert thread.is_alive(), second  # it waits for this transaction
    thread.join(20)
    [result] = second
    return first, result


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks between two connections: PostgreSQL")
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("total_cents", [6_000, 1_000], ids=["credit-spent-by-the-first", "credit-left"])
def test_the_same_request_waiting_on_the_first_answers_its_payment(
    fund: Fund, payment_path: str, total_cents: int
) -> None:
    """The household has 100 euros of credit. The first request pays and holds its account's row lock; the same
    request again (same key, same card, same amount) waits for it, then answers the payment the first recorded,
    whether the credit left would pay it again (1,000) or not (6,000): debited once, never refused."""
    household = fund.cast.household
    first, result = _second_waiting_on_the_first(
        "twice", "twice", store=fund.store, card=household.card_number, total_cents=total_cents, actor=None
    )
    assert first.created and first.remaining_credit_cents == 10_000 - total_cents
    assert isinstance(result, services.PaymentResult), result
    assert not result.created and result.payment.pk == first.payment.pk
    assert result.remaining_credit_cents == 10_000 - total_cents
    assert services.credit_balance(household) == 10_000 - total_cents
    assert Payment.objects.filter(idempotency_key="twice").count() == 1
    assert ledger_check(fund.cast.territory).ok


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks between two connections: PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_another_payment_waiting_on_the_first_is_refused_for_the_credit_left(
    fund: Fund, payment_path: str
) -> None:
    """The household has 100 euros of credit. The first payment (60 euros) holds its account's row lock; another
    payment of 60 euros (another key) waits for it, then reads the balance the first left and is refused for
    credit, 40 euros left: not an error, never below zero. Without the lock taken before the balance is read, the
    second would check the balance read before the first's commit and fail on the ledger's guard instead."""
    household = fund.cast.household
    first, result = _second_waiting_on_the_first(
        "first", "other", store=fund.store, card=household.card_number, total_cents=6_000, actor=None
    )
    assert first.created and first.remaining_credit_cents == 4_000
    assert isinstance(result, Conflict), result
    assert result.extra == {"remaining_credit_cents": 4_000}
    assert services.credit_balance(household) == 4_000
    assert Payment.objects.filter(household=household).count() == 1
    assert ledger_check(fund.cast.territory).ok
