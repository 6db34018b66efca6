"""The fund's API on input that once answered 500 (issue 11): months that are no month, amounts and ids beyond what
a column holds. Each answers 422 naming the field, and nothing is run, settled, paid or refunded."""

from __future__ import annotations

import pytest
from django.test import Client

from grenier.fund.models import MonthlyRun, Payment, Refund, Settlement

from ..core.test_api import assert_problem, bearer, post
from .conftest import Fund

BAD_MONTHS = [
    "2026-13",
    "2026-00",
    "0000-01",
    "0000-00",
    "9999-12",
    "1999-12",
    "2101-01",
    "2026-1",
    "2026-11-01",
    "",
]


def fields(problem: dict[str, object]) -> set[str]:
    return {error["field"] for error in problem.get("errors", [])}  # type: ignore[attr-defined]


@pytest.mark.parametrize("month", BAD_MONTHS)
def test_a_bad_month_in_a_query_is_422(fund: Fund, client: Client, month: str) -> None:
    for who in ("coordinator", "cashier", "member"):  # the settlements list was reachable by a member
        response = client.get(f"/api/v1/fund/settlements?month={month}", headers=bearer(fund.cast, who))
        assert fields(assert_problem(response, 422)) == {"month"}
    statement = f"/api/v1/households/{fund.cast.household.pk}/statement?month={month}"
    response = client.get(statement, headers=bearer(fund.cast, "member"))
    assert fields(assert_problem(response, 422)) == {"month"}


@pytest.mark.parametrize("month", BAD_MONTHS)
@pytest.mark.parametrize("url", ["/api/v1/fund/runs", "/api/v1/fund/settlements"])
def test_a_bad_month_in_a_body_is_422_and_changes_nothing(
    fund: Fund, client: Client, url: str, month: str
) -> None:
    runs, settlements = MonthlyRun.objects.count(), Settlement.objects.count()
    response = post(client, url, {"month": month}, headers=bearer(fund.cast, "coordinator"))
    assert fields(assert_problem(response, 422)) == {"month"}
    assert (MonthlyRun.objects.count(), Settlement.objects.count()) == (runs, settlements)


def test_good_months_still_work(fund: Fund, client: Client) -> None:
    headers = bearer(fund.cast, "coordinator")
    month = f"{fund.month:%Y-%m}"
    assert client.get(f"/api/v1/fund/settlements?month={month}", headers=headers).status_code == 200
    statement = client.get(
        f"/api/v1/households/{fund.cast.household.pk}/statement?month={month}",
        headers=bearer(fund.cast, "member"),
    )
    assert statement.status_code == 200 and statement.json()["month"] == f"{fund.month:%Y-%m}-01"
    run = post(client, "/api/v1/fund/runs", {"month": month}, headers=headers)
    assert run.status_code == 200 and run.json()["month"] == f"{fund.month:%Y-%m}-01"


@pytest.mark.parametrize("value", [2**63, 2**64, 10**30])
def test_amounts_and_ids_beyond_a_column_are_422(fund: Fund, client: Client, value: int) -> None:
    cashier = bearer(fund.cast, "cashier")
    body = {
        "household": fund.cast.household.card_number,
        "amount_cents": 500,
        "idempotency_key": "till-big-0001",
    }
    for change, field in [({"amount_cents": value}, "amount_cents"), ({"store": value}, "store")]:
        refused = post(client, "/api/v1/payments", {**body, **change}, headers=cashier)
        assert field in fields(assert_problem(refused, 422))
    assert not Payment.objects.exists()
    paid = post(client, "/api/v1/payments", body, headers=cashier)
    assert paid.status_code == 201, paid.content
    refund = {"amount_cents": value, "idempotency_key": "refund-big-0001"}
    refused = post(client, f"/api/v1/payments/{paid.json()['id']}/refund", refund, headers=cashier)
    assert fields(assert_problem(refused, 422)) == {"amount_cents"}
    assert not Refund.objects.exists()
    listed = client.get(f"/api/v1/payments?store={value}", headers=cashier)
    assert fields(assert_problem(listed, 422)) == {"store"}


def test_the_largest_id_is_merely_unknown(fund: Fund, client: Client) -> None:
    cashier = bearer(fund.cast, "cashier")
    assert_problem(client.get(f"/api/v1/payments?store={2**63 - 1}", headers=cashier), 404)
