"""A cycle's close: what it will deliver once rounded to cases (shown before), the solidarity pot's balance, the
close itself and the closes that fall due."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction
from django.db.models import BigIntegerField, Count, ExpressionWrapper, F, OuterRef, Subquery, Sum, Value
from django.db.models.functions import Cast, Coalesce, Greatest
from django.utils import timezone
from django.utils.translation import gettext as _

from grenier.core.errors import Conflict
from grenier.core.models import Household, Territory, User
from grenier.core.money import format_cents
from grenier.core.services import audit
from grenier.ledger import services as ledger
from grenier.ledger.errors import InsufficientBalance
from grenier.ledger.models import Account, Entry
from grenier.orders import accounts, rules
from grenier.orders.models import (
    BuyingGroup,
    CatalogueProduct,
    CycleProduct,
    Order,
    OrderCycle,
    OrderLine,
    OrderStatus,
)
from grenier.orders.services.common import CloseEarly, PotBelowZero, _locked_cycle

# --- cycles -------------------------------------------------------------------------------------------------------


@dataclass
class ProductPlan:
    """One product of a cycle at the close: what was ordered, what the group buys after rounding to cases, and the
    households whose quantity changes (household, ordered, final)."""

    product: CycleProduct
    ordered: int = 0
    final: int = 0
    households: int = 0
    changes: list[tuple[Household, int, int]] = field(default_factory=list)

    @property
    def rounded(self) -> bool:
        return self.product.case_size > 1

    @property
    def cases(self) -> int:
        return self.final // self.product.case_size

    @property
    def to_next_case(self) -> int:
        """Units still to order so that the ordered total makes whole cases (0 when it does)."""
        loose = self.ordered % self.product.case_size
        return self.product.case_size - loose if loose else 0

    @property
    def dropped(self) -> bool:
        return self.ordered > 0 and self.final == 0


@dataclass
class ClosePlan:
    """What closing ``cycle`` now would do, computed once (``close_plan``) for the close itself, the pot's projection
    and the coordinator's preview: the final quantity of each line, each order's full and tier price, the pot."""

    lines: list[OrderLine]
    finals: dict[int, int]  # line id -> final quantity
    fulls: dict[int, int]  # order id -> full price of what it gets
    dues: dict[int, int]  # order id -> what it pays at its tier
    producers: dict[int, int]  # producer id -> full price owed
    orders: dict[int, Order]
    products: list[ProductPlan]

    @property
    def full_cents(self) -> int:
        return sum(self.fulls.values())

    @property
    def due_cents(self) -> int:
        return sum(self.dues.values())

    @property
    def delta(self) -> int:
        return self.due_cents - self.full_cents

    @property
    def trimmed(self) -> int:
        return sum(max(0, line.quantity - self.finals[line.pk]) for line in self.lines)

    @property
    def added(self) -> int:
        return sum(max(0, self.finals[line.pk] - line.quantity) for line in self.lines)


def close_plan(cycle: OrderCycle) -> ClosePlan:
    """The close's figures, at the quantities ordered so far, with the cycle's rounding to cases (``rules``)."""
    lines = list(
        OrderLine.objects.filter(order__cycle=cycle, order__status=OrderStatus.PLACED)
        .select_related("cycle_product", "order", "order__household")
        .order_by("cycle_product_id", "updated_at", "id")
    )
    by_product: dict[int, list[OrderLine]] = defaultdict(list)
    for line in lines:
        by_product[line.cycle_product_id].append(line)
    plans = {cp.pk: ProductPlan(cp) for cp in cycle.products.select_related("producer")}
    finals: dict[int, int] = {}
    for product_id, product_lines in by_product.items():
        product = product_lines[0].cycle_product
        quantities = [line.quantity for line in product_lines]
        if cycle.round_to_cases and product.case_size > 1:
            rounded = rules.case_round(quantities, product.case_size, product.max_quantity)
        else:
            rounded = quantities
        plan = plans.setdefault(product_id, ProductPlan(product))
        for line, final in zip(product_lines, rounded, strict=True):
            finals[line.pk] = final
            plan.ordered += line.quantity
            plan.final += final
            plan.households += 1
            if final != line.quantity:
                plan.changes.append((line.order.household, line.quantity, final))
    fulls: dict[int, int] = defaultdict(int)
    producers: dict[int, int] = defaultdict(int)
    orders: dict[int, Order] = {}
    for line in lines:
        amount = finals[line.pk] * line.cycle_product.price_cents
        fulls[line.order_id] += amount
        producers[line.cycle_product.producer_id] += amount
        orders[line.order_id] = line.order
    dues = {oid: rules.tier_amount(full, orders[oid].tier_percent) for oid, full in fulls.items()}
    return ClosePlan(
        lines=lines,
        finals=finals,
        fulls=dict(fulls),
        dues=dues,
        producers=dict(producers),
        orders=orders,
        products=list(plans.values()),
    )


@dataclass(frozen=True)
class ClosePreview:
    """What closing ``cycle`` now would deliver and charge, as ``close_plan`` computes it, summed by the database
    (``close_preview``): each product's ordered and final quantity, the full and tier prices of every order. Without
    the lines nor who gets fewer units (``changes`` stays empty): the close's page reads those with ``close_plan``."""

    products: list[ProductPlan]
    full_cents: int
    due_cents: int

    @property
    def delta(self) -> int:
        return self.due_cents - self.full_cents


def close_preview(cycle: OrderCycle) -> ClosePreview:
    """``close_plan``'s figures in a few grouped queries whatever the number of orders: the sums of each product's
    lines; each order's full price and tier price (``rules.tier_amount``, halves up on the order's total) summed in
    SQL; only for a product the close rounds to another quantity, its lines (oldest first, as the close takes them)
    to share out the units the rule adds or trims, and the orders they change priced again."""
    placed = OrderLine.objects.filter(order__cycle=cycle, order__status=OrderStatus.PLACED)
    sums = {
        row["cycle_product_id"]: row
        for row in placed.values("cycle_product_id")
        .annotate(ordered=Sum("quantity"), households=Count("id"))
        .order_by()
    }
    plans = [ProductPlan(cp) for cp in cycle.products.select_related("producer")]
    moved: dict[int, int] = defaultdict(int)  # order id -> full price the rounding adds (negative: trims)
    for plan in plans:
        row = sums.get(plan.product.pk)
        if row is None:
            continue
        product = plan.product
        plan.ordered = plan.final = int(row["ordered"])
        plan.households = int(row["households"])
        if cycle.round_to_cases and product.case_size > 1:
            plan.final = rules.case_target(plan.ordered, product.case_size, product.max_quantity)
        if plan.final != plan.ordered:
            rows = list(
                placed.filter(cycle_product=product)
                .order_by("updated_at", "id")
                .values_list("order_id", "quantity")
            )
            finals = rules.case_round([qty for _, qty in rows], product.case_size, product.max_quantity)
            for (order_id, qty), final in zip(rows, finals, strict=True):
                if final != qty:
                    moved[order_id] += (final - qty) * product.price_cents
    orders = Order.objects.filter(
        cycle=cycle, status=OrderStatus.PLACED
    ).annotate(
        line_cents=Coalesce(
            Cast(  # PostgreSQL sums bigints as numeric: back to an integer, so that "/ 100" below divides whole
                Subquery(
                    OrderLine.objects.filter(order=OuterRef("pk"))
                    .values("order")
                    .annotate(total=Sum(F("quantity") * F("cycle_product__price_cents")))
                    .values("total")
                ),
                BigIntegerField(),
            ),
            Value(0),
            output_field=BigIntegerField(),
        )
    )
    tier = ExpressionWrapper((F("line_cents") * F("tier_percent") + 50) / 100, output_field=BigIntegerField())
    due = int(orders.exclude(pk__in=list(moved)).aggregate(due=Sum(tier))["due"] or 0)  # rules.tier_amount
    for percent, cents, order_id in orders.filter(pk__in=list(moved)).values_list(
        "tier_percent", "line_cents", "pk"
    ):
        due += rules.tier_amount(cents + moved[order_id], percent)
    return ClosePreview(
        products=plans,
        full_cents=sum(plan.final * plan.product.price_cents for plan in plans),
        due_cents=due,
    )


def cycle_delta(cycle: OrderCycle, *, final: bool = False) -> int:
    """What the cycle's placed orders add to the pot (negative: take from it): as the close would compute it now
    (rounding to cases included), or at the final quantities once closed."""
    if not final or cycle.closed_at is None:
        return close_preview(cycle).delta
    fulls: dict[int, int] = defaultdict(int)
    tiers: dict[int, int] = {}
    rows = OrderLine.objects.filter(order__cycle=cycle, order__status=OrderStatus.PLACED).values_list(
        "order_id", "order__tier_percent", "final_quantity", "cycle_product__price_cents"
    )
    for order_id, percent, final_quantity, price in rows:
        fulls[order_id] += (final_quantity or 0) * price
        tiers[order_id] = percent
    return sum(rules.tier_amount(full, tiers[oid]) - full for oid, full in fulls.items())


def pot_balance(group: BuyingGroup) -> int:
    return accounts.balance(group.territory, accounts.pot_code(group.pk))


def pot_balances(groups: Sequence[BuyingGroup]) -> dict[int, int]:
    """``pot_balance`` of each of ``groups`` (by id), in one query: a territory's coordinator manages every group."""
    codes = {accounts.pot_code(group.pk): group.pk for group in groups}
    found = dict(
        Account.objects.filter(
            territory_id__in={group.territory_id for group in groups}, code__in=list(codes)
        ).values_list("code", "balance_cents")
    )
    return {group_id: found.get(code, 0) for code, group_id in codes.items()}


@dataclass(frozen=True)
class CloseResult:
    cycle: OrderCycle
    closed_now: bool
    orders: int
    full_cents: int
    paid_by_households_cents: int
    pot_delta_cents: int
    pot_after_cents: int
    trimmed_units: int
    added_units: int = 0


def cycle_close(
    *,
    cycle: OrderCycle,
    actor: User | None,
    now: datetime | None = None,
    only_if_due: bool = False,
    early: bool = False,
) -> CloseResult:
    """Close a cycle: round to cases if asked, freeze what each household pays, and write the one entry that owes
    the producers the full price, charges each household its tier's price and moves the difference through the pot.

    Before its announced closing time a cycle closes only when asked explicitly (``early``: members can no longer
    order from then on); otherwise ``CloseEarly``, nothing written.

    Refused (``PotBelowZero``, nothing written) when the pot would end below zero: a funder covers the gap first
    (``cover_record``). Closing a closed cycle returns it as it is.
    """
    moment = now or timezone.now()
    with transaction.atomic():
        cycle = _locked_cycle(cycle)
        if cycle.closed_at is not None:
            return _close_summary(cycle, closed_now=False)
        if only_if_due and moment < cycle.closes_at:
            raise Conflict(_("This cycle closes at %(at)s.") % {"at": timezone.localtime(cycle.closes_at)})
        if moment < cycle.closes_at and not early:
            raise CloseEarly(
                _(
                    "This cycle is announced to close at %(at)s: closing it now stops members' orders early. "
                    "Confirm the early close to go ahead."
                )
                % {"at": timezone.localtime(cycle.closes_at).strftime("%d/%m/%Y %H:%M")},
                errors={"early": [_("Confirm that the cycle closes before its announced time.")]},
            )
        plan = close_plan(cycle)
        lines, orders, fulls, dues = plan.lines, plan.orders, plan.fulls, plan.dues
        for line in lines:
            line.final_quantity = plan.finals[line.pk]
        trimmed, added = plan.trimmed, plan.added
        delta = plan.delta
        territory = cycle.group.territory
        balance = pot_balance(cycle.group)
        if balance + delta < 0:
            raise _pot_refusal(balance, delta)
        OrderLine.objects.bulk_update(lines, ["final_quantity"])
        for oid, order in orders.items():
            order.full_cents = fulls[oid]
            order.due_cents = dues[oid]
        Order.objects.bulk_update(list(orders.values()), ["full_cents", "due_cents"])
        entry = _close_entry(cycle, plan, actor)
        for product_id, total in _delivered_per_product(lines).items():
            CatalogueProduct.objects.filter(pk=product_id, stock__isnull=False).update(
                stock=Greatest(F("stock") - total, Value(0))
            )
        cycle.closed_at = moment
        cycle.closed_by = actor
        cycle.close_entry = entry
        cycle.save(update_fields=["closed_at", "closed_by", "close_entry"])
        audit(
            territory=territory,
            actor=actor,
            action="orders.cycle.close",
            subject=f"cycle:{cycle.pk}",
            pot_delta_cents=delta,
            trimmed_units=trimmed,
            added_units=added,
        )
    return _close_summary(cycle, closed_now=True, trimmed=trimmed, added=added)


def _close_entry(cycle: OrderCycle, plan: ClosePlan, actor: User | None) -> Entry | None:
    """The close's one entry: each household owes its due, each producer is owed the full price, the pot takes the
    difference. None when nothing moves. Refused (``PotBelowZero``) if another close took the pot first."""
    territory = cycle.group.territory
    legs: list[tuple[Account, int]] = []
    for oid, due in plan.dues.items():
        if due:
            legs.append(
                (accounts.household_account(territory, cycle.group_id, plan.orders[oid].household_id), -due)
            )
    for producer_id, full in plan.producers.items():
        if full:
            legs.append((accounts.producer_account(territory, cycle.group_id, producer_id), full))
    if plan.delta:
        legs.append((accounts.pot_account(territory, cycle.group_id), plan.delta))
    if sum(1 for _account, amount in legs if amount) < 2:
        return None
    try:
        return ledger.entry_record(
            territory=territory,
            idempotency_key=f"orders:close:{cycle.pk}",
            kind="orders.close",
            legs=legs,
            memo=str(cycle)[:300],
            actor=actor,
        ).entry
    except InsufficientBalance as exc:  # another close of the same group took the pot first
        raise _pot_refusal(pot_balance(cycle.group), plan.delta) from exc


def _delivered_per_product(lines: Sequence[OrderLine]) -> dict[int, int]:
    totals: dict[int, int] = defaultdict(int)
    for line in lines:
        totals[line.cycle_product.product_id] += line.final_quantity or 0
    return {pid: total for pid, total in totals.items() if total}


def _pot_refusal(balance: int, delta: int) -> PotBelowZero:
    gap = -(balance + delta)
    return PotBelowZero(
        _("The solidarity pot would end at %(after)s: a funder must cover %(gap)s before this cycle closes.")
        % {"after": format_cents(balance + delta), "gap": format_cents(gap)},
        extra={"pot_cents": balance, "pot_delta_cents": delta, "gap_cents": gap},
    )


def _close_summary(cycle: OrderCycle, *, closed_now: bool, trimmed: int = 0, added: int = 0) -> CloseResult:
    placed = Order.objects.filter(cycle=cycle, status=OrderStatus.PLACED)
    sums = placed.aggregate(full=Sum("full_cents"), due=Sum("due_cents"))
    full = sums["full"] or 0
    due = sums["due"] or 0
    return CloseResult(
        cycle=cycle,
        closed_now=closed_now,
        orders=placed.count(),
        full_cents=full,
        paid_by_households_cents=due,
        pot_delta_cents=due - full,
        pot_after_cents=pot_balance(cycle.group),
        trimmed_units=trimmed,
        added_units=added,
    )


def close_due(
    *, territory: Territory | None = None, now: datetime | None = None, actor: User | None = None
) -> list[tuple[OrderCycle, CloseResult | None, str]]:
    """Close every cycle whose closing time has passed. Each one in its own transaction; a cycle whose pot would go
    below zero stays open, with the reason."""
    moment = now or timezone.now()
    due = OrderCycle.objects.filter(closed_at__isnull=True, closes_at__lte=moment).select_related("group")
    if territory is not None:
        due = due.filter(group__territory=territory)
    results: list[tuple[OrderCycle, CloseResult | None, str]] = []
    for cycle in due.order_by("closes_at", "pk"):
        try:
            results.append((cycle, cycle_close(cycle=cycle, actor=actor, now=moment), ""))
        except Conflict as exc:
            results.append((cycle, None, exc.detail))
    return results
