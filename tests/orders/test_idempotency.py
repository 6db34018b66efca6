"""Every buying-group write that takes an idempotency key (issue 11, item 3): the same request again returns what
was recorded; another request under the key is refused, 409 problem+json naming the key, nothing recorded."""

from __future__ import annotations

from django.test import Client

from grenier.fund import services as fund_services
from grenier.fund.models import FunderKind
from grenier.orders import services
from grenier.orders.models import FunderCover, OrderChange, OrderPayment, OrderStatus, ProducerPayout

from ..core.test_api import assert_problem, post
from .conftest import Groups
from .test_payouts_and_api import _bearer, _closed


def _refused(response: object, key: str) -> None:
    problem = assert_problem(response, 409)
    assert problem["type"] == "urn:grenier:problem:idempotency-key-reused"
    assert problem["idempotency_key"] == key


def test_a_payout_key_means_one_payout(groups: Groups, client: Client) -> None:
    g = groups
    _closed(g)
    url = f"/api/v1/orders/cycles/{g.cycle.pk}/purchase-orders/{g.rucher.pk}/payouts"
    body = {
        "amount_cents": 4_000,
        "method": "transfer",
        "reference": "VIR",
        "idempotency_key": "payout-key-1",
    }
    headers = _bearer(g, "coordinator")
    made = post(client, url, body, headers)
    assert post(client, url, body, headers).json()["id"] == made.json()["id"]
    _refused(post(client, url, {**body, "amount_cents": 1_000}, headers), "payout-key-1")
    other = f"/api/v1/orders/cycles/{g.cycle.pk}/purchase-orders/{g.fournil.pk}/payouts"  # another farm
    _refused(post(client, other, {**body, "amount_cents": 1_000}, headers), "payout-key-1")
    assert ProducerPayout.objects.count() == 1


def test_a_payment_key_means_one_payment(groups: Groups, client: Client) -> None:
    g = groups
    order = _closed(g)
    url = f"/api/v1/orders/orders/{order.pk}/payments"
    body = {"method": "cash", "amount_cents": 7_000, "idempotency_key": "order-pay-key-1"}
    headers = _bearer(g, "coordinator")
    paid = post(client, url, body, headers)
    assert post(client, url, body, headers).json()["id"] == paid.json()["id"]
    _refused(post(client, url, {**body, "method": "cheque"}, headers), "order-pay-key-1")
    _refused(post(client, url, {**body, "amount_cents": 100}, headers), "order-pay-key-1")
    assert OrderPayment.objects.count() == 1


def test_a_cover_key_means_one_cover(groups: Groups, client: Client) -> None:
    g = groups
    funder = fund_services.funder_create(
        territory=g.cast.territory, name="Fondation", kind=FunderKind.PRIVATE, actor=None
    )
    url = f"/api/v1/orders/cycles/{g.cycle.pk}/covers"
    body = {"funder": funder.pk, "amount_cents": 2_500, "idempotency_key": "cover-key-1"}
    headers = _bearer(g, "coordinator")
    covered = post(client, url, body, headers)
    assert post(client, url, body, headers).json()["id"] == covered.json()["id"]
    _refused(post(client, url, {**body, "amount_cents": 9_000}, headers), "cover-key-1")
    assert [c.amount_cents for c in FunderCover.objects.all()] == [2_500]


def test_a_key_that_placed_an_order_does_not_cancel_it(groups: Groups, client: Client) -> None:
    g = groups
    bread = g.product(g.cycle, g.bread)
    headers = _bearer(g, "member")
    services.order_place(
        cycle=g.cycle,
        household=g.cast.household,
        quantities={bread.pk: 2},
        idempotency_key="order-key-1",
        actor=None,
    )
    url = f"/api/v1/orders/cycles/{g.cycle.pk}/order/cancel"
    _refused(post(client, url, {"idempotency_key": "order-key-1"}, headers), "order-key-1")
    order = g.cycle.orders.get(household=g.cast.household)
    assert order.status == OrderStatus.PLACED and order.lines.get().quantity == 2
    assert post(client, url, {"idempotency_key": "cancel-key-1"}, headers).status_code == 200
    again = post(client, url, {"idempotency_key": "cancel-key-1"}, headers)  # sent again: cancelled once
    assert again.status_code == 200
    assert OrderChange.objects.filter(order=order).count() == 2
