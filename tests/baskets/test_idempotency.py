"""Every baskets write that takes an idempotency key (issue 11, item 3): the same request again returns what was
recorded; another request under the key is refused, 409 problem+json naming the key, and nothing is recorded."""

from __future__ import annotations

from typing import Any

import pytest
from django.db.models import Model
from django.test import Client

from grenier.baskets import services
from grenier.baskets.models import (
    Agreement,
    BasketOffer,
    FunderPayment,
    Garden,
    MemberPayment,
    PickupPoint,
    Referral,
    Subscription,
)

from ..core.test_api import assert_problem, bearer, post
from .conftest import Baskets
from .test_manage import _endpoints


def _keyed(baskets: Baskets) -> dict[str, tuple[str, str, dict[str, Any], dict[str, Any], type[Model]]]:
    """name: (who, url, first body, a change that makes it another request, the model it records)."""
    manage = _endpoints(baskets)
    found: dict[str, tuple[str, str, dict[str, Any], dict[str, Any], type[Model]]] = {}
    for name, change, model in (
        ("garden_new", {"address": "ailleurs"}, Garden),
        ("offer_new", {"price_cents": 1_800}, BasketOffer),
        ("point_new", {"opens_at": "18:00"}, PickupPoint),
        ("agreement_new", {"budget_cents": 60_000}, Agreement),
        ("funder_payment", {"amount_cents": 200}, FunderPayment),
    ):
        _method, url, body = manage[name]
        found[name] = ("coordinator", url, body, change, model)
    found["referral"] = (
        "social_worker",
        "/api/v1/baskets/referrals",
        {
            "garden": baskets.garden.pk,
            "consent": True,
            "name": "Foyer Clé",
            "idempotency_key": "ref-key-0001",
        },
        {"name": "Foyer Autre"},
        Referral,
    )
    found["member_payment"] = (
        "coordinator",
        "/api/v1/baskets/payments",
        {
            "garden": baskets.garden.pk,
            "household": baskets.cast.household.card_number,
            "amount_cents": 450,
            "method": "cheque",
            "reference": "CHQ 7",
            "idempotency_key": "pay-key-0001",
        },
        {"reference": "CHQ 8"},
        MemberPayment,
    )
    found["subscription"] = (
        "coordinator",
        "/api/v1/baskets/subscriptions",
        {
            "household": baskets.cast.other_household.pk,
            "offer": baskets.small.pk,
            "pickup_point": baskets.halle.pk,
            "start_on": baskets.thursday.isoformat(),
            "idempotency_key": "sub-key-0001",
        },
        {"frequency": "fortnightly"},
        Subscription,
    )
    return found


@pytest.mark.parametrize(
    "write",
    [
        "garden_new",
        "offer_new",
        "point_new",
        "agreement_new",
        "funder_payment",
        "referral",
        "member_payment",
        "subscription",
    ],
)
def test_a_key_means_one_request(baskets: Baskets, client: Client, write: str) -> None:
    services.distribution_generate(garden=baskets.garden, day=baskets.thursday, actor=None)
    who, url, body, change, model = _keyed(baskets)[write]
    headers = bearer(baskets.cast, who)
    first = post(client, url, body, headers)
    assert first.status_code == 201, first.content
    count = model._default_manager.count()
    again = post(client, url, body, headers)
    assert again.status_code == 201 and again.json()["id"] == first.json()["id"]
    problem = assert_problem(post(client, url, {**body, **change}, headers), 409)
    assert problem["type"] == "urn:grenier:problem:idempotency-key-reused"
    assert problem["idempotency_key"] == body["idempotency_key"]
    assert model._default_manager.count() == count
