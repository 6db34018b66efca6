"""The buying groups' pages at scale (issue 14): what a page reads and shows does not grow with the group. A group's
page lists its members by pages and offers the households one may add only once searched (the biggest group of a
100,000-household territory has 320 members, each row a form); each page sends as many queries with three times
the members and orders."""

from __future__ import annotations

from datetime import date

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from grenier.core.models import Household
from grenier.orders.models import GroupMembership
from grenier.orders.views.groups import FOUND_HOUSEHOLDS, MEMBERS_PAGE_SIZE

from .conftest import Groups


def _households(g: Groups, count: int, start: int = 0) -> list[Household]:
    return Household.objects.bulk_create(
        Household(
            territory=g.cast.territory,
            name=f"Foyer Scale-{number:04d}",
            card_number=f"9{number:07d}",
            joined_on=date(2024, 1, 1),
        )
        for number in range(start, start + count)
    )


def _members(g: Groups, count: int, start: int = 0) -> list[GroupMembership]:
    return GroupMembership.objects.bulk_create(
        GroupMembership(group=g.group, household=h, tier=g.tiers[100]) for h in _households(g, count, start)
    )


def _get(client: Client, url: str) -> tuple[str, int]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return response.content.decode(), len(captured)


def test_a_group_page_shows_a_page_of_its_members_whatever_their_number(groups: Groups, login) -> None:
    g = groups
    url = reverse("orders_group", args=[g.cast.territory.slug, g.group.pk])
    _members(g, MEMBERS_PAGE_SIZE)
    for who in ("coordinator", "volunteer"):
        if who == "volunteer":
            g.group.coordinators.add(g.cast["member"])  # a member household's person coordinates the group
        client = login(g.cast["member" if who == "volunteer" else "coordinator"])
        client.get(url)  # the session's first request reads more (its caches)
        small, small_queries = _get(client, url)
        _members(g, 2 * MEMBERS_PAGE_SIZE, start=1000 if who == "coordinator" else 2000)
        big, big_queries = _get(client, url)
        assert small.count('id="member-') == big.count('id="member-') == MEMBERS_PAGE_SIZE, who
        assert big_queries == small_queries, who


def test_every_member_is_reachable_by_page_or_search(groups: Groups, login) -> None:
    g = groups
    url = reverse("orders_group", args=[g.cast.territory.slug, g.group.pk])
    members = _members(g, MEMBERS_PAGE_SIZE + 5)  # with the cast's two: 32 members, two pages
    client = login(g.cast["coordinator"])
    first, _ = _get(client, url)
    second, _ = _get(client, url + "?page=2")
    shown = {*first.split('id="member-')[1:], *second.split('id="member-')[1:]}
    assert len(shown) == MEMBERS_PAGE_SIZE + 7 and 'rel="next"' in first
    last = members[-1]
    found, _ = _get(client, url + "?q=scale-0029")
    assert found.count('id="member-') == 1 and f'id="member-{last.pk}"' in found
    by_card, _ = _get(client, url + "?q=90000029")
    assert f'id="member-{last.pk}"' in by_card and by_card.count('id="member-') == 1
    # the tier form of a member found on the second page still saves
    referral = reverse("orders_member_tier", args=[g.cast.territory.slug, g.group.pk, last.pk])
    assert client.post(referral, {"tier": g.tiers[70].pk, "referral": "CCAS"}).status_code == 302
    assert GroupMembership.objects.get(pk=last.pk).tier == g.tiers[70]


def test_the_households_to_add_are_offered_once_searched(groups: Groups, login) -> None:
    g = groups
    url = reverse("orders_group", args=[g.cast.territory.slug, g.group.pk])
    outside = _households(g, FOUND_HOUSEHOLDS + 10)
    client = login(g.cast["coordinator"])
    page, _ = _get(client, url)
    assert 'name="find"' in page and 'name="household"' not in page  # no list of the territory's households
    page, _ = _get(client, url + "?find=scale")
    offered = page[page.index('name="household"') :]
    offered = offered[: offered.index("</select>")]
    assert offered.count("<option") == FOUND_HOUSEHOLDS  # the first 20 by name
    assert "Foyer Scale-0000" in offered and "Foyer Scale-0029" not in offered
    page, _ = _get(client, url + f"?find={outside[-1].card_number}")
    assert "Foyer Scale-0029" in page and 'name="household"' in page
    page, _ = _get(client, url + "?find=martin")  # the cast's household: a member already
    assert 'name="household"' not in page and 'id="find-none"' in page
    add = reverse("orders_group_member", args=[g.cast.territory.slug, g.group.pk])
    added = client.post(add, {"household": outside[-1].pk, "tier": g.tiers[70].pk})
    assert added.status_code == 302
    assert GroupMembership.objects.get(group=g.group, household=outside[-1]).tier == g.tiers[70]
    # a member already, or a household of another territory, is refused on the form
    stranger = Household.objects.create(
        territory=g.cast.elsewhere,
        name="Foyer Scale-Ailleurs",
        card_number="80000001",
        joined_on=date(2024, 1, 1),
    )
    for household in (outside[-1], stranger):
        again = client.post(add, {"household": household.pk, "tier": g.tiers[70].pk})
        assert again.status_code == 200 and "household" in again.context["member_form"].errors
    assert not GroupMembership.objects.filter(household=stranger).exists()
