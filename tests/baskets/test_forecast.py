"""The budget forecast (issue 14): the same figures as splitting each basket due in turn, as it was computed before
(the reference below, kept verbatim), but read in a few queries whatever the number of gardens, and split once per
kind of basket and week rather than once per basket."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, time, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grenier.baskets import selectors, services
from grenier.baskets.models import (
    Absence,
    Agreement,
    BasketOffer,
    DistributionLine,
    Frequency,
    Garden,
    PickupPoint,
    Subscription,
)
from grenier.baskets.selectors import Forecast, ForecastWeek, is_due, settings_of
from grenier.baskets.split import Funding, split_price
from grenier.core import services as core_services
from grenier.core.models import Household
from grenier.core.months import monday_of

from .conftest import Baskets, page_and_queries

# --- the computation as it was (reference) ------------------------------------------------------------------------


def _old_weeks(
    start: date,
    cap: int,
    agreements: list[Agreement],
    subscriptions: list[Subscription],
    absent: set[tuple[int, date]],
    recorded: dict[tuple[int, date], Any],
) -> Forecast:
    """The week loop of the forecast before issue 14, verbatim: every basket of every week split in turn."""
    rooms = {a.pk: a.left_cents for a in agreements}
    forecast = Forecast(left_now=dict(rooms))
    if not subscriptions:
        forecast.left_at_end = dict(rooms)
        return forecast
    end = max(s.offer.season_end for s in subscriptions)
    monday = start
    while monday <= end:
        week = ForecastWeek(monday=monday)
        for subscription in subscriptions:
            on = monday + timedelta(days=subscription.pickup_point.weekday)
            line = recorded.get((subscription.pk, on))
            if line is not None:
                week.generated = True
                week.baskets += 1
                week.to_fund_cents += line.price_cents - line.member_part_cents
                week.covered_cents += line.funded_cents
                week.short_cents += line.short_cents
                continue
            if not is_due(subscription, on, absent):
                continue
            share = min(
                cap, subscription.member_share_bp if subscription.member_share_bp is not None else cap
            )
            split = split_price(
                subscription.offer.price_cents,
                share,
                [
                    Funding(a.pk, a.share_bp, a.amount_per_basket_cents, rooms[a.pk])
                    for a in agreements
                    if a.starts_on <= on <= a.ends_on
                ],
            )
            for key, cents in split.parts:
                rooms[key] -= cents
                if rooms[key] <= 0 and key not in forecast.runs_out:
                    forecast.runs_out[key] = monday
            week.baskets += 1
            week.to_fund_cents += split.price_cents - split.member_cents
            week.covered_cents += split.funded_cents
            week.short_cents += split.short_cents
        forecast.weeks.append(week)
        monday += timedelta(days=7)
    forecast.left_at_end = dict(rooms)
    return forecast


def _old_budget_forecast(garden: Garden, today: date) -> Forecast:
    """The forecast's reads before issue 14, verbatim (six queries a garden), then its week loop."""
    cap = settings_of(garden.territory).member_cap_bp
    start = monday_of(today)
    agreements = list(Agreement.objects.filter(garden=garden).order_by("priority", "id"))
    subscriptions = list(
        Subscription.objects.filter(offer__garden=garden, offer__season_end__gte=start)
        .exclude(stopped_on__lte=start)
        .select_related("offer", "pickup_point", "household")
        .order_by("pk")
    )
    if not subscriptions:
        return _old_weeks(start, cap, agreements, [], set(), {})
    end = max(s.offer.season_end for s in subscriptions)
    ids = [s.pk for s in subscriptions]
    absent = set(
        Absence.objects.filter(subscription_id__in=ids, on__gte=start, on__lte=end).values_list(
            "subscription_id", "on"
        )
    )
    recorded = {
        (line.subscription_id, line.on): line
        for line in DistributionLine.objects.filter(subscription_id__in=ids, on__gte=start, on__lte=end)
    }
    return _old_weeks(start, cap, agreements, subscriptions, absent, recorded)


# --- random gardens, without the database -------------------------------------------------------------------------

START = date(2026, 3, 2)  # a Monday
WEEK = timedelta(weeks=1)
days = st.integers(min_value=-60, max_value=200).map(lambda n: START + timedelta(days=n))


@st.composite
def gardens(draw: st.DrawFn) -> dict[str, Any]:
    agreements = []
    for key in range(1, draw(st.integers(0, 3)) + 1):
        budget = draw(st.integers(1, 60_000))
        first = draw(days)
        by_share = draw(st.booleans())
        agreements.append(
            Agreement(
                pk=key,
                share_bp=draw(st.integers(1, 10_000)) if by_share else None,
                amount_per_basket_cents=None if by_share else draw(st.integers(1, 2_500)),
                budget_cents=budget,
                spent_cents=draw(st.integers(0, budget)),
                starts_on=first,
                ends_on=first + timedelta(days=draw(st.integers(0, 250))),
            )
        )
    offers = []
    for key in range(1, draw(st.integers(1, 3)) + 1):
        season_start = draw(days)
        offers.append(
            BasketOffer(
                pk=key,
                price_cents=draw(st.integers(1, 3_000)),
                season_start=season_start,
                season_end=max(season_start, START) + timedelta(days=draw(st.integers(0, 180))),
                weekday=draw(st.integers(0, 6)),
            )
        )
    points = [PickupPoint(pk=key, weekday=draw(st.integers(0, 6))) for key in range(1, 4)]
    subscriptions = []
    for key in range(1, draw(st.integers(0, 12)) + 1):
        offer = draw(st.sampled_from(offers))
        point = draw(st.sampled_from([*points, PickupPoint(pk=9, weekday=offer.weekday)]))
        start_on = draw(days)
        paused_from = draw(st.none() | days)
        resume_on = (
            paused_from + timedelta(days=draw(st.integers(1, 60)))
            if paused_from is not None and draw(st.booleans())
            else None
        )
        stopped_on = draw(st.none() | days.filter(lambda d: d > START))
        if stopped_on is not None and stopped_on < start_on:
            stopped_on = None
        subscriptions.append(
            Subscription(
                pk=key,
                offer=offer,
                pickup_point=point,
                household=Household(pk=key, left_on=draw(st.none() | days)),
                frequency=draw(st.sampled_from([Frequency.WEEKLY, Frequency.FORTNIGHTLY])),
                start_on=start_on,
                member_share_bp=draw(st.none() | st.integers(0, 10_000)),
                paused_from=paused_from,
                resume_on=resume_on,
                stopped_on=stopped_on,
            )
        )
    ids = [s.pk for s in subscriptions]
    absent = (
        {(draw(st.sampled_from(ids)), draw(days)) for _n in range(draw(st.integers(0, 8)))} if ids else set()
    )
    recorded = []
    for _n in range(draw(st.integers(0, 8)) if ids else 0):
        price = draw(st.integers(0, 3_000))
        member = draw(st.integers(0, price))
        funded = draw(st.integers(0, price - member))
        subscription = draw(st.sampled_from(subscriptions))
        on = (
            draw(days)  # any day, most of them not a day the weeks look at
            if draw(st.booleans())
            else START + draw(st.integers(0, 30)) * WEEK + timedelta(days=subscription.pickup_point.weekday)
        )
        recorded.append((subscription.pk, on, price, member, funded, price - member - funded))
    recorded = list({(line[0], line[1]): line for line in recorded if line[1] >= START}.values())
    return {
        "cap": draw(st.integers(0, 10_000)),
        "agreements": agreements,
        "subscriptions": subscriptions,
        "absent": {(pk, on) for pk, on in absent if on >= START},
        "recorded": recorded,
    }


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(gardens())
def test_the_forecast_is_every_basket_split_in_turn(garden: dict[str, Any]) -> None:
    subscriptions = garden["subscriptions"]
    end = max((s.offer.season_end for s in subscriptions), default=START)
    recorded = {
        (pk, on): SimpleNamespace(price_cents=p, member_part_cents=m, funded_cents=f, short_cents=s)
        for pk, on, p, m, f, s in garden["recorded"]
        if on <= end  # as its query read them
    }
    expected = _old_weeks(
        START, garden["cap"], garden["agreements"], subscriptions, garden["absent"], recorded
    )
    found = selectors._forecast(
        START, garden["cap"], garden["agreements"], subscriptions, garden["absent"], garden["recorded"]
    )
    assert found == expected


def test_a_week_whose_budget_runs_out_is_split_basket_by_basket() -> None:
    """Three baskets of 10 € a week, the agreement pays 7 € of each from 50 € left: 21 € in week 1 and 2, then 8 €
    for the first basket of week 3 and nothing after."""
    offer = BasketOffer(pk=1, price_cents=1_000, season_start=START, season_end=START + 4 * WEEK, weekday=0)
    point = PickupPoint(pk=1, weekday=0)
    subscriptions = [
        Subscription(
            pk=key,
            offer=offer,
            pickup_point=point,
            household=Household(pk=key),
            frequency=Frequency.WEEKLY,
            start_on=START,
        )
        for key in (1, 2, 3)
    ]
    agreement = Agreement(
        pk=1, share_bp=7_000, budget_cents=5_000, starts_on=START, ends_on=START + 10 * WEEK
    )
    found = selectors._forecast(START, 3_000, [agreement], subscriptions, set(), [])
    assert found == _old_weeks(START, 3_000, [agreement], subscriptions, set(), {})
    assert [w.covered_cents for w in found.weeks] == [2_100, 2_100, 800, 0, 0]
    assert found.runs_out == {1: START + 2 * WEEK} and found.first_short == START + 2 * WEEK


# --- in the database: the gardens' forecasts in a few queries ------------------------------------------------------


def _garden(baskets: Baskets, name: str, subscribers: int, budget_cents: int) -> Garden:
    """Another garden of the territory like the fixture's: an offer on Tuesdays, a point, an agreement, its
    subscribers (one every other week, one paused, one away next week)."""
    garden = services.garden_create(territory=baskets.territory, name=name, actor=None)
    garden.coordinators.add(baskets.cast["coordinator"])
    offer = services.offer_create(
        garden=garden,
        name="Panier",
        price_cents=1_800,
        season_start=baskets.thursday - 4 * WEEK,
        season_end=baskets.thursday + 12 * WEEK,
        weekday=1,
        actor=None,
    )
    point = services.pickup_point_create(
        garden=garden, name="Place", weekday=1, opens_at=time(17), actor=None
    )
    services.agreement_create(
        garden=garden,
        funder=baskets.department,
        name=f"Convention {name}",
        share_bp=6_000,
        budget_cents=budget_cents,
        starts_on=baskets.thursday - 4 * WEEK,
        ends_on=baskets.thursday + 12 * WEEK,
        priority=1,
        actor=None,
    )
    tuesday = monday_of(baskets.thursday) + timedelta(days=1)
    for index in range(subscribers):
        household = core_services.household_join(
            territory=baskets.territory,
            name=f"Foyer {name} {index}",
            persons=[core_services.PersonInput("A")],
            actor=None,
        )
        subscription = services.subscription_create(
            household=household,
            offer=offer,
            pickup_point=point,
            frequency=Frequency.FORTNIGHTLY if index % 3 == 1 else Frequency.WEEKLY,
            start_on=tuesday,
            actor=None,
        )
        if index % 3 == 2:
            Subscription.objects.filter(pk=subscription.pk).update(
                paused_from=tuesday + 2 * WEEK, resume_on=tuesday + 5 * WEEK
            )
        if index % 4 == 0:
            Absence.objects.create(subscription=subscription, on=tuesday + WEEK)
    return garden


def test_each_gardens_forecast_is_as_it_was(baskets: Baskets) -> None:
    from .test_services import _subscribe_many

    _subscribe_many(baskets, 4)
    Agreement.objects.filter(pk=baskets.first.pk).update(budget_cents=12_000)  # runs out within the season
    services.distribution_generate(garden=baskets.garden, day=baskets.thursday, actor=None, warn=False)
    services.absence_add(subscription=baskets.subscription, on=baskets.thursday + 2 * WEEK, actor=None)
    others = [_garden(baskets, "Jardin B", 5, 9_000), _garden(baskets, "Jardin C", 3, 500_000)]
    gardens = [baskets.garden, *others]
    forecasts = selectors.budget_forecasts(gardens, baskets.thursday)
    for garden in gardens:
        garden.refresh_from_db()
        expected = _old_budget_forecast(garden, baskets.thursday)
        assert forecasts[garden.pk] == expected
        assert selectors.budget_forecast(garden, baskets.thursday) == expected
    assert forecasts[baskets.garden.pk].weeks[0].generated
    assert forecasts[others[0].pk].first_short is not None  # the cases the forecast is for are there
    assert forecasts[others[1].pk].first_short is None


def _coordinators_home(baskets: Baskets, login: Callable[..., Client]) -> tuple[str, int]:
    return page_and_queries(
        login(baskets.cast["coordinator"]), reverse("baskets_home", args=[baskets.territory.slug])
    )


def test_the_coordinators_home_reads_every_gardens_forecast_in_as_many_queries(
    baskets: Baskets, login: Callable[..., Client]
) -> None:
    _html, one = _coordinators_home(baskets, login)
    _garden(baskets, "Jardin B", 3, 9_000)
    _garden(baskets, "Jardin C", 4, 500_000)
    html, three = _coordinators_home(baskets, login)
    assert "Jardin B" in html and "Jardin C" in html
    assert three == one


def test_the_forecast_splits_each_kind_of_basket_once_a_week_not_each_basket(
    baskets: Baskets, monkeypatch: pytest.MonkeyPatch
) -> None:
    from .test_services import _subscribe_many

    Agreement.objects.update(budget_cents=10_000_000)
    calls = []

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return split_price(*args, **kwargs)

    monkeypatch.setattr(selectors, "split_price", counted)
    _subscribe_many(baskets, 2)
    few = selectors.budget_forecast(baskets.garden, baskets.thursday)
    few_calls = len(calls)
    _subscribe_many(baskets, 6)
    calls.clear()
    many = selectors.budget_forecast(baskets.garden, baskets.thursday)
    assert sum(w.baskets for w in many.weeks) > sum(w.baskets for w in few.weeks)
    assert len(calls) == few_calls
