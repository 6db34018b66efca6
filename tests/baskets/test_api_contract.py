"""The solidarity baskets' API on input that once answered 500 (issue 11): a time with an offset, volunteer ids,
amounts and shares beyond what a column holds, days outside 2000 to 2100. Each answers 422 naming the field and
changes nothing."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from grenier.baskets.models import Agreement, BasketSettings, FunderPayment, PickupPoint
from grenier.core.schemas import MAX_CENTS, MAX_ITEMS

from ..core.test_api import assert_problem, bearer, post
from .conftest import Baskets


def fields(problem: dict[str, Any]) -> set[str]:
    return {error["field"] for error in problem.get("errors", [])}


def put(client: Client, url: str, body: Any, headers: dict[str, str]) -> Any:
    return client.put(url, data=json.dumps(body), content_type="application/json", headers=headers)


def point(baskets: Baskets, **change: Any) -> dict[str, Any]:
    return {
        "name": "Point API",
        "weekday": 3,
        "opens_at": "17:00",
        "idempotency_key": "api-point-1",
        **change,
    }


@pytest.mark.parametrize(
    "opens_at", ["17:00:00Z", "17:00+02:00", "17:00:00.000-05:00", "25:00", "5pm", 61200]
)
def test_a_pickup_time_with_an_offset_or_no_time_is_422(
    baskets: Baskets, client: Client, opens_at: Any
) -> None:
    """17:00:00Z answered 500 on SQLite: a pickup point opens at the place's hour, an offset has no meaning there."""
    url = f"/api/v1/baskets/gardens/{baskets.garden.pk}/pickup-points"
    count = PickupPoint.objects.count()
    refused = post(
        client, url, point(baskets, opens_at=opens_at), headers=bearer(baskets.cast, "coordinator")
    )
    assert fields(assert_problem(refused, 422)) == {"opens_at"}
    edit = f"{url}/{baskets.gare.pk}"
    body = {"name": "Gare", "weekday": 3, "opens_at": opens_at}
    assert fields(assert_problem(put(client, edit, body, bearer(baskets.cast, "coordinator")), 422)) == {
        "opens_at"
    }
    assert PickupPoint.objects.count() == count


def test_a_local_pickup_time_is_taken(baskets: Baskets, client: Client) -> None:
    url = f"/api/v1/baskets/gardens/{baskets.garden.pk}/pickup-points"
    created = post(client, url, point(baskets, opens_at="17:30"), headers=bearer(baskets.cast, "coordinator"))
    assert created.status_code == 201, created.content
    assert created.json()["opens_at"].startswith("17:30")


@pytest.mark.parametrize(
    ("volunteers", "field"),
    [
        ([2**63], "volunteers.0"),
        ([1, -1], "volunteers.1"),
        ([0], "volunteers.0"),
        (list(range(1, MAX_ITEMS + 2)), "volunteers"),
    ],
)
def test_volunteer_ids_beyond_a_column_are_422(
    baskets: Baskets, client: Client, volunteers: list[int], field: str
) -> None:
    url = f"/api/v1/baskets/gardens/{baskets.garden.pk}/pickup-points/{baskets.gare.pk}"
    body = {"name": "Gare", "weekday": 3, "opens_at": "18:00", "volunteers": volunteers}
    assert field in fields(assert_problem(put(client, url, body, bearer(baskets.cast, "coordinator")), 422))
    assert not baskets.gare.volunteers.exists()


AGREEMENT_CHANGES = [
    ({"budget_cents": 2**63}, "budget_cents"),
    ({"budget_cents": MAX_CENTS + 1}, "budget_cents"),
    ({"share_bp": 3_000_000_000}, "share_bp"),  # a 32-bit column on PostgreSQL
    ({"share_bp": None, "amount_per_basket_cents": 2**63}, "amount_per_basket_cents"),
    ({"priority": 40_000}, "priority"),  # a 16-bit column
    ({"funder": 2**63}, "funder"),
    ({"starts_on": "0001-01-01"}, "starts_on"),
    ({"ends_on": "9999-12-31"}, "ends_on"),
]


@pytest.mark.parametrize(("change", "field"), AGREEMENT_CHANGES)
def test_agreement_amounts_shares_and_days_out_of_range_are_422(
    baskets: Baskets, client: Client, change: dict[str, Any], field: str
) -> None:
    body = {
        "funder": baskets.department.pk,
        "name": "Convention API",
        "share_bp": 1_000,
        "budget_cents": 50_000,
        "starts_on": baskets.small.season_start.isoformat(),
        "ends_on": baskets.small.season_end.isoformat(),
        "idempotency_key": "api-agreement-1",
        **change,
    }
    count = Agreement.objects.count()
    url = f"/api/v1/baskets/gardens/{baskets.garden.pk}/agreements"
    refused = post(client, url, body, headers=bearer(baskets.cast, "coordinator"))
    assert field in fields(assert_problem(refused, 422))
    assert Agreement.objects.count() == count


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"member_cap_bp": 2**40}, "member_cap_bp"),
        ({"warn_weeks": 70_000}, "warn_weeks"),
        ({"warn_weeks": 2**63}, "warn_weeks"),
    ],
)
def test_settings_beyond_their_columns_are_422(
    baskets: Baskets, client: Client, change: dict[str, Any], field: str
) -> None:
    body = {"member_cap_bp": 2_500, "warn_weeks": 2, **change}
    refused = put(client, "/api/v1/baskets/settings", body, bearer(baskets.cast, "coordinator"))
    assert fields(assert_problem(refused, 422)) == {field}
    assert not BasketSettings.objects.filter(member_cap_bp=2_500).exists()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"amount_cents": 2**63}, "amount_cents"),
        ({"agreement": 2**64}, "agreement"),
        ({"from": "0001-01-01"}, "from"),
    ],
)
def test_a_funder_payment_out_of_range_is_422(
    baskets: Baskets, client: Client, change: dict[str, Any], field: str
) -> None:
    body = {
        "funder": baskets.department.pk,
        "from": "2020-01-01",
        "to": baskets.thursday.isoformat(),
        "amount_cents": 300,
        "idempotency_key": "api-funder-pay-1",
        **change,
    }
    refused = post(
        client, "/api/v1/baskets/funder-payments", body, headers=bearer(baskets.cast, "coordinator")
    )
    assert field in fields(assert_problem(refused, 422))
    assert not FunderPayment.objects.exists()


def test_days_and_ids_in_queries_and_paths_out_of_range_are_422(baskets: Baskets, client: Client) -> None:
    funder = bearer(baskets.cast, "funder")
    statement = client.get(
        f"/api/v1/baskets/statements?funder={2**63}&from=2026-01-01&to=2026-12-31", headers=funder
    )
    assert fields(assert_problem(statement, 422)) == {"funder"}
    statement = client.get(
        f"/api/v1/baskets/statements?funder={baskets.department.pk}&from=0001-01-01&to=9999-12-31",
        headers=funder,
    )
    assert fields(assert_problem(statement, 422)) == {"from", "to"}
    sheets = client.get("/api/v1/baskets/sheets?on=9999-12-31", headers=bearer(baskets.cast, "cashier"))
    assert fields(assert_problem(sheets, 422)) == {"on"}
    absence = client.delete(
        f"/api/v1/baskets/subscriptions/{baskets.subscription.pk}/absences/9999-12-31",
        headers=bearer(baskets.cast, "member"),
    )
    assert fields(assert_problem(absence, 422)) == {"on"}


@pytest.mark.parametrize(
    ("change", "field"), [({"price_cents": 2**63}, "price_cents"), ({"weekday": 7}, "weekday")]
)
def test_an_offer_out_of_range_is_422(
    baskets: Baskets, client: Client, change: dict[str, Any], field: str
) -> None:
    body = {
        "name": "Panier API",
        "price_cents": 1_700,
        "weekday": 3,
        "season_start": baskets.small.season_start.isoformat(),
        "season_end": baskets.small.season_end.isoformat(),
        "idempotency_key": "api-offer-1",
        **change,
    }
    url = f"/api/v1/baskets/gardens/{baskets.garden.pk}/offers"
    assert field in fields(
        assert_problem(post(client, url, body, headers=bearer(baskets.cast, "coordinator")), 422)
    )
