"""One idempotency key, one request (issue 11, item 3): the shared mechanism, and a household's creation."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time

import pytest
from django.test import Client, override_settings

from grenier.core import services
from grenier.core.idempotency import KeyReused, fingerprint, replayed
from grenier.core.models import Household, Role

from ..conftest import Cast
from .test_api import NEW_HOUSEHOLD, assert_problem, bearer, post


@dataclass
class Row:
    request_fingerprint: str


def test_a_fingerprint_is_the_request_whatever_the_order_or_form_of_its_arguments(cast: Cast) -> None:
    household = cast.household
    one = fingerprint(household=household, amount=100, on=date(2026, 11, 2), volunteers={3, 1, 2})
    assert one == fingerprint(volunteers=[1, 2, 3], on="2026-11-02", amount=100, household=household)
    assert len(one) == 64
    assert one != fingerprint(
        household=cast.other_household, amount=100, on=date(2026, 11, 2), volunteers={1, 2, 3}
    )
    assert one != fingerprint(household=household, amount=101, on=date(2026, 11, 2), volunteers={1, 2, 3})
    assert fingerprint(at=time(17, 30), kind=Role.MEMBER) == fingerprint(at="17:30:00", kind="member")
    assert fingerprint(quantities={1: 5, 2: 0}) == fingerprint(quantities={"2": 0, "1": 5})


def test_a_replay_is_checked_against_the_first_request() -> None:
    row = Row(fingerprint(card="123", amount=100))
    assert replayed(row, key="K", card="123", amount=100) is row
    with pytest.raises(KeyReused) as refused:
        replayed(row, key="K", card="123", amount=999)
    assert refused.value.status == 409 and refused.value.code == "idempotency-key-reused"
    assert refused.value.extra == {"idempotency_key": "K"} and "K" in refused.value.detail
    assert set(refused.value.errors) == {"idempotency_key"}
    assert replayed(Row(""), key="K", anything="else")  # recorded before fingerprints: returned as before


def test_a_fingerprint_tells_nothing_without_the_secret_key() -> None:
    """An HMAC: whoever reads the database cannot try card numbers against it; a retired secret still checks."""
    with override_settings(SECRET_KEY="old-secret-" + "x" * 40):
        made = fingerprint(card="123456789012", amount=100)
    assert made != fingerprint(card="123456789012", amount=100)
    with override_settings(SECRET_KEY_FALLBACKS=["old-secret-" + "x" * 40]):
        assert replayed(Row(made), key="K", card="123456789012", amount=100)
        with pytest.raises(KeyReused):
            replayed(Row(made), key="K", card="123456789012", amount=101)


def test_a_household_key_sent_with_another_household_is_refused(cast: Cast, client: Client) -> None:
    headers = bearer(cast, "coordinator")
    first = post(client, "/api/v1/households", NEW_HOUSEHOLD, headers)
    assert first.status_code == 201, first.content
    again = post(client, "/api/v1/households", NEW_HOUSEHOLD, headers)
    assert again.status_code == 201 and again.json()["id"] == first.json()["id"]
    other = {**NEW_HOUSEHOLD, "name": "Foyer Autre", "persons": [{"first_name": "Zoé"}]}
    problem = assert_problem(post(client, "/api/v1/households", other, headers), 409)
    assert problem["type"] == "urn:grenier:problem:idempotency-key-reused"
    assert problem["idempotency_key"] == NEW_HOUSEHOLD["idempotency_key"]
    assert problem["errors"][0]["field"] == "idempotency_key"
    assert not Household.objects.filter(name="Foyer Autre").exists()


def test_leaving_erases_the_fingerprint_with_the_names_it_was_made_of(cast: Cast) -> None:
    household = services.household_join(
        territory=cast.territory,
        name="Foyer Clé",
        persons=[services.PersonInput("Ana")],
        actor=None,
        idempotency_key="leave-key-1",
    )
    assert household.request_fingerprint
    services.household_leave(household=household, actor=None)
    household.refresh_from_db()
    assert household.request_fingerprint == "" and household.name == f"H-{household.pk}"
    # its key still returns it, as it did before fingerprints: nothing new is created
    again = services.household_join(
        territory=cast.territory,
        name="Foyer Clé",
        persons=[services.PersonInput("Ana")],
        actor=None,
        idempotency_key="leave-key-1",
    )
    assert again.pk == household.pk
