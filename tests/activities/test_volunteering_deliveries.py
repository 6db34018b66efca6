"""Volunteer slots on a platform delivery (a published supply week's plan lines to one kitchen on one day): called
by the activities' coordinators or those who act for the kitchen (a supply coordinator, the kitchen's managers),
refused on a day the plan delivers nothing to that kitchen; people sign up and the hours are recorded as on the
other slots; the kitchen's delivery page and the API show it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from grenier.activities import access, services
from grenier.activities.models import VolunteerSlot
from grenier.core.errors import Conflict, InvalidInput
from grenier.core.models import Role
from grenier.supply.models import Kitchen, KitchenKind, PlanLine, Producer, Product, SupplyWeek, WeekStatus

from ..conftest import Cast
from ..core.test_api import bearer

PARIS = ZoneInfo("Europe/Paris")
ROLES = [role.value for role in Role]
EVERYONE = [*ROLES, "outsider", "nobody"]
MONDAY = date(2026, 11, 30)  # the week after TEST_NOW
DAY = date(2026, 12, 3)  # its Thursday: the plan delivers the school
RUNNERS = {"coordinator", "kitchen"}  # the coordinator; the kitchen role manages the school


@dataclass
class Delivery:
    cast: Cast
    week: SupplyWeek
    kitchen: Kitchen
    slot: VolunteerSlot


def _week(cast: Cast, status: str = WeekStatus.PUBLISHED) -> tuple[SupplyWeek, Kitchen]:
    territory = cast.territory
    week = SupplyWeek.objects.create(territory=territory, monday=MONDAY, status=status)
    kitchen = Kitchen.objects.create(
        territory=territory, name="École des Thermes", kind=KitchenKind.SCHOOL, address="1 rue des Écoles"
    )
    kitchen.managers.add(cast["kitchen"])
    farm = Producer.objects.create(territory=territory, farm_name="Ferme des Saules")
    farm.users.add(cast["producer"])
    carrots = Product.objects.create(territory=territory, name="Carottes")
    PlanLine.objects.create(
        week=week, producer=farm, kitchen=kitchen, product=carrots, day=DAY, quantity=40_000
    )
    return week, kitchen


def _slot(cast: Cast, key: str, delivery: services.Delivery, **given: object) -> VolunteerSlot:
    arguments: dict[str, object] = {
        "territory": cast.territory,
        "task": "Réception et rangement",
        "starts_at": time(8),
        "ends_at": time(9, 30),
        "places": 1,
        "actor": None,
        "idempotency_key": key,
        "delivery": delivery,
    }
    arguments.update(given)
    return services.slot_create(**arguments)  # type: ignore[arg-type]


@pytest.fixture
def delivery(cast: Cast) -> Delivery:
    week, kitchen = _week(cast)
    slot = _slot(cast, "delivery-slot", services.Delivery(week, kitchen, DAY), actor=cast["kitchen"])
    return Delivery(cast, week, kitchen, slot)


def test_a_slot_on_a_platform_delivery(delivery: Delivery) -> None:
    d = delivery
    assert d.slot.date == DAY and d.slot.minutes == 90
    assert (d.slot.delivery_week, d.slot.delivery_kitchen) == (d.week, d.kitchen)
    assert d.slot.where == "École des Thermes, 1 rue des Écoles"
    assert d.slot.what == "Livraison de la plateforme à École des Thermes"
    assert access.slots_run_by(d.cast["kitchen"], d.cast.territory).get() == d.slot
    assert not access.slots_run_by(d.cast["producer"], d.cast.territory).exists()
    again = _slot(d.cast, "delivery-slot", services.Delivery(d.week, d.kitchen, DAY), actor=d.cast["kitchen"])
    assert again.pk == d.slot.pk


def test_no_slot_on_a_day_the_plan_delivers_nothing_to_the_kitchen(delivery: Delivery) -> None:
    d = delivery
    with pytest.raises(InvalidInput) as refused:
        _slot(d.cast, "friday", services.Delivery(d.week, d.kitchen, date(2026, 12, 4)))
    assert refused.value.status == 422
    assert str(refused.value) == "Le plan de cette semaine ne livre rien à École des Thermes le 04/12/2026."
    assert "delivery" in refused.value.errors
    other = Kitchen.objects.create(
        territory=d.cast.territory, name="EHPAD Les Tilleuls", kind=KitchenKind.OTHER
    )
    with pytest.raises(InvalidInput):
        _slot(d.cast, "other-kitchen", services.Delivery(d.week, other, DAY))
    d.week.status = WeekStatus.PLANNED
    d.week.save(update_fields=["status"])
    with pytest.raises(Conflict) as unpublished:
        _slot(d.cast, "unpublished", services.Delivery(d.week, d.kitchen, DAY))
    assert unpublished.value.status == 409
    assert VolunteerSlot.objects.count() == 1


def test_the_database_keeps_one_target(delivery: Delivery) -> None:
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():  # a week without its kitchen
        VolunteerSlot.objects.filter(pk=delivery.slot.pk).update(delivery_kitchen=None)


@pytest.mark.parametrize("who", EVERYONE)
def test_who_calls_runs_and_records_hours_on_a_delivery(
    delivery: Delivery, login: Callable[..., Client], who: str
) -> None:
    d = delivery
    slug = d.cast.territory.slug
    client = login(d.cast[who])
    expected = 200 if who in RUNNERS else 403 if who in ROLES else 404
    target = f"delivery:{d.week.pk}:{d.kitchen.pk}:{DAY.isoformat()}"
    new = client.get(reverse("activities_slot_new", args=[slug]))
    assert new.status_code == expected, who
    if expected == 200:
        assert target in new.content.decode()
    sent = client.post(
        reverse("activities_slot_new", args=[slug]),
        {
            "target": target,
            "task": "Accueil du camion",
            "starts_at": "07:30",
            "ends_at": "08:00",
            "places": 2,
            "idempotency_key": f"page-{who}",
        },
    )
    made = VolunteerSlot.objects.filter(task="Accueil du camion").first()
    if who in RUNNERS:
        assert sent.status_code == 302 and made is not None and made.delivery_kitchen == d.kitchen, who
        assert made.created_by == d.cast[who] and made.date == DAY
    else:
        assert sent.status_code == expected and made is None, (who, sent.status_code)
    page = client.get(reverse("activities_slot", args=[slug, d.slot.pk]))
    assert page.status_code == expected, who
    theirs = services.sign_up(
        slot=d.slot, volunteer=d.cast["member"], household=d.cast.household, idempotency_key="m"
    ).volunteering
    with time_machine.travel(datetime(2026, 12, 3, 10, tzinfo=PARIS)):
        answer = client.post(
            reverse("activities_hours", args=[slug, d.slot.pk, theirs.pk]), {"hours": 1, "minutes": 30}
        )
    theirs.refresh_from_db()
    if who in RUNNERS:
        assert answer.status_code == 302 and theirs.minutes == 90
    else:
        assert answer.status_code in {403, 404} and theirs.minutes is None, (who, answer.status_code)


def test_a_member_signs_up_on_the_page_and_the_api_names_the_delivery(
    delivery: Delivery, login: Callable[..., Client], client: Client
) -> None:
    d = delivery
    slug = d.cast.territory.slug
    listing = client.get("/api/v1/activities/volunteer-slots", headers=bearer(d.cast, "member"))
    assert listing.status_code == 200
    (row,) = listing.json()
    assert (row["delivery_week_id"], row["delivery_kitchen_id"]) == (d.week.pk, d.kitchen.pk)
    assert row["cycle_id"] is None and row["places_left"] == 1
    member = login(d.cast["member"])
    page = member.get(reverse("activities_volunteer", args=[slug]))
    assert "Livraison de la plateforme à École des Thermes" in page.content.decode()
    signed = member.post(
        reverse("activities_sign_up", args=[slug, d.slot.pk]), {"idempotency_key": "member-signs-up"}
    )
    assert signed.status_code == 302
    (volunteering,) = d.slot.volunteerings.all()
    assert volunteering.volunteer == d.cast["member"] and volunteering.household == d.cast.household
    assert timezone.localdate() < DAY


@pytest.mark.parametrize("who", EVERYONE)
def test_the_kitchens_delivery_page_shows_the_slot_read_only(
    delivery: Delivery, login: Callable[..., Client], who: str
) -> None:
    """The kitchen's managers and the coordinator read the slot on the delivery page (places left, who may sign
    up, the slot's page); nobody else reads the page at all. The page writes nothing of volunteering."""
    d = delivery
    slug = d.cast.territory.slug
    services.sign_up(
        slot=d.slot, volunteer=d.cast["member"], household=d.cast.household, idempotency_key="m1"
    )
    client = login(d.cast[who])
    page = client.get(reverse("supply_deliveries", args=[slug, MONDAY.isoformat(), d.kitchen.pk]))
    if who not in RUNNERS:
        assert page.status_code in ({403} if who in ROLES else {404}), (who, page.status_code)
        return
    html = page.content.decode()
    assert page.status_code == 200 and 'id="delivery-volunteers"' in html
    assert "Réception et rangement" in html and "08:00\u201309:30" in html
    assert 'data-left="0"' in html and "Toutes les places sont prises" in html
    assert "inscrire sur la page du bénévolat" in html
    slot_url = reverse("activities_slot", args=[slug, d.slot.pk])
    assert f'href="{slot_url}"' in html and client.get(slot_url).status_code == 200
    assert d.slot.volunteerings.count() == 1 and VolunteerSlot.objects.count() == 1


def test_the_delivery_page_counts_places_left_and_other_kitchens_slots_stay_off(
    delivery: Delivery, login: Callable[..., Client]
) -> None:
    d = delivery
    other = Kitchen.objects.create(
        territory=d.cast.territory, name="EHPAD Les Tilleuls", kind=KitchenKind.OTHER
    )
    PlanLine.objects.create(
        week=d.week,
        producer=Producer.objects.get(),
        kitchen=other,
        product=Product.objects.get(),
        day=DAY,
        quantity=1_000,
    )
    _slot(d.cast, "tilleuls", services.Delivery(d.week, other, DAY), task="Tri aux Tilleuls", places=3)
    _slot(d.cast, "second", services.Delivery(d.week, d.kitchen, DAY), task="Vaisselle des caisses", places=3)
    html = (
        login(d.cast["kitchen"])
        .get(reverse("supply_deliveries", args=[d.cast.territory.slug, MONDAY.isoformat(), d.kitchen.pk]))
        .content.decode()
    )
    assert "Vaisselle des caisses" in html and "3 places restantes sur 3" in html
    assert "1 place restante sur 1" in html and "Tri aux Tilleuls" not in html
