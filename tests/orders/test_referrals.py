"""Tiers set by a referral, and households added by a group's own coordinators by their card number.

* Only the social worker who referred a household (their own ``baskets.Referral``, consent given) sets its tier in a
  buying group — adding it to the group if need be; any other social worker is told the household does not exist;
  other roles are refused. The membership records the referral and who set it; the household may then pay more,
  never less.
* A group's own coordinator (no role to list the territory's households) adds a household by its card number and
  sees no household outside the group.
"""

from __future__ import annotations

import json
from datetime import date

import pytest
from django.test import Client
from django.urls import reverse

from grenier.baskets import services as baskets_services
from grenier.baskets.models import Referral
from grenier.core import services as core_services
from grenier.core.errors import Forbidden, InvalidInput, NotFound
from grenier.core.models import Household, Role, User
from grenier.orders import services
from grenier.orders.models import GroupMembership

from ..conftest import make_user
from ..core.test_api import assert_problem, post
from .conftest import Groups


def _token(user: User, g: Groups) -> dict[str, str]:
    _t, key = core_services.token_create(user=user, territory=g.cast.territory)
    return {"Authorization": f"Bearer {key}"}


def _put(client: Client, url: str, body: object, headers: dict[str, str]):
    return client.put(url, data=json.dumps(body), content_type="application/json", headers=headers)


@pytest.fixture
def referral(groups: Groups) -> Referral:
    """``cast["social_worker"]`` referred the other member's household (in "L'Autre Groupe" only, not in "Les
    Gourmands") to a garden, with its consent."""
    g = groups
    garden = baskets_services.garden_create(territory=g.cast.territory, name="Jardin Test", actor=None)
    return baskets_services.referral_create(
        garden=garden,
        social_worker=g.cast["social_worker"],
        consent=True,
        idempotency_key="referral-1",
        card=g.other_household.card_number,
    )


@pytest.fixture
def other_social_worker(groups: Groups) -> User:
    user = make_user("social2@test.grenier", "Other social worker")
    core_services.role_grant(user=user, territory=groups.cast.territory, role=Role.SOCIAL_WORKER)
    return user


@pytest.fixture
def volunteer(groups: Groups) -> User:
    """A group's own coordinator: a volunteer with the cashier role, who may not list the territory's households."""
    user = make_user("volunteer@test.grenier", "Volunteer")
    core_services.role_grant(user=user, territory=groups.cast.territory, role=Role.CASHIER)
    services.coordinator_add(group=groups.group, user=user, actor=None)
    return user


# --- a tier set by a referral -------------------------------------------------------------------------------------


def test_the_referring_social_worker_adds_the_household_at_a_tier_once(
    groups: Groups, referral: Referral, login
) -> None:
    g = groups
    slug = g.cast.territory.slug
    social = g.cast["social_worker"]
    listing = login(social).get(reverse("orders_referred", args=[slug]))
    assert listing.status_code == 200 and g.other_household.display_name in listing.content.decode()
    url = reverse("orders_referred_household", args=[slug, g.other_household.pk])
    assert login(social).get(url).status_code == 200
    form = {"group": g.group.pk, "tier": g.tiers[70].pk}
    assert login(social).post(url, form).status_code == 302
    assert login(social).post(url, form).status_code == 302  # the same again: one membership, the same tier
    memberships = GroupMembership.objects.filter(group=g.group, household=g.other_household)
    assert memberships.count() == 1
    membership = memberships.get()
    assert membership.tier == g.tiers[70] and membership.left_on is None
    assert membership.tier_source == "referral" and membership.referral_percent == 70
    assert membership.set_by_referral == referral and membership.tier_set_by == social
    # the household may choose to pay more, never less than the referral's tier
    group_page = reverse("orders_group", args=[slug, g.group.pk])
    assert login(g.other_member).post(group_page + "tier/", {"tier": g.tiers[130].pk}).status_code == 302
    membership.refresh_from_db()
    assert membership.tier == g.tiers[130] and membership.tier_source == "referral"
    assert membership.set_by_referral == referral and membership.tier_set_by == g.other_member
    # the social worker raises the floor to 100 %; the household cannot go below it any more
    assert login(social).post(url, {"group": g.group.pk, "tier": g.tiers[100].pk}).status_code == 302
    refused = login(g.other_member).post(group_page + "tier/", {"tier": g.tiers[70].pk})
    assert refused.status_code == 200
    membership.refresh_from_db()
    assert membership.tier == g.tiers[100] and membership.referral_percent == 100


def test_a_tier_of_another_group_is_refused_on_the_form(groups: Groups, referral: Referral, login) -> None:
    g = groups
    other_tier = g.other_group.tiers.get(percent=70)
    url = reverse("orders_referred_household", args=[g.cast.territory.slug, g.other_household.pk])
    response = login(g.cast["social_worker"]).post(url, {"group": g.group.pk, "tier": other_tier.pk})
    assert response.status_code == 200
    assert not GroupMembership.objects.filter(group=g.group, household=g.other_household).exists()


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("other_social_worker", 404),
        ("coordinator", 403),
        ("committee", 403),
        ("member", 403),
        ("cashier", 403),
        ("producer", 403),
        ("funder", 403),
        ("outsider", 404),
        ("nobody", 404),
    ],
)
def test_nobody_else_sets_a_referred_households_tier(
    groups: Groups, referral: Referral, other_social_worker: User, login, who: str, status: int
) -> None:
    g = groups
    slug = g.cast.territory.slug
    user = other_social_worker if who == "other_social_worker" else g.cast[who]
    client = login(user)
    url = reverse("orders_referred_household", args=[slug, g.other_household.pk])
    assert client.get(url).status_code == status
    assert client.post(url, {"group": g.group.pk, "tier": g.tiers[70].pk}).status_code == status
    assert not GroupMembership.objects.filter(group=g.group, household=g.other_household).exists()
    listing = client.get(reverse("orders_referred", args=[slug]))
    if who == "other_social_worker":
        assert listing.status_code == 200 and g.other_household.display_name not in listing.content.decode()
    else:
        assert listing.status_code == status


def test_a_social_worker_cannot_set_the_tier_of_a_household_nobody_referred(groups: Groups, login) -> None:
    g = groups
    url = reverse("orders_referred_household", args=[g.cast.territory.slug, g.cast.household.pk])
    assert login(g.cast["social_worker"]).get(url).status_code == 404


def test_the_service_refuses_a_referral_that_is_not_the_actors(
    groups: Groups, referral: Referral, other_social_worker: User
) -> None:
    g = groups
    with pytest.raises(NotFound):
        services.tier_set_by_referral(
            group=g.group, tier=g.tiers[70], referral=referral, actor=other_social_worker
        )
    with pytest.raises(InvalidInput):
        services.tier_set_by_referral(
            group=g.group,
            tier=g.other_group.tiers.get(percent=70),
            referral=referral,
            actor=g.cast["social_worker"],
        )
    assert not GroupMembership.objects.filter(group=g.group, household=g.other_household).exists()
    membership = services.tier_set_by_referral(
        group=g.group, tier=g.tiers[100], referral=referral, actor=g.cast["social_worker"]
    )
    with pytest.raises(Forbidden):
        services.tier_set(membership=membership, tier=g.tiers[70], actor=None, by_household=True)


def test_the_api_lets_the_referring_social_worker_only(
    groups: Groups, referral: Referral, other_social_worker: User, client: Client
) -> None:
    g = groups
    social = _token(g.cast["social_worker"], g)
    listed = client.get("/api/v1/orders/referred-households", headers=social)
    assert listed.status_code == 200
    assert [(r["household"], r["referral"], r["memberships"]) for r in listed.json()] == [
        (g.other_household.pk, referral.pk, listed.json()[0]["memberships"])
    ]
    assert {m["group"] for m in listed.json()[0]["memberships"]} == {g.other_group.pk}
    detail = client.get(f"/api/v1/orders/referred-households/{g.other_household.pk}", headers=social)
    assert detail.status_code == 200
    gourmands = next(x for x in detail.json()["groups"] if x["id"] == g.group.pk)
    assert {t["percent"] for t in gourmands["tiers"]} == {70, 100, 130} and gourmands["membership"] is None
    url = f"/api/v1/orders/referred-households/{g.other_household.pk}/groups/{g.group.pk}"
    set_ = _put(client, url, {"tier": g.tiers[70].pk}, social)
    assert set_.status_code == 200, set_.content
    body = set_.json()
    assert (body["tier_percent"], body["tier_source"], body["referral_percent"]) == (70, "referral", 70)
    assert body["set_by_referral"] == referral.pk and body["tier_set_by"] == g.cast["social_worker"].pk
    again = _put(client, url, {"tier": g.tiers[70].pk}, social)
    assert again.json()["id"] == body["id"]
    assert GroupMembership.objects.filter(group=g.group, household=g.other_household).count() == 1
    wrong_tier = _put(client, url, {"tier": g.other_group.tiers.get(percent=100).pk}, social)
    assert {e["field"] for e in assert_problem(wrong_tier, 422)["errors"]} == {"tier"}
    other = _token(other_social_worker, g)
    assert client.get("/api/v1/orders/referred-households", headers=other).json() == []
    assert_problem(_put(client, url, {"tier": g.tiers[130].pk}, other), 404)
    assert_problem(
        client.get(f"/api/v1/orders/referred-households/{g.other_household.pk}", headers=other), 404
    )
    for who in ("coordinator", "member", "producer"):
        assert_problem(_put(client, url, {"tier": g.tiers[130].pk}, _token(g.cast[who], g)), 403)
    # a social worker of another territory: the household is not found in the territory their token acts in
    elsewhere = make_user("social-elsewhere@test.grenier", "Elsewhere")
    core_services.role_grant(user=elsewhere, territory=g.cast.elsewhere, role=Role.SOCIAL_WORKER)
    _t, key = core_services.token_create(user=elsewhere, territory=g.cast.elsewhere)
    assert_problem(_put(client, url, {"tier": g.tiers[130].pk}, {"Authorization": f"Bearer {key}"}), 404)
    assert GroupMembership.objects.get(group=g.group, household=g.other_household).tier == g.tiers[70]


# --- a group's own coordinators add households by card number -----------------------------------------------------


def test_a_groups_own_coordinator_adds_a_household_by_its_card_and_sees_no_other(
    groups: Groups, volunteer: User, login
) -> None:
    g = groups
    slug = g.cast.territory.slug
    url = reverse("orders_group", args=[slug, g.group.pk])
    client = login(volunteer)
    page = client.get(url).content.decode()
    assert (
        'id="add-by-card"' in page and 'name="household"' not in page and 'name="find"' not in page
    )  # no list of the territory's households, no search in them
    assert g.cast.household.display_name in page  # the group's own members
    assert g.other_household.display_name not in page and g.other_household.card_number not in page
    searched = client.get(url + "?find=ailleurs").content.decode()
    assert 'name="household"' not in searched and g.other_household.display_name not in searched
    bad = client.post(url + "members/by-card/", {"card": "1234 5678 9012", "tier": g.tiers[100].pk})
    assert bad.status_code == 200 and g.other_household.display_name not in bad.content.decode()
    assert not GroupMembership.objects.filter(group=g.group, household=g.other_household).exists()
    card = g.other_household.card_number
    spaced = " ".join(card[i : i + 4] for i in range(0, len(card), 4))
    added = client.post(url + "members/by-card/", {"card": spaced, "tier": g.tiers[130].pk})
    assert added.status_code == 302
    assert client.post(url + "members/by-card/", {"card": card, "tier": g.tiers[130].pk}).status_code == 302
    membership = GroupMembership.objects.get(group=g.group, household=g.other_household)
    assert membership.tier == g.tiers[130]
    # a group they do not coordinate does not exist for them, and they cannot add to it
    other = reverse("orders_group", args=[slug, g.other_group.pk])
    assert client.get(other).status_code == 404
    assert client.post(other + "members/by-card/", {"card": card, "tier": g.tiers[100].pk}).status_code == 404
    # the territory's coordinator also finds any household of the territory (searched, then picked from a list)
    coordinator = login(g.cast["coordinator"])
    assert 'name="find"' in coordinator.get(url).content.decode()
    Household.objects.create(
        territory=g.cast.territory,
        name="Foyer Nouveau-Test",
        card_number="70000001",
        joined_on=date(2024, 1, 1),
    )
    assert 'name="household"' in coordinator.get(url + "?find=nouveau").content.decode()


def test_a_member_who_does_not_coordinate_cannot_add_a_household(groups: Groups, login) -> None:
    g = groups
    url = reverse("orders_group_card", args=[g.cast.territory.slug, g.group.pk])
    form = {"card": g.other_household.card_number, "tier": g.tiers[100].pk}
    assert login(g.cast["member"]).post(url, form).status_code == 403
    assert login(g.other_member).post(url, form).status_code == 404
    assert not GroupMembership.objects.filter(group=g.group, household=g.other_household).exists()


def test_the_api_adds_a_household_by_card_for_the_groups_coordinators_only(
    groups: Groups, volunteer: User, client: Client
) -> None:
    g = groups
    url = f"/api/v1/orders/groups/{g.group.pk}/members"
    body = {"card": g.other_household.card_number, "tier": g.tiers[70].pk}
    assert_problem(post(client, url, body, _token(g.cast["member"], g)), 403)
    assert_problem(post(client, url, body, _token(g.other_member, g)), 404)
    assert_problem(post(client, url, body, _token(g.cast["kitchen"], g)), 403)
    assert_problem(post(client, url, body, _token(g.cast["social_worker"], g)), 403)
    unknown = assert_problem(post(client, url, {"card": "0000"}, _token(volunteer, g)), 422)
    assert {e["field"] for e in unknown["errors"]} == {"card"}
    assert not GroupMembership.objects.filter(group=g.group, household=g.other_household).exists()
    added = post(client, url, body, _token(volunteer, g))
    assert added.status_code == 201, added.content
    assert added.json()["household"] == g.other_household.pk and added.json()["tier_percent"] == 70
    assert post(client, url, body, _token(volunteer, g)).json()["id"] == added.json()["id"]
    assert_problem(
        post(client, f"/api/v1/orders/groups/{g.other_group.pk}/members", body, _token(volunteer, g)), 404
    )


def test_a_withdrawn_referral_no_longer_lets_its_social_worker_set_the_tier(
    groups: Groups, referral: Referral, login
) -> None:
    g = groups
    url = reverse("orders_referred_household", args=[g.cast.territory.slug, g.other_household.pk])
    assert login(g.cast["social_worker"]).get(url).status_code == 200
    baskets_services.referral_withdraw(referral=referral, actor=g.cast["social_worker"])
    assert login(g.cast["social_worker"]).get(url).status_code == 404
