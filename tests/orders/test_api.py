"""The buying groups' API: a member's open cycles and order, a coordinator's close, a producer's purchase orders
and catalogue; refused to the wrong roles with problem+json."""

from __future__ import annotations

import json

from django.test import Client

from grenier.orders import services
from grenier.orders.models import Order, OrderLine

from ..core.test_api import assert_problem, bearer, post
from .conftest import Groups


def _bearer(g: Groups, who: str) -> dict[str, str]:
    if who == "other_member":
        from grenier.core import services as core_services

        _token, key = core_services.token_create(user=g.other_member, territory=g.cast.territory)
        return {"Authorization": f"Bearer {key}"}
    return bearer(g.cast, who, "elsewhere" if who == "outsider" else "territory")


def _put(client: Client, url: str, body: object, headers: dict[str, str]):
    return client.put(url, data=json.dumps(body), content_type="application/json", headers=headers)


def test_a_member_lists_open_cycles_and_places_an_order(groups: Groups, client: Client) -> None:
    g = groups
    headers = _bearer(g, "member")
    cycles = client.get("/api/v1/orders/cycles", headers=headers)
    assert cycles.status_code == 200 and [c["id"] for c in cycles.json()] == [g.cycle.pk]
    bread = g.product(g.cycle, g.bread)
    body = {"lines": [{"product": bread.pk, "quantity": 3}], "idempotency_key": "api-order-1"}
    placed = _put(client, f"/api/v1/orders/cycles/{g.cycle.pk}/order", body, headers)
    assert placed.status_code == 200, placed.content
    assert placed.json()["due_cents"] == 1_200 and placed.json()["pot_after_close_cents"] == 0
    again = _put(client, f"/api/v1/orders/cycles/{g.cycle.pk}/order", body, headers)
    assert again.status_code == 200 and again.json()["lines"][0]["quantity"] == 3  # sent again: one order
    reused = assert_problem(
        _put(
            client,
            f"/api/v1/orders/cycles/{g.cycle.pk}/order",
            {**body, "lines": [{"product": bread.pk, "quantity": 9}]},
            headers,
        ),
        409,
    )
    assert reused["idempotency_key"] == "api-order-1" and "api-order-1" in reused["detail"]
    assert (
        OrderLine.objects.get(order__cycle=g.cycle).quantity == 3
    )  # the key of another request: nothing changed
    assert client.get("/api/v1/orders/cycles", headers=_bearer(g, "other_member")).json() == []
    assert_problem(
        _put(client, f"/api/v1/orders/cycles/{g.cycle.pk}/order", body, _bearer(g, "other_member")), 404
    )
    assert_problem(
        _put(client, f"/api/v1/orders/cycles/{g.cycle.pk}/order", body, _bearer(g, "kitchen")), 403
    )
    assert_problem(
        _put(client, f"/api/v1/orders/cycles/{g.cycle.pk}/order", body, _bearer(g, "outsider")), 404
    )
    cancelled = post(
        client,
        f"/api/v1/orders/cycles/{g.cycle.pk}/order/cancel",
        {"idempotency_key": "api-cancel-1"},
        headers,
    )
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"


def test_only_a_coordinator_closes_and_a_short_pot_is_409(groups: Groups, client: Client) -> None:
    g = groups
    services.tier_set(
        membership=g.membership(g.cast.household), tier=g.tiers[70], actor=None, by_household=True
    )
    bread = g.product(g.cycle, g.bread)
    services.order_place(
        cycle=g.cycle, household=g.cast.household, quantities={bread.pk: 1}, idempotency_key="a", actor=None
    )
    url = f"/api/v1/orders/cycles/{g.cycle.pk}/close"
    assert_problem(post(client, url, {}, _bearer(g, "member")), 403)
    assert_problem(post(client, url, {}, _bearer(g, "producer")), 404)
    assert_problem(post(client, url, {}, _bearer(g, "funder")), 403)
    early = assert_problem(post(client, url, {}, _bearer(g, "coordinator")), 409)
    assert early["type"].endswith("close-early")  # before its announced close: only when asked explicitly
    assert Order.objects.get(cycle=g.cycle).cycle.closed_at is None
    url += "?early=true"
    problem = assert_problem(post(client, url, {}, _bearer(g, "coordinator")), 409)
    assert problem["type"].endswith("pot-below-zero") and problem["gap_cents"] == 120
    services.tier_set(
        membership=g.membership(g.cast.household), tier=g.tiers[100], actor=None, by_household=True
    )
    services.order_place(
        cycle=g.cycle, household=g.cast.household, quantities={bread.pk: 1}, idempotency_key="b", actor=None
    )
    closed = post(client, url, {}, _bearer(g, "coordinator"))
    assert closed.status_code == 200 and closed.json()["closed_now"] and closed.json()["full_cents"] == 400
    assert Order.objects.get(cycle=g.cycle).due_cents == 400


def test_a_producer_reads_its_own_purchase_orders_and_edits_its_own_catalogue(
    groups: Groups, client: Client
) -> None:
    g = groups
    bread = g.product(g.cycle, g.bread)
    services.order_place(
        cycle=g.cycle, household=g.cast.household, quantities={bread.pk: 4}, idempotency_key="a", actor=None
    )
    producer = _bearer(g, "producer")
    own = client.get(f"/api/v1/orders/cycles/{g.cycle.pk}/purchase-orders/{g.fournil.pk}", headers=producer)
    assert own.status_code == 200 and own.json()["total_cents"] == 1_600 and own.json()["final"] is False
    assert_problem(
        client.get(f"/api/v1/orders/cycles/{g.cycle.pk}/purchase-orders/{g.rucher.pk}", headers=producer), 404
    )
    assert_problem(
        client.get(
            f"/api/v1/orders/cycles/{g.cycle.pk}/purchase-orders/{g.fournil.pk}", headers=_bearer(g, "member")
        ),
        404,
    )
    product = {"name": "Fougasse", "unit": "piece", "price_cents": 420}
    created = post(client, f"/api/v1/orders/farms/{g.fournil.pk}/products", product, producer)
    assert created.status_code == 201 and created.json()["price_cents"] == 420
    assert_problem(post(client, f"/api/v1/orders/farms/{g.rucher.pk}/products", product, producer), 404)
    assert_problem(
        post(client, f"/api/v1/orders/farms/{g.fournil.pk}/products", product, _bearer(g, "cashier")), 403
    )
    changed = _put(
        client, f"/api/v1/orders/products/{created.json()['id']}", {**product, "price_cents": 450}, producer
    )
    assert changed.status_code == 200 and changed.json()["price_cents"] == 450
    listed = client.get(f"/api/v1/orders/farms/{g.fournil.pk}/products", headers=_bearer(g, "coordinator"))
    assert {p["name"] for p in listed.json()} == {"Pain", "Fougasse"}
