"""The biowaste API for every member of the cast: campaigns listed and read within one's reach (a kitchen never
sees another's weighings), a service's weighing recorded once under its key, bad input refused as problem+json
naming the field, an unusual value refused until confirmed; a hypothesis test sends any JSON object as a weighing
and never gets a server error."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grenier.core import services as core_services
from grenier.core.models import Role
from grenier.waste.models import BiowasteDelivery, Campaign, Weighing

from ..core.test_api import assert_problem, post
from .conftest import Kitchens, weigh

EVERYONE = [*(role.value for role in Role), "outsider", "other_kitchen"]


def _bearer(k: Kitchens, who: str) -> dict[str, str]:
    if who == "other_kitchen":
        user, territory = k.other_kitchen, k.cast.territory
    elif who == "outsider":
        user, territory = k.cast["outsider"], k.cast.elsewhere
    else:
        user, territory = k.cast[who], k.cast.territory
    return {"Authorization": f"Bearer {core_services.token_create(user=user, territory=territory)[1]}"}


WEIGHING = {
    "day": "2026-11-16",
    "service": "lunch",
    "meals": 300,
    "preparation_g": 4_000,
    "unserved_g": 9_000,
    "plate_g": 21_000,
    "bread_g": 1_500,
    "idempotency_key": "api-weigh-0001",
}


@pytest.mark.parametrize("who", EVERYONE)
def test_who_reads_which_campaigns(kitchens: Kitchens, client: Client, who: str) -> None:
    weigh(kitchens.autumn, date(2026, 11, 16), 300, plate=20_000)
    headers = _bearer(kitchens, who)
    listed = client.get("/api/v1/waste/campaigns", headers=headers)
    detail = client.get(f"/api/v1/waste/campaigns/{kitchens.autumn.pk}", headers=headers)
    if who in {"coordinator", "committee", "kitchen"}:
        assert [c["id"] for c in listed.json()] == [kitchens.autumn.pk]
        assert detail.status_code == 200 and len(detail.json()["weighings_list"]) == 1
    elif who == "other_kitchen":  # its own kitchen has no campaign: the school's is not found
        assert listed.json() == []
        assert_problem(detail, 404)
    elif who == "outsider":
        assert listed.json() == []  # its own territory's: none there
        assert_problem(detail, 404)
    else:
        assert_problem(listed, 403)
        assert_problem(detail, 403)


@pytest.mark.parametrize("who", EVERYONE)
def test_only_the_kitchen_s_managers_record(kitchens: Kitchens, client: Client, who: str) -> None:
    response = post(
        client, f"/api/v1/waste/campaigns/{kitchens.autumn.pk}/weighings", WEIGHING, _bearer(kitchens, who)
    )
    expected = {"kitchen": 201, "coordinator": 403, "committee": 403, "other_kitchen": 404}.get(who, 403)
    if who == "outsider":
        expected = 404
    assert response.status_code == expected, response.content
    assert Weighing.objects.count() == (1 if who == "kitchen" else 0)


def test_a_weighing_and_its_figures(kitchens: Kitchens, client: Client) -> None:
    headers = _bearer(kitchens, "kitchen")
    url = f"/api/v1/waste/campaigns/{kitchens.autumn.pk}/weighings"
    first = post(client, url, WEIGHING, headers)
    assert first.status_code == 201
    assert first.json()["total_g"] == 35_500 and first.json()["grams_per_meal"] == "118.3"
    again = post(client, url, WEIGHING, headers)  # a retry: the same weighing
    assert again.status_code == 201 and again.json()["id"] == first.json()["id"]
    assert Weighing.objects.count() == 1
    reused = post(client, url, {**WEIGHING, "meals": 301}, headers)
    assert assert_problem(reused, 409)["type"].endswith("idempotency-key-reused")
    twice = post(client, url, {**WEIGHING, "idempotency_key": "api-weigh-0002"}, headers)
    assert "service" in [e["field"] for e in assert_problem(twice, 409)["errors"]]
    post(
        client,
        url,
        {**WEIGHING, "day": "2026-11-17", "meals": 320, "idempotency_key": "api-weigh-0003"},
        headers,
    )
    detail = client.get(f"/api/v1/waste/campaigns/{kitchens.autumn.pk}", headers=headers).json()
    assert detail["meals"] == 620 and detail["total_g"] == 71_000 and detail["grams_per_meal"] == "114.5"
    assert {k["kind"]: k["grams"] for k in detail["by_kind"]} == {
        "preparation": 8_000,
        "unserved": 18_000,
        "plate": 42_000,
        "bread": 3_000,
    }
    assert detail["references"][0]["low_g"] == 100 and "ADEME" in detail["references"][0]["source"]


@pytest.mark.parametrize(
    ("change", "status", "field"),
    [
        ({"meals": 0}, 422, "meals"),
        ({"meals": -1}, 422, "meals"),
        ({"plate_g": -5}, 422, "plate_g"),
        ({"plate_g": 2.5}, 422, "plate_g"),
        ({"plate_g": "100"}, 422, "plate_g"),
        ({"day": "2026-12-01"}, 422, "day"),
        ({"day": "16/11/2026"}, 422, "day"),
        ({"service": "breakfast"}, 422, "service"),
        ({"service": "dinner"}, 422, "service"),
        ({"meals": 10, "plate_g": 30_000}, 422, "plate"),
        ({"weight": 1}, 422, "weight"),
    ],
)
def test_bad_input_is_a_problem_naming_the_field(
    kitchens: Kitchens, client: Client, change: dict[str, Any], status: int, field: str
) -> None:
    response = post(
        client,
        f"/api/v1/waste/campaigns/{kitchens.autumn.pk}/weighings",
        {**WEIGHING, **change},
        _bearer(kitchens, "kitchen"),
    )
    assert field in [e["field"] for e in assert_problem(response, status)["errors"]]
    assert not Weighing.objects.exists()


def test_an_unusual_value_is_refused_until_confirmed(kitchens: Kitchens, client: Client) -> None:
    url = f"/api/v1/waste/campaigns/{kitchens.autumn.pk}/weighings"
    headers = _bearer(kitchens, "kitchen")
    unusual = {**WEIGHING, "meals": 100, "preparation_g": 0, "unserved_g": 0, "plate_g": 35_000, "bread_g": 0}
    problem = assert_problem(post(client, url, unusual, headers), 422)
    assert problem["type"].endswith("unusual-value") and problem["errors"][0]["field"] == "plate"
    assert not Weighing.objects.exists()
    confirmed = post(client, url, {**unusual, "confirm": True}, headers)
    assert confirmed.status_code == 201 and confirmed.json()["confirmed_unusual"] is True


def test_a_campaign_and_a_delivery_through_the_api(kitchens: Kitchens, client: Client) -> None:
    headers = _bearer(kitchens, "kitchen")
    body = {
        "kitchen": kitchens.school.pk,
        "name": "Après",
        "phase": "after",
        "starts_on": "2026-11-30",
        "ends_on": "2026-12-11",
        "services": ["lunch"],
        "compares_with": kitchens.autumn.pk,
        "idempotency_key": "api-campaign-1",
    }
    created = post(client, "/api/v1/waste/campaigns", body, headers)
    assert created.status_code == 201 and created.json()["compares_with"] == kitchens.autumn.pk
    assert_problem(
        post(client, "/api/v1/waste/campaigns", {**body, "kitchen": kitchens.ehpad.pk}, headers), 404
    )
    other = post(
        client,
        "/api/v1/waste/campaigns",
        {**body, "idempotency_key": "x" * 9},
        _bearer(kitchens, "other_kitchen"),
    )
    assert_problem(other, 404)  # the school is not its kitchen
    assert Campaign.objects.count() == 2
    delivery = {
        "kitchen": kitchens.school.pk,
        "day": "2026-11-20",
        "weight_g": 85_000,
        "kind": "farm",
        "producer": kitchens.farm.pk,
        "idempotency_key": "api-delivery-1",
    }
    assert post(client, "/api/v1/waste/deliveries", delivery, headers).status_code == 201
    refused = post(
        client,
        "/api/v1/waste/deliveries",
        {**delivery, "producer": None, "idempotency_key": "api-delivery-2"},
        headers,
    )
    assert "producer" in [e["field"] for e in assert_problem(refused, 422)["errors"]]
    listed = client.get("/api/v1/waste/deliveries", headers=_bearer(kitchens, "other_kitchen")).json()
    assert listed == [] and BiowasteDelivery.objects.count() == 1
    assert (
        client.get("/api/v1/waste/deliveries", headers=_bearer(kitchens, "committee")).json()[0]["weight_g"]
        == 85_000
    )


_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False)
    | st.text(max_size=12),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=8,
)
FIELDS = st.sampled_from([*WEIGHING, "confirm", "note"])


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(body=st.dictionaries(FIELDS, _JSON, max_size=9))
def test_any_weighing_body_answers_a_problem_or_a_weighing(
    kitchens: Kitchens, client: Client, body: dict
) -> None:
    response = post(
        client,
        f"/api/v1/waste/campaigns/{kitchens.autumn.pk}/weighings",
        {**WEIGHING, **body},
        {
            "Authorization": TOKEN.setdefault(
                kitchens.autumn.pk, _bearer(kitchens, "kitchen")["Authorization"]
            )
        },
    )
    assert response.status_code in {201, 409, 422}, response.content
    if response.status_code != 201:
        assert_problem(response, response.status_code)


TOKEN: dict[int, str] = {}


def test_a_weighing_corrected_through_the_api(kitchens: Kitchens, client: Client) -> None:
    weighing = weigh(kitchens.autumn, date(2026, 11, 16), 31, plate=21_000, confirm=True)
    url = f"/api/v1/waste/weighings/{weighing.pk}/correction"
    body = {"meals": 310, "plate_g": 21_000}
    assert_problem(post(client, url, body, _bearer(kitchens, "other_kitchen")), 404)
    assert_problem(post(client, url, body, _bearer(kitchens, "committee")), 403)
    assert_problem(post(client, url, {"meals": 0}, _bearer(kitchens, "kitchen")), 422)
    corrected = post(client, url, body, _bearer(kitchens, "kitchen"))
    assert corrected.status_code == 200 and corrected.json()["meals"] == 310
    assert corrected.json()["grams_per_meal"] == "67.7"  # 21,000 g / 310
