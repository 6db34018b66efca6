"""An activity of the territory "Vallée" with a session next week: a cooking workshop of an association, run by
the producer of the cast (a manager of the activity), open to every member household. Its food credit is paid at
an approved store of the territory that takes only 80 % of a purchase in credit at its till (a session's price is
all food credit: decision 0004)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time

import pytest

from grenier.activities import services
from grenier.activities.models import Activity, Session, VolunteerSlot
from grenier.baskets import services as baskets_services
from grenier.baskets.models import DistributionSheet, PickupPoint
from grenier.core import services as core_services
from grenier.core.models import Household
from grenier.fund import services as fund_services
from grenier.fund.models import Store

from ..conftest import Cast

NEXT_WEEK = date(2026, 12, 2)  # the Wednesday after TEST_NOW


@dataclass
class Workshop:
    cast: Cast
    activity: Activity
    session: Session
    store: Store

    def household(self, name: str, email: str = "") -> Household:
        return core_services.household_join(
            territory=self.cast.territory,
            name=name,
            email=email,
            persons=[core_services.PersonInput("A")],
            actor=self.cast["coordinator"],
        )


def make_session(
    activity: Activity, key: str = "session-1", capacity: int = 10, day: date = NEXT_WEEK, **kwargs: object
) -> Session:
    arguments: dict[str, object] = {
        "activity": activity,
        "day": day,
        "starts_at": time(14, 0),
        "ends_at": time(16, 0),
        "capacity": capacity,
        "audience": "territory",
        "address": "12 rue des Sources",
        "actor": None,
        "idempotency_key": key,
    }
    arguments.update(kwargs)
    return services.session_create(**arguments)  # type: ignore[arg-type]


@pytest.fixture
def workshop(cast: Cast) -> Workshop:
    kinds = services.kinds_ensure(territory=cast.territory)
    store = fund_services.store_approve(
        store=fund_services.store_create(territory=cast.territory, name="Épicerie du Jardin", actor=None),
        coverage_percent=80,
        actor=None,
    )
    activity = services.activity_create(
        territory=cast.territory,
        kind=next(kind for kind in kinds if kind.code == "cooking"),
        title="Atelier cuisine de saison",
        organisers=[services.OrganiserInput(association="Les Amis du Jardin")],
        managers=[cast["producer"]],
        actor=cast["coordinator"],
        idempotency_key="activity-1",
        payee_store=store,
    )
    return Workshop(cast=cast, activity=activity, session=make_session(activity), store=store)


@dataclass
class Volunteering:
    """The workshop, plus a pickup point (the cashier serves it) with next Thursday's distribution sheet, a slot on
    each (two volunteers wanted)."""

    workshop: Workshop
    point: PickupPoint
    sheet: DistributionSheet
    session_slot: VolunteerSlot
    sheet_slot: VolunteerSlot

    @property
    def cast(self) -> Cast:
        return self.workshop.cast


@pytest.fixture
def volunteering(workshop: Workshop) -> Volunteering:
    cast = workshop.cast
    garden = baskets_services.garden_create(territory=cast.territory, name="Jardin des Test", actor=None)
    point = baskets_services.pickup_point_create(
        garden=garden, name="Halle", weekday=3, opens_at=time(17), actor=None
    )
    baskets_services.volunteer_add(pickup_point=point, user=cast["cashier"], actor=None)
    sheet = DistributionSheet.objects.create(pickup_point=point, on=date(2026, 12, 3))
    session_slot = services.slot_create(
        territory=cast.territory,
        session=workshop.session,
        task="Mise en place",
        starts_at=time(13, 0),
        ends_at=time(14, 30),
        places=2,
        actor=cast["producer"],
        idempotency_key="slot-1",
    )
    sheet_slot = services.slot_create(
        territory=cast.territory,
        sheet=sheet,
        task="Distribution des paniers",
        starts_at=time(16, 30),
        ends_at=time(19, 0),
        places=2,
        actor=cast["cashier"],
        idempotency_key="slot-2",
    )
    return Volunteering(workshop, point, sheet, session_slot, sheet_slot)


@pytest.fixture
def school_session(workshop: Workshop) -> Session:
    """A farm visit for school classes, run by the coordinators alone (the producer runs no part of it)."""
    w = workshop
    visit = services.activity_create(
        territory=w.cast.territory,
        kind=next(k for k in services.kinds_ensure(territory=w.cast.territory) if k.code == "farm-visit"),
        title="Visite de ferme pour les classes",
        organisers=[services.OrganiserInput(association="Les maraîchers")],
        managers=[],
        actor=w.cast["coordinator"],
        idempotency_key="visit-1",
    )
    return make_session(visit, key="visit-session", audience="school", capacity=60)
