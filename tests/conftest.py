"""The cast every test reuses: one person per role in the territory "Vallée", plus an outsider from elsewhere."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client

from grenier.core import services
from grenier.core.models import Household, Role, Territory, User

PASSWORD = "correct-horse-battery"

# The day every test runs on, whatever the machine's clock says: a Wednesday morning in Paris, mid-month, outside
# school holidays. GRENIER_TEST_NOW moves it (ISO date or date-time, Paris time) to try the suite on another day;
# a test that needs a particular day travels there itself (time_machine.travel) from this one.
TEST_NOW = datetime.fromisoformat(os.environ.get("GRENIER_TEST_NOW") or "2026-11-25T10:00").replace(
    tzinfo=ZoneInfo("Europe/Paris")
)


@pytest.fixture(autouse=True)
def pinned_clock() -> Iterator[time_machine.Traveller]:
    """No test reads the real date: the clock starts at TEST_NOW for each test and runs from there."""
    with time_machine.travel(TEST_NOW, tick=True) as traveller:
        yield traveller


@dataclass
class Cast:
    territory: Territory
    elsewhere: Territory
    people: dict[str, User]
    household: Household  # the member's own household
    other_household: Household  # a household the member is not part of

    def __getitem__(self, name: str) -> User:
        return self.people[name]


def make_user(email: str, name: str = "") -> User:
    return User.objects.create_user(email=email, password=PASSWORD, display_name=name or email.split("@")[0])


@pytest.fixture
def cast(db: None) -> Cast:
    territory = services.territory_create(slug="vallee", name="Vallée")
    elsewhere = services.territory_create(slug="ailleurs", name="Ailleurs")
    people: dict[str, User] = {}
    for role in Role:
        user = make_user(f"{role.value}@test.grenier", str(role.label))
        if role != Role.MEMBER:
            services.role_grant(user=user, territory=territory, role=role)
        people[role.value] = user
    household = services.household_join(
        territory=territory,
        name="Foyer Martin-Test",
        email="martin@test.grenier",
        phone="06 00 00 00 01",
        persons=[
            services.PersonInput("Ana", date(1990, 1, 1)),
            services.PersonInput("Tom", date(2019, 6, 1)),
        ],
        monthly_resources_cents=120_000,
        user=people["member"],
        actor=people["coordinator"],
    )
    other = services.household_join(
        territory=territory,
        name="Foyer Voisin-Test",
        email="voisin@test.grenier",
        persons=[services.PersonInput("Lou", date(1980, 2, 2))],
        actor=people["coordinator"],
    )
    outsider = make_user("outsider@test.grenier", "Outsider")
    services.role_grant(user=outsider, territory=elsewhere, role=Role.COORDINATOR)
    people["outsider"] = outsider
    people["nobody"] = make_user("nobody@test.grenier", "No role")
    return Cast(
        territory=territory, elsewhere=elsewhere, people=people, household=household, other_household=other
    )


@pytest.fixture
def login(client: Client):
    def _login(user: User | None) -> Client:
        client.logout()
        if user is not None:
            client.force_login(user)
        return client

    return _login
