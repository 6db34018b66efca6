"""The households reached, kept by the database (``HouseholdReach``, issue 19): after any sequence of writes — month
lines of the fund's runs inserted (one or many in a statement), moved to another household, run or month, deleted;
baskets collected, uncollected, moved to another day or household, deleted; persons added, removed, re-dated,
moved; households' resources and territory changed, households deleted — the kept rows equal the slow recount from
the lines, the persons and the households themselves, children counted by the indicators' own rule at the end of
each month."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grenier.baskets.models import DistributionLine, DistributionSheet, LineStatus
from grenier.core.models import CHILD_AGE_LIMIT, Household, HouseholdPerson, Territory
from grenier.core.months import last_of_month
from grenier.fund.models import MonthLine, MonthlyRun
from grenier.orders.models import GroupMembership, OrderCycle
from grenier.reports.models import CHILD_BITS, HouseholdReach, children_at_end_of

from ..baskets.conftest import Baskets
from ..fund.conftest import Fund
from ..orders.conftest import Groups

Row = tuple[int, int, int, int, int, int, tuple[int, ...], int | None]


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def _children(household: Household, year: int) -> tuple[int, ...]:
    """The household's children at the end of each month of ``year``, by the indicators' rule."""
    persons = list(household.persons.all())
    counts = []
    for month in range(1, 13):
        born_after = _years_before(last_of_month(date(year, month, 1)), CHILD_AGE_LIMIT)
        counts.append(
            sum(
                1
                for p in persons
                if (p.birth_date is not None and p.birth_date > born_after)
                or (p.birth_date is None and p.is_child)
            )
        )
    return tuple(counts)


def recount() -> dict[tuple[int, int, int], Row]:
    """Every key's months, read from the lines, with its household as it is."""
    months: dict[tuple[int, int, int], list[int]] = {}
    for line in MonthLine.objects.select_related("run"):
        key = (line.run.territory_id, line.month.year, line.household_id)
        months.setdefault(key, [0, 0])[0] |= 1 << (line.month.month - 1)
    collected = DistributionLine.objects.filter(status=LineStatus.COLLECTED).select_related(
        "sheet__pickup_point__garden"
    )
    for basket in collected:
        key = (basket.sheet.pickup_point.garden.territory_id, basket.on.year, basket.household_id)
        months.setdefault(key, [0, 0])[1] |= 1 << (basket.on.month - 1)
    households = Household.objects.prefetch_related("persons").in_bulk([key[2] for key in months])
    rows = {}
    for (territory, year, household_id), (fund, baskets) in months.items():
        household = households[household_id]
        rows[(territory, year, household_id)] = (
            household.territory_id,
            fund,
            baskets,
            household.persons.count(),
            0,
            0,
            _children(household, year),
            household.monthly_resources_cents,
        )
    return rows


def kept() -> dict[tuple[int, int, int], Row]:
    rows = {}
    for row in HouseholdReach.objects.all():
        if not (row.fund_months or row.basket_months):
            continue
        rows[(row.territory_id, row.year, row.household_id)] = (
            row.home_territory_id,
            row.fund_months,
            row.basket_months,
            row.persons,
            0,
            0,
            tuple(children_at_end_of(row.children, month) for month in range(1, 13)),
            row.resources_cents,
        )
    return rows


def _born(number: int) -> date | None:
    if number % 5 == 0:
        return None
    if number % 7 == 0:
        return date(2012, 2, 29)  # 14 years before 2026: a child at the end of February 2026, not of March
    return date(2008 + number % 10, 1 + number % 12, 1 + number % 28)


MONTHS = [date(2025, 12, 1), date(2026, 1, 1), date(2026, 2, 1), date(2026, 3, 1), date(2027, 1, 1)]
OPERATIONS = st.lists(
    st.tuples(
        st.sampled_from(
            [
                "lines",
                "line",
                "move_line",
                "line_month",
                "line_run",
                "delete_line",
                "amounts",
                "basket",
                "uncollect",
                "collect",
                "basket_day",
                "basket_household",
                "delete_basket",
                "person",
                "persons",
                "born",
                "remove_person",
                "move_person",
                "resources",
                "territory",
                "delete_household",
            ]
        ),
        st.integers(0, 10_000),
    ),
    min_size=1,
    max_size=20,
)


@pytest.fixture
def days(baskets: Baskets) -> Iterator[list[date]]:
    yield [date(2026, 1, 8), date(2026, 1, 15), date(2026, 2, 26), date(2026, 3, 5), date(2025, 12, 4)]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(operations=OPERATIONS)
def test_the_kept_reach_equals_the_recount_after_any_writes(
    baskets: Baskets, days: list[date], operations: list[tuple[str, int]]
) -> None:
    territory = baskets.territory
    with transaction.atomic():
        elsewhere = Territory.objects.create(slug="autre-part", name="Autre part")
        runs = [MonthlyRun.objects.create(territory=territory, month=month) for month in MONTHS]
        runs.append(MonthlyRun.objects.create(territory=elsewhere, month=MONTHS[1]))
        sheets = [DistributionSheet.objects.create(pickup_point=baskets.halle, on=day) for day in days]
        created = [
            Household.objects.create(
                territory=territory,
                name=f"Foyer {k}",
                card_number=f"77{k:010d}",
                joined_on=date(2025, 1, 1),
                monthly_resources_cents=None if k == 0 else 50_000 * k,
            )
            for k in range(3)
        ]
        for k, household in enumerate(created):
            HouseholdPerson.objects.bulk_create(
                HouseholdPerson(
                    household=household, first_name="P", birth_date=_born(k + j), is_child=j % 2 == 1
                )
                for j in range(1 + k)
            )
        subscription = baskets.subscription
        for index, (operation, number) in enumerate(operations):
            households = list(Household.objects.order_by("pk"))
            household = households[number % len(households)]
            lines = list(MonthLine.objects.order_by("pk"))
            line = lines[number % len(lines)] if lines else None
            basket_rows = list(DistributionLine.objects.order_by("pk"))
            basket = basket_rows[number % len(basket_rows)] if basket_rows else None
            persons = list(HouseholdPerson.objects.order_by("pk"))
            person = persons[number % len(persons)] if persons else None
            run = runs[number % len(runs)]
            if operation == "lines" or (
                operation in {"move_line", "line_month", "line_run", "delete_line", "amounts"}
                and line is None
            ):
                # one statement, several households (the monthly run's batch)
                taken = {(x.household_id, x.month) for x in lines}
                MonthLine.objects.bulk_create(
                    MonthLine(
                        run=run,
                        household=h,
                        month=run.month,
                        contribution_due_cents=0,
                        contribution_paid_cents=0,
                        allocation_cents=1_000,
                    )
                    for h in households[number % 2 :: 2]
                    if (h.pk, run.month) not in taken
                )
            elif operation == "line":
                if not MonthLine.objects.filter(household=household, month=run.month).exists():
                    MonthLine.objects.create(
                        run=run,
                        household=household,
                        month=run.month,
                        contribution_due_cents=0,
                        contribution_paid_cents=0,
                        allocation_cents=500,
                    )
            elif operation == "move_line" and line:
                if not MonthLine.objects.filter(household=household, month=line.month).exists():
                    MonthLine.objects.filter(pk=line.pk).update(household=household)
            elif operation in {"line_month", "line_run"} and line:
                if not MonthLine.objects.filter(household=line.household_id, month=run.month).exists():
                    MonthLine.objects.filter(pk=line.pk).update(run=run, month=run.month)
            elif operation == "delete_line" and line:
                line.delete()
            elif operation == "amounts":  # a statement that changes no watched column
                MonthLine.objects.update(returned_cents=number)
            elif operation == "basket" or (
                operation in {"uncollect", "collect", "basket_day", "basket_household", "delete_basket"}
                and basket is None
            ):
                sheet = sheets[number % len(sheets)]
                if not DistributionLine.objects.filter(subscription=subscription, on=sheet.on).exists():
                    DistributionLine.objects.create(
                        sheet=sheet,
                        subscription=subscription,
                        household=household,
                        offer=baskets.small,
                        on=sheet.on,
                        price_cents=1_500,
                        member_part_cents=1_500,
                        funded_cents=0,
                        status=LineStatus.COLLECTED if number % 3 else LineStatus.DUE,
                    )
            elif operation == "uncollect" and basket:
                DistributionLine.objects.filter(pk=basket.pk).update(status=LineStatus.UNCLAIMED)
            elif operation == "collect":
                DistributionLine.objects.update(status=LineStatus.COLLECTED)  # many in one statement
            elif operation == "basket_day" and basket:
                sheet = sheets[number % len(sheets)]
                if not DistributionLine.objects.filter(subscription=subscription, on=sheet.on).exists():
                    DistributionLine.objects.filter(pk=basket.pk).update(sheet=sheet, on=sheet.on)
            elif operation == "basket_household" and basket:
                DistributionLine.objects.filter(pk=basket.pk).update(household=household)
            elif operation == "delete_basket" and basket:
                basket.delete()
            elif operation == "person":
                HouseholdPerson.objects.create(
                    household=household, first_name="Q", birth_date=_born(number), is_child=number % 2 == 0
                )
            elif operation == "persons":  # one statement, several persons of several households
                HouseholdPerson.objects.filter(pk__in=[p.pk for p in persons[number % 2 :: 2]]).update(
                    birth_date=_born(number), is_child=number % 3 == 0
                )
            elif operation == "born" and person:
                person.birth_date = _born(number + 1)
                person.save()
            elif operation == "remove_person" and person:
                person.delete()
            elif operation == "move_person" and person:
                HouseholdPerson.objects.filter(pk=person.pk).update(household=household)
            elif operation == "resources":
                Household.objects.filter(pk__in=[h.pk for h in households[number % 2 :: 2]]).update(
                    monthly_resources_cents=None if number % 4 == 0 else number * 10
                )
            elif operation == "territory":
                Household.objects.filter(pk=household.pk).update(
                    territory=elsewhere if number % 2 else territory
                )
            elif operation == "delete_household" and (
                not household.month_lines.exists()
                and not household.basket_lines.exists()
                and household.pk != subscription.household_id
            ):
                household.persons.all().delete()
                household.delete()
            assert kept() == recount(), (index, operation)
        transaction.set_rollback(True)


def test_the_children_fields_hold_a_large_household() -> None:
    assert children_at_end_of((31 << (CHILD_BITS * 11)) | 3, 12) == 31
    assert children_at_end_of((31 << (CHILD_BITS * 11)) | 3, 1) == 3


def test_the_indicators_read_of_the_kept_reach_equals_the_recount(
    fund: Fund, baskets: Baskets, groups: Groups
) -> None:
    """On the modules' own small territory (fund, a basket collected, buying groups with a household only a group
    reached): the count read from the kept rows and the memberships is the count from the lines, for the year,
    each month and a period that is not whole months (read from the lines then)."""
    from grenier.baskets import services as baskets_services
    from grenier.reports.indicators.access import _brackets, reach, reach_recounted
    from grenier.reports.registry import Period, Scope

    territory = fund.cast.territory
    baskets_services.distribution_generate(garden=baskets.garden, day=baskets.thursday, actor=None)
    line = DistributionLine.objects.get(household=fund.cast.household)
    baskets_services.line_check(line=line, collected=True, actor=None)
    year = baskets.thursday.year
    periods = [Period(year), *(Period(year, month) for month in range(1, 13)), Period(year - 1)]
    reached = 0
    for period in periods:
        scope = Scope(territory, period.start, period.end)
        kept, counted = reach(scope, _brackets(scope)), reach_recounted(scope, _brackets(scope))
        assert kept == counted, period
        reached += kept.total
    assert reached > 0
    odd = Scope(territory, date(year - 1, 12, 15), baskets.thursday)  # across two years: the recount
    assert reach(odd, _brackets(odd)) == reach_recounted(odd, _brackets(odd))


def test_the_months_of_a_year_at_once_equal_each_month_counted_alone(
    fund: Fund, baskets: Baskets, groups: Groups, django_assert_max_num_queries: Any
) -> None:
    """An indicator's page draws the twelve months of a year: the households reached, computed for the twelve in
    one pass (``households_reached_by_month``), equal each month computed alone — with memberships that begin and
    end inside the year, a household in two groups at once, a household a group reached in months the fund also
    did, and the months before anything ran ("not measured") — and cost a few queries, not a pass a month."""
    from grenier.baskets import services as baskets_services
    from grenier.reports import registry

    territory = fund.cast.territory
    baskets_services.distribution_generate(garden=baskets.garden, day=baskets.thursday, actor=None)
    line = DistributionLine.objects.get(household=fund.cast.household)
    baskets_services.line_check(line=line, collected=True, actor=None)
    year = baskets.thursday.year
    GroupMembership.objects.filter(household=groups.other_household).update(
        joined_on=date(year, 3, 10), left_on=date(year, 7, 2)
    )
    GroupMembership.objects.filter(household=fund.cast.household).update(joined_on=date(year - 1, 5, 1))
    GroupMembership.objects.filter(household=groups.cast.other_household).update(joined_on=date(year, 9, 30))
    # A household in two groups at once for some months: counted once in each of them.
    in_two = GroupMembership.objects.get(household=groups.other_household)
    in_two.pk = None
    in_two.group = groups.group
    in_two.joined_on, in_two.left_on = date(year, 5, 20), None
    in_two.save()
    # The buying groups delivered from June the year before: measured from then, "not measured" before.
    OrderCycle.objects.filter(pk=groups.cycle.pk).update(delivery_date=date(year - 1, 6, 5))
    for each in (year, year - 1):
        one_by_one = {
            m: registry.compute(territory, registry.Period(each, m), ["households_reached"])
            for m in range(1, 13)
        }
        with django_assert_max_num_queries(8):
            at_once = registry.compute_months(territory, each, "households_reached")
        assert {m: found.value for m, found in at_once.items()} == {
            m: found["households_reached"].value for m, found in one_by_one.items()
        }, each
        assert {m: found.reason for m, found in at_once.items()} == {
            m: found["households_reached"].reason for m, found in one_by_one.items()
        }, each
    # Months that differ, and months not measured: the comparison tells them apart.
    values = [
        found.value for found in registry.compute_months(territory, year, "households_reached").values()
    ]
    assert len(set(values)) > 1, values
    before = [
        found.value for found in registry.compute_months(territory, year - 1, "households_reached").values()
    ]
    assert None in before and any(before), before


def _counted_by_hand(
    rows: list[tuple[int, int, int, int, int, int | None]], brackets: list[list[int | None]] | None
) -> tuple[int, int, int, int, dict[int, int], dict[int, int]]:
    """What the households reached count, worked out row by row in Python: sizes 1, 2, 3 or 4, 5 or more; the band
    of the first bound the whole cents per consumption unit are at most (0: resources undeclared or no scale)."""
    reached = [row for row in rows if row[0] + row[1] + row[2] > 0]
    sizes = dict.fromkeys((1, 2, 3, 5), 0)
    bounds = [up_to for up_to, _suggested in brackets or []]
    bands = dict.fromkeys(range(len(bounds) + 1), 0)
    for _fund, _baskets, _groups, size, children, resources in reached:
        sizes[1 if size <= 1 else 2 if size == 2 else 3 if size <= 4 else 5] += 1
        if resources is None or not bounds:
            bands[0] += 1
            continue
        units = (
            10
            if size == 0
            else 10 + 3 * (children - 1)
            if size == children
            else 10 + 5 * (size - children - 1) + 3 * children
        )
        per_unit = resources * 10 // units
        bands[
            next(
                (i for i, up_to in enumerate(bounds, 1) if up_to is not None and per_unit <= up_to),
                len(bounds),
            )
        ] += 1
    return (
        len(reached),
        sum(row[0] for row in reached),
        sum(row[1] for row in reached),
        sum(row[2] for row in reached),
        sizes,
        bands,
    )


@st.composite
def _households(draw: Any) -> tuple[int, int, int, int, int, int | None]:
    size = draw(st.integers(0, 8))
    children = draw(st.integers(0, size))
    resources = draw(st.none() | st.integers(0, 600_000) | st.sampled_from([0, 78_000, 117_000, 90_000]))
    return (
        draw(st.integers(0, 1)),
        draw(st.integers(0, 1)),
        draw(st.integers(0, 1)),
        size,
        children,
        resources,
    )


@st.composite
def _scales(draw: Any) -> list[list[int | None]] | None:
    if draw(st.booleans()):
        return None
    bounds = sorted(draw(st.sets(st.integers(0, 200_000) | st.sampled_from([0, 60_000, 90_000]), max_size=4)))
    return [[up_to, 0] for up_to in bounds] + [[None, 0]]


@pytest.mark.django_db
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(_households(), max_size=25), brackets=_scales())
def test_the_households_reached_counted_by_the_database_equal_them_counted_row_by_row(
    rows: list[tuple[int, int, int, int, int, int | None]], brackets: list[list[int | None]] | None
) -> None:
    """The one pass the indicators make over the households reached (``_counted``: counts of conditions, the bands
    from how many are at most each bound) counts as Python does row by row: a bound of 0, resources exactly at a
    bound, households of children only, of no one, undeclared resources, no scale."""
    from grenier.reports.indicators.access import _counted

    columns = ["in_fund", "in_baskets", "in_groups", "size", "children", "resources"]
    one = "SELECT " + ", ".join(f"CAST(%s AS BIGINT) AS {column}" for column in columns)
    sql = " UNION ALL ".join([one] * len(rows)) or f"{one} WHERE 1 = 0"
    params = [value for row in rows for value in row] or [0] * len(columns)
    found = _counted(sql, params, brackets)
    total, fund, baskets, groups, sizes, bands = _counted_by_hand(rows, brackets)
    assert (found.total, found.fund, found.baskets, found.groups) == (total, fund, baskets, groups)
    assert found.sizes == sizes
    assert found.bands == bands
