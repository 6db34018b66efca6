"""API of the buying groups, under ``/api/v1/orders/``: catalogues, cycles (the open ones of a member's groups),
placing, changing and cancelling an order (member), closing a cycle, funders' covers, members' payments, the pickup
list and its check-off, adding a household by its card number (the group's coordinators), purchase orders and what
the producer was paid (a producer its own), tiers set by a social worker for the households they referred. Parse,
ask ``access``, call one service; the same permissions as the pages."""

from __future__ import annotations

from datetime import date, datetime

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema

from grenier.api import territory_of
from grenier.core import permissions
from grenier.core.auth import user_of
from grenier.core.errors import Forbidden, InvalidInput, NotFound
from grenier.core.models import Territory
from grenier.core.permissions import Action
from grenier.core.schemas import Cents, Id, InputSchema, Quantity
from grenier.fund.models import Funder
from grenier.orders import access, selectors, services
from grenier.orders.models import (
    BuyingGroup,
    CatalogueProduct,
    GroupMembership,
    Order,
    OrderCycle,
    OrderStatus,
    PaymentMethod,
    PayoutMethod,
    Unit,
)

router = Router(tags=["buying groups"])


class CatalogueProductIn(InputSchema):
    name: str = Field(..., min_length=1, max_length=150)
    unit: str = Field(Unit.PIECE.value, description="piece, kg, jar, bottle, loaf, bag, dozen, bunch")
    price_cents: Cents = Field(..., gt=0, le=1_000_000)
    case_size: int = Field(1, ge=1, le=10_000)
    stock: Quantity | None = Field(None, description="Units the producer can sell; empty: no limit.")
    is_active: bool = True


class CatalogueProductOut(Schema):
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


class OrderLineIn(InputSchema):
    product: Id = Field(..., description="A cycle product's id.")
    quantity: int = Field(..., ge=0, le=10_000)


class OrderIn(InputSchema):
    lines: list[OrderLineIn] = Field(..., min_length=1, max_length=500)
    idempotency_key: str = Field(..., min_length=8, max_length=100)


class CancelIn(InputSchema):
    idempotency_key: str = Field(..., min_length=8, max_length=100)


class OrderLineOut(Schema):
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
    lines: list[OrderLineOut]


class CloseOut(Schema):
    cycle: int
    closed_now: bool
    orders: int
    full_cents: int
    households_cents: int
    pot_delta_cents: int
    pot_after_cents: int
    trimmed_units: int
    added_units: int


class PurchaseLineOut(Schema):
    product: int
    name: str
    unit: str
    quantity: int
    case_size: int
    price_cents: int
    total_cents: int


class PayoutOut(Schema):
    id: int
    cycle: int
    producer: int
    amount_cents: int
    method: str
    reference: str
    created_at: datetime


class PurchaseOrderOut(Schema):
    cycle: int
    producer: int
    producer_name: str
    final: bool
    total_cents: int
    owed_cents: int = Field(..., description="What the closed cycle owes the producer (0 while open).")
    paid_cents: int
    left_cents: int
    payouts: list[PayoutOut]
    lines: list[PurchaseLineOut]


class PayoutIn(InputSchema):
    amount_cents: Cents = Field(..., gt=0)
    method: str = Field(PayoutMethod.TRANSFER.value, description="transfer, cheque, cash")
    reference: str = Field("", max_length=120)
    idempotency_key: str = Field(..., min_length=8, max_length=100)


class OrderPaymentIn(InputSchema):
    method: str = Field(..., description="cash, cheque, transfer, credit (food credit)")
    amount_cents: Cents = Field(..., gt=0)
    idempotency_key: str = Field(..., min_length=8, max_length=100)
    code: str | None = Field(None, max_length=6, description="The member's personal code, for food credit.")


class OrderPaymentOut(Schema):
    id: int
    order: int
    method: str
    amount_cents: int
    created_at: datetime


class ReceiptOut(Schema):
    order: OrderOut
    household: str
    paid_cents: int
    left_cents: int
    collected: bool
    payments: list[OrderPaymentOut]


class CoverIn(InputSchema):
    funder: Id
    amount_cents: Cents = Field(..., gt=0)
    idempotency_key: str = Field(..., min_length=8, max_length=100)


class CoverOut(Schema):
    id: int
    cycle: int
    funder: int
    funder_name: str
    amount_cents: int
    pot_now_cents: int
    pot_after_close_cents: int


class PickupOut(Schema):
    order: int
    household: str
    due_cents: int
    paid_cents: int
    collected: bool


class PickupIn(InputSchema):
    collected: bool


class MemberCardIn(InputSchema):
    card: str = Field(..., min_length=1, max_length=30, description="The household's card number.")
    tier: Id | None = Field(None, description="A tier of the group; empty: the group's default.")


class MembershipOut(Schema):
    id: int
    group: int
    group_name: str
    household: int
    household_name: str
    tier: int
    tier_percent: int
    tier_source: str = Field(..., description="chosen, or referral")
    referral_percent: int | None = Field(
        None, description="While set by a referral: the lowest tier allowed."
    )
    set_by_referral: int | None
    tier_set_by: int | None


class TierOut(Schema):
    id: int
    name: str
    percent: int
    is_default: bool


class GroupTiersOut(Schema):
    id: int
    name: str
    tiers: list[TierOut]
    membership: MembershipOut | None


class ReferredOut(Schema):
    household: int
    name: str
    referral: int
    consent_on: date
    memberships: list[MembershipOut]


class ReferredDetailOut(ReferredOut):
    groups: list[GroupTiersOut]


class ReferredTierIn(InputSchema):
    tier: Id


def _product_out(p: CatalogueProduct) -> CatalogueProductOut:
    return CatalogueProductOut(
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
            OrderLineOut(
                product=line.cycle_product_id,
                name=line.cycle_product.name,
                quantity=line.quantity,
                final_quantity=line.final_quantity,
                price_cents=line.cycle_product.price_cents,
            )
            for line in receipt.lines
        ],
    )


@router.get(
    "/orders/farms/{producer_id}/products", response=list[CatalogueProductOut], summary="A farm's catalogue"
)
def catalogue(request: HttpRequest, producer_id: int) -> list[CatalogueProductOut]:
    territory = territory_of(request)
    producer = access.producer_for(request.user, territory, producer_id)
    return [
        _product_out(p) for p in CatalogueProduct.objects.filter(producer=producer).select_related("producer")
    ]


@router.post(
    "/orders/farms/{producer_id}/products",
    response={201: CatalogueProductOut},
    summary="Add a product to a farm's catalogue (the farm's producer, or a coordinator)",
)
def product_create(
    request: HttpRequest, producer_id: int, payload: CatalogueProductIn
) -> tuple[int, CatalogueProductOut]:
    territory = territory_of(request)
    producer = access.producer_for(request.user, territory, producer_id)
    product = services.product_save(producer=producer, actor=user_of(request), **payload.dict())
    return 201, _product_out(product)


@router.put(
    "/orders/products/{product_id}", response=CatalogueProductOut, summary="Change a catalogue product"
)
def product_update(request: HttpRequest, product_id: int, payload: CatalogueProductIn) -> CatalogueProductOut:
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


def _membership_out(m: GroupMembership) -> MembershipOut:
    return MembershipOut(
        id=m.pk,
        group=m.group_id,
        group_name=m.group.name,
        household=m.household_id,
        household_name=m.household.display_name,
        tier=m.tier_id,
        tier_percent=m.tier.percent,
        tier_source=m.tier_source,
        referral_percent=m.referral_percent,
        set_by_referral=m.set_by_referral_id,
        tier_set_by=m.tier_set_by_id,
    )


def _group_tier(group: BuyingGroup, tier_id: int | None):
    if tier_id is None:
        return None
    tier = group.tiers.filter(pk=tier_id).first()
    if tier is None:
        raise InvalidInput(
            _("This tier is not one of the group's."),
            errors={"tier": [_("This tier is not one of the group's.")]},
        )
    return tier


@router.post(
    "/orders/groups/{group_id}/members",
    response={201: MembershipOut},
    summary="Add a household to a group by its card number (the group's coordinators: no list of households)",
)
def member_add(request: HttpRequest, group_id: int, payload: MemberCardIn) -> tuple[int, MembershipOut]:
    territory = territory_of(request)
    group = access.group_for(request.user, territory, group_id, manage=True)
    membership = services.member_add_by_card(
        group=group, card=payload.card, tier=_group_tier(group, payload.tier), actor=user_of(request)
    )
    return 201, _membership_out(membership)


def _referred_out(referral: object, memberships: list[GroupMembership]) -> dict[str, object]:
    return {
        "household": referral.household_id,  # type: ignore[attr-defined]
        "name": referral.household.display_name,  # type: ignore[attr-defined]
        "referral": referral.pk,  # type: ignore[attr-defined]
        "consent_on": referral.consent_on,  # type: ignore[attr-defined]
        "memberships": [_membership_out(m) for m in memberships],
    }


def _active_memberships(territory: Territory, household_ids: list[int]) -> list[GroupMembership]:
    return list(
        GroupMembership.objects.filter(
            household_id__in=household_ids, left_on__isnull=True, group__territory=territory
        ).select_related("group", "household", "tier")
    )


@router.get(
    "/orders/referred-households",
    response=list[ReferredOut],
    summary="The households the calling social worker referred (with consent) and their buying groups",
)
def referred_list(request: HttpRequest) -> list[ReferredOut]:
    territory = territory_of(request)
    access.require_referrer(request.user, territory)
    latest: dict[int, object] = {}
    for referral in (
        access.my_referrals(request.user, territory).select_related("household").order_by("created_at", "pk")
    ):
        latest[referral.household_id] = referral
    memberships = _active_memberships(territory, list(latest))
    return [
        ReferredOut(**_referred_out(r, [m for m in memberships if m.household_id == hid]))  # type: ignore[arg-type]
        for hid, r in sorted(latest.items(), key=lambda item: item[1].household.name)  # type: ignore[attr-defined]
    ]


@router.get(
    "/orders/referred-households/{household_id}",
    response=ReferredDetailOut,
    summary="A household the caller referred: the territory's groups, their tiers and its membership in each",
)
def referred_detail(request: HttpRequest, household_id: int) -> ReferredDetailOut:
    territory = territory_of(request)
    referral = access.referral_for_household(request.user, territory, household_id)
    memberships = _active_memberships(territory, [referral.household_id])
    by_group = {m.group_id: m for m in memberships}
    groups = BuyingGroup.objects.filter(territory=territory).prefetch_related("tiers").order_by("name")
    return ReferredDetailOut(
        **_referred_out(referral, memberships),  # type: ignore[arg-type]
        groups=[
            GroupTiersOut(
                id=g.pk,
                name=g.name,
                tiers=[
                    TierOut(id=t.pk, name=t.name, percent=t.percent, is_default=t.is_default)
                    for t in g.tiers.all()
                ],
                membership=_membership_out(by_group[g.pk]) if g.pk in by_group else None,
            )
            for g in groups
        ],
    )


@router.put(
    "/orders/referred-households/{household_id}/groups/{group_id}",
    response=MembershipOut,
    summary="Set the tier of a household the caller referred in a group (adds it to the group if needed)",
)
def referred_tier(
    request: HttpRequest, household_id: int, group_id: int, payload: ReferredTierIn
) -> MembershipOut:
    territory = territory_of(request)
    referral = access.referral_for_household(request.user, territory, household_id)
    group = BuyingGroup.objects.filter(territory=territory, pk=group_id).first()
    if group is None:
        raise NotFound(_("This buying group does not exist."))
    tier = _group_tier(group, payload.tier)
    assert tier is not None  # noqa: S101 - ``payload.tier`` is required
    membership = services.tier_set_by_referral(
        group=group, tier=tier, referral=referral, actor=user_of(request)
    )
    return _membership_out(membership)
