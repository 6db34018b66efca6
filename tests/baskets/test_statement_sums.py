"""The funders' statement and the yearly report read their sums without a Python function per row (issue 14): the
statement's months and totals are summed from its days, the report's members' payments taken by a range of instants
for the year's local days. The same figures as counting each row."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import time_machine

from grenier.baskets import selectors, services
from grenier.baskets.models import Frequency, LineFunding, PaymentMethod
from grenier.core.models import Household

from .conftest import Baskets

PARIS = ZoneInfo("Europe/Paris")


def test_a_statements_months_and_totals_are_its_baskets_counted_by_month(baskets: Baskets) -> None:
    for point in (baskets.halle, baskets.ecole, baskets.gare):
        services.subscription_create(
            household=_household(baskets, point.name),
            offer=baskets.large,
            pickup_point=point,
            frequency=Frequency.WEEKLY,
            start_on=baskets.thursday - timedelta(weeks=7),
            actor=None,
        )
    for weeks in range(7, -1, -1):  # eight Thursdays: two months at least
        services.distribution_generate(
            garden=baskets.garden, day=baskets.thursday - timedelta(weeks=weeks), actor=None, warn=False
        )
    start, end = baskets.thursday - timedelta(weeks=7), baskets.thursday
    expected: dict[object, list[int]] = defaultdict(lambda: [0, 0])
    for on, cents in LineFunding.objects.filter(agreement=baskets.first).values_list(
        "line__on", "amount_cents"
    ):
        expected[on.replace(day=1)][0] += 1
        expected[on.replace(day=1)][1] += cents
    statement = selectors.statement(baskets.department, start, end)
    [row] = statement.agreements
    assert len(expected) >= 2
    assert row.by_month == [(month, n, cents) for month, (n, cents) in sorted(expected.items())]
    assert (
        row.baskets == sum(n for n, _c in expected.values()) == 8 * 4 - 7
    )  # the member's from the last week
    assert row.funded_cents == sum(c for _n, c in expected.values())
    assert sum(n for _day, _point, n, _cents in row.by_day) == row.baskets


def _household(baskets: Baskets, name: str) -> Household:
    from grenier.core import services as core_services

    return core_services.household_join(
        territory=baskets.territory,
        name=f"Foyer {name}",
        persons=[core_services.PersonInput("A")],
        actor=None,
    )


def test_the_reports_members_payments_are_those_of_the_years_local_days(baskets: Baskets) -> None:
    household = baskets.cast.household
    moments = {
        "last-of-2025": datetime(2025, 12, 31, 23, 30, tzinfo=PARIS),  # 22:30 UTC
        "first-of-2026": datetime(2026, 1, 1, 0, 30, tzinfo=PARIS),  # 23:30 UTC the day before
        "last-of-2026": datetime(2026, 12, 31, 23, 59, tzinfo=PARIS),
        "first-of-2027": datetime(2027, 1, 1, 0, 0, tzinfo=PARIS),
    }
    for index, (key, moment) in enumerate(moments.items()):
        with time_machine.travel(moment, tick=False):
            services.member_payment_record(
                garden=baskets.garden,
                household=household,
                amount_cents=100 * 10**index,
                method=PaymentMethod.CASH,
                idempotency_key=key,
                actor=None,
            )
    paid = {
        year: selectors.year_report(baskets.territory, year).members_paid_cents for year in (2025, 2026, 2027)
    }
    assert paid == {2025: 100, 2026: 1_000 + 10_000, 2027: 100_000}
