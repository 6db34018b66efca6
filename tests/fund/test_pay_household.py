"""``payments.pay_household``: a household known to a module (a session of an activity) pays at a store entirely in
food credit, without card or code and whatever the store's coverage; the till's refusals otherwise; once per key."""

from __future__ import annotations

import pytest

from grenier.core.errors import Conflict, Forbidden, InvalidInput
from grenier.core.idempotency import KeyReused
from grenier.fund import payments, services
from grenier.fund.accounts import household_credit, store_credit
from grenier.fund.models import Payment
from grenier.ledger.selectors import balance, ledger_check

from .conftest import Fund


def test_a_household_pays_all_in_credit_without_its_code_once_per_key(fund: Fund) -> None:
    household = fund.cast.household
    services.payment_code_set(household=household, code="4821", actor=None)  # the till would ask for it
    store = services.store_approve(store=fund.store, coverage_percent=60, actor=None)
    before = balance(household_credit(household))
    first = payments.pay_household(
        store=store, household=household, credit_cents=750, idempotency_key="k", actor=None
    )
    again = payments.pay_household(
        store=store, household=household, credit_cents=750, idempotency_key="k", actor=None
    )
    assert first.created and not again.created and again.payment.pk == first.payment.pk
    assert (first.payment.total_cents, first.payment.credit_cents, first.payment.euro_cents) == (750, 750, 0)
    assert balance(household_credit(household)) == before - 750 == first.remaining_credit_cents
    assert balance(store_credit(store)) == 750 and Payment.objects.count() == 1
    with pytest.raises(KeyReused):
        payments.pay_household(
            store=store, household=household, credit_cents=500, idempotency_key="k", actor=None
        )
    assert ledger_check(fund.cast.territory).ok


def test_the_till_s_refusals_stand(fund: Fund) -> None:
    household = fund.cast.household
    with pytest.raises(Forbidden):
        payments.pay_household(
            store=fund.pending_store, household=household, credit_cents=100, idempotency_key="a", actor=None
        )
    with pytest.raises(InvalidInput):
        payments.pay_household(
            store=fund.store, household=household, credit_cents=0, idempotency_key="b", actor=None
        )
    elsewhere = services.store_approve(
        store=services.store_create(territory=fund.cast.elsewhere, name="Ailleurs", actor=None), actor=None
    )
    with pytest.raises(InvalidInput):
        payments.pay_household(
            store=elsewhere, household=household, credit_cents=100, idempotency_key="c", actor=None
        )
    left = balance(household_credit(household))
    with pytest.raises(payments.CreditShort) as short:
        payments.pay_household(
            store=fund.store, household=household, credit_cents=left + 1, idempotency_key="d", actor=None
        )
    assert isinstance(short.value, Conflict) and short.value.extra == {"remaining_credit_cents": left}
    assert not Payment.objects.exists()
