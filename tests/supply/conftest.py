"""A small supply platform in the cast's territory: three farms, two kitchens, five vegetables, two contracts.

People: ``cast["producer"]`` is a grower of the Ferme des Saules; ``other_grower`` of the Jardin du Pic (nobody
acts for Les Terrasses); ``cast["kitchen"]`` manages the school; ``other_kitchen`` the nursing home. The
coordinator acts for everything. Rows are written directly, so these fixtures do not depend on the services they
test.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from grenier.core import services as core_services
from grenier.core.models import Role, User
from grenier.supply.models import (
    Contract,
    ContractLine,
    ContractStatus,
    Distance,
    Kitchen,
    KitchenKind,
    Platform,
    Producer,
    ProducerShare,
    Product,
    SalesUnit,
)

from ..conftest import Cast, make_user


@dataclass
class Pial:
    cast: Cast
    platform: Platform
    saules: Producer  # cast["producer"] acts for it; organic
    pic: Producer  # other_grower acts for it; organic
    terrasses: Producer  # nobody; HVE, not organic
    school: Kitchen  # cast["kitchen"] manages it
    ehpad: Kitchen  # other_kitchen manages it
    products: dict[str, Product]  # carottes, poireaux, courgettes (kg), salade (piece), radis (bunch)
    school_contract: Contract
    ehpad_contract: Contract
    other_grower: User
    other_kitchen: User
    monday: date  # this week's Monday

    def line(self, contract: Contract, product: str) -> ContractLine:
        return contract.lines.get(product=self.products[product])


PRICES = {  # cost, margin, service fee, levy: cents per sales unit
    "carottes": (160, 30, 20, 10),
    "poireaux": (240, 40, 25, 10),
    "courgettes": (180, 30, 20, 10),
    "salade": (70, 15, 10, 5),
    "radis": (110, 20, 10, 5),
}


@pytest.fixture
def pial(cast: Cast) -> Pial:
    territory = cast.territory
    other_grower = make_user("grower2@test.grenier", "Second grower")
    core_services.role_grant(user=other_grower, territory=territory, role=Role.PRODUCER)
    other_kitchen = make_user("kitchen2@test.grenier", "Second kitchen")
    core_services.role_grant(user=other_kitchen, territory=territory, role=Role.KITCHEN)
    platform = Platform.objects.create(territory=territory, name="PIAL de la Vallée", invoice_prefix="PIAL")

    def farm(name: str, lat: str, lon: str, certifications: list[str], share_bp: int) -> Producer:
        producer = Producer.objects.create(
            territory=territory,
            farm_name=name,
            latitude=Decimal(lat),
            longitude=Decimal(lon),
            certifications=certifications,
            siret="12345678900011",
            admitted_on=date(2024, 1, 1),
        )
        ProducerShare.objects.create(producer=producer, share_bp=share_bp, valid_from=date(2024, 1, 1))
        return producer

    saules = farm("Ferme des Saules", "42.79", "0.59", ["BIO"], 4000)
    pic = farm("Jardin du Pic", "42.83", "0.62", ["BIO"], 3500)
    terrasses = farm("Les Terrasses", "42.90", "0.70", ["HVE"], 2500)
    saules.users.add(cast["producer"])
    pic.users.add(other_grower)

    school = Kitchen.objects.create(
        territory=territory,
        name="École des Thermes",
        kind=KitchenKind.SCHOOL,
        meals_per_day=180,
        siret="21310329700016",
        latitude=Decimal("42.79"),
        longitude=Decimal("0.60"),
    )
    ehpad = Kitchen.objects.create(
        territory=territory,
        name="EHPAD Les Tilleuls",
        kind=KitchenKind.NURSING_HOME,
        meals_per_day=90,
        siret="26310080900019",
        latitude=Decimal("42.80"),
        longitude=Decimal("0.58"),
    )
    school.managers.add(cast["kitchen"])
    ehpad.managers.add(other_kitchen)
    Distance.objects.create(producer=terrasses, kitchen=school, km=Decimal("14.5"))

    products = {
        "carottes": Product.objects.create(territory=territory, name="Carottes", unit=SalesUnit.KG),
        "poireaux": Product.objects.create(territory=territory, name="Poireaux", unit=SalesUnit.KG),
        "courgettes": Product.objects.create(territory=territory, name="Courgettes", unit=SalesUnit.KG),
        "salade": Product.objects.create(
            territory=territory, name="Salade", unit=SalesUnit.PIECE, grams_per_unit=400, step=1
        ),
        "radis": Product.objects.create(
            territory=territory, name="Radis", unit=SalesUnit.BUNCH, grams_per_unit=250, step=1
        ),
    }

    def contract(kitchen: Kitchen, title: str, weekdays: list[int], weekly: dict[str, int]) -> Contract:
        made = Contract.objects.create(
            territory=territory,
            kitchen=kitchen,
            title=title,
            tender_lot="2025-LEG-03",
            starts_on=date(2025, 9, 1),
            ends_on=date(2028, 8, 31),
            delivery_weekdays=weekdays,
            status=ContractStatus.ACTIVE,
        )
        for name, quantity in weekly.items():
            cost, margin, fee, levy = PRICES[name]
            ContractLine.objects.create(
                contract=made,
                product=products[name],
                weekly_quantity=quantity,
                minimum_quantity=quantity * 20,
                maximum_quantity=quantity * 60,
                cost_cents=cost,
                margin_cents=margin,
                service_fee_cents=fee,
                levy_cents=levy,
            )
        return made

    school_contract = contract(
        school,
        "Légumes bio — École des Thermes",
        [0, 3],
        {"carottes": 30_000, "poireaux": 20_000, "salade": 40, "radis": 30},
    )
    ehpad_contract = contract(
        ehpad,
        "Légumes bio — EHPAD Les Tilleuls",
        [1],
        {"carottes": 15_000, "courgettes": 12_000, "salade": 20},
    )
    today = timezone.localdate()
    return Pial(
        cast=cast,
        platform=platform,
        saules=saules,
        pic=pic,
        terrasses=terrasses,
        school=school,
        ehpad=ehpad,
        products=products,
        school_contract=school_contract,
        ehpad_contract=ehpad_contract,
        other_grower=other_grower,
        other_kitchen=other_kitchen,
        monday=today - timedelta(days=today.weekday()),
    )
