"""The map's API and command: every endpoint for every role, bad input answered 4xx problem+json, retries answered
with the same row; the exports parsed back (GEXF and GraphML with an XML parser, checked against their formats'
structure; CSV with the csv module)."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from typing import Any
from xml.etree import ElementTree as ET

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from openpyxl import load_workbook

from grenier.core.models import Role
from grenier.network import exports, services
from grenier.network.models import Actor, Booking, Cooperation, LevelChange

from ..core.test_api import assert_problem, bearer, post
from .conftest import Map, new_cooperation

ROLES = [role.value for role in Role]
GEXF = "{http://gexf.net/1.3}"
GRAPHML = "{http://graphml.graphdrawing.org/xmlns}"


def _coop_body(m: Map, **kwargs: Any) -> dict[str, Any]:
    body = {
        "title": "Épicerie solidaire partagée",
        "sort": "theme",
        "level": 2,
        "actors": [m.food_bank.pk, m.town_hall.pk],
        "starts_on": timezone.localdate().isoformat(),
        "themes": ["social_action"],
        "idempotency_key": "api-coop-0001",
    }
    body.update(kwargs)
    return body


@pytest.mark.parametrize("who", [*ROLES, "outsider"])
def test_who_may_call_each_endpoint(net: Map, client: Client, who: str) -> None:
    territory = "elsewhere" if who == "outsider" else "territory"
    headers = bearer(net.cast, who, territory)
    cooperation = new_cooperation(net)
    reads = [
        "/api/v1/network/actors",
        f"/api/v1/network/actors/{net.food_bank.pk}",
        "/api/v1/network/cooperations",
        f"/api/v1/network/cooperations/{cooperation.pk}",
        "/api/v1/network/resources",
        "/api/v1/network/bookings",
    ]
    for url in reads:
        response = client.get(url, headers=headers)
        if who == "outsider":
            assert response.status_code in {200, 404}, url  # their own territory's map: empty, or not found
            assert response.status_code != 200 or response.json() == [], url
        else:
            assert response.status_code == 200, (url, response.content)
    writes = [
        ("/api/v1/network/actors", {"name": "CCAS", "kind": "ccas", "idempotency_key": f"actor-{who}-1"}),
        ("/api/v1/network/cooperations", _coop_body(net, idempotency_key=f"coop-{who}-01")),
        (
            f"/api/v1/network/cooperations/{cooperation.pk}/level",
            {"level": 3, "reason": "Mutualisation", "idempotency_key": f"level-{who}-1"},
        ),
    ]
    writes.append((f"/api/v1/network/cooperations/{cooperation.pk}/end", {"reason": "Fin du projet"}))
    for url, body in writes:
        response = post(client, url, body, headers)
        if who == "coordinator" or (who == "outsider" and "actors" in url):  # the outsider's own territory
            assert response.status_code == (200 if url.endswith("/end") else 201), (url, response.content)
        elif who == "outsider":  # this territory's actors and cooperations are not theirs to know
            assert_problem(response, 404 if url.endswith(("/level", "/end")) else 422)
        else:
            assert_problem(response, 403)
    assert Cooperation.objects.get(pk=cooperation.pk).ends_on == (
        timezone.localdate() if who == "coordinator" else None
    )


def test_contacts_are_answered_to_coordinators_only(net: Map, client: Client) -> None:
    for who, shown in [("coordinator", True), ("committee", False), ("member", False)]:
        actors = client.get("/api/v1/network/actors", headers=bearer(net.cast, who)).json()
        bank = next(a for a in actors if a["id"] == net.food_bank.pk)
        assert (bank["contact"] is not None) is shown
        assert ("06 11 22 33 44" in str(actors)) is shown


def test_a_level_change_through_the_api_keeps_the_history_and_a_retry_records_once(
    net: Map, client: Client
) -> None:
    headers = bearer(net.cast, "coordinator")
    created = post(client, "/api/v1/network/cooperations", _coop_body(net), headers).json()
    assert (
        post(client, "/api/v1/network/cooperations", _coop_body(net), headers).json()["id"] == created["id"]
    )
    url = f"/api/v1/network/cooperations/{created['id']}/level"
    body = {"level": 3, "reason": "Camion partagé", "idempotency_key": "api-level-0001"}
    first = post(client, url, body, headers).json()
    again = post(client, url, body, headers).json()
    assert first == again
    assert [(h["level_from"], h["level_to"]) for h in first["history"]] == [(None, 2), (2, 3)]
    assert LevelChange.objects.filter(cooperation_id=created["id"]).count() == 2
    problem = assert_problem(post(client, url, {**body, "level": 4}, headers), 409)
    assert problem["type"] == "urn:grenier:problem:idempotency-key-reused"


def test_ending_a_cooperation_keeps_its_history_and_ending_again_changes_nothing(
    net: Map, client: Client
) -> None:
    headers = bearer(net.cast, "coordinator")
    created = post(client, "/api/v1/network/cooperations", _coop_body(net), headers).json()
    url = f"/api/v1/network/cooperations/{created['id']}/end"
    assert_problem(post(client, url, {"on": "2999-01-01"}, headers), 422)
    assert_problem(post(client, url, {"on": "hier"}, headers), 422)
    ended = post(client, url, {"reason": "Le local a fermé"}, headers)
    assert ended.status_code == 200
    assert ended.json()["ends_on"] == timezone.localdate().isoformat()
    assert ended.json()["history"] == created["history"]
    assert post(client, url, {"on": None}, headers).json() == ended.json()


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"level": 6}, 422, "level"),
        ({"level": True}, 422, "level"),
        ({"level": "2"}, 422, "level"),
        ({"actors": [1]}, 422, "actors"),
        ({"actors": [1, 99999999]}, 422, "actors"),
        ({"actors": [1, 2**63]}, 422, ""),
        ({"sort": "friendship"}, 422, "sort"),
        ({"themes": ["sport"]}, 422, "themes.0"),
        ({"starts_on": "2026-13-01"}, 422, "starts_on"),
        ({"starts_on": "2999-01-01"}, 422, "starts_on"),
        ({"title": ""}, 422, "title"),
        ({"colour": "red"}, 422, "colour"),
    ],
)
def test_a_bad_cooperation_is_a_problem_naming_the_field(
    net: Map, client: Client, body: dict[str, Any], status: int, field: str
) -> None:
    response = post(
        client, "/api/v1/network/cooperations", _coop_body(net, **body), bearer(net.cast, "coordinator")
    )
    problem = assert_problem(response, status)
    if field:
        assert field in [e["field"] for e in problem["errors"]], problem


def test_bookings_through_the_api(net: Map, client: Client) -> None:
    services.actors_from_grenier(territory=net.cast.territory, by=None)
    store_actor = Actor.objects.get(store=net.store)
    start = timezone.localdate() + timedelta(days=3)
    body = {
        "resource": net.cold_room.pk,
        "requester": store_actor.pk,
        "starts_on": start.isoformat(),
        "ends_on": (start + timedelta(days=1)).isoformat(),
        "idempotency_key": "api-book-0001",
    }
    cashier = bearer(net.cast, "cashier")
    booking = post(client, "/api/v1/network/bookings", body, cashier)
    assert booking.status_code == 201
    assert post(client, "/api/v1/network/bookings", body, cashier).json() == booking.json()
    # for an actor one does not act for: refused
    assert_problem(
        post(client, "/api/v1/network/bookings", {**body, "requester": net.town_hall.pk}, cashier), 403
    )
    overlap = post(
        client,
        "/api/v1/network/bookings",
        {**body, "requester": net.town_hall.pk, "idempotency_key": "k" * 10},
        bearer(net.cast, "coordinator"),
    )
    assert assert_problem(overlap, 409)["booking"] == booking.json()["id"]
    url = f"/api/v1/network/bookings/{booking.json()['id']}"
    assert_problem(post(client, f"{url}/accept", {}, cashier), 403)  # not the owner
    assert_problem(post(client, f"{url}/accept", {}, bearer(net.cast, "member")), 404)  # not theirs to see
    assert post(client, f"{url}/accept", {}, bearer(net.cast, "social_worker")).json()["status"] == "accepted"
    assert [b["id"] for b in client.get("/api/v1/network/bookings", headers=cashier).json()] == [
        booking.json()["id"]
    ]
    assert Booking.objects.count() == 1
    assert_problem(post(client, f"{url}/withdraw", {}, bearer(net.cast, "social_worker")), 403)  # the owner
    assert_problem(post(client, f"{url}/withdraw", {}, bearer(net.cast, "member")), 404)
    assert post(client, f"{url}/withdraw", {}, cashier).json()["status"] == "withdrawn"
    assert post(client, f"{url}/withdraw", {}, cashier).json()["status"] == "withdrawn"  # a retry
    assert_problem(post(client, f"{url}/accept", {}, bearer(net.cast, "social_worker")), 409)


def _network(net: Map) -> None:
    services.actors_from_grenier(territory=net.cast.territory, by=None)
    first = new_cooperation(net, key="g1", level=2, starts_on=timezone.localdate() - timedelta(days=400))
    services.cooperation_level_set(
        cooperation=first,
        level=4,
        by=None,
        reason="Action commune",
        idempotency_key="g1-up",
        on=timezone.localdate() - timedelta(days=100),
    )
    farm, kitchen = Actor.objects.get(producer=net.farm), Actor.objects.get(kitchen=net.kitchen)
    new_cooperation(net, key="g2", level=5, actors=[farm, kitchen, net.food_bank], title="Légumerie")


def test_the_gexf_opens_as_gexf_with_levels_and_dates_on_the_links(net: Map) -> None:
    _network(net)
    root = ET.fromstring(exports.export_gexf(net.cast.territory))  # noqa: S314 - our own export
    assert root.tag == f"{GEXF}gexf" and root.get("version") == "1.3"
    graph = root.find(f"{GEXF}graph")
    assert graph is not None and graph.get("defaultedgetype") == "undirected"
    nodes = {n.get("id"): n.get("label") for n in graph.iter(f"{GEXF}node")}
    assert nodes[str(net.food_bank.pk)] == "Banque alimentaire de la Vallée"
    assert len(nodes) == Actor.objects.filter(territory=net.cast.territory).count()
    edges = list(graph.iter(f"{GEXF}edge"))
    assert len(edges) == 1 + 3  # a pair, and a cooperation of three actors drawn as its three pairs
    assert all(e.get("source") in nodes and e.get("target") in nodes for e in edges)
    first = next(e for e in edges if e.get("label") == "Distribution partagée")
    assert first.get("weight") == "4"
    spells = [
        (v.get("value"), v.get("start"), v.get("end"))
        for v in first.iter(f"{GEXF}attvalue")
        if v.get("for") == "3"
    ]
    up = (timezone.localdate() - timedelta(days=100)).isoformat()
    assert spells == [("2", (timezone.localdate() - timedelta(days=400)).isoformat(), up), ("4", up, None)]


def test_the_graphml_opens_as_graphml_and_the_command_writes_it(net: Map, tmp_path: Any) -> None:
    _network(net)
    out = tmp_path / "map.graphml"
    call_command("network", "export", "--territory", "vallee", "--format", "graphml", "--output", str(out))
    root = ET.parse(out).getroot()  # noqa: S314 - our own export
    assert root.tag == f"{GRAPHML}graphml"
    keys = {k.get("id"): (k.get("for"), k.get("attr.name")) for k in root.iter(f"{GRAPHML}key")}
    graph = root.find(f"{GRAPHML}graph")
    assert graph is not None
    nodes = {n.get("id") for n in graph.iter(f"{GRAPHML}node")}
    for edge in graph.iter(f"{GRAPHML}edge"):
        assert edge.get("source") in nodes and edge.get("target") in nodes
        data = {keys[d.get("key") or ""][1]: d.text for d in edge.iter(f"{GRAPHML}data")}
        assert data["level"] in {"4", "5"} and data["start"]
    levels = sorted(d.text or "" for d in graph.iter(f"{GRAPHML}data") if d.get("key") == "e_level")
    assert levels == ["4", "5", "5", "5"]


def test_the_csv_exports_read_back(net: Map, tmp_path: Any) -> None:
    _network(net)
    out = tmp_path / "cooperations.csv"
    call_command("network", "export", "--territory", "vallee", "--format", "csv", "--output", str(out))
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert {r["title"]: r["level"] for r in rows} == {"Distribution partagée": "4", "Légumerie": "5"}
    assert rows[0]["history"].count(":") == 2
    actors = list(csv.DictReader(io.StringIO(exports.export_csv(net.cast.territory, "actors"))))
    assert "contact_phone" not in actors[0]


def test_the_xlsx_holds_the_three_tables_as_a_spreadsheet_reads_them(net: Map, tmp_path: Any) -> None:
    _network(net)
    out = tmp_path / "map.xlsx"
    call_command("network", "export", "--territory", "vallee", "--format", "xlsx", "--output", str(out))
    workbook = load_workbook(out)
    assert workbook.sheetnames == ["actors", "cooperations", "resources"]
    cooperations = list(workbook["cooperations"].iter_rows(values_only=True))
    header, rows = cooperations[0], cooperations[1:]
    by_title = {row[header.index("title")]: row for row in rows}
    assert {title: row[header.index("level")] for title, row in by_title.items()} == {
        "Distribution partagée": 4,
        "Légumerie": 5,
    }
    started = by_title["Légumerie"][header.index("starts_on")]
    assert isinstance(started, datetime)  # a date the spreadsheet sorts, not text
    actors = list(workbook["actors"].iter_rows(values_only=True))
    assert "contact_phone" not in actors[0]
    assert len(actors) - 1 == Actor.objects.filter(territory=net.cast.territory).count()


def test_the_known_command_adds_once_and_proposes(net: Map) -> None:
    out = io.StringIO()
    call_command("network", "known", "--territory", "vallee", "--dry-run", stdout=out)
    assert "would add store:" in out.getvalue() and not Actor.objects.filter(store=net.store).exists()
    call_command("network", "known", "--territory", "vallee", "--propose", stdout=out)
    count = Actor.objects.count()
    out = io.StringIO()
    call_command("network", "known", "--territory", "vallee", "--propose", stdout=out)
    assert "0 actors put on the map" in out.getvalue() and "0 cooperations proposed" in out.getvalue()
    assert Actor.objects.count() == count
