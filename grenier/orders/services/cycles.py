"""Order cycles: opening one, orders and covers while it is open, its close (rounding to cases, the pot)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from grenier.core.errors import Conflict, Forbidden, InvalidInput
from grenier.core.idempotency import fingerprint, replayed
from grenier.core.models import Household, User
from grenier.core.services import audit
from grenier.fund.models import Funder
from grenier.ledger import services as ledger
from grenier.orders import accounts
from grenier.orders.models import (
    BuyingGroup,
    CatalogueProduct,
    CycleProduct,
    FunderCover,
    GroupMembership,
    GroupPickupPoint,
    Order,
    OrderChange,
    OrderCycle,
    OrderLine,
    OrderStatus,
)
from grenier.orders.services.closing import cycle_delta, pot_balance
from grenier.orders.services.common import _invalid, _locked_cycle, _refuse_closed

# --- cycles -------------------------------------------------------------------------------------------------------


def cycle_open(
    *,
    group: BuyingGroup,
    name: str,
    opens_at: datetime,
    closes_at: datetime,
    delivery_date: date,
    pickup_point: GroupPickupPoint,
    products: Sequence[CatalogueProduct],
    round_to_cases: bool = False,
    actor: User | None,
) -> OrderCycle:
    """Open a cycle with these products; their prices, case sizes and stocks are frozen into it now."""
    errors: dict[str, list[str]] = {}
    name = name.strip()
    if not name:
        errors["name"] = [_("A cycle needs a name.")]
    if closes_at <= opens_at:
        errors["closes_at"] = [_("The close must come after the opening.")]
    if delivery_date < timezone.localdate(closes_at):
        errors["delivery_date"] = [_("The delivery must come after the close.")]
    if pickup_point.group_id != group.pk:
        errors["pickup_point"] = [_("This pickup point is not one of the group's.")]
    offered = [p for p in products if p.is_active]
    if not offered:
        errors["products"] = [_("Choose at least one offered product.")]
    if any(p.producer.territory_id != group.territory_id for p in offered):
        errors["products"] = [_("Every producer must be of the group's territory.")]
    if errors:
        raise InvalidInput(_("Some fields are not valid."), errors=errors)
    with transaction.atomic():
        if OrderCycle.objects.filter(group=group, name=name).exists():
            raise _invalid("name", _("This group already has a cycle of this name."))
        cycle = OrderCycle.objects.create(
            group=group,
            name=name,
            opens_at=opens_at,
            closes_at=closes_at,
            delivery_date=delivery_date,
            pickup_point=pickup_point,
            round_to_cases=round_to_cases,
            created_by=actor,
        )
        CycleProduct.objects.bulk_create(
            CycleProduct(
                cycle=cycle,
                product=p,
                producer_id=p.producer_id,
                name=p.name,
                unit=p.unit,
                price_cents=p.price_cents,
                case_size=p.case_size,
                max_quantity=p.stock,
            )
            for p in offered
        )
        audit(territory=group.territory, actor=actor, action="orders.cycle.open", subject=f"cycle:{cycle.pk}")
    return cycle


@dataclass(frozen=True)
class OrderResult:
    order: Order
    created: bool  # False when the idempotency key was already used: nothing changed
    pot_after_cents: int  # the pot if the cycle closed now
    flagged: bool  # the pot would be below zero: accepted, but a funder must cover it before the close


def _quantities(cycle: OrderCycle, quantities: Mapping[int, int]) -> dict[int, int]:
    products = {cp.pk: cp for cp in cycle.products.all()}
    errors: dict[str, list[str]] = {}
    clean: dict[int, int] = {}
    for raw_id, qty in quantities.items():
        product_id = int(raw_id)
        if product_id not in products:
            errors[f"quantity_{product_id}"] = [_("This product is not offered in this cycle.")]
        elif not isinstance(qty, int) or isinstance(qty, bool) or qty < 0 or qty > 10_000:
            errors[f"quantity_{product_id}"] = [_("Enter a whole number of units, 0 or more.")]
        elif qty:
            clean[product_id] = qty
    if errors:
        raise InvalidInput(_("Some quantities are not valid."), errors=errors)
    return clean


def order_place(
    *,
    cycle: OrderCycle,
    household: Household,
    quantities: Mapping[int, int],
    idempotency_key: str,
    actor: User | None,
    now: datetime | None = None,
) -> OrderResult:
    """Place or change a household's order: ``quantities`` maps each cycle product's id to the units wanted (0 or
    absent: none). Allowed while the cycle is open. The household pays its tier's share; the order is accepted even
    if the pot would go below zero, and then flagged."""
    moment = now or timezone.now()
    if not idempotency_key:
        raise _invalid("idempotency_key", _("This field is required."))
    wanted = _quantities(cycle, quantities)
    if not wanted:
        raise _invalid("quantities", _("Order at least one unit (or cancel the order)."))
    request = {"action": "place", "quantities": wanted}
    with transaction.atomic():
        cycle = _locked_cycle(cycle)
        existing = Order.objects.filter(cycle=cycle, household=household).first()
        done = existing.changes.filter(idempotency_key=idempotency_key).first() if existing else None
        if existing is not None and done is not None:
            replayed(done, key=idempotency_key, **request)
            projected = pot_balance(cycle.group) + cycle_delta(cycle)
            return OrderResult(existing, False, projected, existing.pot_flagged)
        _refuse_closed(cycle)
        if not cycle.opens_at <= moment < cycle.closes_at:
            raise Conflict(_("This cycle does not take orders now."))
        membership = (
            GroupMembership.objects.filter(group=cycle.group, household=household, left_on__isnull=True)
            .select_related("tier")
            .first()
        )
        if membership is None:
            raise Forbidden(_("This household is not a member of the group."))
        _check_stock(cycle, household, wanted)
        order = existing or Order(cycle=cycle, household=household, created_at=moment)
        kind = "placed" if existing is None or existing.status == OrderStatus.CANCELLED else "changed"
        order.status = OrderStatus.PLACED
        order.tier_percent = membership.tier.percent
        order.updated_at = moment
        order.save()
        current = {line.cycle_product_id: line for line in order.lines.all()}
        OrderLine.objects.filter(order=order).exclude(cycle_product_id__in=list(wanted)).delete()
        for product_id, qty in wanted.items():
            line = current.get(product_id)
            if line is None:
                OrderLine.objects.create(
                    order=order, cycle_product_id=product_id, quantity=qty, updated_at=moment
                )
            elif line.quantity != qty:
                line.quantity = qty
                line.updated_at = moment
                line.save(update_fields=["quantity", "updated_at"])
        projected = pot_balance(cycle.group) + cycle_delta(cycle)
        flagged = projected < 0
        if order.pot_flagged != flagged:
            order.pot_flagged = flagged
            order.save(update_fields=["pot_flagged"])
        OrderChange.objects.create(
            order=order,
            idempotency_key=idempotency_key,
            kind=kind,
            quantities={str(k): v for k, v in wanted.items()},
            request_fingerprint=fingerprint(**request),
            actor=actor,
            at=moment,
        )
        audit(
            territory=cycle.group.territory,
            actor=actor,
            action=f"orders.order.{kind}",
            subject=f"order:{order.pk}",
            pot_after_cents=projected,
        )
    return OrderResult(order, True, projected, flagged)


def _check_stock(cycle: OrderCycle, household: Household, wanted: Mapping[int, int]) -> None:
    limited = {cp.pk: cp for cp in cycle.products.filter(pk__in=list(wanted), max_quantity__isnull=False)}
    if not limited:
        return
    taken = dict(
        OrderLine.objects.filter(
            order__cycle=cycle, order__status=OrderStatus.PLACED, cycle_product_id__in=list(limited)
        )
        .exclude(order__household=household)
        .values("cycle_product_id")
        .annotate(total=Sum("quantity"))
        .values_list("cycle_product_id", "total")
    )
    errors: dict[str, list[str]] = {}
    for product_id, product in limited.items():
        left = (product.max_quantity or 0) - (taken.get(product_id) or 0)
        if wanted[product_id] > left:
            errors[f"quantity_{product_id}"] = [
                _("Only %(left)s left of %(name)s.") % {"left": max(left, 0), "name": product.name}
            ]
    if errors:
        raise InvalidInput(_("Not enough left of some products."), errors=errors)


def order_cancel(
    *, order: Order, idempotency_key: str, actor: User | None, now: datetime | None = None
) -> Order:
    """Cancel an order while its cycle is open (its lines go; the row and its history stay)."""
    moment = now or timezone.now()
    with transaction.atomic():
        cycle = _locked_cycle(order.cycle)
        order = Order.objects.get(pk=order.pk)
        done = order.changes.filter(idempotency_key=idempotency_key).first()
        if done is not None:
            replayed(done, key=idempotency_key, action="cancel")  # not a key that placed the order
            return order
        _refuse_closed(cycle)
        if not cycle.opens_at <= moment < cycle.closes_at:
            raise Conflict(_("This cycle does not take orders now."))
        OrderLine.objects.filter(order=order).delete()
        order.status = OrderStatus.CANCELLED
        order.pot_flagged = False
        order.updated_at = moment
        order.save(update_fields=["status", "pot_flagged", "updated_at"])
        OrderChange.objects.create(
            order=order,
            idempotency_key=idempotency_key,
            kind="cancelled",
            quantities={},
            request_fingerprint=fingerprint(action="cancel"),
            actor=actor,
            at=moment,
        )
        audit(
            territory=cycle.group.territory,
            actor=actor,
            action="orders.order.cancelled",
            subject=f"order:{order.pk}",
        )
    return order


def cover_record(
    *, cycle: OrderCycle, funder: Funder, amount_cents: int, idempotency_key: str, actor: User | None
) -> FunderCover:
    """A funder covers the pot's gap (or more): euros into the group's solidarity pot, before the close."""
    request = {"funder": funder, "amount_cents": amount_cents}
    existing = FunderCover.objects.filter(cycle=cycle, idempotency_key=idempotency_key).first()
    if existing is not None:
        return replayed(existing, key=idempotency_key, **request)
    if not isinstance(amount_cents, int) or isinstance(amount_cents, bool) or amount_cents <= 0:
        raise _invalid("amount_cents", _("The amount must be above zero."))
    territory = cycle.group.territory
    if funder.territory_id != territory.pk:
        raise _invalid("funder", _("This funder is of another territory."))
    with transaction.atomic():
        cycle = _locked_cycle(cycle)
        again = FunderCover.objects.filter(cycle=cycle, idempotency_key=idempotency_key).first()
        if again is not None:
            return replayed(again, key=idempotency_key, **request)
        _refuse_closed(cycle)
        entry = ledger.entry_record(
            territory=territory,
            idempotency_key=f"orders:cover:{cycle.pk}:{idempotency_key}",
            kind="orders.cover",
            legs=[
                (accounts.external(territory, accounts.COVERS_IN), -amount_cents),
                (accounts.pot_account(territory, cycle.group_id), amount_cents),
            ],
            memo=f"{funder.name} · {cycle}",
            actor=actor,
        ).entry
        cover = FunderCover.objects.create(
            cycle=cycle,
            funder=funder,
            amount_cents=amount_cents,
            idempotency_key=idempotency_key,
            request_fingerprint=fingerprint(**request),
            entry=entry,
        )
        audit(
            territory=territory,
            actor=actor,
            action="orders.cover",
            subject=f"cycle:{cycle.pk}",
            funder=funder.pk,
        )
    return cover
