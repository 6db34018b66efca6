"""The demo tells its story on any day: built with the clock set to days spread over a year (every day of one week,
the first and last day of a month, New Year's Day, 29 February, school holidays, late at night and just after
midnight), each module's part of the story holds and nothing that happened is dated in the future.

Small demo (a dozen households, a few weeks of supply history) on SQLite: the dates do not depend on the database,
so ``make test`` runs this module on SQLite only (marker ``demo_dates``)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.apps import apps
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from grenier.activities.models import Session
from grenier.baskets.models import DistributionSheet, Garden, LineStatus
from grenier.core import demo
from grenier.core.holidays import is_public_holiday
from grenier.core.models import Territory
from grenier.fund.models import MonthlyRun, Payment, Settlement, SettlementStatus
from grenier.governance.models import Decision, Proposal
from grenier.ledger.selectors import ledger_check
from grenier.orders.models import OrderCycle
from grenier.supply import demo as supply_demo
from grenier.supply.models import (
    Advance,
    Invoice,
    PlanChange,
    PlanLine,
    Shortfall,
    SupplyWeek,
    WeekStatus,
)

pytestmark = pytest.mark.demo_dates
PARIS = ZoneInfo("Europe/Paris")

# Each a "today" at a time of day, Paris time.
DAYS = [
    # every day of one week, Monday to Sunday
    *[datetime(2027, 3, 8, 10, tzinfo=PARIS) + timedelta(days=n) for n in range(7)],
    # the first of a month just after midnight (the month's run is due), and the last day late (the day before)
    datetime(2027, 6, 1, 0, 30, tzinfo=PARIS),
    datetime(2027, 5, 31, 23, 30, tzinfo=PARIS),
    datetime(2027, 1, 1, 9, tzinfo=PARIS),  # New Year's Day (a Friday), school holidays
    datetime(2028, 2, 29, 14, tzinfo=PARIS),  # 29 February of a leap year
    datetime(2027, 8, 12, 11, tzinfo=PARIS),  # the summer: the school closed, the nursing home still served
    datetime(2026, 12, 24, 16, tzinfo=PARIS),  # Christmas Eve, school holidays, a month's last week
    datetime(2027, 9, 1, 8, tzinfo=PARIS),  # back to school, the first of a month on a Wednesday
    datetime(2027, 10, 25, 7, tzinfo=PARIS),  # the Monday of the autumn holidays, before the first delivery
]

# Date-times that may lie ahead (deadlines, schedules); every other date-time of the demo says when something
# happened, so it is in the past.
AHEAD = {"opens_at", "closes_at", "locked_until", "expires_at", "resume_on", "registration_deadline"}


@pytest.fixture(params=DAYS, ids=[f"{day:%Y-%m-%d-%a-%H%M}" for day in DAYS])
def demo_day(
    request: pytest.FixtureRequest, db: None, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Territory]:
    # GRENIER_DEMO_DATES_FULL=1: the demo at its full size (a year of supply weeks, 450 households), slow
    full = os.environ.get("GRENIER_DEMO_DATES_FULL") == "1"
    if not full:
        monkeypatch.setattr(supply_demo, "WEEKS", 6)
    with time_machine.travel(request.param, tick=False):
        yield demo.build(log=lambda _line: None, household_count=demo.HOUSEHOLD_COUNT if full else 12)


def test_the_demo_tells_its_story_on_this_day(demo_day: Territory) -> None:
    territory = demo_day
    now = timezone.now()
    today = timezone.localdate()
    problems = [
        *nothing_happened_in_the_future(now),
        *supply_story(territory, today),
        *fund_story(territory, today),
        *governance_story(territory, now),
        *baskets_story(territory, today),
        *orders_story(territory, now, today),
        *activities_story(territory),
    ]
    report = ledger_check(territory)
    if not report.ok:
        problems.append(f"ledger check: {report.breaches}")
    assert not problems, "\n".join(problems)


def activities_story(territory: Territory) -> list[str]:
    """Workshops, school sessions and shared meals never on a public holiday nor on a Sunday."""
    days = Session.objects.filter(territory=territory).values_list("date", flat=True)
    return [
        f"activities: a session on {day:%A %d %B %Y}, a public holiday or a Sunday"
        for day in sorted(set(days))
        if is_public_holiday(day) or day.weekday() == 6
    ]


def nothing_happened_in_the_future(now: datetime) -> list[str]:
    problems = []
    today = timezone.localtime(now).date()
    for model in apps.get_models():
        if not model.__module__.startswith("grenier."):
            continue
        for field in model._meta.get_fields():
            if not isinstance(field, models.DateTimeField) or field.name in AHEAD:
                continue
            late = model._default_manager.filter(**{f"{field.name}__gt": now}).count()
            if late:
                problems.append(f"{late} {model.__name__}.{field.name} after now")
        for name in ("received_on", "issued_on", "granted_on", "consent_on", "joined_on", "approved_on"):
            if any(f.name == name for f in model._meta.get_fields()):
                late = model._default_manager.filter(**{f"{name}__gt": today}).count()
                if late:
                    problems.append(f"{late} {model.__name__}.{name} after today")
    return problems


def supply_story(territory: Territory, today: date) -> list[str]:
    """This week published, with this week's hail handled; next week open, the demo grower's part left to do;
    past weeks delivered; invoices of the last whole month to pay; an advance being repaid, never a statement
    left with nothing to pay."""
    problems = []
    monday = today - timedelta(days=today.weekday())
    this_week = SupplyWeek.objects.filter(territory=territory, monday=monday).first()
    if this_week is None or this_week.status != WeekStatus.PUBLISHED:
        problems.append(f"supply: this week ({monday}) is not published")
    else:
        if Shortfall.objects.filter(week=this_week).count() != 1:
            problems.append("supply: no hail this week")
        if not PlanChange.objects.filter(week=this_week).exists():
            problems.append("supply: this week was not re-planned after the hail")
    next_week = SupplyWeek.objects.filter(territory=territory, monday=monday + timedelta(weeks=1)).first()
    if next_week is None or next_week.status != WeekStatus.OPEN:
        problems.append("supply: next week is not open")
    elif not (next_week.demand.exists() and next_week.availability.exists()):
        problems.append("supply: next week has no demand or no availability")
    elif next_week.availability.filter(producer__users__email__startswith="producer@").exists():
        problems.append("supply: the demo grower's declaration for next week is already made")
    past = SupplyWeek.objects.filter(territory=territory, monday__lt=monday)
    if not past.exists() or past.exclude(status=WeekStatus.PUBLISHED).exists():
        problems.append("supply: past weeks missing or not published")
    if PlanLine.objects.filter(week__in=past, received_quantity__isnull=True).exists():
        problems.append("supply: a past week's delivery is not recorded")
    for week in SupplyWeek.objects.filter(territory=territory, monday__lte=monday):
        if week.published_at is None or timezone.localtime(
            week.published_at
        ).date() != week.monday - timedelta(days=3):
            problems.append(f"supply: week {week.monday} not published on the Friday before")
    invoices = Invoice.objects.filter(territory=territory)
    last_month = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
    if not invoices.filter(month=last_month, kitchen__isnull=False, paid_at__isnull=True).exists():
        problems.append(f"supply: no kitchen invoice of {last_month:%Y-%m} left to pay")
    if not invoices.filter(month=last_month, producer__isnull=False).exists():
        problems.append(f"supply: no grower's statement for {last_month:%Y-%m}")
    if invoices.filter(month__gte=today.replace(day=1)).exists():
        problems.append("supply: an invoice for the current month, which is not over")
    if invoices.filter(paid_at__isnull=False).filter(Q(paid_at__date__lte=F("issued_on"))).exists():
        problems.append("supply: an invoice paid before it was issued")
    if (
        invoices.filter(producer__isnull=False, kind="invoice", total_cents__gt=0)
        .filter(advance_deduction_cents=F("total_cents"))
        .exists()
    ):
        problems.append("supply: a grower's statement left with nothing to pay")
    advances = Advance.objects.filter(territory=territory)
    if not any(advance.outstanding_cents > 0 for advance in advances):
        problems.append("supply: no advance still being repaid")
    return problems


def fund_story(territory: Territory, today: date) -> list[str]:
    """The current month run, credit being spent, last month's settlements due, earlier ones paid."""
    problems = []
    month = today.replace(day=1)
    if not MonthlyRun.objects.filter(territory=territory, month=month, finished_at__isnull=False).exists():
        problems.append(f"fund: the month {month:%Y-%m} is not run")
    if MonthlyRun.objects.filter(territory=territory, month__gt=month).exists():
        problems.append("fund: a future month is run")
    payments = Payment.objects.filter(store__territory=territory)
    if not payments.filter(created_at__date__lt=month).exists():
        problems.append("fund: no payments in past months")
    last_month = (month - timedelta(days=1)).replace(day=1)
    settlements = Settlement.objects.filter(store__territory=territory)
    if not settlements.filter(month=last_month, status=SettlementStatus.DUE).exists():
        problems.append(f"fund: no settlement of {last_month:%Y-%m} due")
    if settlements.filter(month__lt=last_month, status=SettlementStatus.DUE).exists():
        problems.append("fund: a settlement older than last month still due")
    if settlements.filter(month__gte=month).exists():
        problems.append("fund: a settlement for a month that is not over")
    return problems


def governance_story(territory: Territory, now: datetime) -> list[str]:
    """Two votes open now, one to raise the allocation; past decisions taken before now."""
    problems = []
    open_now = Proposal.objects.filter(territory=territory, opens_at__lte=now, closes_at__gt=now)
    if open_now.count() < 2:
        problems.append(f"governance: {open_now.count()} votes open now, not two")
    if not open_now.filter(kind="allocation_rule").exists():
        problems.append("governance: no open vote on the allocation")
    decisions = Decision.objects.filter(proposal__territory=territory)
    if decisions.count() < 3:
        problems.append("governance: fewer than three past decisions")
    if decisions.filter(proposal__closes_at__gt=now).exists():
        problems.append("governance: a decision on a vote that has not closed")
    return problems


def baskets_story(territory: Territory, today: date) -> list[str]:
    """This week's sheets open for the volunteer to tick (even after the day); earlier weeks closed, their baskets
    collected or not; nothing generated for a later week."""
    problems = []
    monday = today - timedelta(days=today.weekday())
    garden = Garden.objects.get(territory=territory)
    sheets = DistributionSheet.objects.filter(pickup_point__garden=garden)
    this_week = sheets.filter(on__gte=monday, on__lt=monday + timedelta(days=7))
    if not this_week.exists() or this_week.filter(closed_at__isnull=False).exists():
        problems.append("baskets: this week's sheets are not there and open")
    if sheets.filter(on__lt=monday, closed_at__isnull=True).exists():
        problems.append("baskets: an earlier week's sheet left open")
    if sheets.filter(on__gte=monday + timedelta(days=7)).exists():
        problems.append("baskets: sheets generated for a later week")
    if not sheets.filter(on__lt=monday, lines__status=LineStatus.COLLECTED).exists():
        problems.append("baskets: no basket collected in past weeks")
    return problems


def orders_story(territory: Territory, now: datetime, today: date) -> list[str]:
    """A cycle open now in a group of the demo member's household (theirs to order in); past cycles closed."""
    problems = []
    cycles = OrderCycle.objects.filter(group__territory=territory)
    open_now = cycles.filter(opens_at__lte=now, closes_at__gt=now, closed_at__isnull=True)
    if not open_now.exists():
        problems.append("orders: no cycle open now")
    elif not open_now.filter(
        group__memberships__household__persons__user__email__startswith="member@",
        group__memberships__left_on__isnull=True,
    ).exists():
        problems.append("orders: no cycle open now in the demo member's group")
    if cycles.filter(closes_at__lte=now, closed_at__isnull=True).exists():
        problems.append("orders: a cycle past its close left open")
    if cycles.filter(delivery_date__lt=today, closed_at__isnull=True).exists():
        problems.append("orders: a cycle delivered but not closed")
    return problems
