"""The buying groups' pages at scale (issue 14): what a page reads and shows does not grow with the group. A group's
page lists its members by pages and offers the households one may add only once searched (the biggest group of a
100,000-household territory has 320 members, each row a form); each page sends as many queries with three times
the members and orders."""

from __future__ import annotations

import random
import re
from datetime import date, timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from grenier.core.models import Household
from grenier.orders import services
from grenier.orders.models import CatalogueProduct, GroupMembership, Order, OrderCycle, Pickup, Unit
from grenier.orders.views.documents import PICKUP_PAGE_SIZE
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


# --- an open cycle: the close's figures summed by the database -----------------------------------------------------


def _orders(g: Groups, cycle: OrderCycle, count: int, start: int, seed: int) -> None:
    """``count`` new member households, at random tiers, each ordering 1 to 9 units of some of the cycle's
    products (never past a product's stock)."""
    rng = random.Random(seed)
    tiers = list(g.tiers.values())
    households = _households(g, count, start)
    GroupMembership.objects.bulk_create(
        GroupMembership(group=g.group, household=h, tier=rng.choice(tiers)) for h in households
    )
    products = list(cycle.products.all())
    for number, household in enumerate(households):
        wanted = {p.pk: rng.randint(1, 9) for p in rng.sample(products, rng.randint(1, len(products)))}
        wanted = {
            pk: qty for pk, qty in wanted.items() if not next(p for p in products if p.pk == pk).max_quantity
        }
        if wanted:
            services.order_place(
                cycle=cycle, household=household, quantities=wanted, idempotency_key=f"o{number}", actor=None
            )


def _cycle(g: Groups, *, round_to_cases: bool) -> OrderCycle:
    eggs = CatalogueProduct.objects.create(
        producer=g.rucher, name="Œufs", unit=Unit.PIECE, price_cents=35, case_size=4
    )
    crate = CatalogueProduct.objects.create(
        producer=g.fournil, name="Brioche", unit=Unit.LOAF, price_cents=733, case_size=5, stock=40
    )
    now = timezone.now()
    return services.cycle_open(
        group=g.group,
        name="Décembre",
        opens_at=now - timedelta(days=1),
        closes_at=now + timedelta(days=5),
        delivery_date=timezone.localdate() + timedelta(days=8),
        pickup_point=g.point,
        products=[g.bread, eggs, crate],
        round_to_cases=round_to_cases,
        actor=None,
    )


@pytest.mark.parametrize("round_to_cases", [False, True])
def test_an_open_cycles_preview_equals_the_close_plan(groups: Groups, round_to_cases: bool) -> None:
    g = groups
    cycle = _cycle(g, round_to_cases=round_to_cases)
    for step in range(4):  # rounded up, down, or whole cases, as the orders come
        _orders(g, cycle, 7, start=100 * step, seed=step)
        plan = services.close_plan(cycle)
        preview = services.close_preview(cycle)
        assert (preview.full_cents, preview.due_cents) == (plan.full_cents, plan.due_cents)
        assert [(p.product.pk, p.ordered, p.final, p.households) for p in preview.products] == [
            (p.product.pk, p.ordered, p.final, p.households) for p in plan.products
        ]
        assert services.cycle_delta(cycle) == plan.delta
    if round_to_cases:
        assert any(p.final != p.ordered for p in plan.products)  # the rounding was exercised


def test_an_open_cycles_page_reads_no_line_and_as_many_queries_with_more_orders(
    groups: Groups, login
) -> None:
    g = groups
    url = reverse("orders_cycle", args=[g.cast.territory.slug, g.cycle.pk])
    services.order_place(
        cycle=g.cycle,
        household=g.cast.household,
        quantities={g.product(g.cycle, g.bread).pk: 2},
        idempotency_key="mine",
        actor=None,
    )
    for who in ("coordinator", "member"):
        client = login(g.cast[who])
        client.get(url)
        _orders(g, g.cycle, 5, start=1000 if who == "coordinator" else 2000, seed=1)
        with CaptureQueriesContext(connection) as small:
            assert client.get(url).status_code == 200
        _orders(g, g.cycle, 15, start=1100 if who == "coordinator" else 2100, seed=2)
        with CaptureQueriesContext(connection) as big:
            assert client.get(url).status_code == 200
        assert len(big) == len(small), who
        read = [  # the cycle's lines (not the member's own order's), row by row
            sql
            for sql in (q["sql"] for q in big.captured_queries)
            if sql.startswith('SELECT "orders_orderline"."')
            and re.search(r'"orders_order"\."cycle_id" = \d', sql)
            and "GROUP BY" not in sql
        ]
        assert not read, read  # every line is summed by the database, none read


# --- a closed cycle's pickup list: by pages, searched ----------------------------------------------------------------


def test_the_pickup_list_shows_a_page_of_households_and_finds_any(groups: Groups, login) -> None:
    g = groups
    _orders(g, g.cycle, PICKUP_PAGE_SIZE + 15, start=3000, seed=3)
    services.cycle_close(cycle=g.cycle, actor=None, early=True)
    orders = list(Order.objects.filter(cycle=g.cycle).order_by("household__name", "pk"))
    total = len(orders)
    assert PICKUP_PAGE_SIZE < total < 2 * PICKUP_PAGE_SIZE
    url = reverse("orders_pickup", args=[g.cast.territory.slug, g.cycle.pk])
    client = login(g.cast["coordinator"])
    first, _ = _get(client, url)
    second, _ = _get(client, url + "?page=2")
    assert (
        first.count('id="order-') == PICKUP_PAGE_SIZE
        and second.count('id="order-') == total - PICKUP_PAGE_SIZE
    )
    assert f"0 sur {total}" in first or f"0 of {total}" in first  # collected: counted over the whole list
    last = orders[-1]
    assert f'id="order-{last.pk}"' in second
    name = last.household.name.removeprefix("Foyer ").lower()
    card = last.household.card_number
    found, _ = _get(client, url + f"?q={name}")
    assert found.count('id="order-') == 1 and f'id="order-{last.pk}"' in found
    by_card, _ = _get(client, url + f"?q={card}")
    assert f'id="order-{last.pk}"' in by_card and by_card.count('id="order-') == 1
    # checked off from the second page, the coordinator is brought back to it
    check = reverse("orders_pickup_check", args=[g.cast.territory.slug, last.pk])
    back = client.post(check, {"collected": "1", "page": "2"})
    assert back.status_code == 302 and back["Location"] == f"{url}?page=2#order-{last.pk}"
    back = client.post(check, {"collected": "1", "q": name})
    assert back["Location"] == f"{url}?q={name}#order-{last.pk}"
    assert Pickup.objects.filter(order=last).exists()
    assert f"1 sur {total}" in _get(client, url)[0] or f"1 of {total}" in _get(client, url)[0]
