"""API of the buying groups, under ``/api/v1/orders/``: catalogues, cycles (the open ones of a member's groups),
placing, changing and cancelling an order (member), closing a cycle (coordinator), purchase orders (a producer its
own). Parse, ask ``access``, call one service."""

from __future__ import annotations

from datetime import date, datetime

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema

from grenier.api import territory_of
from grenier.core import permissions
from grenier.core.auth import user_of
from grenier.core.errors import NotFound
from grenier.core.permissions import Action
from grenier.orders import access, selectors, services
from grenier.orders.models import CatalogueProduct, Order, OrderCycle, OrderStatus, Unit

router = Router(tags=["buying groups"])


class ProductIn(Schema):
    name: str = Field(..., min_length=1, max_length=150)
    unit: str = Field(Unit.PIECE.value, description="piece, kg, jar, bottle, loaf, bag, dozen, bunch")
    price_cents: int = Field(..., gt=0, le=1_000_000)
    case_size: int = Field(1, ge=1, le=10_000)
    stock: int | None = Field(None, ge=0, description="Units the producer can sell; empty: no limit.")
    is_active: bool = True


class ProductOut(Schema):
    id: int
    producer: int
    producer_name: str
    name: str
    unit: str
    price_cents: int
    case_size: int
    stock: int | None
    is_active: bool


class CycleProductOut(Schema):
    id: int
    producer: int
    producer_name: str
    name: str
    unit: str
    price_cents: int = Field(..., description="Frozen at the opening: the full price producers get.")
    case_size: int
    left: int | None = Field(None, description="Units still available, if the stock is limited.")


class PotOut(Schema):
    now_cents: int
    cycle_delta_cents: int
    after_close_cents: int
    households_cents: int
    full_cents: int


class CycleOut(Schema):
    id: int
    group: int
    group_name: str
    name: str
    state: str
    opens_at: datetime
    closes_at: datetime
    delivery_date: date
    pickup_point: str
    round_to_cases: bool
    pot: PotOut
    products: list[CycleProductOut]


class LineIn(Schema):
    product: int = Field(..., description="A cycle product's id.")
    quantity: int = Field(..., ge=0, le=10_000)


class OrderIn(Schema):
    lines: list[LineIn] = Field(..., min_length=1, max_length=500)
    idempotency_key: str = Field(..., min_length=8, max_length=100)


class CancelIn(Schema):
    idempotency_key: str = Field(..., min_length=8, max_length=100)


class LineOut(Schema):
    product: int
    name: str
    quantity: int
    final_quantity: int | None
    price_cents: int


class OrderOut(Schema):
    id: int
    cycle: int
    status: str
    tier_percent: int
    full_cents: int
    due_cents: int = Field(
        ..., description="What the household pays at its tier (rounded half up, once per order)."
    )
    pot_flagged: bool
    pot_after_close_cents: int | None = None
    lines: list[LineOut]


class CloseOut(Schema):
    cycle: int
    closed_now: bool
    orders: int
    full_cents: int
    households_cents: int
    pot_delta_cents: int
    pot_after_cents: int
    trimmed_units: int


class PurchaseLineOut(Schema):
    product: int
    name: str
    unit: str
    quantity: int
    case_size: int
    price_cents: int
    total_cents: int


class PurchaseOrderOut(Schema):
    cycle: int
    producer: int
    producer_name: str
    final: bool
    total_cents: int
    lines: list[PurchaseLineOut]


def _product_out(p: CatalogueProduct) -> ProductOut:
    return ProductOut(
        id=p.pk,
        producer=p.producer_id,
        producer_name=p.producer.farm_name,
        name=p.name,
        unit=p.unit,
        price_cents=p.price_cents,
        case_size=p.case_size,
        stock=p.stock,
        is_active=p.is_active,
    )


def _cycle_out(cycle: OrderCycle) -> CycleOut:
    figures = selectors.cycle_figures(cycle)
    return CycleOut(
        id=cycle.pk,
        group=cycle.group_id,
        group_name=cycle.group.name,
        name=cycle.name,
        state=cycle.state,
        opens_at=cycle.opens_at,
        closes_at=cycle.closes_at,
        delivery_date=cycle.delivery_date,
        pickup_point=cycle.pickup_point.name,
        round_to_cases=cycle.round_to_cases,
        pot=PotOut(
            now_cents=figures.pot_now_cents,
            cycle_delta_cents=figures.pot_delta_cents,
            after_close_cents=figures.pot_after_cents,
            households_cents=figures.households_cents,
            full_cents=figures.full_cents,
        ),
        products=[
            CycleProductOut(
                id=t.product.pk,
                producer=t.product.producer_id,
                producer_name=t.product.producer.farm_name,
                name=t.product.name,
                unit=t.product.unit,
                price_cents=t.product.price_cents,
                case_size=t.product.case_size,
                left=t.left,
            )
            for t in selectors.product_totals(cycle)
        ],
    )


def _order_out(order: Order, pot_after: int | None = None) -> OrderOut:
    receipt = selectors.receipt(order)
    return OrderOut(
        id=order.pk,
        cycle=order.cycle_id,
        status=order.status,
        tier_percent=order.tier_percent,
        full_cents=receipt.full_cents if order.status == OrderStatus.PLACED else 0,
        due_cents=receipt.due_cents if order.status == OrderStatus.PLACED else 0,
        pot_flagged=order.pot_flagged,
        pot_after_close_cents=pot_after,
        lines=[
            LineOut(
                product=line.cycle_product_id,
                name=line.cycle_product.name,
                quantity=line.quantity,
                final_quantity=line.final_quantity,
                price_cents=line.cycle_product.price_cents,
            )
            for line in receipt.lines
        ],
    )


@router.get("/orders/farms/{producer_id}/products", response=list[ProductOut], summary="A farm's catalogue")
def catalogue(request: HttpRequest, producer_id: int) -> list[ProductOut]:
    territory = territory_of(request)
    producer = access.producer_for(request.user, territory, producer_id)
    return [
        _product_out(p) for p in CatalogueProduct.objects.filter(producer=producer).select_related("producer")
    ]


@router.post(
    "/orders/farms/{producer_id}/products",
    response={201: ProductOut},
    summary="Add a product to a farm's catalogue (the farm's producer, or a coordinator)",
)
def product_create(request: HttpRequest, producer_id: int, payload: ProductIn) -> tuple[int, ProductOut]:
    territory = territory_of(request)
    producer = access.producer_for(request.user, territory, producer_id)
    product = services.product_save(producer=producer, actor=user_of(request), **payload.dict())
    return 201, _product_out(product)


@router.put("/orders/products/{product_id}", response=ProductOut, summary="Change a catalogue product")
def product_update(request: HttpRequest, product_id: int, payload: ProductIn) -> ProductOut:
    territory = territory_of(request)
    access.require_any(request.user, territory)
    product = CatalogueProduct.objects.filter(
        pk=product_id, producer__in=access.producers_of(request.user, territory)
    ).first()
    if product is None:
        raise NotFound(_("This product does not exist or you do not act for its farm."))
    saved = services.product_save(
        producer=product.producer, product=product, actor=user_of(request), **payload.dict()
    )
    return _product_out(saved)


@router.get(
    "/orders/cycles",
    response=list[CycleOut],
    summary="Open cycles of the caller's groups (a coordinator: every cycle not closed of the groups it runs)",
)
def cycle_list(request: HttpRequest) -> list[CycleOut]:
    territory = territory_of(request)
    access.require_any(request.user, territory)
    cycles = list(selectors.open_cycles(access.member_groups(request.user, territory)))
    seen = {c.pk for c in cycles}
    managed = OrderCycle.objects.filter(
        group__in=access.managed_groups(request.user, territory), closed_at__isnull=True
    ).select_related("group", "pickup_point")
    cycles += [c for c in managed if c.pk not in seen]
    return [_cycle_out(c) for c in cycles]


@router.get("/orders/cycles/{cycle_id}", response=CycleOut, summary="A cycle, its products and its pot")
def cycle_detail(request: HttpRequest, cycle_id: int) -> CycleOut:
    territory = territory_of(request)
    return _cycle_out(access.cycle_for(request.user, territory, cycle_id))


def _member_household(request: HttpRequest, cycle: OrderCycle):
    territory = cycle.group.territory
    permissions.require(request.user, territory, Action.ORDERS_OWN)
    return access.household_in(request.user, cycle.group)


@router.get("/orders/cycles/{cycle_id}/order", response=OrderOut, summary="The caller's household's order")
def order_detail(request: HttpRequest, cycle_id: int) -> OrderOut:
    territory = territory_of(request)
    cycle = access.cycle_for(request.user, territory, cycle_id)
    household = _member_household(request, cycle)
    order = Order.objects.filter(cycle=cycle, household=household).first()
    if order is None:
        raise NotFound(_("Your household has no order in this cycle."))
    return _order_out(order)


@router.put(
    "/orders/cycles/{cycle_id}/order",
    response=OrderOut,
    summary="Place or change the household's order (member): the quantities wanted, 0 to remove a product",
)
def order_place(request: HttpRequest, cycle_id: int, payload: OrderIn) -> OrderOut:
    territory = territory_of(request)
    cycle = access.cycle_for(request.user, territory, cycle_id)
    household = _member_household(request, cycle)
    result = services.order_place(
        cycle=cycle,
        household=household,
        quantities={line.product: line.quantity for line in payload.lines},
        idempotency_key=payload.idempotency_key,
        actor=user_of(request),
    )
    return _order_out(result.order, result.pot_after_cents)


@router.post(
    "/orders/cycles/{cycle_id}/order/cancel", response=OrderOut, summary="Cancel the household's order"
)
def order_cancel(request: HttpRequest, cycle_id: int, payload: CancelIn) -> OrderOut:
    territory = territory_of(request)
    cycle = access.cycle_for(request.user, territory, cycle_id)
    household = _member_household(request, cycle)
    order = Order.objects.filter(cycle=cycle, household=household).first()
    if order is None:
        raise NotFound(_("Your household has no order in this cycle."))
    return _order_out(
        services.order_cancel(order=order, idempotency_key=payload.idempotency_key, actor=user_of(request))
    )


@router.post(
    "/orders/cycles/{cycle_id}/close",
    response=CloseOut,
    summary="Close a cycle (its group's coordinators); refused with 409 pot-below-zero unless a funder covers",
)
def cycle_close(request: HttpRequest, cycle_id: int) -> CloseOut:
    territory = territory_of(request)
    cycle = access.cycle_for(request.user, territory, cycle_id, manage=True)
    result = services.cycle_close(cycle=cycle, actor=user_of(request))
    return CloseOut(
        cycle=cycle.pk,
        closed_now=result.closed_now,
        orders=result.orders,
        full_cents=result.full_cents,
        households_cents=result.paid_by_households_cents,
        pot_delta_cents=result.pot_delta_cents,
        pot_after_cents=result.pot_after_cents,
        trimmed_units=result.trimmed_units,
    )


@router.get(
    "/orders/cycles/{cycle_id}/purchase-orders/{producer_id}",
    response=PurchaseOrderOut,
    summary="A producer's purchase order for a cycle (the producer its own; the group's coordinators any)",
)
def purchase_order(request: HttpRequest, cycle_id: int, producer_id: int) -> PurchaseOrderOut:
    territory = territory_of(request)
    cycle, producer = access.supplier_cycle_for(request.user, territory, cycle_id, producer_id)
    po = selectors.purchase_order(cycle, producer)
    lines = []
    for line in po.lines:
        qty = line.final if line.final is not None else line.ordered
        lines.append(
            PurchaseLineOut(
                product=line.product.pk,
                name=line.product.name,
                unit=line.product.unit,
                quantity=qty,
                case_size=line.product.case_size,
                price_cents=line.product.price_cents,
                total_cents=qty * line.product.price_cents,
            )
        )
    return PurchaseOrderOut(
        cycle=cycle.pk,
        producer=producer.pk,
        producer_name=producer.farm_name,
        final=cycle.closed_at is not None,
        total_cents=po.total_cents,
        lines=lines,
    )
