"""The supply platform's API on input that once answered 500 or held a worker for a minute (issue 11): weeks and
months outside 2000 to 2100, quantities and ids beyond what a column holds, lists of any length, the same line
twice. Each answers 422 naming the field and changes nothing; a farm's or kitchen's access is checked once per
request, not once per line."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from grenier.core.schemas import MAX_BIGINT, MAX_ITEMS, MAX_QUANTITY
from grenier.supply.models import Availability, Demand, Invoice, PlanLine, Shortfall, SupplyWeek, WeekStatus

from ..core.test_api import assert_problem
from .conftest import Pial
from .test_api import MONDAY, URL, fields, patch, planned, post, published, put, who

BIG = [2**63, 2**64, MAX_QUANTITY + 1]


@pytest.mark.parametrize("monday", ["9999-12-27", "0001-01-01", "1999-12-27", "2101-01-03"])
def test_a_week_outside_2000_to_2100_is_422(pial: Pial, client: Client, monday: str) -> None:
    """9999-12-27 is a Monday whose Sunday Python cannot hold (500 before); 0001-01-01 a Monday that was accepted."""
    headers = who(pial, "coordinator")
    item = {"producer": pial.saules.pk, "product": pial.products["carottes"].pk, "quantity": 1_000}
    base = f"/api/v1/supply/weeks/{monday}"
    assert fields(assert_problem(put(client, base + "/availability", [item], headers=headers), 422)) == {
        "monday"
    }
    assert fields(assert_problem(client.get(base, headers=headers), 422)) == {"monday"}
    assert fields(assert_problem(post(client, base + "/plan", {}, headers=headers), 422)) == {"monday"}
    assert not SupplyWeek.objects.exists()


@pytest.mark.parametrize("month", ["0000-01", "2026-13", "2026-00", "9999-12", "1999-12"])
def test_a_bad_invoice_month_is_422(pial: Pial, client: Client, month: str) -> None:
    headers = who(pial, "coordinator")
    listed = client.get(f"/api/v1/supply/invoices?month={month}", headers=headers)
    assert fields(assert_problem(listed, 422)) == {"month"}
    issued = post(client, "/api/v1/supply/invoices/issue", {"month": month}, headers=headers)
    assert fields(assert_problem(issued, 422)) == {"month"}
    assert not Invoice.objects.exists()


@pytest.mark.parametrize("value", BIG)
def test_availability_and_demand_beyond_a_column_are_422(pial: Pial, client: Client, value: int) -> None:
    coordinator = who(pial, "coordinator")
    carrots = pial.products["carottes"].pk
    availability = {"producer": pial.saules.pk, "product": carrots, "quantity": 1_000}
    changes = [({"quantity": value}, "0.quantity"), ({"minimum_lot": value}, "0.minimum_lot")]
    if value > MAX_BIGINT:  # an id up to a bigint's largest is merely unknown
        changes += [({"product": value}, "0.product"), ({"producer": value}, "0.producer")]
    for change, field in changes:
        refused = put(client, URL + "/availability", [{**availability, **change}], headers=coordinator)
        assert field in fields(assert_problem(refused, 422)), (change, refused.content)
    demand = {"kitchen": pial.school.pk, "product": carrots, "day": f"{MONDAY:%Y-%m-%d}", "quantity": 1_000}
    changes = [({"quantity": value}, "0.quantity")]
    if value > MAX_BIGINT:
        changes += [({"kitchen": value}, "0.kitchen")]
    for change, field in changes:
        refused = put(client, URL + "/demand", [{**demand, **change}], headers=coordinator)
        assert field in fields(assert_problem(refused, 422))
    assert not Availability.objects.exists() and not SupplyWeek.objects.exists()


@pytest.mark.parametrize("value", BIG)
def test_plan_lines_shortfalls_and_receipts_beyond_a_column_are_422(
    pial: Pial, client: Client, value: int
) -> None:
    week = published(pial)
    line = PlanLine.objects.filter(week=week).first()
    assert line is not None
    before = list(PlanLine.objects.filter(week=week).values_list("pk", "quantity", "received_quantity"))
    kitchen = who(pial, "kitchen")
    receipt = {"line": line.pk, "received_quantity": value}
    assert fields(assert_problem(post(client, URL + "/receipts", [receipt], headers=kitchen), 422)) == {
        "0.received_quantity"
    }
    adjust = {
        "producer": line.producer_id,
        "kitchen": line.kitchen_id,
        "product": line.product_id,
        "day": f"{line.day:%Y-%m-%d}",
        "quantity": value,
    }
    refused = patch(client, URL + "/lines", [adjust], headers=who(pial, "coordinator"))
    assert fields(assert_problem(refused, 422)) == {"0.quantity"}
    shortfall = {
        "producer": pial.saules.pk,
        "product": line.product_id,
        "available": value,
        "idempotency_key": "k-1",
    }
    refused = post(client, URL + "/shortfalls", shortfall, headers=who(pial, "producer"))
    assert fields(assert_problem(refused, 422)) == {"available"}
    assert (
        list(PlanLine.objects.filter(week=week).values_list("pk", "quantity", "received_quantity")) == before
    )
    assert not Shortfall.objects.exists()


def test_a_kitchen_id_beyond_a_column_in_the_egalim_query_is_422(pial: Pial, client: Client) -> None:
    refused = client.get(f"/api/v1/supply/egalim?kitchen={2**63}", headers=who(pial, "coordinator"))
    assert fields(assert_problem(refused, 422)) == {"kitchen"}


def _lines(pial: Pial, count: int) -> list[dict[str, Any]]:
    carrots = pial.products["carottes"].pk
    return [{"producer": pial.saules.pk, "product": carrots, "quantity": index} for index in range(count)]


@pytest.mark.parametrize(
    ("url", "method"),
    [("/availability", put), ("/demand", put), ("/lines", patch), ("/receipts", post)],
)
def test_a_list_longer_than_the_bound_is_422_before_any_work(
    pial: Pial, client: Client, url: str, method: Any
) -> None:
    """10,000 availability lines held a worker for about a minute; now the schema refuses them at once."""
    with CaptureQueriesContext(connection) as queries:
        refused = method(client, URL + url, _lines(pial, 10_000), headers=who(pial, "coordinator"))
    problem = assert_problem(refused, 422)
    assert any(str(MAX_ITEMS) in error["message"] for error in problem["errors"]), problem
    assert not [q["sql"] for q in queries if "supply_" in q["sql"]]  # the caller's token, nothing of the week
    assert not SupplyWeek.objects.exists()


def test_the_same_line_twice_in_one_list_is_422(pial: Pial, client: Client) -> None:
    carrots = pial.products["carottes"].pk
    body = [
        {"producer": pial.saules.pk, "product": carrots, "quantity": 1_000},
        {"producer": pial.saules.pk, "product": pial.products["salade"].pk, "quantity": 10},
        {"producer": pial.saules.pk, "product": carrots, "quantity": 2_000},
    ]
    problem = assert_problem(put(client, URL + "/availability", body, headers=who(pial, "producer")), 422)
    assert fields(problem) == {"2.product"}
    day = f"{MONDAY:%Y-%m-%d}"
    demand = [{"kitchen": pial.school.pk, "product": carrots, "day": day, "quantity": q} for q in (1, 2)]
    problem = assert_problem(put(client, URL + "/demand", demand, headers=who(pial, "kitchen")), 422)
    assert fields(problem) == {"1.product"}
    assert not Availability.objects.exists() and not Demand.objects.filter(source="kitchen").exists()


def test_a_farm_is_checked_once_per_request_not_once_per_line(pial: Pial, client: Client) -> None:
    """A grower's 40 lines: one look-up of the farms it acts for, one of the products, whatever the length."""
    names = list(pial.products)
    body = [
        {"producer": pial.saules.pk, "product": pial.products[name].pk, "quantity": 1_000 + index}
        for index, name in enumerate(names)
    ]
    with CaptureQueriesContext(connection) as queries:
        response = put(client, URL + "/availability", body, headers=who(pial, "producer"))
    assert response.status_code == 200, response.content
    farm_checks = [q for q in queries if "supply_producer_users" in q["sql"]]
    product_reads = [q for q in queries if q["sql"].startswith('SELECT "supply_product"')]
    assert len(farm_checks) == 1, [q["sql"] for q in farm_checks]
    assert len(product_reads) == 1, [q["sql"] for q in product_reads]
    assert Availability.objects.count() == len(names)


def test_a_kitchen_is_checked_once_per_request_not_once_per_line(pial: Pial, client: Client) -> None:
    thursday = MONDAY + timedelta(days=3)
    body = [
        {
            "kitchen": pial.school.pk,
            "product": pial.products[name].pk,
            "day": f"{day:%Y-%m-%d}",
            "quantity": 500,
        }
        for name in ("carottes", "poireaux", "salade", "radis")
        for day in (MONDAY, thursday)
    ]
    with CaptureQueriesContext(connection) as queries:
        response = put(client, URL + "/demand", body, headers=who(pial, "kitchen"))
    assert response.status_code == 200, response.content
    kitchen_checks = [q for q in queries if "supply_kitchen_managers" in q["sql"]]
    assert len(kitchen_checks) == 1, [q["sql"] for q in kitchen_checks]


def test_a_farm_one_does_not_act_for_anywhere_in_the_list_is_not_found(pial: Pial, client: Client) -> None:
    body = [
        {"producer": pial.saules.pk, "product": product.pk, "quantity": 1_000}
        for product in pial.products.values()
    ]
    body[-1]["producer"] = pial.pic.pk  # the last line only: another grower's farm
    assert_problem(put(client, URL + "/availability", body, headers=who(pial, "producer")), 404)
    assert not Availability.objects.exists()


def test_the_week_status_is_unchanged_by_refused_input(pial: Pial, client: Client) -> None:
    week = planned(pial)
    body = [{"producer": pial.saules.pk, "product": pial.products["carottes"].pk, "quantity": 2**63}]
    assert_problem(put(client, URL + "/availability", body, headers=who(pial, "coordinator")), 422)
    week.refresh_from_db()
    assert week.status == WeekStatus.PLANNED
