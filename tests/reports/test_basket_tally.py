"""The baskets collected by household, size and period, kept by the database (``BasketTally``, issue 14): after
any sequence of writes — lines inserted collected or due (one or many in a statement), collected, uncollected,
moved to another household or day, re-priced, given another offer, deleted; offers given another size — the tally
equals its recount from the lines, and the baskets' figures read from it equal the lines counted in Python, for
the year and a month."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grenier.baskets.models import BasketOffer, BasketSize, DistributionLine, DistributionSheet, LineStatus
from grenier.core.models import Household
from grenier.core.months import last_of_month
from grenier.reports.models import BasketTally

from ..baskets.conftest import Baskets

DAYS = [
    date(2025, 12, 4),
    date(2026, 1, 8),
    date(2026, 1, 15),
    date(2026, 2, 26),
    date(2026, 3, 5),
    date(2027, 1, 7),
]
SIZES = list(BasketSize.values)


def recounted() -> dict[tuple[Any, ...], tuple[int, int, int]]:
    tally: dict[tuple[Any, ...], tuple[int, int, int]] = {}
    lines = DistributionLine.objects.filter(status=LineStatus.COLLECTED).select_related(
        "sheet__pickup_point__garden", "offer"
    )
    for line in lines:
        for period in (0, line.on.month):
            key = (
                line.sheet.pickup_point.garden.territory_id,
                line.on.year,
                period,
                line.offer.size,
                line.household_id,
            )
            n, price, member = tally.get(key, (0, 0, 0))
            tally[key] = (n + 1, price + line.price_cents, member + line.member_part_cents)
    return tally


def kept() -> dict[tuple[Any, ...], tuple[int, int, int]]:
    return {
        (row.territory_id, row.year, row.period, row.size, row.household_id): (
            row.n,
            row.price_cents,
            row.member_cents,
        )
        for row in BasketTally.objects.all()
        if (row.n, row.price_cents, row.member_cents) != (0, 0, 0)
    }


def counted_by_hand(territory: int, start: date, end: date) -> dict[str, int]:
    """What ``_baskets`` answers, from the lines in Python."""
    lines = [
        line
        for line in DistributionLine.objects.filter(status=LineStatus.COLLECTED).select_related(
            "sheet__pickup_point__garden", "offer"
        )
        if line.sheet.pickup_point.garden.territory_id == territory and start <= line.on <= end
    ]
    found = {
        "baskets": len(lines),
        "households": len({line.household_id for line in lines}),
        "price": sum(line.price_cents for line in lines),
        "member": sum(line.member_part_cents for line in lines),
    }
    for size in SIZES:
        of_size = [line for line in lines if line.offer.size == size]
        found[f"n_{size}"] = len(of_size)
        found[f"households_{size}"] = len({line.household_id for line in of_size})
    return found


OPERATIONS = st.lists(
    st.tuples(
        st.sampled_from(
            [
                "line",
                "lines",
                "collect",
                "uncollect",
                "collect_all",
                "household",
                "day",
                "price",
                "offer",
                "offer_size",
                "delete",
                "delete_all",
            ]
        ),
        st.integers(0, 10_000),
    ),
    min_size=1,
    max_size=16,
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(operations=OPERATIONS, month=st.sampled_from([1, 2, 3, 12]))
def test_the_basket_tally_equals_its_recount_and_the_lines_after_any_writes(
    baskets: Baskets, operations: list[tuple[str, int]], month: int
) -> None:
    from grenier.reports.indicators.access import _baskets
    from grenier.reports.registry import Scope

    territory = baskets.territory
    with transaction.atomic():
        sheets = [DistributionSheet.objects.create(pickup_point=baskets.halle, on=day) for day in DAYS]
        households = [baskets.subscription.household] + [
            Household.objects.create(
                territory=territory, name=f"Foyer {k}", card_number=f"78{k:010d}", joined_on=date(2025, 1, 1)
            )
            for k in range(2)
        ]
        offers = [baskets.small, baskets.large]
        subscription = baskets.subscription

        def line(sheet: DistributionSheet, number: int) -> DistributionLine:
            price = 1_000 + number % 7 * 100
            return DistributionLine(
                sheet=sheet,
                subscription=subscription,
                household=households[number % len(households)],
                offer=offers[number % len(offers)],
                on=sheet.on,
                price_cents=price,
                member_part_cents=price - number % 3 * 100,
                funded_cents=number % 3 * 100,
                status=LineStatus.COLLECTED if number % 3 else LineStatus.DUE,
            )

        for index, (operation, number) in enumerate(operations):
            rows = list(DistributionLine.objects.order_by("pk"))
            row = rows[number % len(rows)] if rows else None
            taken = {r.on for r in rows}
            free = [sheet for sheet in sheets if sheet.on not in taken]
            if operation in {"line", "lines"} or row is None:
                made = free[: 1 if operation != "lines" else 3]
                DistributionLine.objects.bulk_create(line(sheet, number + k) for k, sheet in enumerate(made))
            elif operation == "collect":
                DistributionLine.objects.filter(pk=row.pk).update(status=LineStatus.COLLECTED)
            elif operation == "uncollect":
                DistributionLine.objects.filter(pk=row.pk).update(status=LineStatus.UNCLAIMED)
            elif operation == "collect_all":  # many in one statement
                DistributionLine.objects.update(status=LineStatus.COLLECTED)
            elif operation == "household":
                DistributionLine.objects.filter(pk=row.pk).update(
                    household=households[number % len(households)]
                )
            elif operation == "day" and free:
                sheet = free[number % len(free)]
                DistributionLine.objects.filter(pk=row.pk).update(sheet=sheet, on=sheet.on)
            elif operation == "price":
                DistributionLine.objects.filter(pk__gte=row.pk).update(
                    price_cents=2_000 + number % 5,
                    member_part_cents=2_000 + number % 5,
                    funded_cents=0,
                    short_cents=0,
                )
            elif operation == "offer":
                DistributionLine.objects.filter(pk=row.pk).update(offer=offers[number % len(offers)])
            elif operation == "offer_size":
                BasketOffer.objects.filter(pk=offers[number % 2].pk).update(size=SIZES[number % len(SIZES)])
            elif operation == "delete":
                row.delete()
            elif operation == "delete_all":
                DistributionLine.objects.filter(pk__lte=row.pk).delete()
            assert kept() == recounted(), (index, operation)
        for start, end in [
            (date(2026, 1, 1), date(2026, 12, 31)),
            (date(2026, month, 1), last_of_month(date(2026, month, 1))),
            (date(2025, 12, 1), date(2025, 12, 31)),
        ]:
            assert _baskets(Scope(territory, start, end)) == counted_by_hand(territory.pk, start, end), start
        transaction.set_rollback(True)
