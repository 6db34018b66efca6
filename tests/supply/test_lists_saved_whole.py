"""A list saved whole or not at all, through the one path pages and the API share (``core.services.all_or_none``
and the supply services' ``*_many``): every refused item is named by its index, and nothing of the list is saved."""

from __future__ import annotations

import pytest
from django.test import Client

from grenier.core.errors import Conflict, InvalidInput, ItemsRefused
from grenier.core.services import all_or_none
from grenier.supply import services
from grenier.supply.models import Availability, Demand, DemandSource

from .conftest import Pial
from .test_api import MONDAY, URL, put, who


def test_all_or_none_names_every_refusal_and_keeps_nothing(pial: Pial) -> None:
    week = services.week_ensure(territory=pial.cast.territory, monday=MONDAY, actor=None)
    carrots, salad = pial.products["carottes"], pial.products["salade"]
    items = [
        services.AvailabilityItem(producer=pial.saules, product=carrots, quantity=20_000),
        services.AvailabilityItem(
            producer=pial.saules, product=salad, quantity=10, minimum_lot=50
        ),  # lot > qty
        services.AvailabilityItem(producer=pial.saules, product=pial.products["radis"], quantity=-1),
    ]
    with pytest.raises(ItemsRefused) as refused:
        services.availability_declare_many(week=week, items=items, actor=None)
    assert set(refused.value.refusals) == {1, 2}
    assert set(refused.value.errors) == {"1.minimum_lot", "2.quantity"}
    assert refused.value.status == 422
    assert not Availability.objects.filter(week=week).exists()  # the good first item is not kept either
    services.availability_declare_many(week=week, items=items[:1], actor=None)
    assert Availability.objects.get(week=week).quantity == 20_000


def test_the_first_refusal_gives_the_answer_s_status(db: None) -> None:
    def save(item: int) -> None:
        if item == 1:
            raise Conflict("déjà publié")
        if item == 2:
            raise InvalidInput("mauvais", errors={"quantity": ["négatif"]})

    with pytest.raises(ItemsRefused) as refused:
        all_or_none([0, 1, 2], save)
    assert refused.value.status == 409 and refused.value.code == "conflict"
    assert refused.value.errors == {"1": ["déjà publié"], "2.quantity": ["négatif"]}


def test_the_api_names_every_refused_item_of_a_demand_list(pial: Pial, client: Client) -> None:
    carrots = pial.products["carottes"].pk
    day = MONDAY.isoformat()
    body = [
        {"kitchen": pial.school.pk, "product": carrots, "day": day, "quantity": 5_000},
        {
            "kitchen": pial.school.pk,
            "product": pial.products["salade"].pk,
            "day": "2026-10-13",
            "quantity": 3,
        },
        {"kitchen": pial.school.pk, "product": pial.products["radis"].pk, "day": "2026-10-20", "quantity": 4},
    ]
    response = put(client, URL + "/demand", body, headers=who(pial, "kitchen"))
    assert response.status_code == 422, response.content
    assert {error["field"] for error in response.json()["errors"]} == {"1.day", "2.day"}
    # the week is opened (with its contracts' schedule), but nothing of the kitchen's list is kept
    assert not Demand.objects.filter(source=DemandSource.KITCHEN).exists()
