"""``POST /api/v1/activities/volunteer-slots``: a call for volunteers on a session, a distribution sheet, a buying
group's pickup or a platform delivery, through the service the page calls, for whoever may open that slot on the
page (the activity's managers, the pickup point's team, the group's coordinators, the kitchen's managers, the
coordinators): a target one does not run is "not found", a person who runs none is refused (403). Every bad input
is a 4xx problem; a key answers one request."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client

from grenier.activities.models import Session, VolunteerSlot
from grenier.orders.models import OrderCycle
from grenier.supply.models import Kitchen, SupplyWeek, WeekStatus

from ..core.test_api import assert_problem, bearer, post
from .conftest import Volunteering
from .test_volunteering_deliveries import DAY, _week
from .test_volunteering_pickups import _cycle

URL = "/api/v1/activities/volunteer-slots"
ROLES_AND_OUTSIDER = ["coordinator", "committee", "member", "cashier", "producer", "kitchen", "social_worker"]
ROLES_AND_OUTSIDER += ["funder", "school", "outsider"]
RUNS_SOMETHING = {"coordinator", "producer", "cashier", "committee", "kitchen", "outsider"}
RUNNERS = {
    "session": {"coordinator", "producer"},
    "sheet": {"coordinator", "cashier"},
    "cycle": {"coordinator", "committee"},
    "delivery": {"coordinator", "kitchen"},
}
SLOT = {"task": "Mise en place", "starts_at": "08:00", "ends_at": "09:30", "places": 2}


@dataclass
class Targets:
    volunteering: Volunteering
    cycle: OrderCycle
    week: SupplyWeek
    kitchen: Kitchen

    @property
    def session(self) -> Session:
        return self.volunteering.workshop.session

    def body(self, target: str, key: str, **given: Any) -> dict[str, Any]:
        every: dict[str, dict[str, Any]] = {
            "session": {"session_id": self.session.pk},
            "sheet": {"sheet_id": self.volunteering.sheet.pk},
            "cycle": {"cycle_id": self.cycle.pk},
            "delivery": {
                "delivery_week_id": self.week.pk,
                "delivery_kitchen_id": self.kitchen.pk,
                "date": DAY.isoformat(),
            },
        }
        ids = every[target]
        return {**SLOT, **ids, "idempotency_key": key, **given}


@pytest.fixture
def targets(volunteering: Volunteering) -> Targets:
    week, kitchen = _week(volunteering.cast)
    return Targets(volunteering, _cycle(volunteering.cast), week, kitchen)


def _headers(t: Targets, who: str) -> dict[str, str]:
    if who == "outsider":
        return bearer(t.volunteering.cast, who, "elsewhere")
    return bearer(t.volunteering.cast, who)


@pytest.mark.parametrize("target", list(RUNNERS))
@pytest.mark.parametrize("who", ROLES_AND_OUTSIDER)
def test_who_opens_a_slot_through_the_api(targets: Targets, client: Client, who: str, target: str) -> None:
    t = targets
    before = VolunteerSlot.objects.count()
    made = post(client, URL, t.body(target, f"api-{who}-{target}"), headers=_headers(t, who))
    if who in RUNNERS[target]:
        assert made.status_code == 201, (who, target, made.content)
        slot = VolunteerSlot.objects.get(pk=made.json()["id"])
        assert (
            slot.created_by == t.volunteering.cast[who] and slot.places == 2 and slot.task == "Mise en place"
        )
        assert made.json()["places_left"] == 2
        again = post(client, URL, t.body(target, f"api-{who}-{target}"), headers=_headers(t, who))
        assert again.status_code == 200 and again.json()["id"] == slot.pk
        assert VolunteerSlot.objects.count() == before + 1
    else:
        assert_problem(made, 404 if who in RUNS_SOMETHING else 403)
        assert VolunteerSlot.objects.count() == before


def test_anonymous_is_asked_to_log_in(targets: Targets, client: Client) -> None:
    assert_problem(post(client, URL, targets.body("session", "anonymous-1")), 401)


def test_the_slot_opened_by_the_api_is_the_pages(targets: Targets, client: Client) -> None:
    t = targets
    made = post(client, URL, t.body("delivery", "kitchen-api-1"), headers=_headers(t, "kitchen")).json()
    slot = VolunteerSlot.objects.get(pk=made["id"])
    assert (slot.delivery_week, slot.delivery_kitchen, slot.date) == (t.week, t.kitchen, DAY)
    assert (made["delivery_week_id"], made["delivery_kitchen_id"], made["date"]) == (
        t.week.pk,
        t.kitchen.pk,
        DAY.isoformat(),
    )
    listed = client.get(URL, headers=_headers(t, "member")).json()
    assert slot.pk in {row["id"] for row in listed}


def test_a_key_means_one_request(targets: Targets, client: Client) -> None:
    t = targets
    headers = _headers(t, "coordinator")
    assert post(client, URL, t.body("session", "one-key-1"), headers=headers).status_code == 201
    reused = assert_problem(post(client, URL, t.body("session", "one-key-1", places=3), headers=headers), 409)
    assert reused["type"] == "urn:grenier:problem:idempotency-key-reused"
    assert VolunteerSlot.objects.filter(idempotency_key="one-key-1").get().places == 2


BAD_BODIES: list[tuple[str, dict[str, Any], int, str]] = [
    ("no target", {"session_id": None}, 422, "session_id"),
    ("two targets", {"sheet_id": 1}, 422, "session_id"),
    ("ends before it starts", {"ends_at": "07:00"}, 422, "ends_at"),
    ("no volunteer wanted", {"places": 0}, 422, "places"),
    ("too many volunteers", {"places": 101}, 422, "places"),
    ("places as text", {"places": "2"}, 422, "places"),
    ("an empty task", {"task": ""}, 422, "task"),
    ("a blank task", {"task": "   "}, 422, "task"),
    ("an unknown field", {"colour": "green"}, 422, "colour"),
    ("a time that is none", {"starts_at": "25:00"}, 422, "starts_at"),
    ("a short key", {"idempotency_key": "k"}, 422, "idempotency_key"),
    ("a session unknown", {"session_id": 9_999_999}, 404, ""),
    ("an id beyond 64 bits", {"session_id": 2**70}, 422, ""),
]


@pytest.mark.parametrize(("why", "given", "status", "field"), BAD_BODIES, ids=[row[0] for row in BAD_BODIES])
def test_every_bad_input_is_a_problem(
    targets: Targets, client: Client, why: str, given: dict[str, Any], status: int, field: str
) -> None:
    body = targets.body("session", "bad-input-1", **given)
    if given.get("session_id", 0) is None:
        body.pop("session_id")
    answer = post(client, URL, body, headers=_headers(targets, "coordinator"))
    problem = assert_problem(answer, status)
    if field:
        assert field in json_fields(problem), (why, problem)
    assert not VolunteerSlot.objects.filter(idempotency_key="bad-input-1").exists()


def json_fields(problem: dict[str, Any]) -> str:
    return str(problem.get("errors", problem))


def test_a_delivery_is_given_whole_and_on_a_day_the_plan_delivers(targets: Targets, client: Client) -> None:
    t = targets
    headers = _headers(t, "kitchen")
    partial = t.body("delivery", "partial-1")
    partial.pop("date")
    problem = assert_problem(post(client, URL, partial, headers=headers), 422)
    assert {error["field"] for error in problem["errors"]} == {"date"}
    friday = assert_problem(
        post(client, URL, t.body("delivery", "friday-1", date="2026-12-04"), headers=headers), 422
    )
    assert "ne livre rien" in friday["detail"]
    t.week.status = WeekStatus.PLANNED
    t.week.save(update_fields=["status"])
    assert_problem(post(client, URL, t.body("delivery", "unpublished-1"), headers=headers), 409)
    assert not VolunteerSlot.objects.filter(delivery_kitchen=t.kitchen).exists()


def test_a_session_over_and_a_slot_already_started_are_refused(targets: Targets, client: Client) -> None:
    t = targets
    headers = _headers(t, "producer")
    Session.objects.filter(pk=t.session.pk).update(date="2026-11-25")  # today, TEST_NOW 10:00
    started = assert_problem(post(client, URL, t.body("session", "started-1"), headers=headers), 409)
    assert "déjà commencé" in started["detail"]
    Session.objects.filter(pk=t.session.pk).update(closed_at="2026-11-25T09:00:00+01:00")
    assert_problem(post(client, URL, t.body("session", "closed-1"), headers=headers), 409)
