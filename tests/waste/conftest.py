"""Two kitchens and two farms in the cast's territory, for the biowaste tests.

``cast["kitchen"]`` manages the school (340 meals a day); ``other_kitchen`` the nursing home (170). Rows are written
directly, so these fixtures do not depend on the services they test. The clock is the suite's: Wednesday
25 November 2026.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest

from grenier.core import services as core_services
from grenier.core.models import Role, User
from grenier.supply.models import Kitchen, KitchenKind, Producer
from grenier.waste import services
from grenier.waste.models import Campaign, Phase, Weighing

from ..conftest import Cast, make_user


@dataclass
class Kitchens:
    cast: Cast
    school: Kitchen  # cast["kitchen"] manages it
    ehpad: Kitchen  # other_kitchen manages it
    other_kitchen: User
    farm: Producer
    other_farm: Producer
    autumn: Campaign  # the school's, 16 to 27 November 2026, lunch


@pytest.fixture
def kitchens(cast: Cast) -> Kitchens:
    territory = cast.territory
    other_kitchen = make_user("kitchen2@test.grenier", "Second kitchen")
    core_services.role_grant(user=other_kitchen, territory=territory, role=Role.KITCHEN)
    school = Kitchen.objects.create(
        territory=territory, name="Cantine de l'école", kind=KitchenKind.SCHOOL, meals_per_day=340
    )
    school.managers.add(cast["kitchen"])
    ehpad = Kitchen.objects.create(
        territory=territory, name="EHPAD des Tilleuls", kind=KitchenKind.NURSING_HOME, meals_per_day=170
    )
    ehpad.managers.add(other_kitchen)
    farm = Producer.objects.create(territory=territory, farm_name="Ferme des Saules")
    other_farm = Producer.objects.create(territory=territory, farm_name="Jardin du Pic")
    autumn = Campaign.objects.create(
        territory=territory,
        kitchen=school,
        name="Automne, avant",
        phase=Phase.BEFORE,
        starts_on=date(2026, 11, 16),
        ends_on=date(2026, 11, 27),
        services=["lunch"],
        idempotency_key="fixture-autumn",
    )
    return Kitchens(cast, school, ehpad, other_kitchen, farm, other_farm, autumn)


def weigh(
    campaign: Campaign,
    day: date,
    meals: int,
    *,
    service: str = "lunch",
    key: str | None = None,
    actor: User | None = None,
    confirm: bool = False,
    **grams: int,
) -> Weighing:
    return services.weighing_record(
        campaign=campaign,
        day=day,
        service=service,
        meals=meals,
        grams=services.Grams(**grams),
        actor=actor,
        idempotency_key=key or f"w-{campaign.pk}-{day.isoformat()}-{service}",
        confirm=confirm,
    )
