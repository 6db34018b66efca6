"""After the close: what households pay and collect, what producers are paid."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils.translation import gettext as _

from grenier.core.errors import Conflict, Forbidden, NotFound
from grenier.core.idempotency import fingerprint, replayed
from grenier.core.models import User
from grenier.core.money import format_cents
from grenier.core.services import audit
from grenier.fund import services as fund_services
from grenier.fund.models import Payment
from grenier.ledger import services as ledger
from grenier.ledger.models import Account
from grenier.orders import accounts
from grenier.orders.models import (
    Order,
    OrderCycle,
    OrderLine,
    OrderPayment,
    OrderStatus,
    PaymentMethod,
    PayoutMethod,
    Pickup,
    ProducerPayout,
)
from grenier.orders.services.common import _invalid
from grenier.orders.services.cycles import _locked_cycle
from grenier.supply.models import Producer

# --- after the close: payments and pickups ------------------------------------------------------------------------


def paid_cents(order: Order) -> int:
    return int(order.payments.aggregate(total=Sum("amount_cents"))["total"] or 0)


def payment_record(
    *,
    order: Order,
    method: str,
    amount_cents: int,
    idempotency_key: str,
    actor: User | None,
    code: str | None = None,
) -> OrderPayment:
    """A household pays (part of) what it owes for a closed cycle: in euros (cash, cheque, transfer), or in food
    credit through the common fund's ``pay`` when the group is an approved point of sale (the member's personal
    code if it has one). Never more than is due. The same key again returns the first payment."""
    request = {"method": method, "amount_cents": amount_cents}
    existing = OrderPayment.objects.filter(order=order, idempotency_key=idempotency_key).first()
    if existing is not None:
        return replayed(existing, key=idempotency_key, **request)
    if method not in PaymentMethod.values:
        raise _invalid("method", _("Unknown payment method."))
    if not isinstance(amount_cents, int) or isinstance(amount_cents, bool) or amount_cents <= 0:
        raise _invalid("amount_cents", _("The amount must be above zero."))
    cycle = order.cycle
    group = cycle.group
    territory = group.territory
    if cycle.closed_at is None:
        raise Conflict(_("Payments are recorded once the cycle is closed."))
    if order.status != OrderStatus.PLACED:
        raise Conflict(_("This order was cancelled."))
    with transaction.atomic():
        locked = Order.objects.select_for_update().get(pk=order.pk)  # two payments never pay more than is due
        again = OrderPayment.objects.filter(order=locked, idempotency_key=idempotency_key).first()
        if again is not None:
            return replayed(again, key=idempotency_key, **request)
        left = (locked.due_cents or 0) - paid_cents(locked)
        if amount_cents > left:
            raise _invalid(
                "amount_cents", _("Only %(left)s is left to pay.") % {"left": format_cents(max(left, 0))}
            )
        legs, fund_payment = _payment_legs(locked, method, amount_cents, idempotency_key, actor, code)
        try:
            entry = ledger.entry_record(
                territory=territory,
                idempotency_key=f"orders:payment:{locked.pk}:{idempotency_key}",
                kind="orders.payment",
                legs=legs,
                memo=f"{method} · order {locked.pk}",
                actor=actor,
            ).entry
            payment = OrderPayment.objects.create(
                order=locked,
                method=method,
                amount_cents=amount_cents,
                idempotency_key=idempotency_key,
                request_fingerprint=fingerprint(**request),
                entry=entry,
                fund_payment=fund_payment,
                recorded_by=actor,
            )
        except IntegrityError:
            won = OrderPayment.objects.filter(order=locked, idempotency_key=idempotency_key).first()
            if won is None:
                raise
            return replayed(won, key=idempotency_key, **request)
        audit(
            territory=territory,
            actor=actor,
            action="orders.payment",
            subject=f"order:{locked.pk}",
            method=method,
        )
    return payment


def _payment_legs(
    order: Order, method: str, amount_cents: int, idempotency_key: str, actor: User | None, code: str | None
) -> tuple[list[tuple[Account, int]], Payment | None]:
    """The ledger legs of a payment of ``amount_cents`` on ``order`` (locked): in euros, or in food credit paid
    through the common fund at the group's store (then the fund's payment too, its euro part as euros)."""
    group = order.cycle.group
    territory = group.territory
    household_account = accounts.household_account(territory, group.pk, order.household_id)
    if method != PaymentMethod.CREDIT:
        return [
            (household_account, amount_cents),
            (accounts.external(territory, accounts.PAYMENTS_IN), -amount_cents),
        ], None
    if group.store is None or not group.store.is_approved:
        raise Forbidden(_("This group is not an approved point of sale: it cannot take food credit."))
    fund_payment = fund_services.pay(
        store=group.store,
        card=order.household.card_number,
        total_cents=amount_cents,
        idempotency_key=f"orders:{order.pk}:{idempotency_key}",
        actor=actor,
        code=code,
    ).payment
    legs = [(household_account, amount_cents)]
    if fund_payment.credit_cents:
        legs.append((accounts.fund_account(territory, group.pk), -fund_payment.credit_cents))
    if fund_payment.euro_cents:
        legs.append((accounts.external(territory, accounts.PAYMENTS_IN), -fund_payment.euro_cents))
    return legs, fund_payment


def pickup_set(*, order: Order, collected: bool, actor: User | None) -> bool:
    """Check an order off the pickup list (or uncheck a mistake). Only for a closed cycle's placed orders."""
    if order.cycle.closed_at is None:
        raise Conflict(_("The pickup list exists once the cycle is closed."))
    if order.status != OrderStatus.PLACED:
        raise Conflict(_("This order was cancelled."))
    with transaction.atomic():
        if collected:
            Pickup.objects.get_or_create(order=order, defaults={"checked_by": actor})
        else:
            Pickup.objects.filter(order=order).delete()
        audit(
            territory=order.cycle.group.territory,
            actor=actor,
            action="orders.pickup",
            subject=f"order:{order.pk}",
            collected=collected,
        )
    return collected


# --- paying producers ---------------------------------------------------------------------------------------------


def producer_owed_cents(cycle: OrderCycle, producer: Producer) -> int:
    """What a closed cycle owes ``producer``: the full price of what it delivers (0 while the cycle is open: final
    quantities are written at the close)."""
    total = 0
    for quantity, price in OrderLine.objects.filter(
        order__cycle=cycle,
        order__status=OrderStatus.PLACED,
        cycle_product__producer=producer,
        final_quantity__isnull=False,
    ).values_list("final_quantity", "cycle_product__price_cents"):
        total += (quantity or 0) * price
    return total


def producer_paid_cents(cycle: OrderCycle, producer: Producer) -> int:
    return int(
        ProducerPayout.objects.filter(cycle=cycle, producer=producer).aggregate(total=Sum("amount_cents"))[
            "total"
        ]
        or 0
    )


def producer_pay(
    *,
    cycle: OrderCycle,
    producer: Producer,
    amount_cents: int,
    method: str = PayoutMethod.TRANSFER,
    reference: str = "",
    idempotency_key: str,
    actor: User | None,
) -> ProducerPayout:
    """Record that the group paid ``producer`` (part of) what the closed ``cycle`` owes it: one ledger entry from
    the producer's account to ``external:orders-payouts``. Never more than is left to pay for this cycle; the same
    key again returns the first payout."""
    request = {
        "producer": producer,
        "amount_cents": amount_cents,
        "method": method,
        "reference": reference.strip()[:120],
    }
    existing = ProducerPayout.objects.filter(cycle=cycle, idempotency_key=idempotency_key).first()
    if existing is not None:
        return replayed(existing, key=idempotency_key, **request)
    if not isinstance(amount_cents, int) or isinstance(amount_cents, bool) or amount_cents <= 0:
        raise _invalid("amount_cents", _("The amount must be above zero."))
    if method not in PayoutMethod.values:
        raise _invalid("method", _("Unknown payment method."))
    if not cycle.products.filter(producer=producer).exists():
        raise NotFound(_("This producer has nothing in this cycle."))
    territory = cycle.group.territory
    with transaction.atomic():
        cycle = _locked_cycle(cycle)  # two payouts of one cycle never pay more than is owed
        again = ProducerPayout.objects.filter(cycle=cycle, idempotency_key=idempotency_key).first()
        if again is not None:
            return replayed(again, key=idempotency_key, **request)
        if cycle.closed_at is None:
            raise Conflict(_("A producer is paid once the cycle is closed."))
        left = producer_owed_cents(cycle, producer) - producer_paid_cents(cycle, producer)
        if amount_cents > left:
            raise _invalid(
                "amount_cents", _("Only %(left)s is left to pay.") % {"left": format_cents(max(left, 0))}
            )
        entry = ledger.entry_record(
            territory=territory,
            idempotency_key=f"orders:payout:{cycle.pk}:{idempotency_key}",
            kind="orders.payout",
            legs=[
                (accounts.producer_account(territory, cycle.group_id, producer.pk), -amount_cents),
                (accounts.external(territory, accounts.PAYOUTS), amount_cents),
            ],
            memo=f"{producer.farm_name} · {cycle}"[:300],
            actor=actor,
        ).entry
        payout = ProducerPayout.objects.create(
            cycle=cycle,
            producer=producer,
            method=method,
            amount_cents=amount_cents,
            reference=reference.strip()[:120],
            idempotency_key=idempotency_key,
            request_fingerprint=fingerprint(**request),
            entry=entry,
            recorded_by=actor,
        )
        audit(
            territory=territory,
            actor=actor,
            action="orders.payout",
            subject=f"cycle:{cycle.pk}",
            producer=producer.pk,
            amount_cents=amount_cents,
        )
    return payout
