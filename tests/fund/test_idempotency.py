"""A replayed idempotency key must carry the same request (issue 11, item 3), at the till above all: a till that
goes back and enters a second household under the first one's key must not show the first payment as its own."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest
from django.test import Client
from django.urls import reverse

from grenier.core import services as core_services
from grenier.core.idempotency import KeyReused
from grenier.fund import services
from grenier.fund.models import Funder, FunderKind, Grant, Payment, Refund

from ..core.test_api import assert_problem, bearer, post
from .conftest import Fund


def test_a_payment_key_reused_for_another_household_and_amount_is_409(
    fund: Fund, client: Client, payment_path: str
) -> None:
    """The issue's case: key K for household A, 1 €; then key K for household B, 9,99 € → was 201 with A's payment."""
    headers = bearer(fund.cast, "cashier")
    first = post(
        client,
        "/api/v1/payments",
        {"household": fund.cast.household.card_number, "amount_cents": 100, "idempotency_key": "till-K-0001"},
        headers,
    )
    assert first.status_code == 201, first.content
    problem = assert_problem(
        post(
            client,
            "/api/v1/payments",
            {
                "household": fund.cast.other_household.card_number,
                "amount_cents": 999,
                "idempotency_key": "till-K-0001",
            },
            headers,
        ),
        409,
    )
    assert problem["type"] == "urn:grenier:problem:idempotency-key-reused"
    assert problem["idempotency_key"] == "till-K-0001" and "till-K-0001" in problem["detail"]
    assert [(p.household_id, p.total_cents) for p in Payment.objects.all()] == [(fund.cast.household.pk, 100)]
    assert services.credit_balance(fund.cast.other_household) == 10_000  # B paid nothing
    # the same household, another amount: refused too; the same request again: the first payment
    assert_problem(
        post(
            client,
            "/api/v1/payments",
            {
                "household": fund.cast.household.card_number,
                "amount_cents": 999,
                "idempotency_key": "till-K-0001",
            },
            headers,
        ),
        409,
    )
    card = fund.cast.household.card_number
    spaced = f"{card[:4]} {card[4:8]} {card[8:]}"  # the card typed another way is the same request
    again = post(
        client,
        "/api/v1/payments",
        {"household": spaced, "amount_cents": 100, "idempotency_key": "till-K-0001"},
        headers,
    )
    assert again.status_code == 201 and again.json()["id"] == first.json()["id"]
    assert services.credit_balance(fund.cast.household) == 9_900


def test_a_refund_key_reused_for_another_amount_is_409(fund: Fund, client: Client) -> None:
    headers = bearer(fund.cast, "cashier")
    paid = post(
        client,
        "/api/v1/payments",
        {
            "household": fund.cast.household.card_number,
            "amount_cents": 3_000,
            "idempotency_key": "till-R-0001",
        },
        headers,
    ).json()
    url = f"/api/v1/payments/{paid['id']}/refund"
    assert (
        post(client, url, {"amount_cents": 500, "idempotency_key": "refund-K-1"}, headers).status_code == 201
    )
    assert (
        post(client, url, {"amount_cents": 500, "idempotency_key": "refund-K-1"}, headers).status_code == 201
    )
    problem = assert_problem(
        post(client, url, {"amount_cents": 700, "idempotency_key": "refund-K-1"}, headers), 409
    )
    assert problem["idempotency_key"] == "refund-K-1"
    assert [r.credit_cents for r in Refund.objects.all()] == [500]
    assert services.credit_balance(fund.cast.household) == 7_500


def test_a_grant_key_reused_for_another_grant_is_refused(fund: Fund) -> None:
    funder = Funder.objects.create(territory=fund.cast.territory, name="Département", kind=FunderKind.PUBLIC)
    grant = services.grant_record(
        funder=funder, amount_cents=50_000, received_on=date(2026, 11, 2), idempotency_key="g-1", actor=None
    )
    again = services.grant_record(
        funder=funder, amount_cents=50_000, received_on=date(2026, 11, 2), idempotency_key="g-1", actor=None
    )
    assert again.pk == grant.pk
    with pytest.raises(KeyReused):
        services.grant_record(
            funder=funder,
            amount_cents=60_000,
            received_on=date(2026, 11, 2),
            idempotency_key="g-1",
            actor=None,
        )
    assert Grant.objects.count() == 1


def test_the_till_page_refuses_a_form_sent_again_for_another_household(
    fund: Fund, login: Callable[..., Client], payment_path: str
) -> None:
    """Pages use the same services: the browser's back button and a second household under the form's key."""
    client = login(fund.cast["cashier"])
    url = reverse("fund_till", args=["vallee"])
    form = {
        "store": fund.store.pk,
        "card": fund.cast.household.card_number,
        "amount": "1",
        "code": "",
        "idempotency_key": "till-page-key-1",
    }
    assert client.post(url, form).status_code == 302
    response = client.post(url, {**form, "card": fund.cast.other_household.card_number, "amount": "9,99"})
    assert response.status_code == 200  # the form again with the refusal, not the first payment's receipt
    assert "till-page-key-1" in " ".join(response.context["form"].non_field_errors())
    assert Payment.objects.count() == 1 and services.credit_balance(fund.cast.other_household) == 10_000


def test_a_household_that_left_keeps_its_payments_keys_checked(
    fund: Fund, client: Client, payment_path: str
) -> None:
    """Leaving erases the household's own fingerprint (made of its names), not its payments' (made of a card)."""
    headers = bearer(fund.cast, "cashier")
    body = {
        "household": fund.cast.household.card_number,
        "amount_cents": 100,
        "idempotency_key": "till-L-0001",
    }
    assert post(client, "/api/v1/payments", body, headers).status_code == 201
    core_services.household_leave(household=fund.cast.household, actor=None)
    assert_problem(post(client, "/api/v1/payments", {**body, "amount_cents": 200}, headers), 409)
