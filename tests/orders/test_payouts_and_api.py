"""Paying producers what a closed cycle owes them (never more, once per key, through the ledger), and the API of
what had pages only: members' payments, funders' covers, the pickup list and its check-off — with the pages'
permissions."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from django.urls import reverse

from grenier.core import services as core_services
from grenier.core.errors import Conflict, InvalidInput, NotFound
from grenier.core.models import Role, User
from grenier.fund import services as fund_services
from grenier.fund.models import Funder, FunderKind
from grenier.ledger.models import Entry
from grenier.ledger.selectors import ledger_check
from grenier.orders import accounts, services
from grenier.orders.models import FunderCover, Order, OrderPayment, Pickup, ProducerPayout
from grenier.supply.models import Producer

from ..conftest import make_user
from ..core.test_api import assert_problem, post
from .conftest import Groups


def _token(user: User, g: Groups) -> dict[str, str]:
    _t, key = core_services.token_create(user=user, territory=g.cast.territory)
    return {"Authorization": f"Bearer {key}"}


def _bearer(g: Groups, who: str) -> dict[str, str]:
    if who == "other_member":
        return _token(g.other_member, g)
    if who == "outsider":
        _t, key = core_services.token_create(user=g.cast["outsider"], territory=g.cast.elsewhere)
        return {"Authorization": f"Bearer {key}"}
    return _token(g.cast[who], g)


def _put(client: Client, url: str, body: object, headers: dict[str, str]):
    return client.put(url, data=json.dumps(body), content_type="application/json", headers=headers)


def _closed(g: Groups) -> Order:
    """The member's order of 3 loaves (Fournil, 1 200) and 6 jars of honey (Rucher, 6 000), closed at 100 %."""
    order = services.order_place(
        cycle=g.cycle,
        household=g.cast.household,
        quantities={g.product(g.cycle, g.bread).pk: 3, g.product(g.cycle, g.honey).pk: 6},
        idempotency_key="o",
        actor=None,
    ).order
    services.cycle_close(cycle=g.cycle, actor=None, early=True)
    g.cycle.refresh_from_db()
    order.refresh_from_db()
    return order


def _payout_code(g: Groups) -> str:
    return accounts.producer_code(g.group.pk, g.fournil.pk)


# --- paying producers ---------------------------------------------------------------------------------------------


def test_a_producer_is_paid_what_the_cycle_owes_it_never_more_once_per_key(groups: Groups) -> None:
    g = groups
    territory = g.cast.territory
    with pytest.raises(Conflict):  # nothing is owed while the cycle is open
        services.producer_pay(
            cycle=g.cycle, producer=g.fournil, amount_cents=100, idempotency_key="early", actor=None
        )
    _closed(g)
    assert services.producer_owed_cents(g.cycle, g.fournil) == 1_200
    assert services.producer_owed_cents(g.cycle, g.rucher) == 6_000
    assert accounts.balance(territory, _payout_code(g)) == 1_200
    first = services.producer_pay(
        cycle=g.cycle,
        producer=g.fournil,
        amount_cents=500,
        idempotency_key="pay-a",
        actor=g.cast["coordinator"],
    )
    again = services.producer_pay(
        cycle=g.cycle, producer=g.fournil, amount_cents=500, idempotency_key="pay-a", actor=None
    )
    assert again.pk == first.pk and ProducerPayout.objects.count() == 1
    assert Entry.objects.filter(kind="orders.payout").count() == 1
    with pytest.raises(InvalidInput) as too_much:
        services.producer_pay(
            cycle=g.cycle, producer=g.fournil, amount_cents=701, idempotency_key="pay-b", actor=None
        )
    assert "amount_cents" in too_much.value.errors
    services.producer_pay(
        cycle=g.cycle,
        producer=g.fournil,
        amount_cents=700,
        idempotency_key="pay-c",
        actor=None,
        method="cheque",
    )
    assert services.producer_paid_cents(g.cycle, g.fournil) == 1_200
    assert accounts.balance(territory, _payout_code(g)) == 0
    assert accounts.balance(territory, accounts.PAYOUTS) == 1_200
    assert (
        accounts.balance(territory, accounts.producer_code(g.group.pk, g.rucher.pk)) == 6_000
    )  # not paid yet
    with pytest.raises(InvalidInput):
        services.producer_pay(
            cycle=g.cycle, producer=g.fournil, amount_cents=1, idempotency_key="d", actor=None
        )
    with pytest.raises(InvalidInput):
        services.producer_pay(
            cycle=g.cycle, producer=g.rucher, amount_cents=0, idempotency_key="e", actor=None
        )
    stranger = Producer.objects.create(
        territory=territory, farm_name="Ailleurs", admitted_on=g.fournil.admitted_on
    )
    with pytest.raises(NotFound):
        services.producer_pay(
            cycle=g.cycle, producer=stranger, amount_cents=1, idempotency_key="f", actor=None
        )
    assert ledger_check(territory).ok


def test_the_coordinator_pays_from_the_cycle_page_and_the_producer_sees_it(groups: Groups, login) -> None:
    g = groups
    slug = g.cast.territory.slug
    _closed(g)
    cycle_url = reverse("orders_cycle", args=[slug, g.cycle.pk])
    page = login(g.cast["coordinator"]).get(cycle_url).content.decode()
    assert 'id="payouts"' in page and f'id="payout-{g.fournil.pk}"' in page
    pay = reverse("orders_producer_pay", args=[slug, g.cycle.pk, g.fournil.pk])
    form = {
        "producer": g.fournil.pk,
        "amount": "12,00",
        "method": "transfer",
        "reference": "VIR 1",
        "idempotency_key": "w-1",
    }
    assert (
        login(g.cast["producer"]).post(pay, form).status_code == 403
    )  # the producer does not record its own pay
    assert login(g.cast["member"]).post(pay, form).status_code == 404
    assert login(g.cast["kitchen"]).post(pay, form).status_code == 403
    assert login(g.cast["outsider"]).post(pay, form).status_code == 404
    assert ProducerPayout.objects.count() == 0
    client = login(g.cast["coordinator"])
    assert client.post(pay, form).status_code == 302
    assert client.post(pay, form).status_code == 302  # the same form twice: one payout
    payout = ProducerPayout.objects.get()
    assert (payout.amount_cents, payout.method, payout.reference) == (1_200, "transfer", "VIR 1")
    assert client.post(pay, {**form, "idempotency_key": "w-2", "amount": "0,01"}).status_code == 302
    assert ProducerPayout.objects.count() == 1  # nothing left to pay: refused
    home = login(g.cast["producer"]).get(reverse("orders_home", args=[slug])).content.decode()
    assert f'id="paid-{g.cycle.pk}-{g.fournil.pk}"' in home
    pdf = login(g.cast["producer"]).get(reverse("orders_po_pdf", args=[slug, g.cycle.pk, g.fournil.pk]))
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


def test_the_api_records_payouts_for_the_groups_coordinators(groups: Groups, client: Client) -> None:
    g = groups
    _closed(g)
    url = f"/api/v1/orders/cycles/{g.cycle.pk}/purchase-orders/{g.rucher.pk}/payouts"
    body = {
        "amount_cents": 4_000,
        "method": "transfer",
        "reference": "VIR",
        "idempotency_key": "api-payout-1",
    }
    assert_problem(post(client, url, body, _bearer(g, "member")), 404)
    assert_problem(post(client, url, body, _bearer(g, "outsider")), 404)
    assert_problem(post(client, url, body, _bearer(g, "kitchen")), 403)
    own = f"/api/v1/orders/cycles/{g.cycle.pk}/purchase-orders/{g.fournil.pk}/payouts"
    assert_problem(post(client, own, {**body, "amount_cents": 100}, _bearer(g, "producer")), 403)
    made = post(client, url, body, _bearer(g, "coordinator"))
    assert made.status_code == 201, made.content
    assert post(client, url, body, _bearer(g, "coordinator")).json()["id"] == made.json()["id"]
    too_much = post(
        client,
        url,
        {**body, "idempotency_key": "api-payout-2", "amount_cents": 2_001},
        _bearer(g, "coordinator"),
    )
    assert {e["field"] for e in assert_problem(too_much, 422)["errors"]} == {"amount_cents"}
    po = client.get(
        f"/api/v1/orders/cycles/{g.cycle.pk}/purchase-orders/{g.rucher.pk}", headers=_bearer(g, "coordinator")
    )
    assert (po.json()["owed_cents"], po.json()["paid_cents"], po.json()["left_cents"]) == (
        6_000,
        4_000,
        2_000,
    )
    assert [p["amount_cents"] for p in po.json()["payouts"]] == [4_000]
    fournil = client.get(
        f"/api/v1/orders/cycles/{g.cycle.pk}/purchase-orders/{g.fournil.pk}", headers=_bearer(g, "producer")
    )
    assert (fournil.json()["owed_cents"], fournil.json()["paid_cents"]) == (1_200, 0)


# --- members' payments, funders' covers, pickups through the API --------------------------------------------------


@pytest.fixture
def volunteer(groups: Groups) -> User:
    user = make_user("volunteer@test.grenier", "Volunteer")
    core_services.role_grant(user=user, territory=groups.cast.territory, role=Role.CASHIER)
    services.coordinator_add(group=groups.group, user=user, actor=None)
    return user


def test_the_api_records_a_members_payment_once_and_never_more_than_due(
    groups: Groups, client: Client
) -> None:
    g = groups
    order = _closed(g)
    assert order.due_cents == 7_200
    url = f"/api/v1/orders/orders/{order.pk}/payments"
    body = {"method": "cash", "amount_cents": 7_000, "idempotency_key": "api-pay-1"}
    assert_problem(
        post(client, url, body, _bearer(g, "member")), 403
    )  # the household does not record its own
    assert_problem(post(client, url, body, _bearer(g, "other_member")), 404)
    assert_problem(post(client, url, body, _bearer(g, "producer")), 404)
    assert_problem(post(client, url, body, _bearer(g, "outsider")), 404)
    paid = post(client, url, body, _bearer(g, "coordinator"))
    assert paid.status_code == 201, paid.content
    assert post(client, url, body, _bearer(g, "coordinator")).json()["id"] == paid.json()["id"]
    assert OrderPayment.objects.filter(order=order).count() == 1
    too_much = post(
        client, url, {**body, "idempotency_key": "api-pay-2", "amount_cents": 201}, _bearer(g, "coordinator")
    )
    assert {e["field"] for e in assert_problem(too_much, 422)["errors"]} == {"amount_cents"}
    unknown = post(
        client, url, {**body, "idempotency_key": "api-pay-3", "method": "gold"}, _bearer(g, "coordinator")
    )
    assert {e["field"] for e in assert_problem(unknown, 422)["errors"]} == {"method"}
    receipt = client.get(f"/api/v1/orders/orders/{order.pk}", headers=_bearer(g, "member"))
    assert receipt.status_code == 200
    assert (receipt.json()["paid_cents"], receipt.json()["left_cents"]) == (7_000, 200)
    assert receipt.json()["order"]["due_cents"] == 7_200
    assert_problem(client.get(f"/api/v1/orders/orders/{order.pk}", headers=_bearer(g, "other_member")), 404)
    assert_problem(client.get(f"/api/v1/orders/orders/{order.pk}", headers=_bearer(g, "kitchen")), 403)


def test_the_api_records_a_funders_cover_once(groups: Groups, client: Client) -> None:
    g = groups
    funder = fund_services.funder_create(
        territory=g.cast.territory, name="Fondation", kind=FunderKind.PRIVATE, actor=None
    )
    url = f"/api/v1/orders/cycles/{g.cycle.pk}/covers"
    body = {"funder": funder.pk, "amount_cents": 2_500, "idempotency_key": "api-cover-1"}
    assert_problem(post(client, url, body, _bearer(g, "member")), 403)
    assert_problem(post(client, url, body, _bearer(g, "producer")), 404)
    assert_problem(post(client, url, body, _bearer(g, "funder")), 403)
    assert_problem(post(client, url, body, _bearer(g, "outsider")), 404)
    assert_problem(post(client, url, {**body, "funder": funder.pk + 999}, _bearer(g, "coordinator")), 404)
    covered = post(client, url, body, _bearer(g, "coordinator"))
    assert covered.status_code == 201, covered.content
    assert covered.json()["pot_now_cents"] == 2_500 and covered.json()["funder_name"] == "Fondation"
    again = post(client, url, body, _bearer(g, "coordinator"))
    assert again.json()["id"] == covered.json()["id"] and again.json()["pot_now_cents"] == 2_500
    assert FunderCover.objects.count() == 1 and Funder.objects.filter(pk=funder.pk).exists()
    services.cycle_close(cycle=g.cycle, actor=None, early=True)
    closed = post(client, url, {**body, "idempotency_key": "api-cover-2"}, _bearer(g, "coordinator"))
    assert assert_problem(closed, 409)["type"].endswith("cycle-closed")


def test_the_api_pickup_list_and_check_off(groups: Groups, volunteer: User, client: Client) -> None:
    g = groups
    order = _closed(g)
    url = f"/api/v1/orders/cycles/{g.cycle.pk}/pickup-list"
    listed = client.get(url, headers=_token(volunteer, g))
    assert listed.status_code == 200
    assert [(r["order"], r["due_cents"], r["collected"]) for r in listed.json()] == [(order.pk, 7_200, False)]
    assert_problem(client.get(url, headers=_bearer(g, "member")), 403)
    assert_problem(client.get(url, headers=_bearer(g, "kitchen")), 403)
    assert_problem(client.get(url, headers=_bearer(g, "outsider")), 404)
    check = f"/api/v1/orders/orders/{order.pk}/pickup"
    assert_problem(_put(client, check, {"collected": True}, _bearer(g, "member")), 403)
    assert_problem(_put(client, check, {"collected": True}, _bearer(g, "other_member")), 404)
    assert not Pickup.objects.filter(order=order).exists()
    done = _put(client, check, {"collected": True}, _token(volunteer, g))
    assert done.status_code == 200 and done.json()["collected"] is True
    assert _put(client, check, {"collected": True}, _token(volunteer, g)).json()["collected"] is True
    assert Pickup.objects.filter(order=order).count() == 1
    undone = _put(client, check, {"collected": False}, _bearer(g, "coordinator"))
    assert undone.json()["collected"] is False and not Pickup.objects.filter(order=order).exists()
