"""The supply home: each person's weeks, lines and figures, and the week to coordinate."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet, Sum
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from grenier.core import permissions
from grenier.core.auth import user_of
from grenier.core.models import Territory
from grenier.core.permissions import Action
from grenier.core.views import territory_page
from grenier.supply import access, selectors
from grenier.supply.models import (
    Availability,
    Demand,
    Kitchen,
    PlanLine,
    Producer,
    ProducerWeek,
    SupplyWeek,
    WeekStatus,
)
from grenier.supply.views.common import (
    SUPPLY_ACTIONS,
    _kg,
    _qty,
    _receipt_words,
    _require,
    _this_monday,
    _week,
    _week_status_label,
)


@dataclass
class FarmWeek:
    week_monday: date
    week: SupplyWeek | None
    declared: int = 0
    lines: list[dict[str, Any]] = field(default_factory=list)
    notes: list[dict[str, Any]] = field(default_factory=list)  # one delivery note a day and kitchen


def _farm_line(line: PlanLine) -> dict[str, Any]:
    """A farm's delivery line as its home shows it, with what the kitchen recorded once it has."""
    difference = line.discrepancy
    return {
        "pk": line.pk,
        "day": line.day,
        "kitchen": line.kitchen.name,
        "kitchen_id": line.kitchen_id,
        "product": line.product.name,
        "quantity": _qty(line.quantity, line.product),
        "received": _qty(line.received_quantity, line.product),
        "receipt": _receipt_words(line),
        "short": difference is not None and difference < 0,
        "over": difference is not None and difference > 0,
        "note": line.receipt_note,
    }


def _farm_lines(week: SupplyWeek, farm: Producer) -> QuerySet[PlanLine]:
    """The farm's lines of a published week: what it delivers, and what it no longer does but was received."""
    return (
        PlanLine.objects.filter(week=week, producer=farm)
        .filter(Q(quantity__gt=0) | Q(received_quantity__isnull=False))
        .select_related("kitchen", "product")
        .order_by("day", "kitchen__name", "product__name", "pk")
    )


def _figures(request: HttpRequest, territory: Territory) -> dict[str, Any]:
    """The platform's figures for those who read them (the committee, funders): the development fund's balance,
    each kitchen's EGalim shares this year and the group's volumes this year, farm by farm."""
    from grenier.supply import billing, egalim

    year = timezone.localdate().year
    start, end = egalim.year_period(year)
    kitchens = egalim.kitchens_visible(request.user, territory).order_by("name", "id")
    volumes = {
        producer_id: int(volume or 0)
        for producer_id, volume in ProducerWeek.objects.filter(
            week__territory=territory,
            week__status=WeekStatus.PUBLISHED,
            week__monday__gte=start,
            week__monday__lte=end,
        )
        .order_by()
        .values("producer_id")
        .annotate(volume=Sum("volume"))
        .values_list("producer_id", "volume")
    }  # each farm's weeks added up by the database
    farms = Producer.objects.in_bulk(list(volumes))
    return {
        "year": year,
        "balance": billing.devfund_balance(territory),
        "egalim": list(egalim.territory_shares(kitchens, start, end)),
        "volume_total": _kg(sum(volumes.values())),
        "volumes": [
            {"farm": farms[pk], "volume": _kg(v)}
            for pk, v in sorted(volumes.items(), key=lambda kv: farms[kv[0]].farm_name)
        ],
    }


@territory_page(Action.VIEW_TERRITORY, nav="supply")
def home(request: HttpRequest, territory: Territory) -> HttpResponse:
    """What the person has to do this week and next: by farm, by kitchen, and the weeks to coordinate."""
    _require(request, territory, *SUPPLY_ACTIONS)
    this_monday = _this_monday()
    mondays = [this_monday, this_monday + timedelta(days=7)]
    weeks = {w.monday: w for w in SupplyWeek.objects.filter(territory=territory, monday__in=mondays)}

    last_week = selectors.week_of(territory, this_monday - timedelta(days=7))
    farms = []
    for farm in access.own_producers(request.user, territory):
        farms.append(_farm_weeks(farm, mondays, weeks, last_week))

    kitchens = []
    for kitchen in access.own_kitchens(request.user, territory):
        kitchens.append(_kitchen_weeks(kitchen, weeks.get(mondays[0]), weeks.get(mondays[1])))

    coordinated: list[dict[str, Any]] = []
    may_manage = permissions.can(request.user, territory, Action.SUPPLY_MANAGE)
    if may_manage:
        known = {w.monday: w for w in SupplyWeek.objects.filter(territory=territory).order_by("-monday")[:12]}
        for monday in mondays:
            known.setdefault(monday, weeks.get(monday))  # type: ignore[arg-type]
        coordinated = [
            {"monday": monday, "week": known[monday], "status": _week_status_label(known[monday])}
            for monday in sorted(known, reverse=True)
        ]
    else:
        mine = SupplyWeek.objects.filter(
            territory=territory, coordinator=user_of(request), monday__gte=this_monday - timedelta(days=28)
        ).order_by("-monday")
        coordinated = [{"monday": w.monday, "week": w, "status": _week_status_label(w)} for w in mine]

    figures_only = not (farms or kitchens or coordinated or may_manage)
    return render(
        request,
        "supply/home.html",
        {
            "territory": territory,
            "page": "home",
            "mondays": mondays,
            "farms": farms,
            "kitchens": kitchens,
            "coordinated": coordinated,
            "may_manage": may_manage,
            "figures_only": figures_only,
            "figures": _figures(request, territory)
            if figures_only and permissions.can(request.user, territory, Action.SUPPLY_FIGURES)
            else None,
            "last_monday": this_monday - timedelta(days=7),
        },
    )


def _farm_weeks(
    farm: Producer, mondays: list[date], weeks: dict[date, SupplyWeek], last_week: SupplyWeek | None
) -> dict[str, Any]:
    """A farm's part of the home: what it declared and delivers this week and next, and what the kitchens recorded
    of last week's deliveries with a difference or a note."""
    rows = []
    for monday in mondays:
        week = weeks.get(monday)
        row = FarmWeek(monday, week)
        if week is not None:
            row.declared = Availability.objects.filter(week=week, producer=farm, quantity__gt=0).count()
            if week.status == WeekStatus.PUBLISHED:
                row.lines = [_farm_line(line) for line in _farm_lines(week, farm)]
                row.notes = list(
                    {(x["day"], x["kitchen_id"]): x for x in row.lines}.values()
                )  # lines are ordered by day then kitchen: the first of each pair stands for it
        rows.append(row)
    # last week's deliveries the kitchens recorded with a difference or a note: what the farm should know
    received = []
    if last_week is not None and last_week.status == WeekStatus.PUBLISHED:
        received = [
            _farm_line(line)
            for line in _farm_lines(last_week, farm).filter(received_quantity__isnull=False)
            if line.discrepancy or line.receipt_note
        ]
    return {"farm": farm, "weeks": rows, "last_week": received}


def _kitchen_weeks(
    kitchen: Kitchen, this_week: SupplyWeek | None, next_week: SupplyWeek | None
) -> dict[str, Any]:
    """A kitchen's part of the home: this week's deliveries, next week's demand and whether it is published."""
    deliveries = 0
    if this_week is not None and this_week.status == WeekStatus.PUBLISHED:
        deliveries = PlanLine.objects.filter(week=this_week, kitchen=kitchen, quantity__gt=0).count()
    return {
        "kitchen": kitchen,
        "this_week": this_week,
        "next_week": next_week,
        "deliveries": deliveries,
        "next_published": next_week is not None and next_week.status == WeekStatus.PUBLISHED,
        "next_demand_lines": Demand.objects.filter(week=next_week, kitchen=kitchen, quantity__gt=0).count()
        if next_week
        else 0,
    }


def week_to_coordinate(request: HttpRequest, territory: Territory, monday: date) -> SupplyWeek:
    """The week a person coordinates (the pages of the plan and its table): 404 when it is not open (to a
    coordinator of the territory) or not acting in the territory, 403 for anyone else."""
    week = _week(territory, monday)
    if week is None:
        if permissions.can(request.user, territory, Action.SUPPLY_MANAGE):
            raise Http404(_("This week is not open yet."))
        raise PermissionDenied(
            _("Only this week's coordinator or a coordinator of the territory may do this.")
        )
    access.require_coordinate(request.user, week)
    return week
