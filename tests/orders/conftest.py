"""A buying group in the cast's territory: tiers 70/100/130, one pickup point, two farms, an open cycle.

People: ``cast["member"]``'s household and the neighbour household belong to "Les Gourmands"; ``other_member``'s
household belongs to "L'Autre Groupe" only. ``cast["producer"]`` acts for the Fournil (bread); nobody for the
Rucher (honey). The coordinator manages every group. Rows are written directly where a service is under test.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from django.utils import timezone

from grenier.core import services as core_services
from grenier.core.models import Household, Role, User
from grenier.orders import services
from grenier.orders.models import (
    BuyingGroup,
    CatalogueProduct,
    CycleProduct,
    GroupMembership,
    GroupPickupPoint,
    OrderCycle,
    PriceTier,
    Unit,
)
from grenier.supply.models import Producer

from ..conftest import Cast, make_user


@dataclass
class Groups:
    cast: Cast
    group: BuyingGroup
    other_group: BuyingGroup
    point: GroupPickupPoint
    tiers: dict[int, PriceTier]
    fournil: Producer  # cast["producer"] acts for it
    rucher: Producer  # nobody acts for it
    bread: CatalogueProduct  # 400 cents a loaf
    honey: CatalogueProduct  # 1 000 cents a jar, cases of 6, stock 10
    cycle: OrderCycle  # open now
    other_member: User
    other_household: Household  # of other_member, in other_group only

    def product(self, cycle: OrderCycle, product: CatalogueProduct) -> CycleProduct:
        return cycle.products.get(product=product)

    def membership(self, household: Household) -> GroupMembership:
        return GroupMembership.objects.get(group=self.group, household=household)


def open_cycle(g: Groups, name: str = "Novembre", *, round_to_cases: bool = False) -> OrderCycle:
    now = timezone.now()
    return services.cycle_open(
        group=g.group,
        name=name,
        opens_at=now - timedelta(days=1),
        closes_at=now + timedelta(days=5),
        delivery_date=timezone.localdate() + timedelta(days=8),
        pickup_point=g.point,
        products=[g.bread, g.honey],
        round_to_cases=round_to_cases,
        actor=g.cast["coordinator"],
    )


@pytest.fixture
def groups(cast: Cast) -> Groups:
    territory = cast.territory
    coordinator = cast["coordinator"]
    group = services.group_create(territory=territory, name="Les Gourmands", actor=coordinator)
    other_group = services.group_create(territory=territory, name="L'Autre Groupe", actor=coordinator)
    point = services.pickup_point_create(group=group, name="Maison de quartier", actor=coordinator)
    services.pickup_point_create(group=other_group, name="Gare", actor=coordinator)
    tiers = {t.percent: t for t in group.tiers.all()}
    fournil = Producer.objects.create(
        territory=territory, farm_name="Fournil Test", admitted_on=date(2024, 1, 1)
    )
    fournil.users.add(cast["producer"])
    rucher = Producer.objects.create(
        territory=territory, farm_name="Rucher Test", admitted_on=date(2024, 1, 1)
    )
    bread = CatalogueProduct.objects.create(producer=fournil, name="Pain", unit=Unit.LOAF, price_cents=400)
    honey = CatalogueProduct.objects.create(
        producer=rucher, name="Miel", unit=Unit.JAR, price_cents=1_000, case_size=6, stock=10
    )
    services.membership_join(group=group, household=cast.household, tier=tiers[100], actor=coordinator)
    services.membership_join(group=group, household=cast.other_household, tier=tiers[100], actor=coordinator)
    other_member = make_user("member2@test.grenier", "Other member")
    core_services.role_grant(user=other_member, territory=territory, role=Role.MEMBER)
    other_household = core_services.household_join(
        territory=territory,
        name="Foyer Ailleurs-Test",
        persons=[core_services.PersonInput("Zoé", date(1985, 5, 5))],
        user=other_member,
        actor=coordinator,
    )
    services.membership_join(group=other_group, household=other_household, actor=coordinator)
    g = Groups(
        cast=cast,
        group=group,
        other_group=other_group,
        point=point,
        tiers=tiers,
        fournil=fournil,
        rucher=rucher,
        bread=bread,
        honey=honey,
        cycle=None,  # type: ignore[arg-type]
        other_member=other_member,
        other_household=other_household,
    )
    g.cycle = open_cycle(g)
    return g
