"""Biowaste in the demo territory: the cité scolaire's kitchen weighed its lunches for two weeks last autumn
(before), then for two weeks in spring after its action (bread on request, portions adjusted, a menu committee with
the pupils); the EHPAD's kitchen is weighing lunches and dinners over last week and this one (up to yesterday: today's service is
left for you to weigh); both send their biowaste to two farms of the platform, and the school some to the
community's composting site.

Weighings and deliveries go through the services, under keys that name their day: a second run records nothing new.
"""

from __future__ import annotations

import random
import zlib
from collections.abc import Callable
from datetime import date, timedelta

from django.db import transaction
from django.utils import timezone

from grenier.core.models import Territory, User
from grenier.supply.models import Kitchen, Producer
from grenier.waste import services
from grenier.waste.models import Campaign, Destination, MealService, Phase

Log = Callable[[str], None]
DOMAIN = "demo.grenier.test"
SCHOOL = "Cuisine centrale de la cité scolaire"
EHPAD = "EHPAD Les Tilleuls"
FARMS = ("Ferme des Trois Sources", "Les Jardins du Ruisseau")
SCHOOL_DAYS = (0, 1, 3, 4)  # lunches weighed Monday, Tuesday, Thursday and Friday

# Grams per meal by kind (preparation, unserved, plate, bread) the kitchens throw away, on average.
AUTUMN = (12, 36, 74, 13)  # 135 g: within the national figures' range
SPRING = (11, 21, 58, 5)  # 95 g: after the action
NURSING_HOME = (14, 48, 86, 10)  # 158 g


def _monday_on_or_after(day: date) -> date:
    return day + timedelta(days=(7 - day.weekday()) % 7)


def _drawn(key: str) -> random.Random:
    """The figures of one row drawn from its key: the same on every run, whatever else the demo draws."""
    return random.Random(zlib.crc32(key.encode()))  # noqa: S311 - demo figures, not secrets


def _weigh(
    campaign: Campaign,
    day: date,
    service: str,
    meals: tuple[int, int],
    profile: tuple[int, int, int, int],
    actor: User | None,
) -> None:
    key = f"demo-waste-{campaign.kitchen_id}-{day.isoformat()}-{service}"
    rng = _drawn(key)
    served = rng.randint(*meals)
    grams = [round(per_meal * served * rng.uniform(0.8, 1.2)) for per_meal in profile]
    services.weighing_record(
        campaign=campaign,
        day=day,
        service=service,
        meals=served,
        grams=services.Grams(*grams),
        actor=actor,
        confirm=True,
        idempotency_key=key,
        today=day,
    )


def _campaign(
    kitchen: Kitchen, actor: User | None, *, starts_on: date, days: int, **fields: object
) -> Campaign:
    return services.campaign_create(
        kitchen=kitchen,
        starts_on=starts_on,
        ends_on=starts_on + timedelta(days=days - 1),
        actor=actor,
        idempotency_key=f"demo-waste-campaign-{kitchen.pk}-{starts_on.isoformat()}",
        **fields,  # type: ignore[arg-type]
    )


def _school(kitchen: Kitchen, today: date) -> None:
    actor = kitchen.managers.first()
    spring_year = today.year if today > date(today.year, 3, 31) else today.year - 1
    autumn_start = _monday_on_or_after(date(spring_year - 1, 11, 10))
    spring_start = _monday_on_or_after(date(spring_year, 3, 9))
    autumn = _campaign(
        kitchen,
        actor,
        starts_on=autumn_start,
        days=12,
        name=f"Automne {spring_year - 1}, avant",
        phase=Phase.BEFORE,
        services=[MealService.LUNCH],
        weighed_by="L'équipe de cuisine et deux éco-délégués",
    )
    spring = _campaign(
        kitchen,
        actor,
        starts_on=spring_start,
        days=12,
        name=f"Printemps {spring_year}, après",
        phase=Phase.AFTER,
        action="Pain à la demande, portions ajustées, commission menus avec les élèves",
        services=[MealService.LUNCH],
        weighed_by="L'équipe de cuisine et deux éco-délégués",
        compares_with=autumn,
    )
    for campaign, profile in ((autumn, AUTUMN), (spring, SPRING)):
        for offset in range(12):
            day = campaign.starts_on + timedelta(days=offset)
            if day.weekday() in SCHOOL_DAYS:
                _weigh(campaign, day, MealService.LUNCH, (300, 340), profile, actor)


def _nursing_home(kitchen: Kitchen, today: date) -> None:
    actor = kitchen.managers.first()
    campaign = _campaign(
        kitchen,
        actor,
        starts_on=today - timedelta(days=today.weekday() + 7),  # last week's Monday, for a fortnight
        days=14,
        name="Quinzaine de pesée",
        phase=Phase.BEFORE,
        services=[MealService.LUNCH, MealService.DINNER],
        weighed_by="Les agents de service, avec l'infirmière coordinatrice",
    )
    for offset in range((today - campaign.starts_on).days):  # up to yesterday
        day = campaign.starts_on + timedelta(days=offset)
        for service in campaign.services:
            _weigh(campaign, day, service, (78, 86), NURSING_HOME, actor)


def _deliveries(kitchens: dict[str, Kitchen], farms: list[Producer], today: date) -> int:
    count = 0
    for weeks_ago in range(12, 0, -2):
        day = today - timedelta(weeks=weeks_ago)
        for name, farm, kind in ((SCHOOL, farms[0], Destination.FARM), (EHPAD, farms[-1], Destination.FARM)):
            kitchen = kitchens.get(name)
            if kitchen is None:
                continue
            key = f"demo-waste-delivery-{kitchen.pk}-{day.isoformat()}"
            services.delivery_record(
                kitchen=kitchen,
                day=day,
                weight_g=_drawn(key).randint(60, 140) * 1000,
                kind=kind,
                producer=farm,
                note="Bacs de biodéchets pour le compost de la ferme",
                actor=kitchen.managers.first(),
                idempotency_key=key,
                today=today,
            )
            count += 1
    school = kitchens.get(SCHOOL)
    if school is not None:
        day = today - timedelta(weeks=3)
        services.delivery_record(
            kitchen=school,
            day=day,
            weight_g=180_000,
            kind=Destination.COMPOSTING,
            destination="Plateforme de compostage de la communauté de communes",
            actor=school.managers.first(),
            idempotency_key=f"demo-waste-delivery-compost-{school.pk}-{day.isoformat()}",
            today=today,
        )
        count += 1
    return count


def extend(territory: Territory, log: Log) -> None:
    today = timezone.localdate()
    kitchens = {k.name: k for k in Kitchen.objects.filter(territory=territory, name__in=[SCHOOL, EHPAD])}
    farms = list(Producer.objects.filter(territory=territory, farm_name__in=FARMS).order_by("farm_name"))
    with transaction.atomic():
        if SCHOOL in kitchens:
            _school(kitchens[SCHOOL], today)
        if EHPAD in kitchens:
            _nursing_home(kitchens[EHPAD], today)
        delivered = _deliveries(kitchens, farms, today) if farms else 0
    log(
        f"  {Campaign.objects.filter(territory=territory).count()} weighing campaigns, {delivered} biowaste deliveries"
    )
