"""The buying groups' API on input that once answered 500 (issue 11): stock, prices, amounts and ids beyond what
their columns hold (a stock of 2^31 overflowed PostgreSQL's 32-bit column, 2^63 every column). Each answers 422
naming the field and records nothing."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from grenier.core.schemas import MAX_CENTS, MAX_QUANTITY
from grenier.fund import services as fund_services
from grenier.fund.models import FunderKind
from grenier.orders.models import CatalogueProduct, FunderCover, GroupMembership, OrderPayment, ProducerPayout

from ..core.test_api import assert_problem, post
from .conftest import Groups
from .test_payouts_and_api import _bearer, _closed, _put


def fields(problem: dict[str, Any]) -> set[str]:
    return {error["field"] for error in problem.get("errors", [])}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"stock": 2**31}, "stock"),
        ({"stock": MAX_QUANTITY + 1}, "stock"),
        ({"stock": 2**63}, "stock"),
        ({"price_cents": 2**63}, "price_cents"),
        ({"case_size": 2**40}, "case_size"),
    ],
)
def test_a_catalogue_product_beyond_its_columns_is_422(
    groups: Groups, client: Client, change: dict[str, Any], field: str
) -> None:
    producer = _bearer(groups, "producer")
    product = {"name": "Fougasse", "unit": "piece", "price_cents": 420, **change}
    count = CatalogueProduct.objects.count()
    created = post(client, f"/api/v1/orders/farms/{groups.fournil.pk}/products", product, producer)
    assert fields(assert_problem(created, 422)) == {field}
    changed = _put(client, f"/api/v1/orders/products/{groups.bread.pk}", product, producer)
    assert fields(assert_problem(changed, 422)) == {field}
    assert CatalogueProduct.objects.count() == count


def test_the_largest_stock_is_taken(groups: Groups, client: Client) -> None:
    product = {"name": "Fougasse", "unit": "piece", "price_cents": 420, "stock": MAX_QUANTITY}
    created = post(
        client, f"/api/v1/orders/farms/{groups.fournil.pk}/products", product, _bearer(groups, "producer")
    )
    assert created.status_code == 201, created.content


@pytest.mark.parametrize("amount", [2**63, MAX_CENTS + 1])
def test_covers_payouts_and_payments_beyond_a_column_are_422(
    groups: Groups, client: Client, amount: int
) -> None:
    headers = _bearer(groups, "coordinator")
    funder = fund_services.funder_create(
        territory=groups.cast.territory, name="Fondation", kind=FunderKind.PRIVATE, actor=None
    )
    covers = f"/api/v1/orders/cycles/{groups.cycle.pk}/covers"
    cover = {"funder": funder.pk, "amount_cents": amount, "idempotency_key": "cover-big-1"}
    assert fields(assert_problem(post(client, covers, cover, headers), 422)) == {"amount_cents"}
    cover = {"funder": 2**63, "amount_cents": 100, "idempotency_key": "cover-big-2"}
    assert fields(assert_problem(post(client, covers, cover, headers), 422)) == {"funder"}
    order = _closed(groups)
    payouts = f"/api/v1/orders/cycles/{groups.cycle.pk}/purchase-orders/{groups.rucher.pk}/payouts"
    payout = {"amount_cents": amount, "method": "transfer", "idempotency_key": "payout-big-1"}
    assert fields(assert_problem(post(client, payouts, payout, headers), 422)) == {"amount_cents"}
    payment = {"method": "cash", "amount_cents": amount, "idempotency_key": "pay-big-1"}
    refused = post(client, f"/api/v1/orders/orders/{order.pk}/payments", payment, headers)
    assert fields(assert_problem(refused, 422)) == {"amount_cents"}
    assert not FunderCover.objects.exists()
    assert not ProducerPayout.objects.exists() and not OrderPayment.objects.exists()


def test_ids_beyond_a_bigint_in_orders_and_memberships_are_422(groups: Groups, client: Client) -> None:
    body = {"lines": [{"product": 2**63, "quantity": 1}], "idempotency_key": "order-big-1"}
    placed = _put(client, f"/api/v1/orders/cycles/{groups.cycle.pk}/order", body, _bearer(groups, "member"))
    assert fields(assert_problem(placed, 422)) == {"lines.0.product"}
    members = GroupMembership.objects.count()
    card = {"card": groups.other_household.card_number, "tier": 2**63}
    added = post(
        client, f"/api/v1/orders/groups/{groups.group.pk}/members", card, _bearer(groups, "coordinator")
    )
    assert fields(assert_problem(added, 422)) == {"tier"}
    assert GroupMembership.objects.count() == members
