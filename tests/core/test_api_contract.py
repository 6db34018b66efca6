"""The API as a contract, whatever the endpoint (issue 11): input no handler should see is refused with a 422, 413 or
401 problem, never a server error; every error is problem+json; a restarted database costs no request.

What each app's own schemas bound (months, quantities, ids…) is tested in that app's ``test_api_contract.py``.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from typing import Any

import psycopg
import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.db import connection
from django.test import Client

from grenier.core import services
from grenier.core.models import Household

from ..conftest import Cast
from .test_api import NEW_HOUSEHOLD, assert_problem, bearer, post

NUL = "\x00"


def fields(problem: dict[str, Any]) -> list[str]:
    return [error["field"] for error in problem.get("errors", [])]


# --- every error is problem+json ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "url", "allowed"),
    [
        ("delete", "/api/v1/me", "GET"),
        ("put", "/api/v1/households", "GET, POST"),
        ("patch", "/api/v1/households/1", "GET"),
        ("get", "/api/v1/households/1/leave", "POST"),
        ("delete", "/api/v1/fund/figures", "GET"),
    ],
)
def test_a_wrong_method_answers_405_problem_json_with_allow(
    cast: Cast, client: Client, method: str, url: str, allowed: str
) -> None:
    response = getattr(client, method)(url, headers=bearer(cast, "coordinator"))
    body = assert_problem(response, 405)
    assert body["type"] == "urn:grenier:problem:method-not-allowed"
    assert sorted(response["Allow"].split(", ")) == sorted(allowed.split(", "))
    assert allowed.split(", ")[0] in body["detail"]


def test_a_wrong_method_without_credentials_is_still_problem_json(cast: Cast, client: Client) -> None:
    assert_problem(client.put("/api/v1/me"), 405)


@pytest.mark.parametrize(
    ("url", "body"),
    [
        ("/api/v1/households", NEW_HOUSEHOLD),
        ("/api/v1/payments", {"household": "1", "amount_cents": 100, "idempotency_key": "k" * 8}),
        ("/api/v1/fund/runs", {"month": "2026-11"}),
    ],
)
def test_a_write_without_credentials_is_401_not_a_csrf_failure(
    cast: Cast, url: str, body: dict[str, Any]
) -> None:
    client = Client(enforce_csrf_checks=True)  # as a program outside the browser meets the API
    response = post(client, url, body)
    problem = assert_problem(response, 401)
    assert problem["type"] == "urn:grenier:problem:unauthenticated"
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_session_without_its_csrf_token_is_403_problem_json(cast: Cast) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(cast["coordinator"])
    problem = assert_problem(post(client, "/api/v1/households?territory=vallee", NEW_HOUSEHOLD), 403)
    assert "CSRF" in problem["detail"]
    assert not Household.objects.filter(name="Foyer API").exists()
    secret = "s" * 32  # what a page leaves in the csrftoken cookie, sent back in the header
    client.cookies["csrftoken"] = secret
    created = post(
        client, "/api/v1/households?territory=vallee", NEW_HOUSEHOLD, headers={"X-CSRFToken": secret}
    )
    assert created.status_code == 201, created.content


# --- sizes --------------------------------------------------------------------------------------------------------


def test_a_body_over_the_upload_limit_is_413_problem_json(cast: Cast, client: Client) -> None:
    big = json.dumps({**NEW_HOUSEHOLD, "name": "x" * 3_000_000})  # DATA_UPLOAD_MAX_MEMORY_SIZE is 2.5 MB
    response = client.post(
        "/api/v1/households", data=big, content_type="application/json", headers=bearer(cast, "coordinator")
    )
    problem = assert_problem(response, 413)
    assert "2621440" in problem["detail"]
    assert not Household.objects.filter(name__startswith="xxx").exists()


def test_too_many_query_parameters_are_a_bad_request_not_a_server_error(cast: Cast, client: Client) -> None:
    query = "&".join(f"p{index}=1" for index in range(1_200))  # DATA_UPLOAD_MAX_NUMBER_FIELDS is 1,000
    assert_problem(client.get(f"/api/v1/households?{query}", headers=bearer(cast, "coordinator")), 400)


# --- NUL characters and integers beyond 64 bits, in any field -----------------------------------------------------


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"idempotency_key": f"abc{NUL}defgh"}, "idempotency_key"),
        ({"name": f"Foyer{NUL}"}, "name"),
        ({"persons": [{"first_name": f"I{NUL}ris"}]}, "persons.0.first_name"),
        ({"monthly_resources_cents": 2**63}, "monthly_resources_cents"),
        ({"monthly_resources_cents": -(2**64)}, "monthly_resources_cents"),
    ],
)
def test_a_nul_character_or_a_huge_integer_in_a_body_is_422(
    cast: Cast, client: Client, change: dict[str, Any], field: str
) -> None:
    """PostgreSQL refuses NUL in text (a DataError deep in the query) and no column holds 2^63: both 422."""
    before = Household.objects.count()
    response = post(client, "/api/v1/households", {**NEW_HOUSEHOLD, **change}, bearer(cast, "coordinator"))
    assert field in fields(assert_problem(response, 422))
    assert Household.objects.count() == before


def test_a_nul_character_in_a_json_key_is_422(cast: Cast, client: Client) -> None:
    response = post(
        client, "/api/v1/households", {**NEW_HOUSEHOLD, f"na{NUL}me": 1}, bearer(cast, "coordinator")
    )
    assert_problem(response, 422)


def test_a_nul_character_in_the_query_or_a_header_is_422(cast: Cast, client: Client) -> None:
    headers = bearer(cast, "coordinator")
    assert fields(assert_problem(client.get("/api/v1/households?q=Foyer%00", headers=headers), 422)) == ["q"]
    assert fields(assert_problem(client.get("/api/v1/households?territory=%00", headers=headers), 422)) == [
        "territory"
    ]
    session = Client()
    session.force_login(cast["coordinator"])
    refused = session.get("/api/v1/households", headers={"X-Grenier-Territory": f"val{NUL}lee"})
    assert fields(assert_problem(refused, 422)) == ["X-Grenier-Territory"]


def test_a_nul_character_in_a_page_query_is_a_400_page(cast: Cast, client: Client) -> None:
    """The households' search box of the pages: a NUL in ?q= failed in PostgreSQL like the API's."""
    client.force_login(cast["coordinator"])
    refused = client.get("/t/vallee/households/?q=Foyer%00")
    assert refused.status_code == 400 and refused["Content-Type"].startswith("text/html")
    assert client.get("/t/vallee/households/?q=Foyer").status_code == 200


def test_text_without_nul_still_goes_through(cast: Cast, client: Client) -> None:
    """The check looks for the character, not for what looks like it: an escaped backslash before u0000 is text."""
    body = {**NEW_HOUSEHOLD, "name": "Foyer \\u0000 échappé"}
    created = post(client, "/api/v1/households", body, bearer(cast, "coordinator"))
    assert created.status_code == 201, created.content
    assert created.json()["name"] == "Foyer \\u0000 échappé"


def test_an_unreadable_body_is_still_the_parsers_400(cast: Cast, client: Client) -> None:
    response = client.post(
        "/api/v1/households",
        data="[" * 100_000,
        content_type="application/json",
        headers=bearer(cast, "coordinator"),
    )
    assert_problem(response, 400)


# --- what the people's schemas bound --------------------------------------------------------------------------------


@pytest.mark.parametrize("offset", [2**63, 2**64, 10**10, -1])
def test_an_offset_beyond_any_listing_is_422(cast: Cast, client: Client, offset: int) -> None:
    response = client.get(f"/api/v1/households?offset={offset}", headers=bearer(cast, "coordinator"))
    assert fields(assert_problem(response, 422)) == ["offset"]


def test_the_largest_offset_is_an_empty_page(cast: Cast, client: Client) -> None:
    response = client.get(f"/api/v1/households?offset={10**9}", headers=bearer(cast, "coordinator"))
    assert response.status_code == 200 and response.json() == {"count": 2, "items": []}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"joined_on": "9999-12-31"}, "joined_on"),
        ({"joined_on": "0001-01-01"}, "joined_on"),
        ({"persons": [{"first_name": "Iris", "birth_date": "1899-12-31"}]}, "persons.0.birth_date"),
        ({"persons": [{"first_name": "Iris", "birth_date": "9999-01-01"}]}, "persons.0.birth_date"),
    ],
)
def test_days_outside_2000_to_2100_are_422(
    cast: Cast, client: Client, change: dict[str, Any], field: str
) -> None:
    response = post(client, "/api/v1/households", {**NEW_HOUSEHOLD, **change}, bearer(cast, "coordinator"))
    assert fields(assert_problem(response, 422)) == [field]


def test_a_birth_date_of_the_last_century_is_fine(cast: Cast, client: Client) -> None:
    body = {**NEW_HOUSEHOLD, "persons": [{"first_name": "Jo", "birth_date": "1931-05-05"}]}
    assert post(client, "/api/v1/households", body, bearer(cast, "coordinator")).status_code == 201


# --- a restarted database -----------------------------------------------------------------------------------------


def _wsgi_get(path: str, headers: dict[str, str]) -> tuple[str, bytes]:
    """One request through the WSGI handler as a server calls it, with the request_started signal that closes
    or checks kept connections (Django's test client skips that signal)."""
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": io.StringIO(),
        **{"HTTP_" + name.upper().replace("-", "_"): value for name, value in headers.items()},
    }
    status: list[str] = []

    def start_response(code: str, _headers: list[tuple[str, str]], *_: object) -> Callable[[bytes], object]:
        status.append(code)
        return lambda _data: None

    response = WSGIHandler()(environ, start_response)
    try:
        return status[0], b"".join(response)
    finally:
        response.close()  # request_finished: a young, usable connection is kept for the next request


@pytest.mark.skipif(connection.vendor != "postgresql", reason="kept connections and their checks: PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_the_first_request_after_a_database_restart_is_served(cast: Cast) -> None:
    _token, key = services.token_create(user=cast["cashier"], territory=cast.territory)
    headers = {"Authorization": f"Bearer {key}"}
    assert _wsgi_get("/api/v1/me", headers)[0].startswith("200")
    kept = connection.connection
    assert kept is not None and connection.settings_dict["CONN_MAX_AGE"] > 0
    params = {
        k: v for k, v in connection.get_connection_params().items() if k not in {"cursor_factory", "context"}
    }
    with psycopg.connect(**params, autocommit=True) as admin:  # the server drops the worker's connection
        admin.execute("SELECT pg_terminate_backend(%s)", [kept.info.backend_pid])
    status, body = _wsgi_get("/api/v1/me", headers)
    assert status.startswith("200"), body
    assert json.loads(body)["email"] == "cashier@test.grenier"
    assert connection.connection is not kept  # reopened, not failed on


# --- ids in the path beyond a 64-bit integer ----------------------------------------------------------------------


@pytest.mark.parametrize("huge", ["73733037444430340096", str(2**63), "0" * 30 + str(2**64)])
def test_an_id_beyond_64_bits_in_the_path_is_not_found(cast: Cast, client: Client, huge: str) -> None:
    """The fuzz found ``GET /orders/referred-households/73733037444430340096`` answering 500 (OverflowError)."""
    headers = bearer(cast, "social_worker")
    assert_problem(client.get(f"/api/v1/orders/referred-households/{huge}", headers=headers), 404)
    assert_problem(client.get(f"/api/v1/households/{huge}", headers=bearer(cast, "coordinator")), 404)
    client.force_login(cast["coordinator"])
    assert client.get(f"/baskets/gardens/{huge}/").status_code == 404


def test_the_largest_id_a_column_holds_is_looked_up_without_error(cast: Cast, client: Client) -> None:
    headers = bearer(cast, "social_worker")
    assert_problem(client.get(f"/api/v1/orders/referred-households/{2**63 - 1}", headers=headers), 404)
