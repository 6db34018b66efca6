"""Cycles through the API: the open ones, a member's order, the close, purchase orders."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.translation import gettext as _

from grenier.api import territory_of
from grenier.core import permissions
from grenier.core.auth import user_of
from grenier.core.errors import NotFound
from grenier.core.permissions import Action
from grenier.orders import access, selectors, services
from grenier.orders.api.common import router
from grenier.orders.api.outputs import _cycle_out, _order_out
from grenier.orders.api.payments import _payout_out
from grenier.orders.api.schemas import (
    CancelIn,
    CloseOut,
    CycleOut,
    OrderIn,
    OrderOut,
    PurchaseLineOut,
    PurchaseOrderOut,
)
from grenier.orders.models import (
    Order,
    OrderCycle,
)


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
    summary="Close a cycle (its group's coordinators); refused with 409 pot-below-zero unless a funder covers, "
    "and with 409 close-early before its announced close unless ?early=true",
)
def cycle_close(request: HttpRequest, cycle_id: int, early: bool = False) -> CloseOut:
    territory = territory_of(request)
    cycle = access.cycle_for(request.user, territory, cycle_id, manage=True)
    result = services.cycle_close(cycle=cycle, actor=user_of(request), early=early)
    return CloseOut(
        cycle=cycle.pk,
        closed_now=result.closed_now,
        orders=result.orders,
        full_cents=result.full_cents,
        households_cents=result.paid_by_households_cents,
        pot_delta_cents=result.pot_delta_cents,
        pot_after_cents=result.pot_after_cents,
        trimmed_units=result.trimmed_units,
        added_units=result.added_units,
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
    paid = selectors.producer_payouts(cycle, producer)
    return PurchaseOrderOut(
        cycle=cycle.pk,
        producer=producer.pk,
        producer_name=producer.farm_name,
        final=cycle.closed_at is not None,
        total_cents=po.total_cents,
        owed_cents=paid.owed_cents,
        paid_cents=paid.paid_cents,
        left_cents=paid.left_cents,
        payouts=[_payout_out(p) for p in paid.payouts],
        lines=lines,
    )
