"""Money and pickups through the API: producers' payouts, receipts, members' payments, covers, pickups."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.translation import gettext as _

from grenier.api import territory_of
from grenier.core.auth import user_of
from grenier.core.errors import Forbidden, InvalidInput, NotFound
from grenier.fund.models import Funder
from grenier.orders import access, selectors, services
from grenier.orders.api.common import router
from grenier.orders.api.outputs import _order_out
from grenier.orders.api.schemas import (
    CoverIn,
    CoverOut,
    OrderPaymentIn,
    OrderPaymentOut,
    PayoutIn,
    PayoutOut,
    PickupIn,
    PickupOut,
    ReceiptOut,
)
from grenier.orders.models import (
    BuyingGroup,
    Order,
    OrderStatus,
    PaymentMethod,
)


def _payout_out(p: object) -> PayoutOut:
    return PayoutOut(
        id=p.pk,  # type: ignore[attr-defined]
        cycle=p.cycle_id,  # type: ignore[attr-defined]
        producer=p.producer_id,  # type: ignore[attr-defined]
        amount_cents=p.amount_cents,  # type: ignore[attr-defined]
        method=p.method,  # type: ignore[attr-defined]
        reference=p.reference,  # type: ignore[attr-defined]
        created_at=p.created_at,  # type: ignore[attr-defined]
    )


def _require_manager(request: HttpRequest, group: BuyingGroup) -> None:
    if not access.may_manage(request.user, group):
        raise Forbidden(_("Only this group's coordinators may do this."))


@router.post(
    "/orders/cycles/{cycle_id}/purchase-orders/{producer_id}/payouts",
    response={201: PayoutOut},
    summary="Record that the group paid a producer what a closed cycle owes it (its group's coordinators)",
)
def payout_create(
    request: HttpRequest, cycle_id: int, producer_id: int, payload: PayoutIn
) -> tuple[int, PayoutOut]:
    territory = territory_of(request)
    cycle, producer = access.supplier_cycle_for(request.user, territory, cycle_id, producer_id)
    _require_manager(request, cycle.group)
    payout = services.producer_pay(
        cycle=cycle,
        producer=producer,
        amount_cents=payload.amount_cents,
        method=payload.method,
        reference=payload.reference,
        idempotency_key=payload.idempotency_key,
        actor=user_of(request),
    )
    return 201, _payout_out(payout)


def _payment_out(p: object) -> OrderPaymentOut:
    return OrderPaymentOut(
        id=p.pk,  # type: ignore[attr-defined]
        order=p.order_id,  # type: ignore[attr-defined]
        method=p.method,  # type: ignore[attr-defined]
        amount_cents=p.amount_cents,  # type: ignore[attr-defined]
        created_at=p.created_at,  # type: ignore[attr-defined]
    )


def _receipt_out(order: Order) -> ReceiptOut:
    receipt = selectors.receipt(order)
    return ReceiptOut(
        order=_order_out(order),
        household=order.household.display_name,
        paid_cents=receipt.paid_cents,
        left_cents=receipt.left_cents if order.status == OrderStatus.PLACED else 0,
        collected=receipt.collected,
        payments=[_payment_out(p) for p in receipt.payments],
    )


@router.get(
    "/orders/orders/{order_id}",
    response=ReceiptOut,
    summary="An order's receipt: what is due, paid and collected (the household's persons, its group's coordinators)",
)
def receipt(request: HttpRequest, order_id: int) -> ReceiptOut:
    territory = territory_of(request)
    return _receipt_out(access.order_for(request.user, territory, order_id))


@router.post(
    "/orders/orders/{order_id}/payments",
    response={201: OrderPaymentOut},
    summary="Record a household's payment for a closed cycle (its group's coordinators); never more than is due",
)
def payment_create(
    request: HttpRequest, order_id: int, payload: OrderPaymentIn
) -> tuple[int, OrderPaymentOut]:
    territory = territory_of(request)
    order = access.order_for(request.user, territory, order_id)
    _require_manager(request, order.cycle.group)
    if payload.method not in PaymentMethod.values:
        raise InvalidInput(_("Unknown payment method."), errors={"method": [_("Unknown payment method.")]})
    payment = services.payment_record(
        order=order,
        method=payload.method,
        amount_cents=payload.amount_cents,
        idempotency_key=payload.idempotency_key,
        code=payload.code or None,
        actor=user_of(request),
    )
    return 201, _payment_out(payment)


@router.post(
    "/orders/cycles/{cycle_id}/covers",
    response={201: CoverOut},
    summary="A funder covers the solidarity pot before the close (its group's coordinators)",
)
def cover_create(request: HttpRequest, cycle_id: int, payload: CoverIn) -> tuple[int, CoverOut]:
    territory = territory_of(request)
    cycle = access.cycle_for(request.user, territory, cycle_id, manage=True)
    funder = Funder.objects.filter(territory=territory, pk=payload.funder).first()
    if funder is None:
        raise NotFound(_("This funder does not exist."))
    cover = services.cover_record(
        cycle=cycle,
        funder=funder,
        amount_cents=payload.amount_cents,
        idempotency_key=payload.idempotency_key,
        actor=user_of(request),
    )
    figures = selectors.cycle_figures(cycle)
    return 201, CoverOut(
        id=cover.pk,
        cycle=cycle.pk,
        funder=funder.pk,
        funder_name=funder.name,
        amount_cents=cover.amount_cents,
        pot_now_cents=figures.pot_now_cents,
        pot_after_close_cents=figures.pot_after_cents,
    )


def _pickup_out(r: selectors.Receipt) -> PickupOut:
    return PickupOut(
        order=r.order.pk,
        household=r.order.household.display_name,
        due_cents=r.due_cents,
        paid_cents=r.paid_cents,
        collected=r.collected,
    )


@router.get(
    "/orders/cycles/{cycle_id}/pickup-list",
    response=list[PickupOut],
    summary="A closed cycle's pickup list (its group's coordinators)",
)
def pickup_list(request: HttpRequest, cycle_id: int) -> list[PickupOut]:
    territory = territory_of(request)
    cycle = access.cycle_for(request.user, territory, cycle_id, manage=True)
    return [_pickup_out(r) for r in selectors.pickup_list(cycle)]


@router.put(
    "/orders/orders/{order_id}/pickup",
    response=PickupOut,
    summary="Check an order off the pickup list, or uncheck a mistake (its group's coordinators)",
)
def pickup_set(request: HttpRequest, order_id: int, payload: PickupIn) -> PickupOut:
    territory = territory_of(request)
    order = access.order_for(request.user, territory, order_id)
    _require_manager(request, order.cycle.group)
    services.pickup_set(order=order, collected=payload.collected, actor=user_of(request))
    return _pickup_out(selectors.receipt(order))
