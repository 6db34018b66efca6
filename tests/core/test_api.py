"""The JSON API: every endpoint, with and without the right credentials, and every kind of bad input."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from grenier.core import services
from grenier.core.models import Household

from ..conftest import Cast

PROBLEM = "application/problem+json"


def bearer(cast: Cast, who: str, territory: str = "territory") -> dict[str, str]:
    _token, key = services.token_create(user=cast[who], territory=getattr(cast, territory))
    return {"Authorization": f"Bearer {key}"}


def post(client: Client, url: str, body: Any, headers: dict[str, str] | None = None) -> Any:
    data = body if isinstance(body, str) else json.dumps(body)
    return client.post(url, data=data, content_type="application/json", headers=headers)


def assert_problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == PROBLEM
    body = response.json()
    assert body["status"] == status and body["title"] and body["type"].startswith("urn:grenier:problem:")
    return body


NEW_HOUSEHOLD = {
    "name": "Foyer API",
    "email": "api@test.grenier",
    "monthly_resources_cents": 98000,
    "persons": [{"first_name": "Iris", "birth_date": "1988-03-03"}, {"first_name": "Léo", "is_child": True}],
    "idempotency_key": "api-create-0001",
}


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("get", "/api/v1/me"),
        ("get", "/api/v1/territories"),
        ("get", "/api/v1/households"),
        ("post", "/api/v1/households"),
        ("get", "/api/v1/households/1"),
        ("post", "/api/v1/households/1/leave"),
    ],
)
def test_every_endpoint_needs_credentials(cast: Cast, client: Client, method: str, url: str) -> None:
    response = getattr(client, method)(url)
    assert_problem(response, 401)
    assert response["WWW-Authenticate"].startswith("Bearer")
    bad = getattr(client, method)(url, headers={"Authorization": "Bearer grn_not-a-real-token"})
    assert_problem(bad, 401)


def test_me_with_a_token(cast: Cast, client: Client) -> None:
    response = client.get("/api/v1/me", headers=bearer(cast, "cashier"))
    assert response.status_code == 200
    body = response.json()
    assert body["email"] == "cashier@test.grenier"
    assert body["token_territory"] == "vallee"
    assert body["territories"] == [{"slug": "vallee", "name": "Vallée", "roles": ["cashier"]}]


def test_territories_of_the_caller_only(cast: Cast, client: Client) -> None:
    response = client.get("/api/v1/territories", headers=bearer(cast, "outsider", "elsewhere"))
    assert [t["slug"] for t in response.json()] == ["ailleurs"]


def test_a_coordinator_lists_households(cast: Cast, client: Client) -> None:
    response = client.get("/api/v1/households", headers=bearer(cast, "coordinator"))
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    names = {h["name"] for h in body["items"]}
    assert names == {"Foyer Martin-Test", "Foyer Voisin-Test"}
    martin = next(h for h in body["items"] if h["name"] == "Foyer Martin-Test")
    assert martin["persons_count"] == 2 and martin["consumption_units"] == "1.3"
    assert client.get("/api/v1/households?q=voisin", headers=bearer(cast, "coordinator")).json()["count"] == 1


def test_a_member_lists_only_their_own_household(cast: Cast, client: Client) -> None:
    body = client.get("/api/v1/households", headers=bearer(cast, "member")).json()
    assert [h["id"] for h in body["items"]] == [cast.household.pk]


@pytest.mark.parametrize("who", ["committee", "cashier", "producer", "kitchen", "social_worker", "funder"])
def test_other_roles_may_not_list_households(cast: Cast, client: Client, who: str) -> None:
    body = assert_problem(client.get("/api/v1/households", headers=bearer(cast, who)), 403)
    assert "Martin" not in json.dumps(body)


def test_an_outsider_is_told_the_territory_does_not_exist(cast: Cast, client: Client) -> None:
    client.force_login(cast["outsider"])
    assert_problem(client.get("/api/v1/households?territory=vallee"), 404)
    assert client.get("/api/v1/households?territory=ailleurs").status_code == 200


def test_a_token_works_in_its_own_territory_only(cast: Cast, client: Client) -> None:
    body = assert_problem(
        client.get("/api/v1/households?territory=ailleurs", headers=bearer(cast, "coordinator")), 422
    )
    assert body["errors"][0]["field"] == "territory"


def test_a_coordinator_creates_a_household_once_per_key(cast: Cast, client: Client) -> None:
    headers = bearer(cast, "coordinator")
    first = post(client, "/api/v1/households", NEW_HOUSEHOLD, headers=headers)
    assert first.status_code == 201, first.content
    again = post(client, "/api/v1/households", NEW_HOUSEHOLD, headers=headers)
    assert again.status_code == 201
    assert again.json()["id"] == first.json()["id"]
    assert Household.objects.filter(name="Foyer API").count() == 1
    created = first.json()
    assert created["persons_count"] == 2 and created["monthly_resources_cents"] == 98000
    assert len(created["card_number"]) == 12


@pytest.mark.parametrize(
    "who", ["committee", "member", "cashier", "producer", "kitchen", "social_worker", "funder"]
)
def test_only_a_coordinator_creates_households(cast: Cast, client: Client, who: str) -> None:
    assert_problem(post(client, "/api/v1/households", NEW_HOUSEHOLD, headers=bearer(cast, who)), 403)
    assert not Household.objects.filter(name="Foyer API").exists()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"name": ""}, "name"),
        ({"persons": []}, "persons"),
        ({"monthly_resources_cents": -5}, "monthly_resources_cents"),
        ({"monthly_resources_cents": "lots"}, "monthly_resources_cents"),
        ({"email": "not-an-email"}, "email"),
        ({"joined_on": "31/12/2026"}, "joined_on"),
        ({"joined_on": "2999-01-01"}, "joined_on"),
        ({"persons": [{"first_name": "X", "birth_date": "2999-01-01"}]}, "persons.0.birth_date"),
        ({"idempotency_key": "short"}, "idempotency_key"),
    ],
)
def test_bad_input_gets_422_with_the_field(
    cast: Cast, client: Client, change: dict[str, Any], field: str
) -> None:
    body = {**NEW_HOUSEHOLD, **change}
    problem = assert_problem(
        post(client, "/api/v1/households", body, headers=bearer(cast, "coordinator")), 422
    )
    assert field in {error["field"] for error in problem["errors"]}, problem


@pytest.mark.parametrize("raw", ["{not json", "[1, 2", '"a string"', "null"])
def test_unreadable_bodies_are_problems_not_crashes(cast: Cast, client: Client, raw: str) -> None:
    response = post(client, "/api/v1/households", raw, headers=bearer(cast, "coordinator"))
    assert response.status_code in {400, 422}
    assert response["Content-Type"] == PROBLEM


def test_reading_one_household(cast: Cast, client: Client) -> None:
    own = client.get(f"/api/v1/households/{cast.household.pk}", headers=bearer(cast, "member"))
    assert own.status_code == 200 and own.json()["email"] == "martin@test.grenier"
    assert_problem(
        client.get(f"/api/v1/households/{cast.other_household.pk}", headers=bearer(cast, "member")), 404
    )
    assert_problem(
        client.get(f"/api/v1/households/{cast.household.pk}", headers=bearer(cast, "committee")), 404
    )
    assert_problem(client.get("/api/v1/households/999999", headers=bearer(cast, "coordinator")), 404)
    assert_problem(client.get("/api/v1/households/abc", headers=bearer(cast, "coordinator")), 422)


def test_a_member_leaves_through_the_api(cast: Cast, client: Client) -> None:
    headers = bearer(cast, "member")
    response = post(client, f"/api/v1/households/{cast.household.pk}/leave", {}, headers=headers)
    assert response.status_code == 200
    body = response.json()
    assert body["active"] is False and body["email"] == "" and "Martin" not in body["name"]
    assert all(p["first_name"] == "" and p["birth_date"] is None for p in body["persons"])


def test_leave_rules_through_the_api(cast: Cast, client: Client) -> None:
    url = f"/api/v1/households/{cast.other_household.pk}/leave"
    assert_problem(post(client, url, {}, headers=bearer(cast, "member")), 404)
    assert_problem(post(client, url, {}, headers=bearer(cast, "committee")), 404)
    assert_problem(post(client, url, {"on": "1999-01-01"}, headers=bearer(cast, "coordinator")), 422)
    headers = bearer(cast, "coordinator")
    assert post(client, url, {}, headers=headers).status_code == 200
    assert post(client, url, {}, headers=headers).status_code == 200  # leaving twice changes nothing


def test_a_browser_session_needs_the_csrf_token_to_write(cast: Cast) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(cast["coordinator"])
    assert client.get("/api/v1/households?territory=vallee").status_code == 200
    refused = post(client, "/api/v1/households?territory=vallee", NEW_HOUSEHOLD)
    assert refused.status_code in {401, 403}
    assert refused["Content-Type"] == PROBLEM
    assert not Household.objects.filter(name="Foyer API").exists()


def test_unknown_paths_and_methods_are_problems(cast: Cast, client: Client) -> None:
    assert_problem(client.get("/api/v1/no-such-thing"), 404)
    assert_problem(client.get("/api/v2/me"), 404)
    response = client.delete("/api/v1/households", headers=bearer(cast, "coordinator"))
    assert response.status_code == 405


def test_the_openapi_description_lists_the_endpoints(client: Client, db: None) -> None:
    spec = client.get("/api/v1/openapi.json").json()
    assert spec["info"]["title"] == "Grenier API"
    for path in [
        "/api/v1/me",
        "/api/v1/territories",
        "/api/v1/households",
        "/api/v1/households/{household_id}/leave",
    ]:
        assert path in spec["paths"]
    docs = client.get("/api/v1/docs")
    assert docs.status_code == 200 and b"/static/" in docs.content
