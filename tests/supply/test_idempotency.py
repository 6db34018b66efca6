"""Every supply write that takes an idempotency key (issue 11, item 3): the same request again returns what was
recorded; another request under the key is refused (409 problem+json naming the key in the API), nothing recorded."""

from __future__ import annotations

from datetime import date

import pytest
from django.test import Client

from grenier.core.idempotency import KeyReused
from grenier.ledger.models import Entry
from grenier.supply import accounts, billing
from grenier.supply.models import Advance, Shortfall

from ..core.test_api import assert_problem, post
from .conftest import Pial
from .test_api import published_ahead, who
from .test_billing import balance, fund


def test_a_shortfall_key_means_one_report(pial: Pial, client: Client) -> None:
    _week, url = published_ahead(pial)
    headers = {**who(pial, "producer"), "Idempotency-Key": "hail-key-1"}
    body = {
        "producer": pial.saules.pk,
        "product": pial.products["carottes"].pk,
        "available": 0,
        "cause": "Grêle",
    }
    first = post(client, url + "/shortfalls", body, headers=headers)
    assert first.status_code == 201, first.content
    assert post(client, url + "/shortfalls", body, headers=headers).json()["id"] == first.json()["id"]
    leeks = {**body, "product": pial.products["poireaux"].pk}
    problem = assert_problem(post(client, url + "/shortfalls", leeks, headers=headers), 409)
    assert problem["type"] == "urn:grenier:problem:idempotency-key-reused"
    assert problem["idempotency_key"] == "hail-key-1"
    assert Shortfall.objects.count() == 1


def test_an_advance_key_means_one_advance(pial: Pial) -> None:
    fund(pial, 20_000)
    grant = {
        "producer": pial.saules,
        "amount_cents": 5_000,
        "monthly_deduction_cents": 1_000,
        "granted_on": date(2026, 9, 1),
        "idempotency_key": "adv-1",
        "actor": None,
    }
    first = billing.advance_grant(**grant)  # type: ignore[arg-type]
    assert billing.advance_grant(**grant).pk == first.pk  # type: ignore[arg-type]
    with pytest.raises(KeyReused):
        billing.advance_grant(**{**grant, "amount_cents": 9_000})  # type: ignore[arg-type]
    with pytest.raises(KeyReused):
        billing.advance_grant(**{**grant, "producer": pial.pic})  # type: ignore[arg-type]
    assert Advance.objects.count() == 1 and balance(pial, accounts.DEVFUND) == 15_000


def test_a_contribution_key_means_one_contribution(pial: Pial) -> None:
    """A contribution to the development fund is only a ledger entry: the ledger compares its postings."""
    fund(pial, 10_000, key="contrib-1")
    fund(pial, 10_000, key="contrib-1")
    with pytest.raises(KeyReused) as refused:
        fund(pial, 12_000, key="contrib-1")
    assert refused.value.extra == {"idempotency_key": "contrib-1"}
    assert balance(pial, accounts.DEVFUND) == 10_000
    assert Entry.objects.filter(kind="supply.devfund.contribution").count() == 1
