"""The activities API for every role: sessions listed for every person of the territory, registrations made by
those who may (a member for its household, a social worker for a household it follows, an organiser for a class),
another's registration "not found", a retry the same registration, bad input a 422, late cancelling a 409."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.test import Client

from grenier.activities import services
from grenier.activities.models import Registration
from grenier.core.models import Role

from ..core.test_api import assert_problem, bearer, post
from .conftest import Workshop, make_session

ROLES = [role.value for role in Role]


@pytest.mark.parametrize("who", ROLES)
def test_who_may_call_the_activities_api(workshop: Workshop, client: Client, who: str) -> None:
    w = workshop
    headers = bearer(w.cast, who)
    listing = client.get("/api/v1/activities/sessions", headers=headers)
    assert listing.status_code == 200 and [s["id"] for s in listing.json()] == [w.session.pk]
    assert listing.json()[0]["places_left"] == 10
    one = client.get(f"/api/v1/activities/sessions/{w.session.pk}", headers=headers)
    assert one.status_code == 200 and one.json()["where"] == "12 rue des Sources"
    body = {"household_id": w.cast.household.pk, "adults": 2, "children": 1, "idempotency_key": f"api-{who}"}
    created = post(client, f"/api/v1/activities/sessions/{w.session.pk}/registrations", body, headers=headers)
    mine = client.get("/api/v1/activities/registrations", headers=headers)
    if who in {"member", "coordinator"}:
        assert created.status_code == 201 and created.json()["status"] == "confirmed"
        assert [r["id"] for r in mine.json()] == [created.json()["id"]]
    elif (
        who
        in {
            "social_worker",
            "producer",
            "school",
        }
    ):  # follows nobody / runs the activity but this is not its household / registers classes, never a household
        assert_problem(created, 404)
    else:
        assert_problem(created, 403)
        assert_problem(mine, 403)


def test_the_api_hides_nothing_it_should_not_and_answers_retries(workshop: Workshop, client: Client) -> None:
    w = workshop
    theirs = services.register(
        session=w.session, actor=None, idempotency_key="other", adults=1, household=w.cast.other_household
    ).registration
    member = bearer(w.cast, "member")
    assert_problem(
        post(client, f"/api/v1/activities/registrations/{theirs.pk}/cancel", {}, headers=member), 404
    )
    assert client.get("/api/v1/activities/registrations", headers=member).json() == []
    url = f"/api/v1/activities/sessions/{w.session.pk}/registrations"
    body = {"household_id": w.cast.household.pk, "adults": 2, "children": 1, "idempotency_key": "api-key-1"}
    first = post(client, url, body, headers=member)
    again = post(client, url, {**body, "idempotency_key": "api-key-2"}, headers=member)
    assert first.status_code == 201 and again.status_code == 200 and first.json()["id"] == again.json()["id"]
    assert_problem(post(client, url, {**body, "adults": 3}, headers=member), 409)  # the key, another request
    assert_problem(post(client, url, {**body, "adults": "2"}, headers=member), 422)
    assert_problem(post(client, url, {**body, "class_name": "CE2"}, headers=member), 422)
    assert_problem(post(client, url, {**body, "adults": 51}, headers=member), 422)
    assert_problem(client.get("/api/v1/activities/sessions/999999", headers=member), 404)
    with time_machine.travel(w.session.registration_deadline + timedelta(hours=1)):
        late = post(
            client, f"/api/v1/activities/registrations/{first.json()['id']}/cancel", {}, headers=member
        )
        assert "L'annulation était possible" in assert_problem(late, 409)["detail"]
    cancelled = post(
        client, f"/api/v1/activities/registrations/{first.json()['id']}/cancel", {}, headers=member
    )
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"


def test_an_organiser_registers_a_class_and_a_member_may_not(workshop: Workshop, client: Client) -> None:
    w = workshop
    school = make_session(w.activity, key="school", audience="school", capacity=30)
    url = f"/api/v1/activities/sessions/{school.pk}/registrations"
    body = {
        "class_name": "CE2 école des Sources",
        "adults": 2,
        "children": 24,
        "idempotency_key": "class-0001",
    }
    assert_problem(post(client, url, body, headers=bearer(w.cast, "member")), 403)
    made = post(client, url, body, headers=bearer(w.cast, "producer"))
    assert made.status_code == 201 and made.json()["household"] == "CE2 école des Sources"
    assert Registration.objects.get().household is None
    listed = client.get("/api/v1/activities/registrations", headers=bearer(w.cast, "producer")).json()
    assert [r["id"] for r in listed] == [made.json()["id"]]
