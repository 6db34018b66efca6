"""Volunteering: slots on a session and on a distribution sheet, signing up (places counted, once per person,
cancelling until the slot starts), hours recorded by those who run the slot; every page for every role."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, time
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from grenier.activities import access, services
from grenier.activities.models import Volunteering, VolunteeringStatus
from grenier.core.errors import Conflict, InvalidInput
from grenier.core.idempotency import KeyReused
from grenier.core.models import Role

from ..core.test_api import assert_problem, bearer, post
from .conftest import Volunteering as Fixture

PARIS = ZoneInfo("Europe/Paris")
ROLES = [role.value for role in Role]
EVERYONE = [*ROLES, "outsider", "nobody"]
RUNNERS = {"coordinator", "producer", "cashier"}  # the workshop's manager, the pickup point's volunteer


def _sign(f: Fixture, who: str, slot_name: str = "sheet_slot", key: str = "") -> services.SignedUp:
    user = f.cast[who]
    return services.sign_up(
        slot=getattr(f, slot_name),
        volunteer=user,
        household=access.volunteer_household(user, f.cast.territory),
        idempotency_key=key or f"{who}-{slot_name}",
    )


def test_sign_up_counts_places_once_per_person(volunteering: Fixture) -> None:
    f = volunteering
    first = _sign(f, "member")
    assert first.created and first.volunteering.household == f.cast.household
    again = _sign(f, "member", key="another-tap")
    assert not again.created and again.volunteering.pk == first.volunteering.pk
    assert _sign(f, "cashier").volunteering.household is None  # no household here: hours, no reward
    with pytest.raises(Conflict, match="tous les bénévoles"):
        _sign(f, "producer")
    with pytest.raises(KeyReused):
        services.sign_up(
            slot=f.sheet_slot,
            volunteer=f.cast["producer"],
            household=None,
            idempotency_key="member-sheet_slot",
        )
    services.volunteering_cancel(volunteering=first.volunteering, actor=f.cast["member"])
    assert services.slot_places_left(f.sheet_slot) == 1
    assert _sign(f, "producer").created


def test_a_slot_is_on_a_session_or_a_sheet_of_the_territory(volunteering: Fixture) -> None:
    f = volunteering
    assert f.session_slot.date == f.workshop.session.date and f.sheet_slot.date == f.sheet.on
    assert f.session_slot.minutes == 90

    def slot(key: str, starts_at: time = time(9), **target: object) -> None:
        services.slot_create(
            territory=target.pop("territory", f.cast.territory),  # type: ignore[arg-type]
            task="x",
            starts_at=starts_at,
            ends_at=time(10),
            places=1,
            actor=None,
            idempotency_key=key,
            **target,  # type: ignore[arg-type]
        )

    with pytest.raises(InvalidInput):
        slot("none")
    with pytest.raises(InvalidInput):
        slot("elsewhere", territory=f.cast.elsewhere, session=f.workshop.session)
    with pytest.raises(InvalidInput):
        slot("backwards", starts_at=time(11), sheet=f.sheet)
    same = services.slot_create(
        territory=f.cast.territory,
        sheet=f.sheet,
        task="Distribution des paniers",
        starts_at=time(16, 30),
        ends_at=time(19, 0),
        places=2,
        actor=None,
        idempotency_key="slot-2",
    )
    assert same.pk == f.sheet_slot.pk


def test_hours_are_recorded_from_the_slot_start_and_cancel_closes_then(volunteering: Fixture) -> None:
    f = volunteering
    signed = _sign(f, "member").volunteering
    with pytest.raises(Conflict, match="une fois le créneau commencé"):
        services.hours_record(volunteering=signed, minutes=150, actor=f.cast["cashier"])
    with time_machine.travel(datetime(2026, 12, 3, 19, 30, tzinfo=PARIS)):
        with pytest.raises(Conflict, match="a commencé"):
            services.volunteering_cancel(volunteering=signed, actor=f.cast["member"])
        with pytest.raises(Conflict, match="a commencé"):
            _sign(f, "producer")
        with pytest.raises(InvalidInput):
            services.hours_record(volunteering=signed, minutes=13 * 60, actor=f.cast["cashier"])
        recorded = services.hours_record(volunteering=signed, minutes=150, actor=f.cast["cashier"])
        assert recorded.minutes == 150 and recorded.recorded_by == f.cast["cashier"]
        again = services.hours_record(volunteering=signed, minutes=150, actor=f.cast["coordinator"])
        assert again.recorded_by == f.cast["cashier"]  # nothing changed
        assert services.hours_record(volunteering=signed, minutes=120, actor=None).minutes == 120


def _expected(who: str, allowed: set[str]) -> int:
    return 200 if who in allowed else 403 if who in ROLES else 404


@pytest.mark.parametrize("who", EVERYONE)
def test_who_opens_the_volunteering_pages(
    volunteering: Fixture, login: Callable[..., Client], who: str
) -> None:
    f = volunteering
    slug = f.cast.territory.slug
    pages = {
        reverse("activities_volunteer", args=[slug]): set(ROLES),
        reverse("activities_slot_new", args=[slug]): RUNNERS,
        reverse("activities_slot", args=[slug, f.session_slot.pk]): {"coordinator", "producer"},
        reverse("activities_slot", args=[slug, f.sheet_slot.pk]): {"coordinator", "cashier"},
    }
    client = login(f.cast[who])
    for url, allowed in pages.items():
        status = client.get(url).status_code
        assert status == (404 if who == "nobody" else _expected(who, allowed)), (who, url)


@pytest.mark.parametrize("who", EVERYONE)
def test_who_signs_up_and_records_hours(
    volunteering: Fixture, login: Callable[..., Client], who: str
) -> None:
    f = volunteering
    slug = f.cast.territory.slug
    client = login(f.cast[who])
    sent = client.post(
        reverse("activities_sign_up", args=[slug, f.session_slot.pk]), {"idempotency_key": "k"}
    )
    signed = Volunteering.objects.filter(slot=f.session_slot, status=VolunteeringStatus.SIGNED_UP)
    if who in ROLES:
        assert sent.status_code == 302 and signed.filter(volunteer=f.cast[who]).exists()
    else:
        assert sent.status_code == 404 and not signed.exists()
    theirs = _sign(f, "member", "session_slot", key="m").volunteering
    with time_machine.travel(datetime(2026, 12, 2, 15, 0, tzinfo=PARIS)):
        url = reverse("activities_hours", args=[slug, f.session_slot.pk, theirs.pk])
        answer = client.post(url, {"hours": 1, "minutes": 30})
    theirs.refresh_from_db()
    if who in {"coordinator", "producer"}:
        assert answer.status_code == 302 and theirs.minutes == 90
    else:
        assert answer.status_code == (404 if who not in ROLES else 403) and theirs.minutes is None
    cancel = client.post(reverse("activities_volunteering_cancel", args=[slug, theirs.pk]))
    theirs.refresh_from_db()
    assert (cancel.status_code == 302) == (who == "member")
    assert (theirs.status == VolunteeringStatus.CANCELLED) == (who == "member")


def test_a_volunteer_signs_up_on_the_page_and_sees_the_time_given(
    volunteering: Fixture, login: Callable[..., Client]
) -> None:
    f = volunteering
    slug = f.cast.territory.slug
    client = login(f.cast["member"])
    page = client.get(reverse("activities_volunteer", args=[slug])).content.decode()
    assert "Distribution des paniers" in page and "Halle" in page and "2 bénévoles recherchés" in page
    client.post(reverse("activities_sign_up", args=[slug, f.sheet_slot.pk]), {"idempotency_key": "p"})
    page = client.get(reverse("activities_volunteer", args=[slug])).content.decode()
    assert "1 bénévole recherché" in page and 'id="volunteering-' in page
    mine = Volunteering.objects.get(volunteer=f.cast["member"])
    with time_machine.travel(datetime(2026, 12, 3, 19, 30, tzinfo=PARIS)):
        cashier = login(f.cast["cashier"])
        sheet = cashier.get(reverse("activities_slot", args=[slug, f.sheet_slot.pk])).content.decode()
        assert "Foyer Martin-Test" in sheet
        cashier.post(
            reverse("activities_hours", args=[slug, f.sheet_slot.pk, mine.pk]), {"hours": 2, "minutes": 30}
        )
        page = login(f.cast["member"]).get(reverse("activities_volunteer", args=[slug])).content.decode()
    assert "2 h 30 min" in page


def test_a_slot_is_called_on_the_page(volunteering: Fixture, login: Callable[..., Client]) -> None:
    f = volunteering
    slug = f.cast.territory.slug
    client = login(f.cast["cashier"])
    form = client.get(reverse("activities_slot_new", args=[slug])).content.decode()
    assert f"sheet:{f.sheet.pk}" in form and f"session:{f.workshop.session.pk}" not in form
    sent = client.post(
        reverse("activities_slot_new", args=[slug]),
        {
            "target": f"sheet:{f.sheet.pk}",
            "task": "Accueil",
            "starts_at": "17:00",
            "ends_at": "18:00",
            "places": 3,
            "idempotency_key": "new-slot",
        },
    )
    assert sent.status_code == 302
    refused = client.post(
        reverse("activities_slot_new", args=[slug]),
        {
            "target": f"session:{f.workshop.session.pk}",
            "task": "Accueil",
            "starts_at": "17:00",
            "ends_at": "18:00",
            "places": 3,
            "idempotency_key": "other",
        },
    )
    assert refused.status_code == 200 and "field-error" in refused.content.decode()


@pytest.mark.parametrize("who", ROLES)
def test_the_volunteering_api_for_every_role(volunteering: Fixture, client: Client, who: str) -> None:
    f = volunteering
    headers = bearer(f.cast, who)
    listing = client.get("/api/v1/activities/volunteer-slots", headers=headers)
    assert listing.status_code == 200
    assert [(s["id"], s["places_left"]) for s in listing.json()] == [
        (f.session_slot.pk, 2),
        (f.sheet_slot.pk, 2),
    ]
    url = f"/api/v1/activities/volunteer-slots/{f.sheet_slot.pk}/volunteers"
    created = post(client, url, {"idempotency_key": f"api-{who}-1"}, headers=headers)
    assert created.status_code == 201 and created.json()["minutes"] is None
    again = post(client, url, {"idempotency_key": f"api-{who}-2"}, headers=headers)
    assert again.status_code == 200 and again.json()["id"] == created.json()["id"]
    assert [v["id"] for v in client.get("/api/v1/activities/volunteerings", headers=headers).json()] == [
        created.json()["id"]
    ]
    theirs = _sign(f, "member" if who != "member" else "cashier", "sheet_slot", key="other").volunteering
    hours_url = f"/api/v1/activities/volunteerings/{theirs.pk}/hours"
    assert_problem(post(client, hours_url, {"minutes": -1}, headers=headers), 422)
    with time_machine.travel(datetime(2026, 12, 3, 19, 30, tzinfo=PARIS)):
        recorded = post(client, hours_url, {"minutes": 150}, headers=headers)
        late = post(
            client, f"/api/v1/activities/volunteerings/{created.json()['id']}/cancel", {}, headers=headers
        )
    if who in {"coordinator", "cashier"}:
        assert recorded.status_code == 200 and recorded.json()["minutes"] == 150
    else:
        assert_problem(recorded, 404)
    assert_problem(late, 409)
    other = post(client, f"/api/v1/activities/volunteerings/{theirs.pk}/cancel", {}, headers=headers)
    assert_problem(other, 404)


def test_the_volunteering_api_refuses_outsiders(volunteering: Fixture, client: Client) -> None:
    f = volunteering
    headers = bearer(f.cast, "outsider", territory="elsewhere")
    assert client.get("/api/v1/activities/volunteer-slots", headers=headers).json() == []
    url = f"/api/v1/activities/volunteer-slots/{f.sheet_slot.pk}/volunteers"
    assert_problem(post(client, url, {"idempotency_key": "outsider-1"}, headers=headers), 404)
