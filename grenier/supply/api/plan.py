"""The week's writes: availability and demand saved whole, the plan computed, adjusted and published, shortfalls and
receipts."""

from __future__ import annotations

from datetime import date

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Header

from grenier.core.auth import user_of
from grenier.core.errors import InvalidInput, NotFound
from grenier.core.permissions import Action
from grenier.core.schemas import Day, ItemsBody
from grenier.supply import access, selectors, services
from grenier.supply.api.common import (
    _all_in_territory,
    _built,
    _each,
    _ids,
    _in_territory,
    _known,
    _monday,
    _once,
    _require_any,
    _territory,
    _week,
    router,
)
from grenier.supply.api.schemas import (
    AvailabilityIn,
    AvailabilityPutOut,
    DemandIn,
    DemandPutOut,
    PlanLineIn,
    PlanLineOut,
    PlanOut,
    ReceiptIn,
    ShortfallIn,
    ShortfallReportOut,
    WeekOut,
)
from grenier.supply.api.weeks import (
    _availability_out,
    _change_out,
    _demand_out,
    _explanation_out,
    _line_out,
    _shortfall_fields,
    _week_out,
)
from grenier.supply.models import (
    Availability,
    Demand,
    Kitchen,
    PlanChange,
    PlanLine,
    Producer,
    Product,
    Shortfall,
    SupplyWeek,
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

    items = _built(
        payload,
        lambda item: services.AvailabilityItem(
            producer=farms[item.producer],
            product=_known(products, item.product, "product"),
            quantity=item.quantity,
            minimum_lot=item.minimum_lot,
        ),
    )
    services.availability_declare_many(week=week, items=items, actor=user)
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

    items = _built(
        payload,
        lambda item: services.DemandItem(
            kitchen=kitchens[item.kitchen],
            product=_known(products, item.product, "product"),
            day=item.day,
            quantity=item.quantity,
        ),
    )
    services.demand_set_many(week=week, items=items, actor=user)
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

    services.receipt_record_many(
        items=[
            services.ReceiptItem(
                line=lines[item.line], received_quantity=item.received_quantity, note=item.note
            )
            for item in payload
        ],
        actor=user,
    )
    done = PlanLine.objects.filter(pk__in=list(lines)).select_related("producer", "kitchen", "product")
    return [_line_out(line) for line in done.order_by("day", "product__name", "pk")]
