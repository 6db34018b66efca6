"""The baskets' API: who may call each endpoint, a social worker's own referrals, a volunteer's own sheets,
idempotent writes."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from grenier.baskets import services
from grenier.baskets.models import (
    DistributionLine,
    DistributionSheet,
    Frequency,
    LineStatus,
    MemberPayment,
    Referral,
)
from grenier.core.models import Role

from ..core.test_api import assert_problem, bearer, post
from .conftest import Baskets

ROLES = [role.value for role in Role]
EVERYONE = [*ROLES, "outsider", "nobody"]


def _call(client: Client, baskets: Baskets, who: str, method: str, url: str, body: Any = None) -> Any:
    """People with a role here call with a token; the others with a browser session naming the territory."""
    if who in ROLES or who == "volunteer":
        headers = bearer(baskets.cast, who)
    else:
        client.force_login(baskets.cast[who])
        headers = {"X-Grenier-Territory": baskets.territory.slug}
    if method == "get":
        return client.get(url, headers=headers)
    return post(client, url, body or {}, headers=headers)


def _endpoints(baskets: Baskets) -> dict[str, tuple[str, str, Any, set[str]]]:
    services.distribution_generate(garden=baskets.garden, day=baskets.thursday, actor=None)
    sheet = DistributionSheet.objects.get(pickup_point=baskets.halle, on=baskets.thursday)
    line = sheet.lines.get()
    funder = baskets.foundation.pk
    return {
        "offers": (
            "get",
            "/api/v1/baskets/offers",
            None,
            {"coordinator", "member", "cashier", "social_worker"},
        ),
        "subscriptions": ("get", "/api/v1/baskets/subscriptions", None, {"coordinator", "member"}),
        "subscription": (
            "get",
            f"/api/v1/baskets/subscriptions/{baskets.subscription.pk}",
            None,
            {"coordinator", "member"},
        ),
        "referrals": ("get", "/api/v1/baskets/referrals", None, {"coordinator", "social_worker"}),
        "sheets": ("get", "/api/v1/baskets/sheets", None, {"coordinator", "cashier"}),
        "sheet": ("get", f"/api/v1/baskets/sheets/{sheet.pk}", None, {"coordinator", "cashier"}),
        "check": (
            "post",
            f"/api/v1/baskets/sheets/{sheet.pk}/lines/{line.pk}",
            {"collected": True},
            {"coordinator", "cashier"},
        ),
        "statement": (
            "get",
            f"/api/v1/baskets/statements?funder={funder}&from=2020-01-01&to=2030-12-31",
            None,
            {"coordinator", "committee", "funder"},
        ),
        "forecast": ("get", f"/api/v1/baskets/gardens/{baskets.garden.pk}/forecast", None, {"coordinator"}),
        "generate": (
            "post",
            "/api/v1/baskets/distributions",
            {"garden": baskets.garden.pk, "day": baskets.thursday.isoformat()},
            {"coordinator"},
        ),
        "payment": (
            "post",
            "/api/v1/baskets/payments",
            {
                "garden": baskets.garden.pk,
                "household": baskets.cast.household.card_number,
                "amount_cents": 450,
                "method": "cash",
                "idempotency_key": "api-pay-0001",
            },
            {"coordinator"},
        ),
    }


ENDPOINTS = [
    "offers",
    "subscriptions",
    "subscription",
    "referrals",
    "sheets",
    "sheet",
    "check",
    "statement",
    "forecast",
    "generate",
    "payment",
]


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("who", EVERYONE)
def test_endpoint_access(baskets: Baskets, client: Client, endpoint: str, who: str) -> None:
    method, url, body, allowed = _endpoints(baskets)[endpoint]
    response = _call(client, baskets, who, method, url, body)
    if who in allowed:
        assert response.status_code in (200, 201), (who, endpoint, response.content)
    else:
        assert_problem(response, 403 if who in ROLES else 404)


def test_a_social_worker_cannot_see_another_s_referral(baskets: Baskets, client: Client) -> None:
    from grenier.core import services as core_services

    from ..conftest import make_user

    colleague = make_user("social-2@test.grenier")
    core_services.role_grant(user=colleague, territory=baskets.territory, role=Role.SOCIAL_WORKER)
    theirs = services.referral_create(
        garden=baskets.garden,
        social_worker=colleague,
        consent=True,
        idempotency_key="ref-api-theirs",
        new_household=services.NewHousehold(name="Foyer Autre"),
    )
    headers = bearer(baskets.cast, "social_worker")
    assert_problem(client.get(f"/api/v1/baskets/referrals/{theirs.pk}", headers=headers), 404)
    body = {
        "garden": baskets.garden.pk,
        "consent": True,
        "name": "Foyer API",
        "first_name": "Lina",
        "persons": 2,
        "idempotency_key": "ref-api-0001",
    }
    created = post(client, "/api/v1/baskets/referrals", body, headers=headers)
    assert created.status_code == 201 and created.json()["status"] == "member"
    again = post(client, "/api/v1/baskets/referrals", body, headers=headers)
    assert again.json()["id"] == created.json()["id"]
    listed = client.get("/api/v1/baskets/referrals", headers=headers).json()
    assert [r["id"] for r in listed] == [created.json()["id"]]
    refused = post(
        client,
        "/api/v1/baskets/referrals",
        {**body, "consent": False, "idempotency_key": "ref-api-2"},
        headers=headers,
    )
    assert "consent" in {e["field"] for e in assert_problem(refused, 422)["errors"]}
    assert Referral.objects.count() == 2


def test_a_volunteer_checks_off_only_their_pickup_points(baskets: Baskets, client: Client) -> None:
    services.distribution_generate(garden=baskets.garden, day=baskets.thursday, actor=None)
    halle = DistributionSheet.objects.get(pickup_point=baskets.halle, on=baskets.thursday)
    line = halle.lines.get()
    headers = bearer(baskets.cast, "volunteer")
    assert_problem(client.get(f"/api/v1/baskets/sheets/{halle.pk}", headers=headers), 404)
    assert_problem(
        post(
            client, f"/api/v1/baskets/sheets/{halle.pk}/lines/{line.pk}", {"collected": True}, headers=headers
        ),
        404,
    )
    assert_problem(post(client, f"/api/v1/baskets/sheets/{halle.pk}/close", {}, headers=headers), 404)
    assert [s["pickup_point"] for s in client.get("/api/v1/baskets/sheets", headers=headers).json()] == [
        "École"
    ]
    line.refresh_from_db()
    assert line.status == LineStatus.DUE
    cashier = bearer(baskets.cast, "cashier")
    checked = post(
        client, f"/api/v1/baskets/sheets/{halle.pk}/lines/{line.pk}", {"collected": True}, headers=cashier
    )
    assert checked.json()["status"] == "collected"
    closed = post(client, f"/api/v1/baskets/sheets/{halle.pk}/close", {}, headers=cashier)
    assert closed.json()["closed"] is True
    assert_problem(
        post(
            client,
            f"/api/v1/baskets/sheets/{halle.pk}/lines/{line.pk}",
            {"collected": False},
            headers=cashier,
        ),
        409,
    )


def test_generating_and_paying_twice_record_once(baskets: Baskets, client: Client) -> None:
    headers = bearer(baskets.cast, "coordinator")
    body = {"garden": baskets.garden.pk, "day": baskets.thursday.isoformat()}
    first = post(client, "/api/v1/baskets/distributions", body, headers=headers).json()
    second = post(client, "/api/v1/baskets/distributions", body, headers=headers).json()
    assert (first["lines_created"], second["lines_created"]) == (1, 0)
    assert first["sheets"] == second["sheets"] and DistributionLine.objects.count() == 1
    pay = {
        "garden": baskets.garden.pk,
        "household": baskets.cast.household.card_number,
        "amount_cents": 450,
        "method": "cheque",
        "reference": "CHQ 7",
        "idempotency_key": "api-pay-0002",
    }
    one = post(client, "/api/v1/baskets/payments", pay, headers=headers)
    two = post(client, "/api/v1/baskets/payments", pay, headers=headers)
    assert one.json()["id"] == two.json()["id"] and one.json()["balance_cents"] == 0
    assert MemberPayment.objects.count() == 1


def test_a_member_manages_its_own_subscription(baskets: Baskets, client: Client) -> None:
    headers = bearer(baskets.cast, "member")
    mine = client.get("/api/v1/baskets/subscriptions", headers=headers).json()
    assert [s["id"] for s in mine] == [baskets.subscription.pk]
    away = mine[0]["next_baskets"][1]
    after = post(
        client,
        f"/api/v1/baskets/subscriptions/{baskets.subscription.pk}/absences",
        {"on": away},
        headers=headers,
    ).json()
    assert after["absences"] == [away] and away not in after["next_baskets"]
    paused = post(
        client,
        f"/api/v1/baskets/subscriptions/{baskets.subscription.pk}/status",
        {"action": "pause"},
        headers=headers,
    ).json()
    assert paused["paused_from"] is not None
    other = services.subscription_create(
        household=baskets.cast.other_household,
        offer=baskets.small,
        pickup_point=baskets.gare,
        frequency=Frequency.WEEKLY,
        start_on=baskets.thursday,
        actor=None,
    )
    assert_problem(client.get(f"/api/v1/baskets/subscriptions/{other.pk}", headers=headers), 404)
    # a second basket at the same garden is refused (409, on the household), once the first stopped it is taken
    second = {
        "offer": baskets.large.pk,
        "pickup_point": baskets.halle.pk,
        "start_on": baskets.thursday.isoformat(),
        "idempotency_key": "sub-api-0000",
    }
    refused = post(client, "/api/v1/baskets/subscriptions", second, headers=headers)
    assert_problem(refused, 409)
    assert [e["field"] for e in refused.json()["errors"]] == ["household"]
    services.subscription_stop(subscription=baskets.subscription, actor=None)
    # the member subscribes to the other offer at its garden (it is a member of it)
    created = post(
        client,
        "/api/v1/baskets/subscriptions",
        {
            "offer": baskets.large.pk,
            "pickup_point": baskets.halle.pk,
            "start_on": baskets.thursday.isoformat(),
            "idempotency_key": "sub-api-0001",
        },
        headers=headers,
    )
    assert created.status_code == 201 and created.json()["household"] == baskets.cast.household.pk


def test_a_funder_reads_only_its_own_statement(baskets: Baskets, client: Client) -> None:
    headers = bearer(baskets.cast, "funder")
    url = "/api/v1/baskets/statements?from=2020-01-01&to=2030-12-31&funder="
    assert client.get(f"{url}{baskets.foundation.pk}", headers=headers).status_code == 200
    assert_problem(client.get(f"{url}{baskets.department.pk}", headers=headers), 404)
