"""The fund's API as a till program and a coordinator's script use it: every status the issue names."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client

from grenier.core import services as core_services
from grenier.fund import services
from grenier.fund.models import Payment

from ..core.test_api import assert_problem, bearer, post
from .conftest import Fund


def pay_body(
    fund: Fund, amount: int = 2_350, key: str = "till-key-0001", **extra: object
) -> dict[str, object]:
    return {
        "household": fund.cast.household.card_number,
        "amount_cents": amount,
        "idempotency_key": key,
        **extra,
    }


def test_a_payment_is_created_once_per_key(fund: Fund, client: Client) -> None:
    headers = bearer(fund.cast, "cashier")
    first = post(client, "/api/v1/payments", pay_body(fund), headers=headers)
    assert first.status_code == 201, first.content
    body = first.json()
    assert (
        body["credit_cents"] == 2_350 and body["remaining_credit_cents"] == 7_650 and body["euro_cents"] == 0
    )
    again = post(client, "/api/v1/payments", pay_body(fund), headers=headers)
    assert again.status_code == 201 and again.json()["id"] == body["id"]
    assert services.credit_balance(fund.cast.household) == 7_650


def test_the_card_may_be_typed_with_spaces(fund: Fund, client: Client) -> None:
    card = fund.cast.household.card_number
    spaced = " ".join(card[i : i + 4] for i in range(0, 12, 4))
    response = post(
        client,
        "/api/v1/payments",
        {**pay_body(fund), "household": spaced},
        headers=bearer(fund.cast, "cashier"),
    )
    assert response.status_code == 201


def test_not_enough_credit_is_409(fund: Fund, client: Client) -> None:
    problem = assert_problem(
        post(client, "/api/v1/payments", pay_body(fund, amount=10_001), headers=bearer(fund.cast, "cashier")),
        409,
    )
    assert problem["remaining_credit_cents"] == 10_000
    assert "100,00" in problem["detail"]
    assert not Payment.objects.exists()


def test_a_store_not_approved_is_403(fund: Fund, client: Client) -> None:
    services.store_suspend(store=fund.store, actor=None)
    assert_problem(
        post(client, "/api/v1/payments", pay_body(fund), headers=bearer(fund.cast, "cashier")), 403
    )


def test_a_left_household_or_unknown_card_is_404(fund: Fund, client: Client) -> None:
    headers = bearer(fund.cast, "cashier")
    assert_problem(
        post(client, "/api/v1/payments", {**pay_body(fund), "household": "123456789012"}, headers=headers),
        404,
    )
    core_services.household_leave(household=fund.cast.household, actor=None)
    assert_problem(
        post(client, "/api/v1/payments", pay_body(fund, key="after-leaving"), headers=headers), 404
    )


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"amount_cents": 0}, "amount_cents"),
        ({"amount_cents": -100}, "amount_cents"),
        ({"amount_cents": "23,50"}, "amount_cents"),
        ({"amount_cents": 12.5}, "amount_cents"),
        ({"idempotency_key": "x"}, "idempotency_key"),
        ({"household": ""}, "household"),
    ],
)
def test_bad_payment_input_is_422(fund: Fund, client: Client, change: dict[str, object], field: str) -> None:
    problem = assert_problem(
        post(client, "/api/v1/payments", {**pay_body(fund), **change}, headers=bearer(fund.cast, "cashier")),
        422,
    )
    assert field in {e["field"] for e in problem["errors"]}


@pytest.mark.parametrize(
    "who", ["coordinator", "committee", "member", "producer", "kitchen", "social_worker", "funder"]
)
def test_only_cashiers_take_payments(fund: Fund, client: Client, who: str) -> None:
    assert_problem(post(client, "/api/v1/payments", pay_body(fund), headers=bearer(fund.cast, who)), 403)


def test_a_cashier_without_a_store_is_refused(fund: Fund, client: Client) -> None:
    fund.store.cashiers.clear()
    assert_problem(
        post(client, "/api/v1/payments", pay_body(fund), headers=bearer(fund.cast, "cashier")), 403
    )


def test_refunds_and_the_store_own_payments(fund: Fund, client: Client) -> None:
    headers = bearer(fund.cast, "cashier")
    payment_id = post(client, "/api/v1/payments", pay_body(fund, amount=3_000), headers=headers).json()["id"]
    refunded = post(
        client,
        f"/api/v1/payments/{payment_id}/refund",
        {"amount_cents": 1_000, "idempotency_key": "refund-0001"},
        headers=headers,
    )
    assert refunded.status_code == 201 and refunded.json()["remaining_credit_cents"] == 8_000
    again = post(
        client,
        f"/api/v1/payments/{payment_id}/refund",
        {"amount_cents": 1_000, "idempotency_key": "refund-0001"},
        headers=headers,
    )
    assert again.json()["id"] == refunded.json()["id"]
    too_much = post(
        client,
        f"/api/v1/payments/{payment_id}/refund",
        {"amount_cents": 2_001, "idempotency_key": "refund-0002"},
        headers=headers,
    )
    assert assert_problem(too_much, 409)["refundable_cents"] == 2_000
    assert_problem(
        post(
            client,
            "/api/v1/payments/999999/refund",
            {"amount_cents": 1, "idempotency_key": "refund-0003"},
            headers=headers,
        ),
        404,
    )
    listed = client.get("/api/v1/payments", headers=headers).json()
    assert [p["id"] for p in listed] == [payment_id] and listed[0]["refunded_credit_cents"] == 1_000


def test_another_store_cannot_refund_my_payment(fund: Fund, client: Client) -> None:
    payment_id = post(
        client, "/api/v1/payments", pay_body(fund), headers=bearer(fund.cast, "cashier")
    ).json()["id"]
    other_cashier = core_services.user_ensure(email="other-till@test.grenier", display_name="Other till")
    other_store = services.store_create(territory=fund.cast.territory, name="Autre boutique", actor=None)
    services.store_approve(store=other_store, actor=None)
    services.store_cashier_add(store=other_store, user=other_cashier, actor=None)
    _token, key = core_services.token_create(user=other_cashier, territory=fund.cast.territory)
    headers = {"Authorization": f"Bearer {key}"}
    assert_problem(
        post(
            client,
            f"/api/v1/payments/{payment_id}/refund",
            {"amount_cents": 100, "idempotency_key": "steal-0001"},
            headers=headers,
        ),
        404,
    )
    assert client.get("/api/v1/payments", headers=headers).json() == []


def test_a_coordinator_runs_and_settles_by_api(fund: Fund, client: Client) -> None:
    headers = bearer(fund.cast, "coordinator")
    run = post(client, "/api/v1/fund/runs", {"month": f"{fund.month:%Y-%m}"}, headers=headers)
    assert run.status_code == 200 and run.json()["households"] == 2 and run.json()["processed_now"] == 0
    assert_problem(post(client, "/api/v1/fund/runs", {"month": "2026-13"}, headers=headers), 422)
    last = (fund.month - timedelta(days=1)).replace(day=1)
    settled = post(client, "/api/v1/fund/settlements", {"month": f"{last:%Y-%m}"}, headers=headers)
    assert settled.status_code == 200 and settled.json() == []
    assert_problem(
        post(
            client,
            "/api/v1/fund/runs",
            {"month": f"{fund.month:%Y-%m}"},
            headers=bearer(fund.cast, "committee"),
        ),
        403,
    )


@pytest.mark.parametrize(
    ("who", "status"),
    [("coordinator", 200), ("committee", 200), ("funder", 200), ("member", 403), ("cashier", 403)],
)
def test_figures_for_who_may_read_them(fund: Fund, client: Client, who: str, status: int) -> None:
    response = client.get("/api/v1/fund/figures", headers=bearer(fund.cast, who))
    assert response.status_code == status
    if status == 200:
        assert response.json()["outstanding_credit_cents"] == 20_000


def test_a_member_reads_their_statement_only(fund: Fund, client: Client) -> None:
    headers = bearer(fund.cast, "member")
    own = client.get(f"/api/v1/households/{fund.cast.household.pk}/statement", headers=headers)
    assert (
        own.status_code == 200
        and own.json()["allocation_cents"] == 10_000
        and own.json()["balance_cents"] == 10_000
    )
    assert_problem(
        client.get(f"/api/v1/households/{fund.cast.other_household.pk}/statement", headers=headers), 404
    )
    assert_problem(
        client.get(
            f"/api/v1/households/{fund.cast.household.pk}/statement", headers=bearer(fund.cast, "cashier")
        ),
        404,
    )
