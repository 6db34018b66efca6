"""Volunteer slots on a buying group's pickup (an order cycle's delivery day): called by the group's coordinators
(or the activities' coordinators), people sign up, those who run it record the hours; every page for every role;
the API names the cycle; a slot's last place taken by two people at once goes to one of them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from grenier.activities import access, services
from grenier.activities.models import Volunteering, VolunteeringStatus, VolunteerSlot
from grenier.core.errors import Conflict, InvalidInput
from grenier.core.models import Role
from grenier.orders import services as orders_services
from grenier.orders.models import OrderCycle

from ..concurrency import at_once
from ..conftest import Cast
from ..core.test_api import bearer

PARIS = ZoneInfo("Europe/Paris")
ROLES = [role.value for role in Role]
EVERYONE = [*ROLES, "outsider", "nobody"]
DELIVERY = date(2026, 12, 4)  # a Friday, after TEST_NOW
RUNNERS = {
    "coordinator",
    "committee",
}  # the activities' coordinator; the committee member coordinates the group


@dataclass
class Pickup:
    cast: Cast
    cycle: OrderCycle
    slot: VolunteerSlot


def _cycle(cast: Cast, territory_name: str = "vallee", coordinator: str = "committee") -> OrderCycle:
    territory = cast.territory if territory_name == "vallee" else cast.elsewhere
    group = orders_services.group_create(
        territory=territory, name=f"Les Gourmands {territory_name}", actor=None
    )
    orders_services.coordinator_add(group=group, user=cast[coordinator], actor=None)
    point = orders_services.pickup_point_create(
        group=group, name="Maison de quartier", address="3 place du Marché", actor=None
    )
    now = timezone.now()
    return OrderCycle.objects.create(
        group=group,
        name="Décembre",
        opens_at=now - timedelta(days=3),
        closes_at=now + timedelta(days=2),
        delivery_date=DELIVERY,
        pickup_point=point,
    )


def _slot(cast: Cast, key: str, **given: object) -> VolunteerSlot:
    """A slot called in the territory: one place from 17:00 to 18:00 unless ``given`` says otherwise."""
    arguments: dict[str, object] = {
        "territory": cast.territory,
        "task": "Accueil",
        "starts_at": time(17),
        "ends_at": time(18),
        "places": 1,
        "actor": None,
        "idempotency_key": key,
    }
    arguments.update(given)
    return services.slot_create(**arguments)  # type: ignore[arg-type]


PICKUP_SLOT = {"task": "Décharger et trier les commandes", "ends_at": time(19)}


@pytest.fixture
def pickup(cast: Cast) -> Pickup:
    cycle = _cycle(cast)
    slot = _slot(cast, "pickup-slot", cycle=cycle, actor=cast["committee"], **PICKUP_SLOT)
    return Pickup(cast, cycle, slot)


def test_a_slot_on_a_buying_group_pickup(pickup: Pickup) -> None:
    p = pickup
    assert p.slot.date == DELIVERY and p.slot.minutes == 120
    assert p.slot.where == "Maison de quartier, 3 place du Marché"
    assert p.slot.what == "Retrait du groupement d'achat : Les Gourmands vallee · Décembre"
    assert access.slots_run_by(p.cast["committee"], p.cast.territory).get() == p.slot
    assert not access.slots_run_by(p.cast["member"], p.cast.territory).exists()
    again = _slot(p.cast, "pickup-slot", cycle=p.cycle, actor=p.cast["committee"], **PICKUP_SLOT)
    assert again.pk == p.slot.pk
    elsewhere = _cycle(p.cast, "ailleurs", coordinator="outsider")
    with pytest.raises(InvalidInput) as refused:
        _slot(p.cast, "other-territory", cycle=elsewhere)
    assert "cycle" in refused.value.errors
    with pytest.raises(InvalidInput) as nothing:  # a slot helps one thing: a session, a sheet or a pickup
        _slot(p.cast, "no-target")
    assert "session" in nothing.value.errors


@pytest.mark.django_db(transaction=True)
def test_the_last_place_at_once_in_real_threads(cast: Cast) -> None:
    """Four people take a slot's last place at once: one gets it, the others are told it is full (on PostgreSQL
    in real threads on committed rows, meeting on the slot's row lock)."""
    slot = _slot(cast, "race-slot", cycle=_cycle(cast))
    people = [cast["member"], cast["cashier"], cast["producer"], cast["kitchen"]]
    results = at_once(
        len(people),
        lambda i: services.sign_up(slot=slot, volunteer=people[i], household=None, idempotency_key=f"r{i}"),
    )
    assert sum(isinstance(result, services.SignedUp) for result in results) == 1, results
    refused = [result for result in results if isinstance(result, Conflict)]
    assert len(refused) == len(people) - 1, results
    assert all("tous les bénévoles" in str(result) for result in refused)
    assert Volunteering.objects.filter(slot=slot, status=VolunteeringStatus.SIGNED_UP).count() == 1


@pytest.mark.parametrize("who", EVERYONE)
def test_who_calls_runs_and_signs_up_on_a_pickup(
    pickup: Pickup, login: Callable[..., Client], who: str
) -> None:
    p = pickup
    slug = p.cast.territory.slug
    client = login(p.cast[who])
    expected = 200 if who in RUNNERS else 403 if who in ROLES else 404
    new = client.get(reverse("activities_slot_new", args=[slug]))
    assert new.status_code == expected, who
    if expected == 200:
        assert f"cycle:{p.cycle.pk}" in new.content.decode()
    page = client.get(reverse("activities_slot", args=[slug, p.slot.pk]))
    assert page.status_code == expected, who
    theirs = services.sign_up(
        slot=p.slot, volunteer=p.cast["member"], household=p.cast.household, idempotency_key="m"
    ).volunteering
    with time_machine.travel(datetime(2026, 12, 4, 19, 30, tzinfo=PARIS)):
        answer = client.post(
            reverse("activities_hours", args=[slug, p.slot.pk, theirs.pk]), {"hours": 2, "minutes": 0}
        )
    theirs.refresh_from_db()
    if who in RUNNERS:
        assert answer.status_code == 302 and theirs.minutes == 120
    else:
        assert answer.status_code in {403, 404} and theirs.minutes is None, (who, answer.status_code)


def test_the_group_coordinator_calls_for_volunteers_on_the_page(
    pickup: Pickup, login: Callable[..., Client]
) -> None:
    p = pickup
    slug = p.cast.territory.slug
    sent = login(p.cast["committee"]).post(
        reverse("activities_slot_new", args=[slug]),
        {
            "target": f"cycle:{p.cycle.pk}",
            "task": "Accueil des membres",
            "starts_at": "18:00",
            "ends_at": "19:30",
            "places": 2,
            "idempotency_key": "page-slot",
        },
    )
    assert sent.status_code == 302
    slot = VolunteerSlot.objects.get(task="Accueil des membres")
    assert slot.cycle == p.cycle and slot.date == DELIVERY and slot.created_by == p.cast["committee"]


def test_the_api_names_the_cycle(pickup: Pickup, client: Client) -> None:
    p = pickup
    listing = client.get("/api/v1/activities/volunteer-slots", headers=bearer(p.cast, "member"))
    assert listing.status_code == 200
    (row,) = listing.json()
    assert row["cycle_id"] == p.cycle.pk and row["session_id"] is None and row["sheet_id"] is None
    assert row["places_left"] == 1 and "Maison de quartier" in row["where"]
