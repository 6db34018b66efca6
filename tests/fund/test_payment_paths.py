"""The payment's two paths answer alike: on PostgreSQL one call to ``fund_pay`` (migration fund 0003), and the Python
steps SQLite runs. The payment tests run on each path (``payment_path``); here the same long random sequence of
payments — right and wrong codes, lockouts, keys replayed and reused, too little credit, amounts refused, a store
not approved, a partial coverage — goes through both, each in its own territory, and every answer and every row
left behind must be the same."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from grenier.core import services as core_services
from grenier.core.errors import GrenierError
from grenier.core.models import Household, Territory
from grenier.fund import payments, services
from grenier.fund.models import Payment, PaymentCode, Store
from grenier.ledger.models import Account, Entry
from grenier.ledger.selectors import ledger_check

from .conftest import BRACKETS, Fund


@dataclass
class Till:
    territory: Territory
    stores: list[Store]
    households: list[Household]


def _till(slug: str) -> Till:
    territory = core_services.territory_create(slug=slug, name=slug)
    services.scale_set(territory=territory, effective_month=date(2020, 1, 1), brackets=BRACKETS, actor=None)
    services.allocation_rule_set(
        territory=territory, effective_month=date(2020, 1, 1), base_cents=10_000, actor=None
    )
    households = [
        core_services.household_join(
            territory=territory,
            name=f"Foyer {n}",
            persons=[core_services.PersonInput("A", date(1990, 1, 1))],
            actor=None,
        )
        for n in range(3)
    ]
    services.payment_code_set(household=households[1], code="4821", actor=None)
    full = services.store_approve(
        store=services.store_create(territory=territory, name="Full", actor=None), actor=None
    )
    partial = services.store_approve(
        store=services.store_create(territory=territory, name="Partial", actor=None),
        coverage_percent=70,
        actor=None,
    )
    pending = services.store_create(territory=territory, name="Pending", actor=None)
    services.monthly_run(territory=territory, month=timezone.localdate(), actor=None)
    # the third household has a code stored before the keyed digests (a Django password hash)
    from django.contrib.auth.hashers import make_password

    PaymentCode.objects.create(household=households[2], code_hash=make_password("1357"))
    return Till(territory, [full, partial, pending], households)


def _answer(till: Till, step: dict[str, Any], payment_path: str) -> tuple[Any, ...]:
    household = till.households[step["household"]]
    card = household.card_number if step["card"] == "right" else step["card"]
    payments.PAY_IN_DATABASE = payment_path == "database"
    try:
        result = services.pay(
            store=till.stores[step["store"]],
            card=card,
            total_cents=step["amount"],
            idempotency_key=step["key"],
            actor=None,
            code=step["code"],
        )
    except GrenierError as exc:
        return (type(exc).__name__, str(exc.detail), exc.errors, exc.extra)
    finally:
        payments.PAY_IN_DATABASE = True
    payment = result.payment
    return (
        result.created,
        result.remaining_credit_cents,
        payment.idempotency_key,
        payment.store.name,
        till.households.index(Household.objects.get(pk=payment.household_id)),
        payment.total_cents,
        payment.credit_cents,
        payment.euro_cents,
        payment.refunded_credit_cents,
    )


def _state(till: Till) -> list[Any]:
    rows: list[Any] = []
    for index, household in enumerate(till.households):
        wallet = Account.objects.get(
            territory=till.territory, code=services.household_credit_code(household.pk)
        )
        code = PaymentCode.objects.filter(household=household).first()
        rows.append(
            (
                index,
                wallet.balance_cents,
                code and (code.code_hash.split("$")[0], code.failed_attempts, code.locked_until is not None),
            )
        )
    rows.append(
        sorted(
            Payment.objects.filter(territory=till.territory).values_list(
                "store__name", "idempotency_key", "total_cents", "credit_cents", "euro_cents"
            )
        )
    )
    rows.append(
        sorted(
            (a.code.split(":")[0], a.balance_cents)
            for a in Account.objects.filter(territory=till.territory, code__startswith="store:")
        )
    )
    rows.append(Entry.objects.filter(territory=till.territory, kind="fund.payment").count())
    return rows


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the database's path exists on PostgreSQL only (SQLite: Python)"
)
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_both_paths_answer_a_random_day_at_the_till_alike(db: None, seed: int) -> None:
    python, database = _till(f"python-{seed}"), _till(f"database-{seed}")
    rng = random.Random(seed)
    travels: list[Any] = []
    for number in range(250):
        step = {
            "household": rng.choice([0, 0, 1, 1, 2]),
            "card": rng.choice(["right"] * 12 + ["1234", "", "4000 0000 0006"]),
            "store": rng.choice([0, 0, 0, 1, 2]),
            "amount": rng.choice([-5, 0, 1, 2, 99, 700, 700, 1_001, 1_001, 2_500, 2_500, 4_000, 12_000]),
            "key": f"k{rng.randrange(60 if number < 200 else 400)}",
            "code": rng.choice([None, "4821", "4821", "4821", "1357", "1357", "1357", "0000", ""]),
        }
        if number % 25 == 24:  # past any lock
            travels.append(time_machine.travel(timezone.now() + timedelta(minutes=16)))
            travels[-1].start()
        answers = (_answer(python, step, "python"), _answer(database, step, "database"))
        assert answers[0] == answers[1], (number, step)
    for travel in reversed(travels):
        travel.stop()
    assert _state(python) == _state(database)
    assert ledger_check(python.territory).ok and ledger_check(database.territory).ok


def test_a_payment_is_one_statement_on_postgresql(fund: Fund, payment_path: str) -> None:
    """Key, card, code, accounts, guarded debit, entry, postings, payment row: one round trip to PostgreSQL."""
    services.payment_code_set(household=fund.cast.household, code="4821", actor=None)
    card = fund.cast.household.card_number
    with CaptureQueriesContext(connection) as paid:
        result = services.pay(
            store=fund.store, card=card, total_cents=250, idempotency_key="one-1", actor=None, code="4821"
        )
    with CaptureQueriesContext(connection) as wrong, pytest.raises(GrenierError):
        services.pay(
            store=fund.store, card=card, total_cents=250, idempotency_key="one-2", actor=None, code="1"
        )
    assert result.created and result.remaining_credit_cents == 9_750
    if payment_path == "database":
        assert len(paid.captured_queries) == 1 and "fund_pay(" in paid.captured_queries[0]["sql"]
        assert len(wrong.captured_queries) == 1  # the wrong code is counted in the same call
    else:
        assert len(paid.captured_queries) > 5  # the Python steps: key, card, code, accounts, entry, postings…
    assert PaymentCode.objects.get(household=fund.cast.household).failed_attempts == 1
