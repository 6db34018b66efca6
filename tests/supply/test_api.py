"""The supply platform's API as a grower's phone, a kitchen's software and the coordinator's scripts use it: every
endpoint with who may (and the data that matters), who may not (401, 404, 403) and bad input (422 with fields)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
from django.test import Client

from grenier.core import services as core_services
from grenier.core.models import User
from grenier.supply import billing, services
from grenier.supply.models import (
    Availability,
    Demand,
    Invoice,
    PlanChange,
    PlanLine,
    Shortfall,
    SupplyWeek,
    WeekStatus,
)

from ..core.test_api import assert_problem, bearer, post
from .conftest import Pial

MONDAY = date(2026, 10, 5)  # every delivery day of this week is in October 2026, a month that has begun
URL = f"/api/v1/supply/weeks/{MONDAY:%Y-%m-%d}"
PLENTY = {"carottes": 60_000, "poireaux": 40_000, "courgettes": 20_000, "salade": 80, "radis": 40}


def token(pial: Pial, user: User) -> dict[str, str]:
    _token, key = core_services.token_create(user=user, territory=pial.cast.territory)
    return {"Authorization": f"Bearer {key}"}


def who(pial: Pial, name: str) -> dict[str, str]:
    """Credentials by role name; ``grower2`` and ``kitchen2`` are the fixture's second grower and kitchen."""
    if name == "grower2":
        return token(pial, pial.other_grower)
    if name == "kitchen2":
        return token(pial, pial.other_kitchen)
    return bearer(pial.cast, name)


def put(client: Client, url: str, body: Any, headers: dict[str, str] | None = None) -> Any:
    return client.put(url, data=json.dumps(body), content_type="application/json", headers=headers)


def patch(client: Client, url: str, body: Any, headers: dict[str, str] | None = None) -> Any:
    return client.patch(url, data=json.dumps(body), content_type="application/json", headers=headers)


BODIES = {  # a well-formed body, so that only the caller is in question
    "/shortfalls": {"producer": 1, "product": 1, "available": 0, "idempotency_key": "key-1"},
    "/issue": {"month": "2026-10"},
    "/paid": {},
    "/plan": {},
    "/publish": {},
}


def call(client: Client, method: str, url: str) -> Any:
    if method == "get":
        return client.get(url)
    path = url.split("?")[0]
    body = next((b for end, b in BODIES.items() if path.endswith(end)), [])
    return getattr(client, method)(url, data=json.dumps(body), content_type="application/json")


def fields(problem: dict[str, Any]) -> set[str]:
    return {error["field"] for error in problem.get("errors", [])}


def open_week(pial: Pial) -> SupplyWeek:
    return services.week_ensure(territory=pial.cast.territory, monday=MONDAY, actor=pial.cast["coordinator"])


def plenty(pial: Pial, week: SupplyWeek) -> None:
    for producer in (pial.saules, pial.pic, pial.terrasses):
        for name, quantity in PLENTY.items():
            services.availability_declare(
                week=week,
                producer=producer,
                product=pial.products[name],
                quantity=quantity,
                actor=pial.cast["coordinator"],
            )


def planned(pial: Pial) -> SupplyWeek:
    week = open_week(pial)
    plenty(pial, week)
    services.plan_compute(week=week, actor=pial.cast["coordinator"])
    return week


def published(pial: Pial) -> SupplyWeek:
    week = planned(pial)
    services.plan_publish(week=week, actor=pial.cast["coordinator"])
    return week


def published_ahead(pial: Pial) -> tuple[SupplyWeek, str]:
    """Next week published, and its URL: a shortfall needs delivery days still to come (MONDAY's are past)."""
    monday = pial.monday + timedelta(weeks=1)
    week = services.week_ensure(territory=pial.cast.territory, monday=monday, actor=pial.cast["coordinator"])
    plenty(pial, week)
    services.plan_compute(week=week, actor=pial.cast["coordinator"])
    services.plan_publish(week=week, actor=pial.cast["coordinator"])
    return week, f"/api/v1/supply/weeks/{monday:%Y-%m-%d}"


# --- credentials ------------------------------------------------------------------------------------------------

ENDPOINTS = [
    ("get", "/api/v1/supply/weeks"),
    ("get", URL),
    ("put", URL + "/availability"),
    ("put", URL + "/demand"),
    ("post", URL + "/plan"),
    ("post", URL + "/publish"),
    ("patch", URL + "/lines"),
    ("post", URL + "/shortfalls"),
    ("post", URL + "/receipts"),
    ("get", "/api/v1/supply/invoices"),
    ("post", "/api/v1/supply/invoices/issue"),
    ("post", "/api/v1/supply/invoices/1/paid"),
    ("get", "/api/v1/supply/devfund"),
    ("get", "/api/v1/supply/egalim"),
]


@pytest.mark.parametrize(("method", "url"), ENDPOINTS)
def test_every_endpoint_needs_credentials(pial: Pial, client: Client, method: str, url: str) -> None:
    assert_problem(call(client, method, url), 401)


@pytest.mark.parametrize(("method", "url"), ENDPOINTS)
@pytest.mark.parametrize("person", ["outsider", "nobody"])
def test_without_a_role_here_the_territory_does_not_exist(
    pial: Pial, client: Client, method: str, url: str, person: str
) -> None:
    published(pial)
    client.force_login(pial.cast[person])
    separator = "&" if "?" in url else "?"
    assert_problem(call(client, method, f"{url}{separator}territory=vallee"), 404)


# --- weeks ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["coordinator", "producer", "kitchen", "committee", "funder"])
def test_weeks_are_listed_with_their_status(pial: Pial, client: Client, name: str) -> None:
    planned(pial)
    response = client.get("/api/v1/supply/weeks", headers=who(pial, name))
    assert response.status_code == 200, response.content
    assert [(w["monday"], w["status"]) for w in response.json()] == [("2026-10-05", "planned")]
    assert response.json()[0]["may_coordinate"] is (name == "coordinator")


@pytest.mark.parametrize("name", ["member", "cashier", "social_worker"])
def test_roles_without_supply_may_not_list_weeks(pial: Pial, client: Client, name: str) -> None:
    open_week(pial)
    assert_problem(client.get("/api/v1/supply/weeks", headers=who(pial, name)), 403)


def test_the_coordinator_reads_the_whole_week(pial: Pial, client: Client) -> None:
    week = planned(pial)
    body = client.get(URL, headers=who(pial, "coordinator")).json()
    assert body["status"] == "planned" and body["may_coordinate"] is True
    assert len(body["demand"]) == Demand.objects.filter(week=week).count() == 11
    carrots = next(
        d for d in body["demand"] if d["kitchen"] == pial.school.pk and d["product_name"] == "Carottes"
    )
    assert carrots["quantity"] == 15_000 and carrots["quantity_text"].replace("\u202f", "") == "15 kg"
    assert carrots["source"] == "contract"
    assert len(body["availability"]) == 15
    assert {line["id"] for line in body["lines"]} == set(
        PlanLine.objects.filter(week=week).values_list("pk", flat=True)
    )
    assert sum(x["quantity"] for x in body["lines"]) == sum(x["demand"] for x in body["explanations"])
    assert all(x["unmet"] == 0 and x["reason_code"] == "" for x in body["explanations"])
    assert body["solver"]["proven_optimal"] is True and body["solver"]["demand_total"] > 0
    assert {p["producer"] for p in body["producers"]} == {pial.saules.pk, pial.pic.pk, pial.terrasses.pk}
    salade = next(p for p in body["availability"] if p["product_name"] == "Salade")
    assert salade["quantity"] == 80 and salade["minimum_lot"] == 0


def test_unmet_demand_is_explained_by_reason_code(pial: Pial, client: Client) -> None:
    week = open_week(pial)
    services.availability_declare(
        week=week, producer=pial.saules, product=pial.products["carottes"], quantity=5_000, actor=None
    )
    services.plan_compute(week=week, actor=None)
    body = client.get(URL, headers=who(pial, "coordinator")).json()
    reasons = {(x["product_name"], x["reason_code"]) for x in body["explanations"] if x["unmet"]}
    assert ("Carottes", "not_enough_declared") in reasons and ("Poireaux", "not_declared") in reasons
    assert all(x["reason"] for x in body["explanations"] if x["unmet"])


def test_a_grower_reads_its_farm_only(pial: Pial, client: Client) -> None:
    week = planned(pial)
    before = client.get(URL, headers=who(pial, "producer")).json()
    assert {a["producer"] for a in before["availability"]} == {pial.saules.pk}
    assert before["lines"] == [] and before["demand"] == [] and before["explanations"] == []
    assert before["solver"] is None and before["may_coordinate"] is False and before["producers"] == []
    services.plan_publish(week=week, actor=None)
    after = client.get(URL, headers=who(pial, "producer")).json()
    saules_lines = set(PlanLine.objects.filter(week=week, producer=pial.saules).values_list("pk", flat=True))
    assert saules_lines and {x["id"] for x in after["lines"]} == saules_lines
    assert {p["producer"] for p in after["producers"]} == {pial.saules.pk}
    other = client.get(URL, headers=who(pial, "grower2")).json()
    assert {x["producer"] for x in other["lines"]} == {pial.pic.pk}
    assert not saules_lines & {x["id"] for x in other["lines"]}
    assert {a["producer"] for a in other["availability"]} == {pial.pic.pk}


def test_a_kitchen_reads_its_demand_and_deliveries_only(pial: Pial, client: Client) -> None:
    week = planned(pial)
    before = client.get(URL, headers=who(pial, "kitchen")).json()
    assert {d["kitchen"] for d in before["demand"]} == {pial.school.pk}
    assert before["lines"] == [] and before["availability"] == [] and before["solver"] is None
    services.plan_publish(week=week, actor=None)
    after = client.get(URL, headers=who(pial, "kitchen")).json()
    school = set(PlanLine.objects.filter(week=week, kitchen=pial.school).values_list("pk", flat=True))
    assert school and {x["id"] for x in after["lines"]} == school
    assert {x["kitchen"] for x in after["explanations"]} == {pial.school.pk}
    assert after["producers"] == [] and after["availability"] == []


def test_the_coordinator_of_the_week_reads_all_of_it(pial: Pial, client: Client) -> None:
    week = planned(pial)
    services.week_coordinator_set(week=week, coordinator=pial.other_grower, actor=None)
    body = client.get(URL, headers=who(pial, "grower2")).json()
    assert body["may_coordinate"] is True and body["solver"] is not None
    assert len(body["lines"]) == PlanLine.objects.filter(week=week).count()


@pytest.mark.parametrize("name", ["committee", "funder", "member", "cashier"])
def test_other_roles_may_not_read_a_week(pial: Pial, client: Client, name: str) -> None:
    planned(pial)
    assert_problem(client.get(URL, headers=who(pial, name)), 403)


def test_a_week_not_opened_or_not_a_monday(pial: Pial, client: Client) -> None:
    headers = who(pial, "coordinator")
    assert_problem(client.get(URL, headers=headers), 404)
    problem = assert_problem(client.get("/api/v1/supply/weeks/2026-10-06", headers=headers), 422)
    assert fields(problem) == {"monday"}
    problem = assert_problem(client.get("/api/v1/supply/weeks/lundi", headers=headers), 422)
    assert fields(problem) == {"monday"}


# --- availability and demand ------------------------------------------------------------------------------------


def test_a_grower_declares_availability_for_its_farm(pial: Pial, client: Client) -> None:
    body = [
        {
            "producer": pial.saules.pk,
            "product": pial.products["carottes"].pk,
            "quantity": 25_000,
            "minimum_lot": 5_000,
        },
        {"producer": pial.saules.pk, "product": pial.products["salade"].pk, "quantity": 30},
    ]
    response = put(client, URL + "/availability", body, headers=who(pial, "producer"))
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "open"
    rows = {(a["product_name"], a["quantity"], a["minimum_lot"]) for a in response.json()["availability"]}
    assert rows == {("Carottes", 25_000, 5_000), ("Salade", 30, 0)}
    week = SupplyWeek.objects.get(territory=pial.cast.territory, monday=MONDAY)
    assert Demand.objects.filter(week=week).exists()  # the week was opened with the contracts' schedule
    again = put(client, URL + "/availability", [{**body[0], "quantity": 0}], headers=who(pial, "producer"))
    assert {a["product_name"] for a in again.json()["availability"]} == {"Salade"}


def test_availability_for_another_farm_is_not_found(pial: Pial, client: Client) -> None:
    item = {"producer": pial.pic.pk, "product": pial.products["carottes"].pk, "quantity": 1_000}
    assert_problem(put(client, URL + "/availability", [item], headers=who(pial, "producer")), 404)
    assert not Availability.objects.exists()


@pytest.mark.parametrize("name", ["kitchen", "committee", "member"])
def test_only_growers_and_coordinators_declare(pial: Pial, client: Client, name: str) -> None:
    item = {"producer": pial.saules.pk, "product": pial.products["carottes"].pk, "quantity": 1_000}
    assert_problem(put(client, URL + "/availability", [item], headers=who(pial, name)), 403)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"quantity": -1}, "1.quantity"),
        ({"quantity": "12,5"}, "1.quantity"),
        ({"quantity": 1_000, "minimum_lot": 2_000}, "1.minimum_lot"),
        ({"product": 999_999}, "1.product"),
        ({"producer": None}, "1.producer"),
    ],
)
def test_bad_availability_is_422_and_changes_nothing(
    pial: Pial, client: Client, change: dict[str, Any], field: str
) -> None:
    good = {"producer": pial.saules.pk, "product": pial.products["poireaux"].pk, "quantity": 4_000}
    bad = {"producer": pial.saules.pk, "product": pial.products["carottes"].pk, "quantity": 1_000, **change}
    problem = assert_problem(
        put(client, URL + "/availability", [good, bad], headers=who(pial, "producer")), 422
    )
    assert field in fields(problem)
    assert not Availability.objects.exists()


def test_a_kitchen_enters_its_demand(pial: Pial, client: Client) -> None:
    week = planned(pial)
    thursday = MONDAY + timedelta(days=3)
    item = {
        "kitchen": pial.school.pk,
        "product": pial.products["radis"].pk,
        "day": f"{thursday}",
        "quantity": 25,
    }
    response = put(client, URL + "/demand", [item], headers=who(pial, "kitchen"))
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "open"  # the plan must be computed again
    radis = [
        d for d in response.json()["demand"] if d["product_name"] == "Radis" and d["day"] == f"{thursday}"
    ]
    assert [(d["quantity"], d["source"]) for d in radis] == [(25, "kitchen")]
    assert {d["kitchen"] for d in response.json()["demand"]} == {pial.school.pk}
    week.refresh_from_db()
    assert week.status == WeekStatus.OPEN


def test_demand_for_another_kitchen_or_by_a_grower_is_refused(pial: Pial, client: Client) -> None:
    item = {
        "kitchen": pial.ehpad.pk,
        "product": pial.products["carottes"].pk,
        "day": f"{MONDAY}",
        "quantity": 1,
    }
    assert_problem(put(client, URL + "/demand", [item], headers=who(pial, "kitchen")), 404)
    assert_problem(put(client, URL + "/demand", [item], headers=who(pial, "producer")), 403)
    assert not SupplyWeek.objects.exists()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"product": "courgettes"}, "0.product"),  # not under the school's contract
        ({"day": "2026-10-12"}, "0.day"),
        ({"day": "hier"}, "0.day"),
        ({"quantity": -5}, "0.quantity"),
    ],
)
def test_bad_demand_is_422(pial: Pial, client: Client, change: dict[str, Any], field: str) -> None:
    item: dict[str, Any] = {
        "kitchen": pial.school.pk,
        "product": pial.products["carottes"].pk,
        "day": f"{MONDAY}",
        "quantity": 1_000,
    }
    if "product" in change:
        change = {"product": pial.products[change["product"]].pk}
    problem = assert_problem(
        put(client, URL + "/demand", [{**item, **change}], headers=who(pial, "kitchen")), 422
    )
    assert field in fields(problem)


# --- planning, publishing, adjusting ----------------------------------------------------------------------------


def test_the_coordinator_plans_then_publishes(pial: Pial, client: Client) -> None:
    week = open_week(pial)
    plenty(pial, week)
    headers = who(pial, "coordinator")
    response = post(client, URL + "/plan", {}, headers=headers)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "planned" and body["proven_optimal"] is True and body["unmet"] == []
    assert body["demand_total"] == body["supplied_total"] > 0
    assert body["lines"] == PlanLine.objects.filter(week=week).count() > 0
    published_now = post(client, URL + "/publish", {}, headers=headers)
    assert published_now.status_code == 200 and published_now.json()["status"] == "published"
    assert_problem(post(client, URL + "/publish", {}, headers=headers), 409)
    assert_problem(post(client, URL + "/plan", {}, headers=headers), 409)


def test_the_plan_says_what_is_unmet_and_why(pial: Pial, client: Client) -> None:
    open_week(pial)
    body = post(client, URL + "/plan", {}, headers=who(pial, "coordinator")).json()
    assert body["supplied_total"] == 0 and body["unmet"]
    assert {x["reason_code"] for x in body["unmet"]} == {"not_declared"}


def test_the_coordinator_of_the_week_plans_it(pial: Pial, client: Client) -> None:
    week = open_week(pial)
    plenty(pial, week)
    services.week_coordinator_set(week=week, coordinator=pial.cast["producer"], actor=None)
    assert post(client, URL + "/plan", {}, headers=who(pial, "producer")).status_code == 200
    assert post(client, URL + "/publish", {}, headers=who(pial, "producer")).status_code == 200
    # another grower is not this week's coordinator
    assert_problem(post(client, URL + "/plan", {}, headers=who(pial, "grower2")), 403)


@pytest.mark.parametrize("name", ["producer", "kitchen", "committee", "funder"])
@pytest.mark.parametrize("action", ["plan", "publish"])
def test_others_may_not_plan_or_publish(pial: Pial, client: Client, name: str, action: str) -> None:
    week = planned(pial)
    assert_problem(post(client, f"{URL}/{action}", {}, headers=who(pial, name)), 403)
    week.refresh_from_db()
    assert week.status == WeekStatus.PLANNED


def test_planning_a_week_not_opened_is_404(pial: Pial, client: Client) -> None:
    assert_problem(post(client, URL + "/plan", {}, headers=who(pial, "coordinator")), 404)


def _a_line(week: SupplyWeek, **filters: Any) -> PlanLine:
    return PlanLine.objects.filter(week=week, **filters).order_by("pk").first()  # type: ignore[return-value]


def test_the_coordinator_adjusts_lines_by_hand(pial: Pial, client: Client) -> None:
    week = planned(pial)
    line = _a_line(week, product=pial.products["carottes"])
    change = {
        "producer": line.producer_id,
        "kitchen": line.kitchen_id,
        "product": line.product_id,
        "day": f"{line.day}",
        "quantity": int(line.quantity) - 1_000,
    }
    response = patch(client, URL + "/lines", [change], headers=who(pial, "coordinator"))
    assert response.status_code == 200, response.content
    [out] = response.json()
    assert out["id"] == line.pk and out["quantity"] == line.quantity - 1_000 and out["adjusted"] is True
    line.refresh_from_db()
    assert line.quantity == out["quantity"]


def test_a_hand_adjustment_beyond_demand_is_422_and_a_grower_may_not(pial: Pial, client: Client) -> None:
    week = planned(pial)
    line = _a_line(week, product=pial.products["carottes"])
    change = {
        "producer": line.producer_id,
        "kitchen": line.kitchen_id,
        "product": line.product_id,
        "day": f"{line.day}",
        "quantity": int(line.quantity) + 50_000,
    }
    problem = assert_problem(patch(client, URL + "/lines", [change], headers=who(pial, "coordinator")), 422)
    assert fields(problem) == {"0.quantity"}
    problem = assert_problem(
        patch(client, URL + "/lines", [{**change, "kitchen": 999_999}], headers=who(pial, "coordinator")), 422
    )
    assert fields(problem) == {"0.kitchen"}
    assert_problem(patch(client, URL + "/lines", [change], headers=who(pial, "producer")), 403)
    line.refresh_from_db()
    assert line.adjusted is False


# --- shortfalls and receipts ------------------------------------------------------------------------------------


def test_a_grower_reports_a_shortfall_once_per_key(pial: Pial, client: Client) -> None:
    week, url = published_ahead(pial)
    carrots = pial.products["carottes"]
    planned_total = sum(
        x.quantity for x in PlanLine.objects.filter(week=week, producer=pial.saules, product=carrots)
    )
    assert planned_total > 0
    headers = {**who(pial, "producer"), "Idempotency-Key": "hail-2026-10-05"}
    body = {"producer": pial.saules.pk, "product": carrots.pk, "available": 0, "cause": "Grêle"}
    first = post(client, url + "/shortfalls", body, headers=headers)
    assert first.status_code == 201, first.content
    out = first.json()
    assert out["available"] == 0 and out["declared_before"] == 60_000 and out["producer"] == pial.saules.pk
    assert out["changes"] and all(c["reason"] == "shortfall" for c in out["changes"])
    assert not PlanLine.objects.filter(
        week=week, producer=pial.saules, product=carrots, quantity__gt=0
    ).exists()
    again = post(client, url + "/shortfalls", body, headers=headers)
    assert again.status_code == 201 and again.json()["id"] == out["id"]
    assert Shortfall.objects.count() == 1
    assert PlanChange.objects.count() == len(out["changes"])


def test_a_shortfall_key_may_come_in_the_body(pial: Pial, client: Client) -> None:
    _week, url = published_ahead(pial)
    body = {
        "producer": pial.saules.pk,
        "product": pial.products["poireaux"].pk,
        "available": 10_000,
        "idempotency_key": "body-key-1",
    }
    assert post(client, url + "/shortfalls", body, headers=who(pial, "producer")).status_code == 201


def test_shortfall_refusals(pial: Pial, client: Client) -> None:
    published(pial)
    body = {"producer": pial.saules.pk, "product": pial.products["carottes"].pk, "available": 0}
    keyed = {"Idempotency-Key": "k-1"}
    problem = assert_problem(post(client, URL + "/shortfalls", body, headers=who(pial, "producer")), 422)
    assert fields(problem) == {"idempotency_key"}
    problem = assert_problem(
        post(
            client, URL + "/shortfalls", {**body, "available": -3}, headers={**who(pial, "producer"), **keyed}
        ),
        422,
    )
    assert fields(problem) == {"available"}
    problem = assert_problem(
        post(
            client,
            URL + "/shortfalls",
            {**body, "available": 90_000},
            headers={**who(pial, "producer"), **keyed},
        ),
        422,
    )
    assert fields(problem) == {"available"}
    other_farm = {**body, "producer": pial.pic.pk}
    assert_problem(
        post(client, URL + "/shortfalls", other_farm, headers={**who(pial, "producer"), **keyed}), 404
    )
    assert_problem(post(client, URL + "/shortfalls", body, headers={**who(pial, "kitchen"), **keyed}), 403)
    assert not Shortfall.objects.exists()


def test_a_kitchen_records_what_it_received(pial: Pial, client: Client) -> None:
    week = published(pial)
    line = _a_line(week, kitchen=pial.school, product=pial.products["carottes"])
    body = [{"line": line.pk, "received_quantity": int(line.quantity) - 500, "note": "abîmées"}]
    response = post(client, URL + "/receipts", body, headers=who(pial, "kitchen"))
    assert response.status_code == 200, response.content
    [out] = response.json()
    assert out["received_quantity"] == line.quantity - 500 and out["discrepancy"] == -500
    line.refresh_from_db()
    assert line.received_quantity == out["received_quantity"] and line.receipt_note == "abîmées"


def test_receipts_are_a_kitchen_s_own(pial: Pial, client: Client) -> None:
    week = published(pial)
    theirs = _a_line(week, kitchen=pial.ehpad)
    mine = _a_line(week, kitchen=pial.school)
    assert_problem(
        post(
            client,
            URL + "/receipts",
            [{"line": theirs.pk, "received_quantity": 1}],
            headers=who(pial, "kitchen"),
        ),
        404,
    )
    assert_problem(
        post(
            client,
            URL + "/receipts",
            [{"line": mine.pk, "received_quantity": 1}],
            headers=who(pial, "producer"),
        ),
        403,
    )
    problem = assert_problem(
        post(
            client,
            URL + "/receipts",
            [{"line": mine.pk, "received_quantity": -1}],
            headers=who(pial, "kitchen"),
        ),
        422,
    )
    assert fields(problem) == {"0.received_quantity"}
    assert not PlanLine.objects.filter(received_quantity__isnull=False).exists()


# --- money ------------------------------------------------------------------------------------------------------


@dataclass
class Invoiced:
    pial: Pial
    week: SupplyWeek
    school_invoice: Invoice
    ehpad_invoice: Invoice
    saules_statement: Invoice


@pytest.fixture
def invoiced(pial: Pial) -> Invoiced:
    week = published(pial)
    for line in PlanLine.objects.filter(week=week):
        services.receipt_record(line=line, received_quantity=int(line.quantity), actor=None)
    billing.invoices_issue(territory=pial.cast.territory, month=date(2026, 10, 1), actor=None)
    return Invoiced(
        pial,
        week,
        Invoice.objects.get(kitchen=pial.school),
        Invoice.objects.get(kitchen=pial.ehpad),
        Invoice.objects.get(producer=pial.saules),
    )


def test_the_coordinator_issues_a_month(pial: Pial, client: Client) -> None:
    week = published(pial)
    for line in PlanLine.objects.filter(week=week):
        services.receipt_record(line=line, received_quantity=int(line.quantity), actor=None)
    headers = who(pial, "coordinator")
    response = post(client, "/api/v1/supply/invoices/issue", {"month": "2026-10"}, headers=headers)
    assert response.status_code == 200, response.content
    issued = response.json()
    kitchens = {d["kitchen"] for d in issued if d["kitchen"]}
    assert kitchens == {pial.school.pk, pial.ehpad.pk}
    assert {d["producer"] for d in issued if d["producer"]} == {
        pial.saules.pk,
        pial.pic.pk,
        pial.terrasses.pk,
    }
    school = next(d for d in issued if d["kitchen"] == pial.school.pk)
    assert (
        school["total_cents"]
        == school["producers_cents"] + school["service_fee_cents"] + school["levy_cents"]
    )
    assert school["reference"].startswith("PIAL-")
    again = post(client, "/api/v1/supply/invoices/issue", {"month": "2026-10"}, headers=headers)
    assert again.status_code == 200 and again.json() == []
    assert Invoice.objects.count() == len(issued)


@pytest.mark.parametrize("name", ["producer", "kitchen", "committee", "funder"])
def test_only_coordinators_issue(pial: Pial, client: Client, name: str) -> None:
    assert_problem(
        post(client, "/api/v1/supply/invoices/issue", {"month": "2026-10"}, headers=who(pial, name)), 403
    )


@pytest.mark.parametrize("month", ["2026-13", "10/2026", "", "2099-01"])
def test_issuing_a_bad_month_is_422(pial: Pial, client: Client, month: str) -> None:
    problem = assert_problem(
        post(client, "/api/v1/supply/invoices/issue", {"month": month}, headers=who(pial, "coordinator")), 422
    )
    assert fields(problem) == {"month"}


def test_invoices_are_listed_by_who_asks(invoiced: Invoiced, client: Client) -> None:
    pial = invoiced.pial

    def ids(name: str, query: str = "") -> set[int]:
        response = client.get(f"/api/v1/supply/invoices{query}", headers=who(pial, name))
        assert response.status_code == 200, response.content
        return {d["id"] for d in response.json()}

    assert ids("coordinator") == set(Invoice.objects.values_list("pk", flat=True))
    assert ids("coordinator", "?month=2026-09") == set()
    assert ids("kitchen") == {invoiced.school_invoice.pk}
    assert ids("kitchen2") == {invoiced.ehpad_invoice.pk}
    assert ids("producer") == {invoiced.saules_statement.pk}
    assert_problem(client.get("/api/v1/supply/invoices", headers=who(pial, "committee")), 403)
    problem = assert_problem(
        client.get("/api/v1/supply/invoices?month=oct", headers=who(pial, "coordinator")), 422
    )
    assert fields(problem) == {"month"}


def test_each_document_says_what_it_is_and_an_invoice_when_it_is_due(
    invoiced: Invoiced, client: Client
) -> None:
    pial = invoiced.pial
    pial.platform.payment_terms_days = 45
    pial.platform.save(update_fields=["payment_terms_days"])
    note = billing.credit_note_issue(
        invoice=invoiced.school_invoice, lines=None, reason="Abîmées", idempotency_key="cn-1", actor=None
    )
    response = client.get("/api/v1/supply/invoices", headers=who(pial, "coordinator"))
    assert response.status_code == 200, response.content
    by_id = {d["id"]: d for d in response.json()}
    school = by_id[invoiced.school_invoice.pk]
    assert (school["kind"], school["document"]) == ("invoice", "invoice")
    assert school["due_on"] == f"{invoiced.school_invoice.issued_on + timedelta(days=45)}"
    statement = by_id[invoiced.saules_statement.pk]
    assert (statement["kind"], statement["document"], statement["due_on"]) == ("invoice", "statement", None)
    credit = by_id[note.pk]
    assert (credit["kind"], credit["document"], credit["due_on"]) == ("credit_note", "credit_note", None)
    assert {d["document"] for d in by_id.values()} == {"invoice", "statement", "credit_note"}


def test_the_coordinator_records_a_payment_once(invoiced: Invoiced, client: Client) -> None:
    pial, invoice = invoiced.pial, invoiced.school_invoice
    url = f"/api/v1/supply/invoices/{invoice.pk}/paid"
    assert_problem(post(client, url, {"reference": "VIR-1"}, headers=who(pial, "kitchen")), 403)
    response = post(client, url, {"reference": "VIR-1"}, headers=who(pial, "coordinator"))
    assert response.status_code == 200, response.content
    paid_at = response.json()["paid_at"]
    assert paid_at is not None
    again = post(client, url, {"reference": "VIR-1"}, headers=who(pial, "coordinator"))
    assert again.json()["paid_at"] == paid_at
    assert_problem(
        post(client, "/api/v1/supply/invoices/999999/paid", {}, headers=who(pial, "coordinator")), 404
    )
    problem = assert_problem(
        post(client, url, {"reference": "x" * 101}, headers=who(pial, "coordinator")), 422
    )
    assert fields(problem) == {"reference"}


def test_an_invoice_of_another_territory_is_not_found(invoiced: Invoiced, client: Client) -> None:
    client.force_login(invoiced.pial.cast["outsider"])
    response = post(
        client, f"/api/v1/supply/invoices/{invoiced.school_invoice.pk}/paid?territory=ailleurs", {}
    )
    assert_problem(response, 404)
    invoiced.school_invoice.refresh_from_db()
    assert invoiced.school_invoice.paid_at is None


@pytest.mark.parametrize("name", ["coordinator", "committee", "funder"])
def test_the_development_fund_for_figures_readers(invoiced: Invoiced, client: Client, name: str) -> None:
    response = client.get("/api/v1/supply/devfund", headers=who(invoiced.pial, name))
    assert response.status_code == 200, response.content
    body = response.json()
    levies = Invoice.objects.filter(kitchen__isnull=False).values_list("levy_cents", flat=True)
    assert body["balance_cents"] == sum(levies) > 0
    assert body["retained"][0]["levy_cents"] == sum(levies)
    assert body["movements"] and all(
        (m["memo"] is None) == (name != "coordinator") for m in body["movements"]
    )


@pytest.mark.parametrize("name", ["producer", "kitchen", "member"])
def test_the_development_fund_is_not_for_others(pial: Pial, client: Client, name: str) -> None:
    assert_problem(client.get("/api/v1/supply/devfund", headers=who(pial, name)), 403)


# --- EGalim -----------------------------------------------------------------------------------------------------


def test_a_kitchen_reads_its_own_egalim_shares(invoiced: Invoiced, client: Client) -> None:
    pial = invoiced.pial
    response = client.get(
        f"/api/v1/supply/egalim?kitchen={pial.school.pk}&year=2026", headers=who(pial, "kitchen")
    )
    assert response.status_code == 200, response.content
    [school] = response.json()
    assert (
        school["kitchen"] == pial.school.pk and school["total_cents"] == invoiced.school_invoice.total_cents
    )
    assert (
        school["organic_cents"] <= school["quality_cents"] == school["total_cents"]
    )  # every farm has a label
    assert school["organic_target_percent"] == 20 and school["quality_met"] is True
    assert [m["month"] for m in school["months"]] == ["2026-10-01"]
    assert [f["family"] for f in school["families"]] == ["FRUITS_ET_LEGUMES"]
    mine = client.get("/api/v1/supply/egalim?year=2026", headers=who(pial, "kitchen")).json()
    assert [k["kitchen"] for k in mine] == [pial.school.pk]
    assert_problem(
        client.get(f"/api/v1/supply/egalim?kitchen={pial.ehpad.pk}", headers=who(pial, "kitchen")), 404
    )


@pytest.mark.parametrize("name", ["coordinator", "committee", "funder"])
def test_figures_readers_see_every_kitchen_s_shares(invoiced: Invoiced, client: Client, name: str) -> None:
    pial = invoiced.pial
    body = client.get("/api/v1/supply/egalim?year=2026", headers=who(pial, name)).json()
    assert {k["kitchen"] for k in body} == {pial.school.pk, pial.ehpad.pk}
    empty = client.get("/api/v1/supply/egalim?year=2025", headers=who(pial, name)).json()
    assert all(k["total_cents"] == 0 and k["organic_percent"] is None for k in empty)


@pytest.mark.parametrize("name", ["producer", "member", "cashier"])
def test_egalim_is_not_for_others(pial: Pial, client: Client, name: str) -> None:
    assert_problem(client.get("/api/v1/supply/egalim", headers=who(pial, name)), 403)


@pytest.mark.parametrize("query", ["year=1800", "year=deux", "kitchen=abc"])
def test_egalim_bad_input_is_422(pial: Pial, client: Client, query: str) -> None:
    problem = assert_problem(
        client.get(f"/api/v1/supply/egalim?{query}", headers=who(pial, "coordinator")), 422
    )
    assert fields(problem) == {query.split("=")[0]}
