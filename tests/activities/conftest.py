"""An activity of the territory "Vallée" with a session next week: a cooking workshop of an association, run by
the producer of the cast (a manager of the activity), open to every member household."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time

import pytest

from grenier.activities import services
from grenier.activities.models import Activity, Session
from grenier.core import services as core_services
from grenier.core.models import Household

from ..conftest import Cast

NEXT_WEEK = date(2026, 12, 2)  # the Wednesday after TEST_NOW


@dataclass
class Workshop:
    cast: Cast
    activity: Activity
    session: Session

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
    activity = services.activity_create(
        territory=cast.territory,
        kind=next(kind for kind in kinds if kind.code == "cooking"),
        title="Atelier cuisine de saison",
        organisers=[services.OrganiserInput(association="Les Amis du Jardin")],
        managers=[cast["producer"]],
        actor=cast["coordinator"],
        idempotency_key="activity-1",
    )
    return Workshop(cast=cast, activity=activity, session=make_session(activity))
