"""The till's request as written (issue 11, item 6): a payment's amount is a JSON integer, its fields are the
schema's. Anything else answers 422 problem+json naming the field, and no credit moves."""

from __future__ import annotations

import pytest
from django.test import Client

from grenier.fund import services
from grenier.fund.models import Payment

from ..core.test_api import assert_problem, bearer, post
from .conftest import Fund


def pay_body(fund: Fund, **change: object) -> dict[str, object]:
    return {
        "household": fund.cast.household.card_number,
        "amount_cents": 100,
        "idempotency_key": "till-strict-0001",
        **change,
    }


@pytest.mark.parametrize(
    ("change", "field", "kind"),
    [
        ({"amount_cents": True}, "amount_cents", "int_type"),  # was a real 1-cent payment
        ({"amount_cents": "250"}, "amount_cents", "int_type"),
        ({"amount_cents": 2.5}, "amount_cents", "int_type"),
        ({"amount_cents": 250.0}, "amount_cents", "int_type"),
        ({"household": 123456789012}, "household", "string_type"),
        ({"store": "1"}, "store", "int_type"),
        ({"amount_cent": 100}, "amount_cent", "extra_forbidden"),  # a misspelt field is not ignored
    ],
)
def test_a_loose_or_unknown_field_is_refused_and_nothing_is_paid(
    fund: Fund, client: Client, change: dict[str, object], field: str, kind: str
) -> None:
    problem = assert_problem(
        post(client, "/api/v1/payments", pay_body(fund, **change), headers=bearer(fund.cast, "cashier")), 422
    )
    assert {"field": field, "type": kind} in [
        {"field": error["field"], "type": error["type"]} for error in problem["errors"]
    ]
    assert not Payment.objects.exists()
    assert services.credit_balance(fund.cast.household) == 10_000


def test_the_same_payment_written_strictly_goes_through(fund: Fund, client: Client) -> None:
    response = post(client, "/api/v1/payments", pay_body(fund), headers=bearer(fund.cast, "cashier"))
    assert response.status_code == 201, response.content
    assert services.credit_balance(fund.cast.household) == 9_900


def test_a_refund_amount_is_strict_too(fund: Fund, client: Client) -> None:
    headers = bearer(fund.cast, "cashier")
    paid = post(client, "/api/v1/payments", pay_body(fund), headers=headers).json()
    problem = assert_problem(
        post(
            client,
            f"/api/v1/payments/{paid['id']}/refund",
            {"amount_cents": True, "idempotency_key": "refund-strict-1"},
            headers=headers,
        ),
        422,
    )
    assert problem["errors"][0]["field"] == "amount_cents"
    assert Payment.objects.get().refunded_credit_cents == 0
