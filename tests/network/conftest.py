"""A small territory the map starts from: what Grenier already knows (an approved store, a funder, a farm, a kitchen
under contract, a garden with a co-financing agreement, a buying group), and two actors typed on the map."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from django.utils import timezone

from grenier.baskets import services as baskets_services
from grenier.baskets.models import Garden
from grenier.fund import services as fund_services
from grenier.fund.models import FunderKind, Store
from grenier.network import services
from grenier.network.models import Actor, ActorKind, Cooperation, Resource, ResourceKind, Scale, Sort
from grenier.orders import services as orders_services
from grenier.supply import services as supply_services
from grenier.supply.models import Kitchen, Producer

from ..conftest import Cast


@dataclass
class Map:
    cast: Cast
    store: Store
    farm: Producer
    kitchen: Kitchen
    garden: Garden
    food_bank: Actor  # typed on the map, its people: the cast's social worker
    town_hall: Actor
    cold_room: Resource  # the food bank's, shareable


def new_cooperation(
    m: Map, key: str = "coop-0001", level: int = 2, actors: list[Actor] | None = None, **kwargs: object
) -> Cooperation:
    fields = services.CooperationFields(
        title=str(kwargs.pop("title", "Distribution partagée")),
        sort=Sort.PROXIMITY,
        level=level,
        actors=actors or [m.food_bank, m.town_hall],
        starts_on=kwargs.pop("starts_on", timezone.localdate() - timedelta(days=30)),  # type: ignore[arg-type]
        themes=["social_action"],
        people=["welcomed"],
    )
    return services.cooperation_create(
        territory=m.cast.territory,
        fields=fields,
        by=m.cast["coordinator"],
        idempotency_key=key,
        **kwargs,  # type: ignore[arg-type]
    )


@pytest.fixture
def net(cast: Cast) -> Map:
    coordinator = cast["coordinator"]
    territory = cast.territory
    today = timezone.localdate()
    store = fund_services.store_create(territory=territory, name="Épicerie du Lavoir", actor=coordinator)
    fund_services.store_approve(store=store, actor=coordinator)
    fund_services.store_cashier_add(store=store, user=cast["cashier"], actor=coordinator)
    funder = fund_services.funder_create(
        territory=territory, name="Département", kind=FunderKind.PUBLIC, actor=None
    )
    farm = supply_services.producer_create(
        territory=territory,
        farm_name="Ferme des Tilleuls",
        users=[cast["producer"]],
        actor=coordinator,
        latitude="43.61",
        longitude="3.87",
    )
    kitchen = supply_services.kitchen_create(
        territory=territory, name="Cantine Jules-Ferry", managers=[cast["kitchen"]], actor=coordinator
    )
    supply_services.contract_create(
        territory=territory,
        kitchen=kitchen,
        title="Légumes 2026",
        starts_on=date(today.year, 1, 1),
        ends_on=date(today.year + 1, 12, 31),
        delivery_weekdays=[1],
        producers=[farm],
        actor=coordinator,
    )
    garden = baskets_services.garden_create(territory=territory, name="Jardin des Sources", actor=coordinator)
    baskets_services.agreement_create(
        garden=garden,
        funder=funder,
        name="Paniers CD 2026",
        budget_cents=500_000,
        starts_on=date(today.year, 1, 1),
        ends_on=date(today.year, 12, 31),
        share_bp=3000,
        actor=coordinator,
    )
    orders_services.group_create(territory=territory, name="Groupement de la Gare", actor=coordinator)
    food_bank = services.actor_create(
        territory=territory,
        fields=services.ActorFields(
            name="Banque alimentaire de la Vallée",
            kind=ActorKind.FOOD_AID,
            contact_name="Mme Test",
            contact_phone="06 11 22 33 44",
            contact_email="banque@test.grenier",
        ),
        by=coordinator,
        idempotency_key="actor-food-bank",
    )
    services.actor_person_add(actor=food_bank, user=cast["social_worker"], by=coordinator)
    town_hall = services.actor_create(
        territory=territory,
        fields=services.ActorFields(name="Mairie de la Vallée", kind=ActorKind.TOWN_HALL, scale=Scale.PUBLIC),
        by=coordinator,
        idempotency_key="actor-town-hall",
    )
    cold_room = services.resource_create(
        owner=food_bank,
        kind=ResourceKind.COLD_ROOM,
        name="Chambre froide",
        by=coordinator,
        idempotency_key="res-cold-room",
        terms="Prêt gratuit, nettoyage au retour",
    )
    return Map(cast, store, farm, kitchen, garden, food_bank, town_hall, cold_room)
