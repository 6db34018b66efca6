"""The weeks read: the list, and one week as its reader may see it (demand, availability, plan, changes, solver)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Query

from grenier.core.permissions import Action
from grenier.core.schemas import Day
from grenier.supply import access, selectors
from grenier.supply.api.common import BASE_UNIT_OF, _qty, _require_any, _territory, _week, router
from grenier.supply.api.schemas import (
    AvailabilityOut,
    ChangeOut,
    DemandOut,
    ExplanationOut,
    PlanLineOut,
    ProducerShareOut,
    ShortfallOut,
    SolverOut,
    StageOut,
    SupplyProductOut,
    WeekDetailOut,
    WeekOut,
)
from grenier.supply.models import (
    Availability,
    Demand,
    PlanChange,
    PlanLine,
    Producer,
    ProducerWeek,
    Product,
    SalesUnit,
    Shortfall,
    SupplyWeek,
    WeekStatus,
)
from grenier.supply.reasons import reason_words


def _product_out(product: Product) -> SupplyProductOut:
    return SupplyProductOut(
        id=product.pk, name=product.name, unit=product.unit, base_unit=BASE_UNIT_OF[SalesUnit(product.unit)]
    )


def _week_out(request: HttpRequest, week: SupplyWeek) -> dict[str, Any]:
    return {
        "monday": week.monday,
        "status": week.status,
        "coordinator": week.coordinator.display_name if week.coordinator else None,
        "planned_at": week.planned_at,
        "published_at": week.published_at,
        "version": week.version,
        "may_coordinate": access.may_coordinate(request.user, week),
    }


def _demand_out(row: Demand) -> DemandOut:
    return DemandOut(
        kitchen=row.kitchen_id,
        kitchen_name=row.kitchen.name,
        product=row.product_id,
        product_name=row.product.name,
        day=row.day,
        quantity=int(row.quantity),
        quantity_text=_qty(int(row.quantity), row.product),
        source=row.source,
    )


def _availability_out(row: Availability) -> AvailabilityOut:
    return AvailabilityOut(
        producer=row.producer_id,
        producer_name=row.producer.farm_name,
        product=row.product_id,
        product_name=row.product.name,
        quantity=int(row.quantity),
        quantity_text=_qty(int(row.quantity), row.product),
        minimum_lot=int(row.minimum_lot),
        minimum_lot_text=_qty(int(row.minimum_lot), row.product),
    )


def _line_out(line: PlanLine) -> PlanLineOut:
    received = None if line.received_quantity is None else int(line.received_quantity)
    return PlanLineOut(
        id=line.pk,
        producer=line.producer_id,
        producer_name=line.producer.farm_name,
        kitchen=line.kitchen_id,
        kitchen_name=line.kitchen.name,
        product=line.product_id,
        product_name=line.product.name,
        day=line.day,
        quantity=int(line.quantity),
        quantity_text=_qty(int(line.quantity), line.product),
        solver_quantity=int(line.solver_quantity),
        adjusted=line.adjusted,
        received_quantity=received,
        received_text=_qty(received, line.product),
        discrepancy=line.discrepancy,
    )


def _change_out(change: PlanChange) -> ChangeOut:
    return ChangeOut(
        producer=change.producer_id,
        producer_name=change.producer.farm_name,
        kitchen=change.kitchen_id,
        kitchen_name=change.kitchen.name,
        product=change.product_id,
        product_name=change.product.name,
        day=change.day,
        before=int(change.before),
        after=int(change.after),
        before_text=_qty(int(change.before), change.product),
        after_text=_qty(int(change.after), change.product),
        reason=change.reason,
        shortfall=change.shortfall_id,
        at=change.at,
    )


def _shortfall_fields(row: Shortfall) -> dict[str, Any]:
    return {
        "id": row.pk,
        "producer": row.producer_id,
        "producer_name": row.producer.farm_name,
        "product": row.product_id,
        "product_name": row.product.name,
        "declared_before": int(row.declared_before),
        "available": int(row.available),
        "available_text": _qty(int(row.available), row.product),
        "cause": row.cause,
        "reported_at": row.reported_at,
    }


def _explanation_out(row: selectors.TableRow) -> ExplanationOut:
    return ExplanationOut(
        kitchen=row.kitchen.pk,
        kitchen_name=row.kitchen.name,
        product=row.product.pk,
        product_name=row.product.name,
        day=row.day,
        demand=row.demand,
        supplied=row.supplied,
        unmet=row.unmet,
        demand_text=_qty(row.demand, row.product),
        supplied_text=_qty(row.supplied, row.product),
        unmet_text=_qty(row.unmet, row.product),
        reason_code=row.reason_code,
        reason=reason_words(row.reason_code, row.product, row.numbers),
    )


def _solver_out(week: SupplyWeek) -> SolverOut | None:
    solver = week.solver or {}
    if "status" not in solver:
        return None
    return SolverOut(
        status=str(solver.get("status", "")),
        proven_optimal=bool(solver.get("proven_optimal", False)),
        mip_gap=float(solver.get("mip_gap") or 0.0),
        seconds=float(solver.get("seconds") or 0.0),
        objective=float(solver.get("objective") or 0.0),
        demand_total=int(solver.get("demand_total") or 0),
        supplied_total=int(solver.get("supplied_total") or 0),
        total_distance=float(solver.get("total_distance") or 0.0),
        replans=len(solver.get("replans", [])),
        stages=[
            StageOut(
                name=str(st.get("name", "")),
                objective=float(st.get("objective") or 0.0),
                bound=None if st.get("bound") is None else float(st["bound"]),
                gap=float(st.get("gap") or 0.0),
                proven=bool(st.get("proven")),
            )
            for st in solver.get("stages", [])
        ],
    )


def _producer_shares(week: SupplyWeek, producer_ids: set[int] | None) -> list[ProducerShareOut]:
    """The farms' volume against their share: recorded rows once published, the solve's report before."""
    rows: list[ProducerShareOut] = []
    if week.status == WeekStatus.PUBLISHED:
        for row in ProducerWeek.objects.filter(week=week).select_related("producer"):
            if producer_ids is None or row.producer_id in producer_ids:
                rows.append(
                    ProducerShareOut(
                        producer=row.producer_id,
                        producer_name=row.producer.farm_name,
                        share=row.share,
                        volume=int(row.volume),
                        target=None,
                        gap=row.gap_after,
                    )
                )
    else:
        reports = [
            r
            for r in (week.solver or {}).get("producers", [])
            if producer_ids is None or int(r["producer"]) in producer_ids
        ]
        names = dict(
            Producer.objects.filter(pk__in=[int(r["producer"]) for r in reports]).values_list(
                "pk", "farm_name"
            )
        )
        rows = [
            ProducerShareOut(
                producer=int(r["producer"]),
                producer_name=names.get(int(r["producer"]), ""),
                share=float(r["share"]),
                volume=int(r["supplied"]),
                target=float(r["target"]),
                gap=float(r["new_gap"]),
            )
            for r in reports
        ]
    return sorted(rows, key=lambda r: (r.producer_name, r.producer))


@router.get(
    "/supply/weeks",
    response=list[WeekOut],
    summary="The weeks of the cycle with their status, latest first (coordinators, growers, kitchens, figures)",
)
def week_list(request: HttpRequest, limit: int = Query(20, ge=1, le=200)) -> list[WeekOut]:
    territory = _territory(request)
    _require_any(
        request,
        territory,
        Action.SUPPLY_MANAGE,
        Action.SUPPLY_PRODUCE,
        Action.SUPPLY_KITCHEN,
        Action.SUPPLY_FIGURES,
    )
    weeks = selectors.weeks_of(territory, limit=limit)
    return [WeekOut(**_week_out(request, summary.week)) for summary in weeks]


@router.get(
    "/supply/weeks/{monday}",
    response=WeekDetailOut,
    summary="A week: demand, availability, plan lines and why demand is unmet, the farms' shares, the solver",
)
def week_detail(request: HttpRequest, monday: Day) -> WeekDetailOut:
    territory = _territory(request)
    week = _week(territory, monday)
    full = access.may_coordinate(request.user, week)
    if not full:
        _require_any(request, territory, Action.SUPPLY_PRODUCE, Action.SUPPLY_KITCHEN)
    farms = None if full else set(access.producers_of(request.user, territory).values_list("pk", flat=True))
    kitchens = None if full else set(access.kitchens_of(request.user, territory).values_list("pk", flat=True))
    published = week.status == WeekStatus.PUBLISHED

    def farm_ok(producer_id: int) -> bool:
        return farms is None or producer_id in farms

    def kitchen_ok(kitchen_id: int) -> bool:
        return kitchens is None or kitchen_id in kitchens

    def line_ok(producer_id: int, kitchen_id: int) -> bool:
        # before publication only the week's coordinators see lines; then each farm and kitchen its own
        return full or (published and (farm_ok(producer_id) or kitchen_ok(kitchen_id)))

    demand = [
        _demand_out(row)
        for row in Demand.objects.filter(week=week).select_related("kitchen", "product")
        if kitchen_ok(row.kitchen_id)
    ]
    availability = [
        _availability_out(row)
        for row in Availability.objects.filter(week=week).select_related("producer", "product")
        if farm_ok(row.producer_id)
    ]
    lines = [
        _line_out(line)
        for line in PlanLine.objects.filter(week=week).select_related("producer", "kitchen", "product")
        if line_ok(line.producer_id, line.kitchen_id)
    ]
    explanations = [
        _explanation_out(row)
        for row in selectors.week_table(week)
        if full or (published and kitchen_ok(row.kitchen.pk))
    ]
    shortfalls = [
        ShortfallOut(**_shortfall_fields(row))
        for row in selectors.week_shortfalls(week)
        if full or farm_ok(row.producer_id)
    ]
    changes = [
        _change_out(change)
        for change in selectors.week_changes(week)
        if full or farm_ok(change.producer_id) or kitchen_ok(change.kitchen_id)
    ]
    return WeekDetailOut(
        **_week_out(request, week),
        demand=demand,
        availability=availability,
        lines=lines,
        explanations=explanations,
        # before publication a farm's planned volume is the week's coordinators' business, like its lines
        producers=_producer_shares(week, farms) if full or published else [],
        solver=_solver_out(week) if full else None,
        shortfalls=shortfalls,
        changes=changes,
    )
