"""API of the supply platform (PIAL): the weekly cycle, money and EGalim shares.

Quantities are integers in the product's *base unit* (grams for a product sold by the kg, else pieces or bunches),
given beside the same quantity formatted in its sales unit (``quantity_text``: "12,5 kg"). Money is integer cents.

Who sees what of a week: a coordinator of the territory, or the coordinator of the week, all of it; a grower its
farms' availability, and their lines once the plan is published; a kitchen manager its kitchens' demand, and their
deliveries once published. A farm or kitchen one does not act for answers "not found".
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from typing import Any, TypeVar

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Header, Query, Router, Schema

from grenier.api import territory_of
from grenier.core import permissions
from grenier.core.auth import user_of
from grenier.core.errors import Forbidden, InvalidInput, NotFound
from grenier.core.models import Territory
from grenier.core.money import format_cents
from grenier.core.permissions import Action
from grenier.core.schemas import Day, Id, InputSchema, ItemsBody, Month, Quantity
from grenier.supply import access, selectors, services
from grenier.supply.models import (
    Availability,
    Demand,
    Kitchen,
    PlanChange,
    PlanLine,
    Platform,
    Producer,
    ProducerWeek,
    Product,
    SalesUnit,
    Shortfall,
    SupplyWeek,
    WeekStatus,
)
from grenier.supply.quantities import format_quantity
from grenier.supply.reasons import reason_words

router = Router(tags=["supply"])

BASE_UNITS = (
    "Integer in the product's base unit: grams for a product sold by the kg, else pieces or bunches "
    "(see the product's `base_unit`)."
)
BASE_UNIT_OF = {SalesUnit.KG: "g", SalesUnit.PIECE: "piece", SalesUnit.BUNCH: "bunch"}
T = TypeVar("T")


# --- shared helpers --------------------------------------------------------------------------------------------


def _territory(request: HttpRequest) -> Territory:
    """The call's territory; a person without any role there is told it does not exist."""
    territory = territory_of(request)
    permissions.require(request.user, territory, Action.VIEW_TERRITORY)
    return territory


def _can(request: HttpRequest, territory: Territory, *actions: Action) -> bool:
    return any(permissions.can(request.user, territory, action) for action in actions)


def _require_any(request: HttpRequest, territory: Territory, *actions: Action) -> None:
    if not _can(request, territory, *actions):
        raise Forbidden(_("Your role in this territory does not allow this."))


def _monday(monday: date) -> date:
    if monday.weekday() != 0:
        raise InvalidInput(
            _("A week is named by its Monday."), errors={"monday": [_("This day is not a Monday.")]}
        )
    return monday


def _week(territory: Territory, monday: date) -> SupplyWeek:
    week = selectors.week_of(territory, _monday(monday))
    if week is None:
        raise NotFound(_("This week has not been opened yet."))
    return week


def _in_territory(model: Any, territory: Territory, pk: int, field: str) -> Any:
    """A product (or farm, kitchen) of the territory named in a request's body; unknown ones are a field error."""
    return _known(_all_in_territory(model, territory, [pk]), pk, field)


def _all_in_territory(model: Any, territory: Territory, pks: Iterable[int]) -> dict[int, Any]:
    """The products (or farms, kitchens) of the territory a list body names, by id, in one query."""
    return {row.pk: row for row in model.objects.filter(territory=territory, pk__in=set(pks))}


def _known(rows: dict[int, Any], pk: int, field: str) -> Any:
    if pk not in rows:
        raise InvalidInput(_("Unknown here."), errors={field: [_("Nothing has this number here.")]})
    return rows[pk]


def _once(keys: list[Any], field: str) -> None:
    """A list body names each line once: the same line twice would leave the last one standing, silently."""
    seen: set[Any] = set()
    for index, key in enumerate(keys):
        if key in seen:
            raise InvalidInput(
                _("The same line is given twice in this list."),
                errors={f"{index}.{field}": [_("Already given earlier in this list.")]},
            )
        seen.add(key)


@contextmanager
def _item(index: int) -> Iterator[None]:
    """Field errors of the ``index``-th item of a list body are named ``<index>.<field>``, as the schema's are."""
    try:
        yield
    except InvalidInput as exc:
        exc.errors = {f"{index}.{name}": messages for name, messages in exc.errors.items()} or {
            str(index): [exc.detail]
        }
        raise


def _ids(items: list[Any], field: str) -> set[int]:
    return {getattr(item, field) for item in items}


def _each(items: list[T], do: Callable[[T], Any]) -> None:
    """Apply ``do`` to every item in one transaction: a list with an error anywhere changes nothing."""
    with transaction.atomic():
        for index, item in enumerate(items):
            with _item(index):
                do(item)


def _qty(quantity: int | None, product: Product) -> str:
    return format_quantity(quantity, product)


# --- the weekly cycle ------------------------------------------------------------------------------------------


class SupplyProductOut(Schema):
    id: int
    name: str
    unit: str = Field(..., description="The sales unit prices are per: kg, piece or bunch.")
    base_unit: str = Field(..., description="What quantities are counted in: g, piece or bunch.")


class WeekOut(Schema):
    monday: date
    status: str = Field(..., description="open, planned or published.")
    coordinator: str | None = Field(None, description="The coordinator of the week (rotation), if named.")
    planned_at: datetime | None = None
    published_at: datetime | None = None
    version: int = Field(..., description="Bumped on every change of the plan's lines.")
    may_coordinate: bool = Field(..., description="The caller may plan, adjust and publish this week.")


class DemandOut(Schema):
    kitchen: int
    kitchen_name: str
    product: int
    product_name: str
    day: date
    quantity: int = Field(..., description=BASE_UNITS)
    quantity_text: str
    source: str = Field(..., description="contract (the schedule), kitchen or import.")


class AvailabilityOut(Schema):
    producer: int
    producer_name: str
    product: int
    product_name: str
    quantity: int = Field(..., description=BASE_UNITS)
    quantity_text: str
    minimum_lot: int = Field(..., description="The smallest lot worth sending. " + BASE_UNITS)
    minimum_lot_text: str


class PlanLineOut(Schema):
    id: int
    producer: int
    producer_name: str
    kitchen: int
    kitchen_name: str
    product: int
    product_name: str
    day: date
    quantity: int = Field(..., description=BASE_UNITS)
    quantity_text: str
    solver_quantity: int = Field(..., description="What the optimiser proposed. " + BASE_UNITS)
    adjusted: bool = Field(..., description="Changed by hand after the solve.")
    received_quantity: int | None = Field(None, description="Recorded by the kitchen. " + BASE_UNITS)
    received_text: str = ""
    discrepancy: int | None = Field(None, description="Received minus planned, once recorded. " + BASE_UNITS)


class ExplanationOut(Schema):
    kitchen: int
    kitchen_name: str
    product: int
    product_name: str
    day: date
    demand: int = Field(..., description=BASE_UNITS)
    supplied: int = Field(..., description=BASE_UNITS)
    unmet: int = Field(..., description=BASE_UNITS)
    demand_text: str
    supplied_text: str
    unmet_text: str
    reason_code: str = Field(
        ...,
        description="Empty when met; else not_declared, not_enough_declared, minimum_lots, below_step, "
        "solver_limit, other, changed (the lines changed after the solve) or not_planned (no plan yet).",
    )
    reason: str = Field(..., description="The reason in words, in the caller's language.")


class ProducerShareOut(Schema):
    producer: int
    producer_name: str
    share: float = Field(..., description="Agreed share of the group's volume this week (0 to 1).")
    volume: int = Field(..., description="Volume this week in grams-equivalent (pieces and bunches weighed).")
    target: float | None = Field(
        None, description="Volume the share and carried gap aimed at (planned weeks)."
    )
    gap: float = Field(
        ..., description="Gap carried to the next week, grams-equivalent (positive: still owed supply)."
    )


class StageOut(Schema):
    name: str = Field(
        ...,
        description="demand (volume met, first), lines and volume (a re-plan: delivery lines changed, then volume "
        "moved), shares_distance (weighted deviation from the shares plus distance, last).",
    )
    objective: float = Field(..., description="The delivered plan's value on this stage's own objective.")
    bound: float | None = Field(None, description="The best value proven possible.")
    gap: float = Field(..., description="Between the two, relative to the value.")
    proven: bool


class SolverOut(Schema):
    status: str = Field(..., description="Optimal when every stage is proven, else what stopped the solver.")
    proven_optimal: bool
    mip_gap: float = Field(..., description="The largest gap of the stages, each on its own objective.")
    seconds: float
    objective: float = Field(..., description="The delivered plan's shares-and-distance objective.")
    stages: list[StageOut] = Field([], description="The stages of the last plan computed, in order.")
    demand_total: int = Field(..., description="All demand of the week, base units summed over products.")
    supplied_total: int
    total_distance: float = Field(0.0, description="Sum of km x volume over the plan lines.")
    replans: int = Field(0, description="Re-plannings after shortfalls.")


class ShortfallOut(Schema):
    id: int
    producer: int
    producer_name: str
    product: int
    product_name: str
    declared_before: int = Field(..., description=BASE_UNITS)
    available: int = Field(..., description=BASE_UNITS)
    available_text: str
    cause: str
    reported_at: datetime


class ChangeOut(Schema):
    producer: int
    producer_name: str
    kitchen: int
    kitchen_name: str
    product: int
    product_name: str
    day: date
    before: int = Field(..., description=BASE_UNITS)
    after: int = Field(..., description=BASE_UNITS)
    before_text: str
    after_text: str
    reason: str = Field(..., description="adjusted (by hand) or shortfall.")
    shortfall: int | None = None
    at: datetime


class WeekDetailOut(WeekOut):
    demand: list[DemandOut]
    availability: list[AvailabilityOut]
    lines: list[PlanLineOut]
    explanations: list[ExplanationOut] = Field(
        ..., description="Per kitchen, product and day: demand, supply, unmet quantity and why."
    )
    producers: list[ProducerShareOut]
    solver: SolverOut | None = Field(None, description="The last solve's figures (the week's coordinators).")
    shortfalls: list[ShortfallOut]
    changes: list[ChangeOut] = Field(..., description="Changes of the published plan, latest first.")


class AvailabilityIn(InputSchema):
    producer: Id = Field(..., description="The farm's id: one you act for.")
    product: Id
    quantity: Quantity = Field(..., description="0 removes the declaration. " + BASE_UNITS)
    minimum_lot: Quantity = Field(0, description=BASE_UNITS)


class DemandIn(InputSchema):
    kitchen: Id = Field(..., description="The kitchen's id: one you act for.")
    product: Id
    day: Day = Field(..., description="A day of the week.")
    quantity: Quantity = Field(..., description="0 removes the line. " + BASE_UNITS)


class PlanLineIn(InputSchema):
    producer: Id
    kitchen: Id
    product: Id
    day: Day = Field(..., description="A day of the week.")
    quantity: Quantity = Field(..., description="0 removes the line. " + BASE_UNITS)


class ShortfallIn(InputSchema):
    producer: Id = Field(..., description="The farm's id: one you act for.")
    product: Id
    available: Quantity = Field(
        ..., description="What the farm will have after all, less than declared. " + BASE_UNITS
    )
    cause: str = Field("", max_length=300)
    idempotency_key: str | None = Field(
        None, min_length=1, max_length=100, description="Or the Idempotency-Key header; one is required."
    )


class ShortfallReportOut(ShortfallOut):
    changes: list[ChangeOut] = Field(..., description="The lines the re-planning changed.")


class ReceiptIn(InputSchema):
    line: Id = Field(..., description="The delivery line's id (a plan line of the week).")
    received_quantity: Quantity = Field(..., description=BASE_UNITS)
    note: str = Field("", max_length=300)


class PlanOut(Schema):
    status: str = Field(..., description="The week's status after solving: planned.")
    proven_optimal: bool
    seconds: float
    mip_gap: float
    demand_total: int = Field(..., description="Base units summed over products.")
    supplied_total: int
    lines: int = Field(..., description="Plan lines written.")
    unmet: list[ExplanationOut] = Field(..., description="Demand lines not fully met, and why.")


class AvailabilityPutOut(Schema):
    status: str = Field(..., description="The week's status after the change (a planned week reopens).")
    availability: list[AvailabilityOut] = Field(..., description="The declarations of the farms named.")


class DemandPutOut(Schema):
    status: str = Field(..., description="The week's status after the change (a planned week reopens).")
    demand: list[DemandOut] = Field(..., description="The demand of the kitchens named.")


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


@router.put(
    "/supply/weeks/{monday}/availability",
    response=AvailabilityPutOut,
    summary="A grower declares what its farm expects to have this week (quantity and minimum lot per product)",
)
def availability_put(
    request: HttpRequest, monday: Day, payload: ItemsBody[AvailabilityIn]
) -> AvailabilityPutOut:
    territory = _territory(request)
    _require_any(request, territory, Action.SUPPLY_PRODUCE, Action.SUPPLY_MANAGE)
    user = user_of(request)
    _once([(item.producer, item.product) for item in payload], "product")
    # who acts for which farm: one query for the whole list, whatever its length
    farms = {
        farm.pk: farm
        for farm in access.producers_of(user, territory).filter(pk__in=_ids(payload, "producer"))
    }
    for item in payload:
        if item.producer not in farms:
            access.producer_for(user, territory, item.producer)  # raises "not found", as for one farm
    products = _all_in_territory(Product, territory, _ids(payload, "product"))
    week = services.week_ensure(territory=territory, monday=_monday(monday), actor=user)

    def declare(item: AvailabilityIn) -> None:
        services.availability_declare(
            week=week,
            producer=farms[item.producer],
            product=_known(products, item.product, "product"),
            quantity=item.quantity,
            minimum_lot=item.minimum_lot,
            actor=user,
        )

    _each(payload, declare)
    rows = Availability.objects.filter(week=week, producer__in=list(farms.values())).select_related(
        "producer", "product"
    )
    return AvailabilityPutOut(status=week.status, availability=[_availability_out(row) for row in rows])


@router.put(
    "/supply/weeks/{monday}/demand",
    response=DemandPutOut,
    summary="A kitchen enters what it asks for this week (product, delivery day, quantity)",
)
def demand_put(request: HttpRequest, monday: Day, payload: ItemsBody[DemandIn]) -> DemandPutOut:
    territory = _territory(request)
    _require_any(request, territory, Action.SUPPLY_KITCHEN, Action.SUPPLY_MANAGE)
    user = user_of(request)
    _once([(item.kitchen, item.product, item.day) for item in payload], "product")
    kitchens = {
        kitchen.pk: kitchen
        for kitchen in access.kitchens_of(user, territory).filter(pk__in=_ids(payload, "kitchen"))
    }
    for item in payload:
        if item.kitchen not in kitchens:
            access.kitchen_for(user, territory, item.kitchen)  # raises "not found", as for one kitchen
    products = _all_in_territory(Product, territory, _ids(payload, "product"))
    week = services.week_ensure(territory=territory, monday=_monday(monday), actor=user)

    def ask(item: DemandIn) -> None:
        services.demand_set(
            week=week,
            kitchen=kitchens[item.kitchen],
            product=_known(products, item.product, "product"),
            day=item.day,
            quantity=item.quantity,
            actor=user,
        )

    _each(payload, ask)
    rows = Demand.objects.filter(week=week, kitchen__in=list(kitchens.values())).select_related(
        "kitchen", "product"
    )
    return DemandPutOut(status=week.status, demand=[_demand_out(row) for row in rows])


def _week_to_coordinate(request: HttpRequest, monday: date) -> SupplyWeek:
    territory = _territory(request)
    week = _week(territory, monday)
    access.require_coordinate(request.user, week)
    return week


@router.post(
    "/supply/weeks/{monday}/plan",
    response=PlanOut,
    summary="Compute the week's plan with the solver (coordinator, or coordinator of the week)",
)
def plan_compute(request: HttpRequest, monday: Day) -> PlanOut:
    week = _week_to_coordinate(request, monday)
    plan = services.plan_compute(week=week, actor=user_of(request))
    unmet = [_explanation_out(row) for row in selectors.week_table(week) if row.unmet > 0]
    return PlanOut(
        status=week.status,
        proven_optimal=plan.proven_optimal,
        seconds=round(plan.seconds, 3),
        mip_gap=plan.mip_gap,
        demand_total=plan.demand_total,
        supplied_total=plan.supplied_total,
        lines=PlanLine.objects.filter(week=week).count(),
        unmet=unmet,
    )


@router.post(
    "/supply/weeks/{monday}/publish",
    response=WeekOut,
    summary="Publish the planned week: farms and kitchens see their lines (coordinator, or of the week)",
)
def plan_publish(request: HttpRequest, monday: Day) -> WeekOut:
    week = _week_to_coordinate(request, monday)
    week = services.plan_publish(week=week, actor=user_of(request))
    return WeekOut(**_week_out(request, week))


@router.patch(
    "/supply/weeks/{monday}/lines",
    response=list[PlanLineOut],
    summary="Adjust plan lines by hand; 0 removes a line (coordinator, or coordinator of the week)",
)
def plan_lines_adjust(request: HttpRequest, monday: Day, payload: ItemsBody[PlanLineIn]) -> list[PlanLineOut]:
    week = _week_to_coordinate(request, monday)
    territory = week.territory
    user = user_of(request)
    touched: list[tuple[int, int, int, date]] = []
    _once([(item.producer, item.kitchen, item.product, item.day) for item in payload], "product")
    farms = _all_in_territory(Producer, territory, _ids(payload, "producer"))
    kitchens = _all_in_territory(Kitchen, territory, _ids(payload, "kitchen"))
    products = _all_in_territory(Product, territory, _ids(payload, "product"))

    def adjust(item: PlanLineIn) -> None:
        services.plan_line_set(
            week=week,
            producer=_known(farms, item.producer, "producer"),
            kitchen=_known(kitchens, item.kitchen, "kitchen"),
            product=_known(products, item.product, "product"),
            day=item.day,
            quantity=item.quantity,
            actor=user,
        )
        touched.append((item.producer, item.kitchen, item.product, item.day))

    _each(payload, adjust)
    lines = PlanLine.objects.filter(week=week).select_related("producer", "kitchen", "product")
    wanted = set(touched)
    return [_line_out(x) for x in lines if (x.producer_id, x.kitchen_id, x.product_id, x.day) in wanted]


@router.post(
    "/supply/weeks/{monday}/shortfalls",
    response={201: ShortfallReportOut},
    summary="A grower reports a shortfall on the published plan; the week is re-planned (once per key)",
)
def shortfall_report(
    request: HttpRequest,
    monday: Day,
    payload: ShortfallIn,
    idempotency_key: str | None = Header(None, alias="Idempotency-Key"),
) -> tuple[int, ShortfallReportOut]:
    territory = _territory(request)
    _require_any(request, territory, Action.SUPPLY_PRODUCE, Action.SUPPLY_MANAGE)
    user = user_of(request)
    producer = access.producer_for(user, territory, payload.producer)
    week = _week(territory, monday)
    key = (payload.idempotency_key or idempotency_key or "").strip()
    if not key or len(key) > 100:
        raise InvalidInput(
            _("Send an idempotency key, so that a retried report is not counted twice."),
            errors={"idempotency_key": [_("An Idempotency-Key header or field of 1 to 100 characters.")]},
        )
    shortfall = services.shortfall_report(
        week=week,
        producer=producer,
        product=_in_territory(Product, territory, payload.product, "product"),
        available=payload.available,
        cause=payload.cause,
        idempotency_key=key,
        actor=user,
    )
    if shortfall.producer_id != producer.pk:  # a key already used by another farm's report this week
        raise InvalidInput(
            _("This key was used for another report."), errors={"idempotency_key": [_("Already used.")]}
        )
    shortfall = Shortfall.objects.select_related("producer", "product").get(pk=shortfall.pk)
    changes = PlanChange.objects.filter(shortfall=shortfall).select_related("producer", "kitchen", "product")
    return 201, ShortfallReportOut(
        **_shortfall_fields(shortfall), changes=[_change_out(change) for change in changes]
    )


@router.post(
    "/supply/weeks/{monday}/receipts",
    response=list[PlanLineOut],
    summary="A kitchen records what it received on its delivery lines of the published week",
)
def receipts_record(request: HttpRequest, monday: Day, payload: ItemsBody[ReceiptIn]) -> list[PlanLineOut]:
    territory = _territory(request)
    _require_any(request, territory, Action.SUPPLY_KITCHEN, Action.SUPPLY_MANAGE)
    user = user_of(request)
    week = _week(territory, monday)
    _once([item.line for item in payload], "line")
    mine = PlanLine.objects.filter(week=week, kitchen__in=access.kitchens_of(user, territory))
    lines = {line.pk: line for line in mine.filter(pk__in=_ids(payload, "line"))}
    for index, item in enumerate(payload):
        if item.line not in lines:
            raise NotFound(
                _("No delivery line of a kitchen you act for has this number this week."),
                errors={f"{index}.line": [_("Unknown line.")]},
            )

    def record(item: ReceiptIn) -> None:
        services.receipt_record(
            line=lines[item.line], received_quantity=item.received_quantity, note=item.note, actor=user
        )

    _each(payload, record)
    done = PlanLine.objects.filter(pk__in=list(lines)).select_related("producer", "kitchen", "product")
    return [_line_out(line) for line in done.order_by("day", "product__name", "pk")]


# --- money -----------------------------------------------------------------------------------------------------


class InvoiceOut(Schema):
    id: int
    reference: str = Field(..., description="The gapless number with its issuer's prefix.")
    kind: str = Field(..., description="invoice or credit_note.")
    document: str = Field(
        ...,
        description="invoice (the platform's to a kitchen), statement (a producer's self-billed monthly "
        "statement) or credit_note (correcting either).",
    )
    kitchen: int | None = Field(None, description="Set on the platform's invoices to a kitchen.")
    kitchen_name: str | None = None
    producer: int | None = Field(None, description="Set on a producer's self-billed statement.")
    producer_name: str | None = None
    month: date
    issued_on: date
    due_on: date | None = Field(None, description="When a kitchen's invoice is to be paid (payment terms).")
    total_cents: int
    producers_cents: int = Field(..., description="Production cost and margin: the farms' part.")
    service_fee_cents: int
    levy_cents: int = Field(..., description="The development fund's levy.")
    advance_deduction_cents: int = Field(..., description="Advance repayments deducted (statements).")
    net_cents: int = Field(..., description="What is to be paid: total less advance deductions.")
    total_text: str
    corrects: int | None = Field(None, description="The document a credit note corrects.")
    reason: str = ""
    paid_at: datetime | None = None


class IssueIn(InputSchema):
    month: Month


class PaidIn(InputSchema):
    reference: str = Field("", max_length=100, description="The bank transfer's reference, say.")


class RetainedOut(Schema):
    month: date
    service_fee_cents: int
    levy_cents: int
    billed_cents: int


class MovementOut(Schema):
    at: datetime
    kind: str
    amount_cents: int = Field(..., description="Positive into the fund, negative out (advances).")
    memo: str | None = Field(None, description="Given to coordinators only.")


class DevfundOut(Schema):
    balance_cents: int
    balance_text: str
    outstanding_advances_cents: int = Field(..., description="Advances still to be repaid.")
    retained: list[RetainedOut] = Field(..., description="Per month: service fees and levies retained.")
    movements: list[MovementOut] = Field(..., description="Latest movements of the fund, latest first.")


def _invoice_out(invoice: Any, platform: Platform | None = None) -> InvoiceOut:
    from grenier.supply import billing

    return InvoiceOut(
        id=invoice.pk,
        reference=invoice.reference,
        kind=invoice.kind,
        document=billing.document_of(invoice),
        kitchen=invoice.kitchen_id,
        kitchen_name=invoice.kitchen.name if invoice.kitchen_id else None,
        producer=invoice.producer_id,
        producer_name=invoice.producer.farm_name if invoice.producer_id else None,
        month=invoice.month,
        issued_on=invoice.issued_on,
        due_on=billing.due_on(invoice, platform),
        total_cents=invoice.total_cents,
        producers_cents=invoice.producers_cents,
        service_fee_cents=invoice.service_fee_cents,
        levy_cents=invoice.levy_cents,
        advance_deduction_cents=invoice.advance_deduction_cents,
        net_cents=invoice.net_cents,
        total_text=format_cents(invoice.total_cents),
        corrects=invoice.corrects_id,
        reason=invoice.reason,
        paid_at=invoice.paid_at,
    )


@router.get(
    "/supply/invoices",
    response=list[InvoiceOut],
    summary="Invoices and statements: a coordinator all, a kitchen its invoices, a grower its statements",
)
def invoice_list(
    request: HttpRequest,
    month: Month | None = None,
    limit: int = Query(200, ge=1, le=1000),
) -> list[InvoiceOut]:
    from grenier.supply import billing

    territory = _territory(request)
    _require_any(request, territory, Action.SUPPLY_MANAGE, Action.SUPPLY_PRODUCE, Action.SUPPLY_KITCHEN)
    rows = billing.documents_for(request.user, territory)
    if month:
        rows = rows.filter(month=month)
    platform = Platform.objects.filter(territory=territory).first()
    return [_invoice_out(invoice, platform) for invoice in rows[:limit]]


@router.post(
    "/supply/invoices/issue",
    response=list[InvoiceOut],
    summary="Issue a month's invoices and statements (coordinator); again issues only what is new",
)
def invoices_issue(request: HttpRequest, payload: IssueIn) -> list[InvoiceOut]:
    from grenier.supply import billing

    territory = _territory(request)
    permissions.require(request.user, territory, Action.SUPPLY_MANAGE)
    issued = billing.invoices_issue(territory=territory, month=payload.month, actor=user_of(request))
    return [_invoice_out(invoice) for invoice in issued]


@router.post(
    "/supply/invoices/{invoice_id}/paid",
    response=InvoiceOut,
    summary="Record that a document was paid (coordinator); marking again changes nothing",
)
def invoice_paid(request: HttpRequest, invoice_id: int, payload: PaidIn) -> InvoiceOut:
    from grenier.supply import billing

    territory = _territory(request)
    permissions.require(request.user, territory, Action.SUPPLY_MANAGE)
    invoice = billing.documents(territory).filter(pk=invoice_id).first()
    if invoice is None:
        raise NotFound(_("No invoice has this number here."))
    paid = billing.invoice_mark_paid(invoice=invoice, reference=payload.reference, actor=user_of(request))
    return _invoice_out(billing.documents(territory).get(pk=paid.pk))


@router.get(
    "/supply/devfund",
    response=DevfundOut,
    summary="The development fund: balance, retained fees and levies, movements (coordinator, committee, funder)",
)
def devfund(request: HttpRequest, limit: int = Query(50, ge=1, le=500)) -> DevfundOut:
    from grenier.supply import billing

    territory = _territory(request)
    permissions.require(request.user, territory, Action.SUPPLY_FIGURES)
    manager = permissions.can(request.user, territory, Action.SUPPLY_MANAGE)
    balance = billing.devfund_balance(territory)
    outstanding = sum(a.outstanding_cents for a in billing.outstanding_advances(territory))
    return DevfundOut(
        balance_cents=balance,
        balance_text=format_cents(balance),
        outstanding_advances_cents=outstanding,
        retained=[
            RetainedOut(
                month=row.month,
                service_fee_cents=row.service_fee_cents,
                levy_cents=row.levy_cents,
                billed_cents=row.billed_cents,
            )
            for row in billing.retained_by_month(territory)
        ],
        movements=[
            MovementOut(
                at=row.at, kind=row.kind, amount_cents=row.amount_cents, memo=row.memo if manager else None
            )
            for row in billing.devfund_movements(territory, limit=limit)
        ],
    )


# --- EGalim ----------------------------------------------------------------------------------------------------


class SpendOut(Schema):
    total_cents: int = Field(..., description="Bought through the platform, before tax.")
    organic_cents: int
    quality_cents: int = Field(..., description="Quality and sustainable products, organic included.")
    organic_percent: float | None = Field(None, description="One decimal; null when nothing was bought.")
    quality_percent: float | None = None


class FamilyOut(SpendOut):
    family: str = Field(..., description="ma-cantine's famille_produits, e.g. FRUITS_ET_LEGUMES.")


class MonthOut(SpendOut):
    month: date


class EgalimOut(SpendOut):
    kitchen: int
    kitchen_name: str
    year: int
    organic_target_percent: int
    quality_target_percent: int
    organic_met: bool
    quality_met: bool
    lines: int = Field(..., description="Invoice lines counted.")
    families: list[FamilyOut]
    months: list[MonthOut]


def _spend(spend: Any) -> dict[str, Any]:
    return {
        "total_cents": spend.total_cents,
        "organic_cents": spend.organic_cents,
        "quality_cents": spend.quality_cents,
        "organic_percent": None if spend.organic_percent is None else float(spend.organic_percent),
        "quality_percent": None if spend.quality_percent is None else float(spend.quality_percent),
    }


@router.get(
    "/supply/egalim",
    response=list[EgalimOut],
    summary="EGalim shares of what kitchens bought through the platform (a kitchen its own; figures any)",
)
def egalim_shares(
    request: HttpRequest,
    kitchen: Id | None = Query(None, description="One kitchen; else every kitchen the caller may see."),  # noqa: B008
    year: int | None = Query(None, ge=2000, le=2100, description="The calendar year; this year by default."),
) -> list[EgalimOut]:
    from grenier.supply import egalim

    territory = _territory(request)
    if not egalim.may_see_egalim(request.user, territory):
        raise Forbidden(_("Your role in this territory does not allow this."))
    kitchens = egalim.kitchens_visible(request.user, territory)
    if kitchen is not None:
        kitchens = kitchens.filter(pk=kitchen)
        if not kitchens.exists():
            raise NotFound(_("This kitchen does not exist or you do not act for it."))
    chosen = year or timezone.localdate().year
    start, end = egalim.year_period(chosen)
    result = []
    for shares in egalim.territory_shares(kitchens.order_by("name", "pk"), start, end):
        result.append(
            EgalimOut(
                kitchen=shares.kitchen.pk,
                kitchen_name=shares.kitchen.name,
                year=chosen,
                organic_target_percent=egalim.ORGANIC_TARGET_PERCENT,
                quality_target_percent=egalim.QUALITY_TARGET_PERCENT,
                organic_met=shares.spend.organic_met,
                quality_met=shares.spend.quality_met,
                lines=shares.lines,
                families=[
                    FamilyOut(family=family, **_spend(spend))
                    for family, spend in sorted(shares.by_family.items())
                ],
                months=[MonthOut(month=month, **_spend(spend)) for month, spend in shares.months],
                **_spend(shares.spend),
            )
        )
    return result
