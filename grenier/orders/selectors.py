"""Reads of the buying groups: a cycle's figures and its pot, the products ordered so far, purchase orders per
producer and what they were paid, pickup lists, a household's receipt."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone

from grenier.core.models import Household
from grenier.orders import rules, services
from grenier.orders.models import (
    BuyingGroup,
    CycleProduct,
    Order,
    OrderCycle,
    OrderLine,
    OrderPayment,
    OrderStatus,
    Pickup,
    ProducerPayout,
)
from grenier.supply.models import Producer


@dataclass(frozen=True)
class CycleFigures:
    orders: int
    flagged: int
    full_cents: int  # what the producers get: always the full price
    households_cents: int  # what the households pay at their tiers
    pot_delta_cents: int  # households minus producers: added to the pot (negative: taken from it)
    pot_now_cents: int  # the pot's balance in the ledger (closed cycles and covers so far)
    pot_after_cents: int  # the pot once this cycle is closed (now: if it closed at this moment)
    covers_cents: int

    @property
    def gap_cents(self) -> int:
        return max(0, -self.pot_after_cents)


def cycle_figures(
    cycle: OrderCycle, plan: services.ClosePlan | services.ClosePreview | None = None
) -> CycleFigures:
    """The cycle's figures; ``plan``, the open cycle's ``close_preview`` (or ``close_plan``) when the caller already
    has it (a page showing both sums the cycle's lines once)."""
    placed = Order.objects.filter(cycle=cycle, status=OrderStatus.PLACED)
    covers = int(cycle.covers.aggregate(total=Sum("amount_cents"))["total"] or 0)
    pot_now = services.pot_balance(cycle.group)
    if cycle.closed_at is not None:
        sums = placed.aggregate(
            orders=Count("id"),
            flagged=Count("id", filter=Q(pot_flagged=True)),
            full=Sum("full_cents"),
            due=Sum("due_cents"),
        )
        full, due = int(sums["full"] or 0), int(sums["due"] or 0)
        return CycleFigures(
            orders=sums["orders"],
            flagged=sums["flagged"],
            full_cents=full,
            households_cents=due,
            pot_delta_cents=due - full,
            pot_now_cents=pot_now,
            pot_after_cents=pot_now,
            covers_cents=covers,
        )
    if plan is None:
        plan = services.close_preview(cycle)  # the same figures as the close: rounding to cases included
    counts = placed.aggregate(orders=Count("id"), flagged=Count("id", filter=Q(pot_flagged=True)))
    full, due = plan.full_cents, plan.due_cents
    return CycleFigures(
        orders=counts["orders"],
        flagged=counts["flagged"],
        full_cents=full,
        households_cents=due,
        pot_delta_cents=due - full,
        pot_now_cents=pot_now,
        pot_after_cents=pot_now + due - full,
        covers_cents=covers,
    )


@dataclass
class ProductTotal:
    product: CycleProduct
    ordered: int = 0
    final: int | None = None
    households: int = 0
    planned: int | None = None  # open cycle: what the close would deliver now (after rounding to cases)

    @property
    def full_cents(self) -> int:
        qty = self.final if self.final is not None else self.ordered
        return qty * self.product.price_cents

    @property
    def cases(self) -> tuple[int, int]:
        """Whole cases and units beyond them, at the quantity ordered so far."""
        qty = self.final if self.final is not None else self.ordered
        return divmod(qty, self.product.case_size)

    @property
    def left(self) -> int | None:
        if self.product.max_quantity is None:
            return None
        return max(0, self.product.max_quantity - self.ordered)


def product_totals(cycle: OrderCycle, producer: Producer | None = None) -> list[ProductTotal]:
    products = cycle.products.select_related("producer")
    if producer is not None:
        products = products.filter(producer=producer)
    totals = {p.pk: ProductTotal(p) for p in products}
    sums = (  # summed by the database, one row per product (a final is set on every line at the close, or none)
        OrderLine.objects.filter(
            order__cycle=cycle, order__status=OrderStatus.PLACED, cycle_product_id__in=list(totals)
        )
        .values("cycle_product_id")
        .annotate(ordered=Sum("quantity"), households=Count("id"), final=Sum("final_quantity"))
        .order_by()
    )
    for row in sums:
        total = totals[row["cycle_product_id"]]
        total.ordered, total.households = int(row["ordered"]), int(row["households"])
        total.final = None if row["final"] is None else int(row["final"])
    return list(totals.values())


@dataclass
class PurchaseOrder:
    cycle: OrderCycle
    producer: Producer
    lines: list[ProductTotal]

    @property
    def total_cents(self) -> int:
        return sum(line.full_cents for line in self.lines)


def purchase_order(cycle: OrderCycle, producer: Producer) -> PurchaseOrder:
    lines = [t for t in product_totals(cycle, producer) if (t.final if t.final is not None else t.ordered)]
    return PurchaseOrder(cycle, producer, lines)


def cycle_producers(cycle: OrderCycle) -> list[Producer]:
    return list(Producer.objects.filter(pk__in=cycle.products.values("producer_id")).order_by("farm_name"))


@dataclass
class Receipt:
    order: Order
    lines: list[OrderLine]
    full_cents: int
    due_cents: int
    paid_cents: int
    collected: bool
    payments: list[OrderPayment] = field(default_factory=list)

    @property
    def left_cents(self) -> int:
        return max(0, self.due_cents - self.paid_cents)

    @property
    def has_something(self) -> bool:
        """Something to collect: a household whose lines were all rounded away is not on the pickup list."""
        return any(
            (line.final_quantity if line.final_quantity is not None else line.quantity) for line in self.lines
        )

    @property
    def delivered_lines(self) -> list[OrderLine]:
        return [
            line
            for line in self.lines
            if (line.final_quantity if line.final_quantity is not None else line.quantity)
        ]

    @property
    def pot_cents(self) -> int:
        """What this household adds to the pot (negative: what the pot gives it)."""
        return self.due_cents - self.full_cents

    @property
    def pot_abs_cents(self) -> int:
        return abs(self.pot_cents)


def receipt(order: Order) -> Receipt:
    lines = list(order.lines.select_related("cycle_product", "cycle_product__producer"))
    payments = list(order.payments.order_by("created_at"))
    return _receipt(order, lines, payments, Pickup.objects.filter(order=order).exists())


def _receipt(order: Order, lines: list[OrderLine], payments: list[OrderPayment], collected: bool) -> Receipt:
    if order.due_cents is not None:
        full, due = order.full_cents or 0, order.due_cents
    else:
        full = sum(line.quantity * line.cycle_product.price_cents for line in lines)
        due = rules.tier_amount(full, order.tier_percent)
    return Receipt(
        order=order,
        lines=lines,
        full_cents=full,
        due_cents=due,
        paid_cents=sum(p.amount_cents for p in payments),
        collected=collected,
        payments=payments,
    )


def empty_orders(cycle: OrderCycle) -> int:
    """Placed orders of a closed cycle left with nothing after rounding to cases."""
    if cycle.closed_at is None:
        return 0
    return Order.objects.filter(cycle=cycle, status=OrderStatus.PLACED, full_cents=0).count()


def pickup_list(cycle: OrderCycle) -> list[Receipt]:
    """Each placed order's receipt, read in four queries whatever the number of orders (the lines, payments and
    pickups of the cycle's orders each in one, then shared out)."""
    orders = list(
        Order.objects.filter(cycle=cycle, status=OrderStatus.PLACED)
        .select_related("household")
        .order_by("household__name", "pk")
    )
    lines: dict[int, list[OrderLine]] = defaultdict(list)
    for line in OrderLine.objects.filter(order__cycle=cycle, order__status=OrderStatus.PLACED).select_related(
        "cycle_product", "cycle_product__producer"
    ):
        lines[line.order_id].append(line)
    payments: dict[int, list[OrderPayment]] = defaultdict(list)
    for payment in OrderPayment.objects.filter(order__cycle=cycle).order_by("created_at"):
        payments[payment.order_id].append(payment)
    collected = set(Pickup.objects.filter(order__cycle=cycle).values_list("order_id", flat=True))
    receipts = (_receipt(o, lines[o.pk], payments[o.pk], o.pk in collected) for o in orders)
    return [r for r in receipts if r.has_something]


def open_cycles(groups: QuerySet[BuyingGroup]) -> QuerySet[OrderCycle]:
    now = timezone.now()
    return (
        OrderCycle.objects.filter(
            group__in=groups, closed_at__isnull=True, opens_at__lte=now, closes_at__gt=now
        )
        .select_related("group", "pickup_point")
        .order_by("closes_at")
    )


def household_orders(household: Household, limit: int = 20) -> QuerySet[Order]:
    return (
        Order.objects.filter(household=household)
        .select_related("cycle", "cycle__group")
        .order_by("-cycle__closes_at")[:limit]
    )


@dataclass
class PayoutRow:
    """What a closed cycle owes a producer, what the group paid it so far, and the payouts."""

    cycle: OrderCycle
    producer: Producer
    owed_cents: int
    payouts: list[ProducerPayout]

    @property
    def paid_cents(self) -> int:
        return sum(p.amount_cents for p in self.payouts)

    @property
    def left_cents(self) -> int:
        return max(0, self.owed_cents - self.paid_cents)

    @property
    def left_input(self) -> str:
        """What is left, as typed in the payment form (``123,45``)."""
        return f"{self.left_cents // 100},{self.left_cents % 100:02d}"


def producer_payouts(cycle: OrderCycle, producer: Producer) -> PayoutRow:
    return PayoutRow(
        cycle=cycle,
        producer=producer,
        owed_cents=services.producer_owed_cents(cycle, producer),
        payouts=list(
            ProducerPayout.objects.filter(cycle=cycle, producer=producer).order_by("created_at", "pk")
        ),
    )


def payout_rows(cycles: list[OrderCycle], producers: list[Producer]) -> dict[tuple[int, int], PayoutRow]:
    """``producer_payouts`` of each closed cycle and producer, keyed (cycle id, producer id), in two queries
    whatever their number (a producer's home lists its last 20 cycles)."""
    closed = {c.pk: c for c in cycles if c.closed_at is not None}
    farms = {p.pk: p for p in producers}
    rows = {(c, f): PayoutRow(closed[c], farms[f], 0, []) for c in closed for f in farms}
    if not rows:
        return rows
    owed = OrderLine.objects.filter(
        order__cycle_id__in=list(closed),
        order__status=OrderStatus.PLACED,
        cycle_product__producer_id__in=list(farms),
        final_quantity__isnull=False,
    ).values_list(
        "order__cycle_id", "cycle_product__producer_id", "final_quantity", "cycle_product__price_cents"
    )
    for cycle_id, producer_id, quantity, price in owed:
        rows[(cycle_id, producer_id)].owed_cents += (quantity or 0) * price
    for payout in ProducerPayout.objects.filter(
        cycle_id__in=list(closed), producer_id__in=list(farms)
    ).order_by("created_at", "pk"):
        rows[(payout.cycle_id, payout.producer_id)].payouts.append(payout)
    return rows


def cycle_payouts(cycle: OrderCycle) -> list[PayoutRow]:
    """One row per producer of a closed cycle (nothing while it is open)."""
    if cycle.closed_at is None:
        return []
    producers = cycle_producers(cycle)
    rows = payout_rows([cycle], producers)
    return [rows[(cycle.pk, producer.pk)] for producer in producers]
