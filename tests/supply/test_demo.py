"""The supply platform's part of the demo: six growers, two kitchens, a year of weeks (a few here, for speed),
this week published with a shortfall handled, next week open, invoices and advances; built twice, it adds nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db.models import F
from django.utils import timezone

from grenier.core import demo
from grenier.core.models import Territory
from grenier.ledger.selectors import ledger_check
from grenier.supply import demo as supply_demo
from grenier.supply.models import (
    Advance,
    ContractLine,
    Invoice,
    Kitchen,
    PlanChange,
    PlanLine,
    Producer,
    Product,
    Shortfall,
    SupplyWeek,
    WeekStatus,
)


@pytest.fixture
def short_history(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(supply_demo, "WEEKS", 9)


def test_the_demo_platform_has_the_shape_the_issue_asks_for(db: None, short_history: None) -> None:
    territory = demo.build(log=lambda _line: None, household_count=5)
    assert Producer.objects.filter(territory=territory, on_platform=True).count() == 6
    assert Kitchen.objects.filter(territory=territory).count() == 2
    assert 24 <= Product.objects.filter(territory=territory).count() <= 30
    for producer in Producer.objects.filter(territory=territory, on_platform=True):
        assert producer.users.exists(), producer  # every farm has a demo login
    today = timezone.localdate()
    monday = today - timedelta(days=today.weekday())
    this_week = SupplyWeek.objects.get(territory=territory, monday=monday)
    assert this_week.status == WeekStatus.PUBLISHED
    assert Shortfall.objects.filter(week=this_week).count() == 1
    assert PlanChange.objects.filter(week=this_week).exists()
    next_week = SupplyWeek.objects.get(territory=territory, monday=monday + timedelta(weeks=1))
    assert next_week.status == WeekStatus.OPEN
    assert next_week.demand.exists() and next_week.availability.exists()
    # the demo grower has next week's declaration left to do
    assert not next_week.availability.filter(producer__users__email__startswith="producer@").exists()
    past = SupplyWeek.objects.filter(territory=territory, monday__lt=monday)
    assert past.count() >= 9 and all(week.status == WeekStatus.PUBLISHED for week in past)
    # the history starts in the week of a month's 1st, so every invoiced month is whole
    first = past.order_by("monday").first()
    assert first is not None
    assert any((first.monday + timedelta(days=n)).day == 1 for n in range(7))
    assert not PlanLine.objects.filter(week__in=past, received_quantity__isnull=True).exists()
    invoices = Invoice.objects.filter(territory=territory)
    assert (
        invoices.filter(kitchen__isnull=False).exists() and invoices.filter(producer__isnull=False).exists()
    )
    assert Advance.objects.filter(territory=territory).count() == 3
    assert any(a.outstanding_cents > 0 for a in Advance.objects.filter(territory=territory))
    # dated as they happened: published on the Friday before, the hail reported on Monday morning, paid invoices
    # paid after they were issued
    for week in [*past, this_week]:
        assert week.published_at is not None and week.planned_at is not None
        assert timezone.localtime(week.published_at).date() == week.monday - timedelta(days=3)
    shortfall = Shortfall.objects.get(week=this_week)
    assert timezone.localtime(shortfall.reported_at).date() == monday
    assert all(
        timezone.localtime(invoice.paid_at).date() > invoice.issued_on
        for invoice in invoices.filter(paid_at__isnull=False)
    )
    # no statement left with nothing to pay: advances are repaid in parts the farms can bear
    assert (
        not invoices.filter(producer__isnull=False, kind="invoice", total_cents__gt=0)
        .filter(advance_deduction_cents=F("total_cents"))
        .exists()
    )
    # the contracts follow the seasons: tomatoes are not asked for all year
    assert (
        ContractLine.objects.filter(
            contract__territory=territory, product__name="Tomates", months=[7, 8, 9]
        ).count()
        == 2
    )
    assert ledger_check(territory).ok


def test_building_the_demo_again_adds_nothing(db: None, short_history: None) -> None:
    territory = demo.build(log=lambda _line: None, household_count=5)
    counts = _counts(territory)
    demo.build(log=lambda _line: None, household_count=5)
    assert _counts(territory) == counts


def _counts(territory: Territory) -> tuple[int, ...]:
    return (
        SupplyWeek.objects.filter(territory=territory).count(),
        PlanLine.objects.filter(week__territory=territory).count(),
        Invoice.objects.filter(territory=territory).count(),
        Advance.objects.filter(territory=territory).count(),
        Shortfall.objects.filter(week__territory=territory).count(),
    )
