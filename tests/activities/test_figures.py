"""The activities' figures on a small case counted by hand, the baskets' yearly report taking its workshops from
them (typed workshops only before the first garden session), and who may read the figures (page and API)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from grenier.activities import figures, services
from grenier.activities.models import Activity, Session
from grenier.baskets import selectors as baskets_selectors
from grenier.baskets import services as baskets_services
from grenier.baskets.models import Garden, WorkshopKind
from grenier.core.models import Household, Role, User

from ..conftest import Cast
from ..core.test_api import bearer
from .conftest import Volunteering as VolunteeringCase
from .conftest import make_session

ROLES = [role.value for role in Role]
EVERYONE = [*ROLES, "outsider", "nobody"]


def _at(month: int, day: int, hour: int = 9) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=timezone.get_current_timezone())


@dataclass
class Case:
    """December 2026, read on the 20th.

    * Cooking (association "Les Amis du Jardin", the producer manages it): 28/11 X came (before the period);
      2/12 X (2 adults, 1 child) and Y (1 adult) came, Z (1+2) absent, a walk-in of 1 adult without card and W
      by card (1+1); 16/12 cancelled; 18/12 Z registered, attendance never taken; 28/12 not yet held. A volunteer
      gave 90 minutes on 2/12.
    * Gardening (the garden "Jardin des Test", for schools): 9/12 class CM1 (2 adults, 20 pupils) came, Y by card.
    * 150 minutes at the pickup point's distribution of 3/12.
    """

    cast: Cast
    cooking: Activity
    gardening: Activity
    garden: Garden
    households: dict[str, Household]


@pytest.fixture
def case(volunteering: VolunteeringCase, pinned_clock: time_machine.Traveller) -> Case:
    f = volunteering
    cast, territory = f.cast, f.cast.territory
    cooking = f.workshop.activity
    garden = f.point.garden
    kinds = {kind.code: kind for kind in services.kinds_ensure(territory=territory)}
    gardening = services.activity_create(
        territory=territory,
        kind=kinds["gardening"],
        title="Potager des écoles",
        organisers=[services.OrganiserInput(garden=garden)],
        managers=[],
        actor=cast["coordinator"],
        idempotency_key="gardening",
    )
    homes = {name: f.workshop.household(f"Foyer {name}") for name in "XYZW"}
    before = make_session(cooking, key="nov-28", day=date(2026, 11, 28))
    held = f.workshop.session  # 2/12
    cancelled = make_session(cooking, key="dec-16", day=date(2026, 12, 16))
    untaken = make_session(cooking, key="dec-18", day=date(2026, 12, 18))
    coming = make_session(cooking, key="dec-28", day=date(2026, 12, 28))
    school = make_session(gardening, key="dec-9", day=date(2026, 12, 9), capacity=30, audience="school")

    def reg(session: Session, who: str, adults: int, children: int = 0) -> services.Registered:
        return services.register(
            session=session,
            actor=None,
            idempotency_key=f"{session.pk}-{who}",
            adults=adults,
            children=children,
            household=homes.get(who),
            class_name="" if who in homes else who,
        )

    x_before = reg(before, "X", 1)
    x, y, z = reg(held, "X", 2, 1), reg(held, "Y", 1), reg(held, "Z", 1, 2)
    reg(untaken, "Z", 1)
    reg(coming, "X", 1)
    cm1 = reg(school, "CM1", 2, 20)
    reg(cancelled, "W", 1)
    slot_signed = services.sign_up(
        slot=f.session_slot, volunteer=cast["member"], household=cast.household, idempotency_key="v1"
    )
    sheet_signed = services.sign_up(
        slot=f.sheet_slot, volunteer=cast["cashier"], household=None, idempotency_key="v2"
    )
    pinned_clock.move_to(_at(12, 20))
    Session.objects.filter(pk=cancelled.pk).update(cancelled_at=_at(12, 10))
    for registration, came in [(x_before, True), (x, True), (y, True), (z, False), (cm1, True)]:
        services.attendance_mark(registration=registration.registration, attended=came, actor=None)
    services.walk_in_record(session=held, actor=None, idempotency_key="w1", adults=1)
    services.walk_in_record(
        session=held, actor=None, idempotency_key="w2", adults=1, children=1, household=homes["W"]
    )
    services.walk_in_record(session=school, actor=None, idempotency_key="w3", adults=1, household=homes["Y"])
    services.hours_record(volunteering=slot_signed.volunteering, minutes=90, actor=None)
    services.hours_record(volunteering=sheet_signed.volunteering, minutes=150, actor=None)
    return Case(cast=cast, cooking=cooking, gardening=gardening, garden=garden, households=homes)


def _december(case: Case, **kwargs: object) -> figures.Figures:
    return figures.figures(
        territory=case.cooking.territory,
        start=date(2026, 12, 1),
        end=date(2026, 12, 31),
        activities=Activity.objects.all(),
        **kwargs,  # type: ignore[arg-type]
    )


def _numbers(row: figures.Row) -> tuple[int, int, int, int, int, int]:
    return (row.sessions, row.persons, row.children, row.households, row.new, row.minutes)


def test_the_figures_of_a_month_counted_by_hand(case: Case) -> None:
    found = _december(case, with_distributions=True)
    # held: 2/12, 9/12, 18/12; persons 7 + 23; children 2 + 20; households X, Y, W (X came in November)
    assert _numbers(found.total) == (3, 30, 22, 3, 2, 90)
    assert found.not_taken == 1
    assert found.distributions is not None and found.distributions.minutes == 150
    kinds = {row.label: _numbers(row) for row in found.by_kind}
    assert kinds == {"Atelier cuisine": (2, 7, 2, 3, 2, 90), "Jardinage": (1, 23, 20, 1, 1, 0)}
    organisers = {row.label: _numbers(row) for row in found.by_organiser}
    assert organisers == {"Les Amis du Jardin": (2, 7, 2, 3, 2, 90), "Jardin des Test": (1, 23, 20, 1, 1, 0)}
    assert [row.key for row in found.by_month] == ["2026-12"]
    november = figures.figures(
        territory=case.cooking.territory,
        start=date(2026, 11, 1),
        end=date(2026, 11, 30),
        activities=Activity.objects.all(),
    )
    assert _numbers(november.total) == (1, 1, 0, 1, 1, 0)


def test_filters_by_kind_and_organiser(case: Case) -> None:
    by_kind = _december(case, kind_id=case.gardening.kind_id, with_distributions=True)
    assert _numbers(by_kind.total) == (1, 23, 20, 1, 1, 0)
    assert by_kind.distributions is None  # the distributions belong to no kind
    by_organiser = _december(case, organiser=f"garden:{case.garden.pk}")
    assert _numbers(by_organiser.total) == (1, 23, 20, 1, 1, 0)
    assert _numbers(_december(case, organiser="association:les amis du jardin").total) == (2, 7, 2, 3, 2, 90)


def test_the_yearly_report_counts_the_garden_sessions_and_typed_workshops_before_them(case: Case) -> None:
    territory = case.cooking.territory
    baskets_services.workshop_record(
        garden=case.garden,
        on=date(2026, 3, 4),
        title="Semis",
        kind=WorkshopKind.GARDENING,
        participants=12,
        actor=None,
    )
    baskets_services.workshop_record(  # typed after the activities began: the session counts, not this
        garden=case.garden,
        on=date(2026, 12, 9),
        title="Potager",
        kind=WorkshopKind.GARDENING,
        participants=22,
        actor=None,
    )
    report = baskets_selectors.year_report(territory, 2026)
    assert report.workshops_since == date(2026, 12, 9)
    assert (report.workshops, report.workshops_typed, report.workshop_participants) == (2, 1, 12 + 23)
    assert report.workshops_by_kind == [("Jardinage", 2)]  # the typed kind and the activities' on one line


def test_without_garden_sessions_the_report_keeps_the_typed_workshops(volunteering: VolunteeringCase) -> None:
    garden = volunteering.point.garden
    baskets_services.workshop_record(
        garden=garden,
        on=date(2026, 3, 4),
        title="Semis",
        kind=WorkshopKind.GARDENING,
        participants=12,
        actor=None,
    )
    report = baskets_selectors.year_report(volunteering.cast.territory, 2026)
    assert (report.workshops, report.workshop_participants, report.workshops_since) == (1, 12, None)


@pytest.mark.parametrize("who", EVERYONE)
def test_the_figures_page_for_every_role(case: Case, login: Callable[..., Client], who: str) -> None:
    territory = case.cooking.territory
    user = User.objects.get(email=f"{who}@test.grenier")
    client = login(user)
    response = client.get(
        reverse("activities_figures", args=[territory.slug]), {"year": "2026", "month": "12"}
    )
    expected = {"coordinator": 200, "producer": 200, "outsider": 404, "nobody": 404}.get(who, 403)
    assert response.status_code == expected
    if expected == 200:
        body = response.content.decode()
        if who == "coordinator":
            assert 'id="sessions">3<' in body and 'id="distribution-hours">2 h 30<' in body
        else:  # the producer manages the cooking workshop only
            assert 'id="sessions">2<' in body and "distribution-hours" not in body
            assert "Potager des écoles" not in body


@pytest.mark.parametrize(
    "query",
    [
        {"year": "abc", "month": "13", "kind": "-1", "organiser": "garden:999"},
        {"year": "99999999999999999999", "month": "0", "kind": "x"},
        {"year": "1999"},
    ],
)
def test_the_figures_page_shrugs_off_odd_queries(
    case: Case, login: Callable[..., Client], query: dict[str, str]
) -> None:
    client = login(User.objects.get(email="coordinator@test.grenier"))
    response = client.get(reverse("activities_figures", args=[case.cooking.territory.slug]), query)
    assert response.status_code == 200


@pytest.mark.parametrize("who", ROLES)
def test_the_figures_api_for_every_role(case: Case, client: Client, who: str) -> None:
    response = client.get(
        "/api/v1/activities/figures", {"year": 2026, "month": 12}, headers=bearer(case.cast, who)
    )
    expected = {"coordinator": 200, "producer": 200}.get(who, 403)
    assert response.status_code == expected, response.content
    if who == "coordinator":
        data = response.json()
        assert data["total"]["sessions"] == 3 and data["total"]["households"] == 3
        assert data["total"]["volunteering_minutes"] == 90 and data["distributions_minutes"] == 150
        assert data["not_taken"] == 1


def test_the_yearly_report_page_says_where_its_workshops_come_from(
    case: Case, login: Callable[..., Client]
) -> None:
    client = login(case.cast["coordinator"])
    url = reverse("baskets_report", args=[case.cast.territory.slug])
    body = client.get(url, {"year": "2026"}).content.decode()
    assert 'id="workshops">1<' in body  # the garden's session of 9/12, none typed
    assert "depuis le 09/12/2026" in body and "les 0 d'avant cette date" in body.replace("&#x27;", "'")
    before = client.get(url, {"year": "2025"}).content.decode()
    assert 'id="workshops">0<' in before
