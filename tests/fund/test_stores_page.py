"""The stores page: each store's payments over the last year and what the fund owes it, read without joining the
payments to the settlements (which multiplied each by the other) and without reading the payments."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from grenier.fund import services
from grenier.fund.models import Settlement, SettlementStatus

from .conftest import Fund


def _pay(fund: Fund, number: int) -> None:
    services.pay(
        store=fund.store,
        card=fund.cast.household.card_number,
        total_cents=500,
        idempotency_key=f"stores-page-{number}",
        actor=fund.cast["cashier"],
    )


def _settlement(fund: Fund, month: date, cents: int, status: SettlementStatus) -> None:
    Settlement.objects.create(
        store=fund.store,
        month=month,
        payments_count=1,
        credit_received_cents=cents,
        credit_refunded_cents=0,
        amount_cents=cents,
        status=status,
    )


def _rows(client: Client, fund: Fund) -> dict[int, tuple[int, int | None]]:
    response = client.get(reverse("fund_stores", args=[fund.cast.territory.slug]))
    assert response.status_code == 200
    return {store.pk: (store.payments_count, store.due_cents) for store in response.context["stores"]}


def test_each_store_shows_its_payments_and_what_it_is_owed(fund: Fund, login: Callable[..., Client]) -> None:
    for number in range(3):
        _pay(fund, number)
    _settlement(fund, date(2020, 1, 1), 1_250, SettlementStatus.DUE)
    _settlement(fund, date(2020, 2, 1), 700, SettlementStatus.PAID)
    _settlement(fund, date(2020, 3, 1), 300, SettlementStatus.DUE)
    rows = _rows(login(fund.cast["coordinator"]), fund)
    # Joined, 3 payments x 3 settlements read 9 payments and 3 x 1,550 cents owed.
    assert rows[fund.store.pk] == (3, 1_550)
    assert rows[fund.pending_store.pk] == (0, None)


def test_the_payments_counted_are_those_of_the_last_year(fund: Fund, login: Callable[..., Client]) -> None:
    for number in range(2):
        _pay(fund, number)
    now = timezone.now()
    with time_machine.travel(now + timedelta(days=360)):
        assert _rows(login(fund.cast["coordinator"]), fund)[fund.store.pk] == (2, None)
    with time_machine.travel(now + timedelta(days=370)):
        assert _rows(login(fund.cast["coordinator"]), fund)[fund.store.pk] == (0, None)


def test_the_page_reads_as_many_rows_whatever_the_payments(fund: Fund, login: Callable[..., Client]) -> None:
    client = login(fund.cast["coordinator"])
    _pay(fund, 0)
    _rows(client, fund)  # the first page in the territory records it in the session
    with CaptureQueriesContext(connection) as few:
        _rows(client, fund)
    for number in range(1, 6):
        _pay(fund, number)
    with CaptureQueriesContext(connection) as more:
        assert _rows(client, fund)[fund.store.pk] == (6, None)
    assert len(more.captured_queries) == len(few.captured_queries)
    stores = next(q["sql"] for q in more.captured_queries if '"fund_store"."name"' in q["sql"])
    assert "fund_payment" not in stores  # the kept hours, never the payments
