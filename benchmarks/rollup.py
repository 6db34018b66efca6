"""The roll-up's households counted once (``reports.rollup.distinct_households``) on a grouping of two large
territories, beside the per-territory ``households_reached`` computation in the same run (a test-like script, not
part of the suite):

    .venv/bin/pytest -q -s -p no:cacheprovider benchmarks/rollup.py [--households 20000]
    .venv/bin/python tests/pgserver.py .venv/bin/pytest -q -s -p no:cacheprovider benchmarks/rollup.py

Each territory gets N households written in bulk, two persons each, every third one with an account of its own,
1 % of them (in the second territory) sharing the account of a first territory's household; every household a
member of the territory's buying group over the year (the module the households reached reads most simply: the
count is the same whatever module reached a household). Printed: best and median of 7 timings (ms) of each, and
the counts. Figures in docs/PERFORMANCE.md ("Roll-ups")."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from datetime import UTC, date, datetime

import pytest

from grenier.core.models import Grouping, Household, HouseholdPerson, Territory, User
from grenier.orders.models import BuyingGroup, GroupMembership, GroupPickupPoint, OrderCycle, PriceTier
from grenier.reports import registry, rollup
from grenier.reports.registry import Period

HOUSEHOLDS = 20_000
SHARED_EVERY = 100  # one household in a hundred of the second territory is a first territory's family too
YEAR = Period(2026)


def _territory(slug: str, n: int, accounts: list[User | None]) -> Territory:
    territory = Territory.objects.create(slug=slug, name=slug)
    households = Household.objects.bulk_create(
        Household(
            territory=territory,
            name=f"{slug}-{i}",
            card_number=f"{slug[-1]}{i:08d}",
            joined_on=date(2025, 1, 1),
        )
        for i in range(n)
    )
    persons = []
    for household, account in zip(households, accounts, strict=True):
        persons.append(HouseholdPerson(household=household, first_name="A", user=account))
        persons.append(HouseholdPerson(household=household, first_name="B"))
    HouseholdPerson.objects.bulk_create(persons, batch_size=5_000)
    group = BuyingGroup.objects.create(territory=territory, name="Groupement")
    tier = PriceTier.objects.create(group=group, name="Plein", percent=100, is_default=True)
    point = GroupPickupPoint.objects.create(group=group, name="Gare")
    OrderCycle.objects.create(  # the module measured from its first delivery
        group=group,
        name="Janvier",
        opens_at=datetime(2026, 1, 1, tzinfo=UTC),
        closes_at=datetime(2026, 1, 5, tzinfo=UTC),
        delivery_date=date(2026, 1, 10),
        pickup_point=point,
    )
    GroupMembership.objects.bulk_create(
        (
            GroupMembership(group=group, household=h, tier=tier, joined_on=date(2026, 1, 1))
            for h in households
        ),
        batch_size=5_000,
    )
    return territory


def _users(prefix: str, n: int) -> list[User | None]:
    unusable = "!"  # no login: Django's mark of an unusable password
    created = User.objects.bulk_create(
        (User(email=f"{prefix}-{i}@bench.test", password=unusable) for i in range(0, n, 3)), batch_size=5_000
    )
    accounts: list[User | None] = [None] * n
    for index, user in zip(range(0, n, 3), created, strict=True):
        accounts[index] = user
    return accounts


def _timed(run: Callable[[], object]) -> tuple[float, float, object]:
    run()  # warm
    times = []
    result = None
    for _ in range(7):
        started = time.perf_counter()
        result = run()
        times.append((time.perf_counter() - started) * 1000)
    return min(times), statistics.median(times), result


@pytest.mark.django_db
def test_roll_up_households_counted_once() -> None:
    n = HOUSEHOLDS
    first_accounts = _users("a", n)
    first = _territory("bench-a", n, first_accounts)
    second_accounts = _users("b", n)
    shared = 0
    for index in range(0, n, SHARED_EVERY):
        second_accounts[index] = first_accounts[index - index % 3]  # a first territory's account
        shared += 1
    second = _territory("bench-b", n, second_accounts)
    grouping = Grouping.objects.create(slug="bench", name="Bench")
    grouping.territories.set([first, second])
    territories = [first, second]

    per_territory = _timed(
        lambda: [
            registry.compute(t, YEAR, ["households_reached"])["households_reached"].value for t in territories
        ]
    )
    counted_once = _timed(lambda: rollup.distinct_households(territories, YEAR).value)
    print()
    print(f"{n} households x 2 territories, {shared} shared by an account")
    print(
        f"households_reached, both territories: best {per_territory[0]:.1f} ms, median {per_territory[1]:.1f} ms → {per_territory[2]}"
    )
    print(
        f"distinct_households (counted once): best {counted_once[0]:.1f} ms, median {counted_once[1]:.1f} ms → {counted_once[2]}"
    )
    assert counted_once[2] == 2 * n - shared  # noqa: S101


@pytest.mark.django_db(transaction=True)
def test_roll_up_households_counted_once_on_the_demo() -> None:
    from django.utils import timezone

    from grenier.core import demo

    demo.build(log=lambda _line: None)
    grouping = Grouping.objects.get(slug=demo.GROUPING_SLUG)
    territories = list(grouping.territories.all())
    year = Period(timezone.localdate().year)
    per_territory = _timed(
        lambda: [
            registry.compute(t, year, ["households_reached"])["households_reached"].value for t in territories
        ]
    )
    counted_once = _timed(lambda: rollup.distinct_households(territories, year).value)
    print()
    print(f"the demo's network, {year.key}")
    print(f"households_reached, both territories: best {per_territory[0]:.1f} ms → {per_territory[2]}")
    print(f"distinct_households (counted once): best {counted_once[0]:.1f} ms → {counted_once[2]}")
