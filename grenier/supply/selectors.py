"""Reads of the supply platform's weekly cycle: the week's table, a farm's lines, a kitchen's deliveries, the
farms' progress against their shares, the list of weeks. Pages, API and exports word and format these; every
quantity here is an integer in the product's base unit, volumes in grams-equivalent.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, time
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum

from grenier.core.models import Territory
from grenier.supply.models import (
    Availability,
    Demand,
    Kitchen,
    PlanChange,
    PlanLine,
    Producer,
    ProducerWeek,
    Product,
    Shortfall,
    SupplyWeek,
    WeekStatus,
)
from grenier.supply.services import shares_in_force

# --- weeks ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WeekSummary:
    week: SupplyWeek
    demand_lines: int
    declarations: int
    plan_lines: int
    shortfalls: int


def weeks_of(territory: Territory, *, limit: int | None = 20) -> list[WeekSummary]:
    """The territory's weeks, latest first, with their status and how much is in them."""
    rows = (
        SupplyWeek.objects.filter(territory=territory)
        .annotate(
            n_demand=Count("demand", filter=Q(demand__quantity__gt=0), distinct=True),
            n_availability=Count("availability", filter=Q(availability__quantity__gt=0), distinct=True),
            n_lines=Count("lines", filter=Q(lines__quantity__gt=0), distinct=True),
            n_shortfalls=Count("shortfalls", distinct=True),
        )
        .order_by("-monday")
    )
    if limit is not None:
        rows = rows[:limit]
    return [WeekSummary(w, w.n_demand, w.n_availability, w.n_lines, w.n_shortfalls) for w in rows]


def week_of(territory: Territory, monday: date) -> SupplyWeek | None:
    return SupplyWeek.objects.filter(territory=territory, monday=monday).select_related("coordinator").first()


def latest_published(territory: Territory, *, before: date | None = None) -> SupplyWeek | None:
    weeks = SupplyWeek.objects.filter(territory=territory, status=WeekStatus.PUBLISHED)
    if before is not None:
        weeks = weeks.filter(monday__lt=before)
    return weeks.order_by("-monday").first()


# --- the week's table ---------------------------------------------------------------------------------------------


@dataclass
class TableRow:
    """One kitchen x product x day: what was asked, what the plan sends, what is left unmet and why.

    ``reason_code`` is empty when met; else the planner's code (``not_declared``, ``not_enough_declared``,
    ``minimum_lots``, ``below_step``, ``solver_limit``, ``other``) or ``changed`` when the lines changed after the
    solve (by hand or after a shortfall) or ``not_planned`` when no plan covers this line yet. ``numbers`` carries what the reason
    is worded with: ``declared`` and ``asked`` (the product's totals over the week), ``left`` (declared, not
    planned) and ``lots`` (farms left out by their minimum lot: ``producer`` id and ``minimum_lot``)."""

    kitchen: Kitchen
    product: Product
    day: date
    demand: int
    supplied: int
    unmet: int
    reason_code: str = ""
    numbers: dict[str, Any] = field(default_factory=dict)
    lines: list[PlanLine] = field(default_factory=list)


def week_table(week: SupplyWeek, *, farms: Mapping[int, Producer] | None = None) -> list[TableRow]:
    """Every kitchen x product x day with demand or a line, ordered by kitchen, product and day. The rows and lines
    share one instance of each farm, kitchen and product (``farms``: the farms when already read)."""
    demand = {
        (kitchen_id, product_id, day): int(quantity)
        for kitchen_id, product_id, day, quantity in Demand.objects.filter(week=week)
        .order_by()
        .values_list("kitchen_id", "product_id", "day", "quantity")
    }
    plan = list(PlanLine.objects.filter(week=week).order_by())
    kitchens, products = _kitchens_and_products(
        {key[0] for key in demand} | {x.kitchen_id for x in plan},
        {key[1] for key in demand} | {x.product_id for x in plan},
    )
    share_instances(plan, farms=farms, kitchens=kitchens, products=products)
    lines: dict[tuple[int, int, date], list[PlanLine]] = defaultdict(list)
    for line in plan:
        lines[line.kitchen_id, line.product_id, line.day].append(line)
    explained = {
        (e["kitchen"], e["product"], e["day"]): e for e in (week.solver or {}).get("explanations", [])
    }
    declared, asked = _product_totals(week)
    planned = week.status != WeekStatus.OPEN and bool(week.solver)
    rows: list[TableRow] = []
    for key in set(demand) | set(lines):
        its = sorted(lines.get(key, []), key=lambda x: (x.producer.farm_name, x.pk))
        kitchen, product = kitchens[key[0]], products[key[1]]
        wanted = demand.get(key, 0)
        got = sum(int(x.quantity) for x in its)
        unmet = max(0, wanted - got)
        code, numbers = "", {}
        if unmet:
            found = explained.get((key[0], key[1], key[2].isoformat()))
            if not planned:
                code = "not_planned"
            elif found is not None and found["unmet"] == unmet:
                code = found["reason_code"] or "other"
            else:
                code = "changed"
            numbers = (
                dict(found["numbers"])
                if found
                else {"declared": declared[key[1]], "asked": asked[key[1]], "lots": []}
            )
        rows.append(TableRow(kitchen, product, key[2], wanted, got, unmet, code, numbers, its))
    rows.sort(key=lambda r: (r.kitchen.name, r.kitchen.pk, r.product.name, r.product.pk, r.day))
    return rows


def _kitchens_and_products(
    kitchen_ids: Iterable[int], product_ids: Iterable[int]
) -> tuple[dict[int, Kitchen], dict[int, Product]]:
    return Kitchen.objects.in_bulk(set(kitchen_ids)), Product.objects.in_bulk(set(product_ids))


def share_instances(
    lines: Iterable[PlanLine],
    *,
    farms: Mapping[int, Producer] | None = None,
    kitchens: Mapping[int, Kitchen] | None = None,
    products: Mapping[int, Product] | None = None,
) -> None:
    """Give ``lines`` one instance of each of their farms, kitchens and products, read once each (those given are
    used as they are, the others read): a few objects for a week's hundreds of lines, not three a line as
    ``select_related`` builds."""
    lines = list(lines)
    if farms is None or any(x.producer_id not in farms for x in lines):
        farms = {**Producer.objects.in_bulk({x.producer_id for x in lines}), **(farms or {})}
    if kitchens is None or any(x.kitchen_id not in kitchens for x in lines):
        kitchens = {**Kitchen.objects.in_bulk({x.kitchen_id for x in lines}), **(kitchens or {})}
    if products is None or any(x.product_id not in products for x in lines):
        products = {**Product.objects.in_bulk({x.product_id for x in lines}), **(products or {})}
    for line in lines:
        line.producer = farms[line.producer_id]
        line.kitchen = kitchens[line.kitchen_id]
        line.product = products[line.product_id]


def _by_product(rows: QuerySet[Any]) -> dict[int, int]:
    """``rows``' quantities added up per product."""
    totals: dict[int, int] = defaultdict(int)
    for product_id, total in (
        rows.values("product_id").annotate(t=Sum("quantity")).values_list("product_id", "t")
    ):
        totals[product_id] = int(total or 0)
    return totals


def _product_totals(week: SupplyWeek) -> tuple[dict[int, int], dict[int, int]]:
    """Each product's declared and asked totals over the week."""
    return _by_product(Availability.objects.filter(week=week)), _by_product(Demand.objects.filter(week=week))


@dataclass(frozen=True)
class ProductBalance:
    product: Product
    asked: int
    declared: int
    planned: int
    farms: int  # farms that declared some

    @property
    def short(self) -> int:
        return max(0, self.asked - self.declared)


def product_balance(week: SupplyWeek) -> list[ProductBalance]:
    """Per product: asked (all kitchens and days), declared (all farms), planned; by product name."""
    declared, asked = _product_totals(week)
    planned: dict[int, int] = defaultdict(int)
    for product_id, total in (
        PlanLine.objects.filter(week=week)
        .values("product_id")
        .annotate(t=Sum("quantity"))
        .values_list("product_id", "t")
    ):
        planned[product_id] = int(total or 0)
    farms = dict(
        Availability.objects.filter(week=week, quantity__gt=0)
        .values("product_id")
        .annotate(n=Count("producer_id"))
        .values_list("product_id", "n")
    )
    ids = set(declared) | set(asked) | set(planned)
    products = Product.objects.filter(pk__in=ids).order_by("name", "pk")
    return [
        ProductBalance(p, asked[p.pk], declared[p.pk], planned[p.pk], farms.get(p.pk, 0)) for p in products
    ]


# --- a farm, a kitchen --------------------------------------------------------------------------------------------


def producer_lines(week: SupplyWeek, producer: Producer) -> QuerySet[PlanLine]:
    """The farm's lines of the week (what it delivers), by day, kitchen and product."""
    return (
        PlanLine.objects.filter(week=week, producer=producer)
        .select_related("kitchen", "product")
        .order_by("day", "kitchen__name", "product__name", "pk")
    )


@dataclass
class ProducerDelivery:
    """What one farm brings a kitchen on one day: its lines, the planned and received totals."""

    producer: Producer
    lines: list[PlanLine]

    @property
    def recorded(self) -> bool:
        return all(x.received_quantity is not None for x in self.lines)

    @property
    def discrepancies(self) -> list[PlanLine]:
        return [x for x in self.lines if x.discrepancy]


@dataclass
class DayDeliveries:
    day: date
    producers: list[ProducerDelivery]


def kitchen_deliveries(week: SupplyWeek, kitchen: Kitchen) -> list[DayDeliveries]:
    """The kitchen's deliveries of the week grouped by day then farm (a delivery note each). Each line carries
    ``received_quantity`` and ``discrepancy`` (received - planned, None until recorded)."""
    by_day: dict[date, dict[Producer, list[PlanLine]]] = defaultdict(lambda: defaultdict(list))
    for line in (
        PlanLine.objects.filter(week=week, kitchen=kitchen)
        .select_related("producer", "product")
        .order_by("day", "producer__farm_name", "product__name", "pk")
    ):
        by_day[line.day][line.producer].append(line)
    return [
        DayDeliveries(day, [ProducerDelivery(p, its) for p, its in farms.items()])
        for day, farms in sorted(by_day.items())
    ]


@dataclass(frozen=True)
class VolunteerCall:
    """A call for volunteers on one of a kitchen's deliveries (receiving, checking, putting away), as the app that
    runs volunteering tells it: the task, the day and hours, the places wanted and left, who may sign up (in
    words) and the page where it is run."""

    day: date
    task: str
    starts_at: time
    ends_at: time
    places: int
    places_left: int
    who: str
    url: str


@dataclass(frozen=True)
class DeliveryVolunteers:
    calls: list[VolunteerCall]
    call_url: str  # where the kitchen's people call for volunteers on a delivery


# Filled when Django starts by the app that runs volunteering (``activities.selectors.delivery_volunteers``): supply
# imports it not, and shows nothing of volunteering without it. Each takes the territory, the kitchen and the week.
delivery_volunteer_sources: list[Callable[[Territory, Kitchen, SupplyWeek], DeliveryVolunteers]] = []


def delivery_volunteers(territory: Territory, kitchen: Kitchen, week: SupplyWeek) -> list[DeliveryVolunteers]:
    """What the registered sources tell of volunteering on ``kitchen``'s deliveries of ``week`` (read-only)."""
    return [source(territory, kitchen, week) for source in delivery_volunteer_sources]


def discrepancies(week: SupplyWeek) -> list[PlanLine]:
    """Lines where what the kitchen recorded differs from the plan."""
    return [
        line
        for line in PlanLine.objects.filter(week=week, received_quantity__isnull=False)
        .select_related("producer", "kitchen", "product")
        .order_by("day", "kitchen__name", "producer__farm_name", "product__name")
        if line.discrepancy
    ]


# --- changes ------------------------------------------------------------------------------------------------------


def week_changes(week: SupplyWeek) -> QuerySet[PlanChange]:
    """Changes of the published plan, latest first (by hand or after a shortfall)."""
    return PlanChange.objects.filter(week=week).select_related(
        "producer", "kitchen", "product", "shortfall", "actor"
    )


def week_shortfalls(week: SupplyWeek) -> QuerySet[Shortfall]:
    return Shortfall.objects.filter(week=week).select_related("producer", "product", "reported_by")


# --- shares -------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ShareProgress:
    """A farm's standing over the published weeks up to a Monday: its agreed share (normalised, as in force on
    that Monday), its cumulative volume, the group's cumulative volume, and the gap it carries (positive = it has
    supplied less than its share so far)."""

    producer: Producer
    share: float
    volume: int
    group_volume: int
    gap: float
    weeks: int

    @property
    def actual_share(self) -> float:
        return self.volume / self.group_volume if self.group_volume else 0.0


def share_progress(territory: Territory, until_monday: date) -> list[ShareProgress]:
    """Per farm (with a share in force or a published week): cumulative volume and gap after the published weeks
    up to ``until_monday`` included, by farm name."""
    rows = list(
        ProducerWeek.objects.filter(
            week__territory=territory, week__status=WeekStatus.PUBLISHED, week__monday__lte=until_monday
        )
        .select_related("producer")
        .order_by("week__monday")
    )
    volume: dict[int, int] = defaultdict(int)
    gap: dict[int, float] = {}
    weeks: dict[int, int] = defaultdict(int)
    for row in rows:
        volume[row.producer_id] += int(row.volume)
        gap[row.producer_id] = row.gap_after
        weeks[row.producer_id] += 1
    shares = shares_in_force(territory, until_monday)
    group = sum(volume.values())
    producers = Producer.objects.filter(pk__in=set(volume) | set(shares)).order_by("farm_name", "pk")
    return [
        ShareProgress(
            producer=p,
            share=float(shares.get(p.pk, 0)),
            volume=volume[p.pk],
            group_volume=group,
            gap=gap.get(p.pk, 0.0),
            weeks=weeks[p.pk],
        )
        for p in producers
    ]


def producer_week_rows(week: SupplyWeek) -> list[ProducerWeek]:
    """The farms' volume and gap after a published week."""
    return list(
        ProducerWeek.objects.filter(week=week).select_related("producer").order_by("producer__farm_name")
    )
