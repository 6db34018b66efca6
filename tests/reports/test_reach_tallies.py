"""The households reached counted by period, kept by the database (``ReachCount``, ``ReachBand``, issue 14): after
any sequence of writes to the kept rows — inserted, changed one by one or many in one statement (masks, persons,
children, resources, territory), deleted one or many — the tallies equal their recount from the kept rows, and the
indicators' count read from them equals the households counted row by row, for the year and each month."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django.db import transaction
from django.db.models import F
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grenier.core.models import Territory
from grenier.core.months import last_of_month
from grenier.reports.models import (
    ALL_MONTHS,
    CHILD_BITS,
    HouseholdReach,
    ReachBand,
    ReachCount,
    children_at_end_of,
)

from .test_household_reach import _counted_by_hand

YEAR = 2026


def _units_x10(persons: int, children: int) -> int:
    if persons == 0:
        return 10
    if persons == children:
        return 10 + 3 * (children - 1)
    return 10 + 5 * (persons - children - 1) + 3 * children


def _period_rows(row: HouseholdReach, period: int) -> tuple[int, int, int, int, int | None] | None:
    """The kept row as the households reached count it in ``period`` (0: the year): whether the fund, the
    baskets reached it, its persons, its children at the period's end, its resources; None if not reached."""
    bits = ALL_MONTHS if period == 0 else 1 << (period - 1)
    if not (row.fund_months | row.basket_months) & bits:
        return None
    children = children_at_end_of(row.children, 12 if period == 0 else period)
    return (
        int(bool(row.fund_months & bits)),
        int(bool(row.basket_months & bits)),
        row.persons,
        children,
        row.resources_cents,
    )


def recounted() -> tuple[dict[tuple[int, ...], int], dict[tuple[int, ...], int]]:
    """The tallies counted again in Python from every kept row."""
    counts: dict[tuple[int, ...], int] = {}
    bands: dict[tuple[int, ...], int] = {}
    for row in HouseholdReach.objects.all():
        for period in range(13):
            found = _period_rows(row, period)
            if found is None:
                continue
            fund, baskets, persons, children, resources = found
            base = (row.territory_id, row.year, row.home_territory_id, period)
            size = 1 if persons <= 1 else 2 if persons == 2 else 3 if persons <= 4 else 5
            key = (*base, fund, baskets, size)
            counts[key] = counts.get(key, 0) + 1
            if resources is None:
                euros = -1
            else:
                per_unit = resources * 10 // _units_x10(persons, children)
                euros = -(-per_unit // 100)
            bands[(*base, euros)] = bands.get((*base, euros), 0) + 1
    return counts, bands


def kept() -> tuple[dict[tuple[int, ...], int], dict[tuple[int, ...], int]]:
    counts = {
        tuple(row[:-1]): row[-1]
        for row in ReachCount.objects.values_list(
            "territory", "year", "home_territory", "period", "fund", "baskets", "size", "n"
        )
        if row[-1]
    }
    bands = {
        tuple(row[:-1]): row[-1]
        for row in ReachBand.objects.values_list(
            "territory", "year", "home_territory", "period", "euros", "n"
        )
        if row[-1]
    }
    return counts, bands


def _packed(children: list[int]) -> int:
    return sum(count << (CHILD_BITS * month) for month, count in enumerate(children))


@st.composite
def _kept_rows(draw: Any) -> dict[str, Any]:
    persons = draw(st.integers(0, 8))
    # Children at the end of each month: a child may be born or grow up during the year.
    children = draw(st.lists(st.integers(0, persons), min_size=12, max_size=12))
    return {
        "fund_months": draw(st.integers(0, ALL_MONTHS)),
        "basket_months": draw(st.integers(0, ALL_MONTHS) | st.just(0)),
        "persons": persons,
        "children": _packed(children),
        "resources_cents": draw(
            st.none() | st.integers(0, 600_000) | st.sampled_from([0, 60_000, 60_001, 59_999, 90_000])
        ),
        "home": draw(st.sampled_from(["here", "here", "here", "elsewhere"])),
    }


OPERATIONS = st.lists(
    st.tuples(
        st.sampled_from(
            [
                "insert",
                "insert",
                "masks",
                "persons",
                "resources",
                "home",
                "many",
                "months_off",
                "delete",
                "delete_many",
            ]
        ),
        _kept_rows(),
        st.integers(0, 1_000),
    ),
    min_size=1,
    max_size=14,
)


@st.composite
def _whole_euro_scales(draw: Any) -> list[list[int | None]] | None:
    if draw(st.integers(0, 5)) == 0:
        return None
    euros = sorted(draw(st.sets(st.integers(0, 3_000) | st.sampled_from([0, 600, 900]), max_size=4)))
    return [[up_to * 100, 0] for up_to in euros] + [[None, 0]]


@pytest.mark.django_db(transaction=False)
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(operations=OPERATIONS, brackets=_whole_euro_scales(), month=st.integers(1, 12))
def test_the_tallies_equal_their_recount_and_count_as_the_rows_after_any_writes(
    operations: list[tuple[str, dict[str, Any], int]], brackets: list[list[int | None]] | None, month: int
) -> None:
    from grenier.reports.indicators.access import _tallied
    from grenier.reports.registry import Scope

    with transaction.atomic():
        here = Territory.objects.create(slug="ici", name="Ici")
        elsewhere = Territory.objects.create(slug="ailleurs", name="Ailleurs")
        homes = {"here": here, "elsewhere": elsewhere}
        households = 0
        for index, (operation, values, number) in enumerate(operations):
            rows = list(HouseholdReach.objects.order_by("household_id"))
            row = rows[number % len(rows)] if rows else None
            one = HouseholdReach.objects.filter(household=row.household_id) if row else None
            home = homes[values.pop("home")]
            if operation == "insert" or row is None or one is None:
                households += 1
                # Some rows of another territory's schemes, and of another year: counted apart.
                HouseholdReach.objects.create(
                    territory=elsewhere if number % 7 == 0 else here,
                    year=YEAR - 1 if number % 5 == 0 else YEAR,
                    household_id=households,
                    home_territory=home,
                    **values,
                )
            elif operation == "masks":
                one.update(fund_months=values["fund_months"], basket_months=values["basket_months"])
            elif operation == "persons":
                one.update(persons=values["persons"], children=values["children"])
            elif operation == "resources":
                one.update(resources_cents=values["resources_cents"])
            elif operation == "home":
                one.update(home_territory=home)
            elif operation == "many":  # a month added to many rows in one statement, as a monthly run does
                HouseholdReach.objects.filter(household__gte=number % 3).update(
                    fund_months=F("fund_months").bitor(1 << (number % 12))
                )
            elif operation == "months_off":  # a kept row whose months fell to zero stays
                one.update(fund_months=0, basket_months=0)
            elif operation == "delete":
                one.delete()
            elif operation == "delete_many":
                HouseholdReach.objects.filter(household__lte=number % 4).delete()
            assert kept() == recounted(), (index, operation)
        for period, start, end in [
            (0, date(YEAR, 1, 1), date(YEAR, 12, 31)),
            (month, date(YEAR, month, 1), last_of_month(date(YEAR, month, 1))),
        ]:
            found = _tallied(Scope(here, start, end), brackets)
            assert found is not None
            rows_counted = [
                (fund, baskets, 0, persons, children, resources)
                for row in HouseholdReach.objects.filter(territory=here, year=YEAR, home_territory=here)
                if (counted := _period_rows(row, period)) is not None
                for fund, baskets, persons, children, resources in [counted]
            ]
            total, fund, baskets, _groups, sizes, bands = _counted_by_hand(rows_counted, brackets)
            assert (found.total, found.fund, found.baskets) == (total, fund, baskets), period
            assert found.sizes == sizes, period
            assert found.bands == bands, period
        transaction.set_rollback(True)


@pytest.mark.django_db
def test_a_bound_not_in_whole_euros_or_a_period_of_several_months_is_not_read_from_the_tallies() -> None:
    """The euro counts cannot tell which side of 600.50 € a household of 600.20 € a unit is on: the pass counts
    then, as for a quarter."""
    from grenier.reports.indicators.access import _tallied
    from grenier.reports.registry import Scope

    here = Territory.objects.create(slug="ici", name="Ici")
    year = Scope(here, date(YEAR, 1, 1), date(YEAR, 12, 31))
    assert _tallied(year, [[60_050, 0], [None, 0]]) is None
    assert _tallied(year, [[60_000, 0], [None, 0]]) is not None
    assert _tallied(Scope(here, date(YEAR, 1, 1), date(YEAR, 3, 31)), None) is None
