"""Every write of the buying groups. Pages, API and CLI call these; money moves only through the ledger.

Tiers set by a referral read ``baskets.Referral`` (the one dependency on the baskets app: a social worker's
referral of a household, with its consent).

Each function is keyword-only, runs in one transaction and leaves an audit line. Orders and payments take an
idempotency key: the same key again returns what the first call did. A closed cycle is never changed: every
service below refuses (``Conflict``, code ``cycle-closed``), and on PostgreSQL triggers refuse it too.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from django.db import IntegrityError, transaction
from django.db.models import F, Sum, Value
from django.db.models.functions import Greatest
from django.utils import timezone
from django.utils.translation import gettext as _

from grenier.baskets.models import Referral
from grenier.core.cards import normalise_card_number
from grenier.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from grenier.core.idempotency import fingerprint, replayed
from grenier.core.models import Household, Territory, User
from grenier.core.money import format_cents
from grenier.core.services import audit
from grenier.fund import services as fund_services
from grenier.fund.models import Funder, Store
from grenier.ledger import services as ledger
from grenier.ledger.errors import InsufficientBalance
from grenier.ledger.models import Account
from grenier.orders import accounts, rules
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
    OrderPayment,
    OrderStatus,
    PaymentMethod,
    PayoutMethod,
    Pickup,
    PriceTier,
    ProducerPayout,
    TierSource,
    Unit,
)
from grenier.supply.models import Producer

DEFAULT_TIERS: tuple[tuple[str, int], ...] = (("Solidaire", 70), ("Juste prix", 100), ("Soutien", 130))


class CycleClosed(Conflict):
    code = "cycle-closed"


class PotBelowZero(Conflict):
    code = "pot-below-zero"


class CloseEarly(Conflict):
    code = "close-early"


def _invalid(field: str, message: str) -> InvalidInput:
    return InvalidInput(message, errors={field: [message]})


def _refuse_closed(cycle: OrderCycle) -> None:
    if cycle.closed_at is not None:
        raise CycleClosed(_("This cycle is closed: nothing of it changes any more."))


# --- groups, tiers, pickup points, members --------------------------------------------------------------------


def group_create(
    *,
    territory: Territory,
    name: str,
    description: str = "",
    tiers: Sequence[tuple[str, int]] = DEFAULT_TIERS,
    default_percent: int = 100,
    coordinators: Sequence[User] = (),
    store: Store | None = None,
    actor: User | None,
) -> BuyingGroup:
    """A buying group with its price tiers (name, percent of the price); the default tier is ``default_percent``."""
    name = name.strip()
    if not name:
        raise _invalid("name", _("A group needs a name."))
    percents = [percent for _name, percent in tiers]
    if not tiers or len(set(percents)) != len(percents) or any(not 1 <= p <= 300 for p in percents):
        raise _invalid("tiers", _("Tiers must be distinct percentages between 1 and 300."))
    if default_percent not in percents:
        raise _invalid("tiers", _("The default tier must be one of the tiers."))
    if store is not None and store.territory_id != territory.pk:
        raise _invalid("store", _("This point of sale is in another territory."))
    with transaction.atomic():
        if BuyingGroup.objects.filter(territory=territory, name=name).exists():
            raise _invalid("name", _("A group of this name already exists here."))
        group = BuyingGroup.objects.create(
            territory=territory, name=name, description=description, store=store
        )
        PriceTier.objects.bulk_create(
            PriceTier(group=group, name=tier_name, percent=percent, is_default=percent == default_percent)
            for tier_name, percent in tiers
        )
        if coordinators:
            group.coordinators.add(*coordinators)
        audit(territory=territory, actor=actor, action="orders.group.create", subject=f"group:{group.pk}")
    return group


def group_store_set(*, group: BuyingGroup, store: Store | None, actor: User | None) -> BuyingGroup:
    if store is not None and store.territory_id != group.territory_id:
        raise _invalid("store", _("This point of sale is in another territory."))
    with transaction.atomic():
        group.store = store
        group.save(update_fields=["store"])
        audit(
            territory=group.territory, actor=actor, action="orders.group.store", subject=f"group:{group.pk}"
        )
    return group


def coordinator_add(*, group: BuyingGroup, user: User, actor: User | None) -> None:
    with transaction.atomic():
        group.coordinators.add(user)
        audit(
            territory=group.territory,
            actor=actor,
            action="orders.group.coordinator",
            subject=f"group:{group.pk}",
        )


def pickup_point_create(
    *, group: BuyingGroup, name: str, address: str = "", hours: str = "", actor: User | None
) -> GroupPickupPoint:
    name = name.strip()
    if not name:
        raise _invalid("name", _("A pickup point needs a name."))
    with transaction.atomic():
        point, _created = GroupPickupPoint.objects.get_or_create(
            group=group, name=name, defaults={"address": address.strip(), "hours": hours.strip()}
        )
        audit(
            territory=group.territory, actor=actor, action="orders.pickup_point", subject=f"group:{group.pk}"
        )
    return point


def _default_tier(group: BuyingGroup) -> PriceTier:
    tier = group.tiers.filter(is_default=True).first() or group.tiers.order_by("percent").first()
    if tier is None:
        raise Conflict(_("This group has no price tier."))
    return tier


def membership_join(
    *, group: BuyingGroup, household: Household, tier: PriceTier | None = None, actor: User | None
) -> GroupMembership:
    """A household joins a group (or comes back), at ``tier`` or the group's default. Joining twice changes nothing."""
    if household.territory_id != group.territory_id or household.left_on is not None:
        raise NotFound(_("No active household of this territory has this number."))
    if tier is not None and tier.group_id != group.pk:
        raise _invalid("tier", _("This tier is not one of the group's."))
    with transaction.atomic():
        membership = (
            GroupMembership.objects.select_for_update().filter(group=group, household=household).first()
        )
        if membership is not None and membership.left_on is None:
            return membership
        if membership is None:
            membership = GroupMembership.objects.create(
                group=group, household=household, tier=tier or _default_tier(group)
            )
        else:
            membership.left_on = None
            membership.joined_on = timezone.localdate()
            if tier is not None and membership.tier_source == TierSource.CHOSEN:
                membership.tier = tier
            membership.save(update_fields=["left_on", "joined_on", "tier"])
        audit(
            territory=group.territory,
            actor=actor,
            action="orders.member.join",
            subject=f"group:{group.pk}",
            household=household.pk,
        )
    return membership


def membership_leave(*, membership: GroupMembership, actor: User | None) -> GroupMembership:
    """Leaving is free: orders already placed stay (a coordinator may cancel an open one with the household)."""
    with transaction.atomic():
        if membership.left_on is None:
            membership.left_on = timezone.localdate()
            membership.save(update_fields=["left_on"])
            audit(
                territory=membership.group.territory,
                actor=actor,
                action="orders.member.leave",
                subject=f"group:{membership.group_id}",
                household=membership.household_id,
            )
    return membership


class TierSetByReferral(Forbidden):
    code = "tier-set-by-referral"


def _tier_record(
    locked: GroupMembership,
    tier: PriceTier,
    *,
    source: str,
    floor: int | None,
    note: str,
    referral: Referral | None,
    actor: User | None,
) -> None:
    locked.tier = tier
    locked.tier_source = source
    locked.referral_percent = floor
    locked.referral_note = note[:200]
    locked.set_by_referral = referral
    locked.tier_set_by = actor
    locked.tier_set_at = timezone.now()
    locked.save(
        update_fields=[
            "tier",
            "tier_source",
            "referral_percent",
            "referral_note",
            "set_by_referral",
            "tier_set_by",
            "tier_set_at",
        ]
    )
    _reprice_open_orders(locked, tier.percent)


def _reprice_open_orders(membership: GroupMembership, percent: int) -> int:
    """A new tier applies at once to the household's orders in the group's cycles still taking orders (their rows
    locked first, so that a close running now sees either the old tier or the new one, never a mix). Closed cycles
    keep what they froze. Returns the number of orders re-priced."""
    now = timezone.now()
    cycle_ids = list(
        OrderCycle.objects.select_for_update()
        .filter(group_id=membership.group_id, closed_at__isnull=True, closes_at__gt=now)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    if not cycle_ids:
        return 0
    return (
        Order.objects.filter(
            cycle_id__in=cycle_ids,
            household_id=membership.household_id,
            status=OrderStatus.PLACED,
            cycle__closed_at__isnull=True,
        )
        .exclude(tier_percent=percent)
        .update(tier_percent=percent, updated_at=now)
    )


def tier_set(
    *,
    membership: GroupMembership,
    tier: PriceTier,
    actor: User | None,
    by_household: bool,
    referral: str = "",
) -> GroupMembership:
    """Set a household's tier.

    * The household chooses it (``by_household``). While a referral set its tier, it may choose to pay more, never
      a tier below the referral's (``TierSetByReferral``); the tier stays set by the referral.
    * A coordinator sets it: with ``referral`` (which referral, in words) the tier becomes set by a referral, with
      this tier as its floor; without, the household's choice again (any earlier referral lifted).
    """
    if tier.group_id != membership.group_id:
        raise _invalid("tier", _("This tier is not one of the group's."))
    with transaction.atomic():
        locked = GroupMembership.objects.select_for_update().get(pk=membership.pk)
        if by_household:
            if locked.tier_source == TierSource.REFERRAL:
                floor = locked.referral_percent or 0
                if tier.percent < floor:
                    raise TierSetByReferral(
                        _(
                            "Your tier was set by a referral: you may choose to pay more, not less. Ask the "
                            "social worker who referred you to change it."
                        ),
                        errors={"tier": [_("At least %(percent)s %% of the price.") % {"percent": floor}]},
                    )
                _tier_record(
                    locked,
                    tier,
                    source=TierSource.REFERRAL,
                    floor=floor,
                    note=locked.referral_note,
                    referral=locked.set_by_referral,
                    actor=actor,
                )
            else:
                _tier_record(
                    locked, tier, source=TierSource.CHOSEN, floor=None, note="", referral=None, actor=actor
                )
        elif referral.strip():
            _tier_record(
                locked,
                tier,
                source=TierSource.REFERRAL,
                floor=tier.percent,
                note=referral.strip(),
                referral=None,
                actor=actor,
            )
        else:
            _tier_record(
                locked, tier, source=TierSource.CHOSEN, floor=None, note="", referral=None, actor=actor
            )
        audit(
            territory=locked.group.territory,
            actor=actor,
            action="orders.member.tier",
            subject=f"group:{locked.group_id}",
            household=locked.household_id,
            percent=tier.percent,
            source=locked.tier_source,
        )
    return locked


def tier_set_by_referral(
    *, group: BuyingGroup, tier: PriceTier, referral: Referral, actor: User
) -> GroupMembership:
    """The social worker who referred a household sets its tier in ``group`` (and adds it to the group if it is not
    a member): the tier is then set by this referral, its floor for the household's own choices. Setting the same
    tier again changes nothing but who set it last. ``access.referral_for_household`` checks the referral is the
    actor's own, with the household's consent."""
    household = referral.household
    if referral.social_worker_id != actor.pk:
        raise NotFound(_("This household was not referred by you."))
    if referral.territory_id != group.territory_id or household.territory_id != group.territory_id:
        raise NotFound(_("This buying group does not exist."))
    if household.left_on is not None:
        raise NotFound(_("No active household of this territory has this number."))
    if tier.group_id != group.pk:
        raise _invalid("tier", _("This tier is not one of the group's."))
    with transaction.atomic():
        membership = membership_join(group=group, household=household, tier=tier, actor=actor)
        locked = GroupMembership.objects.select_for_update().get(pk=membership.pk)
        _tier_record(
            locked,
            tier,
            source=TierSource.REFERRAL,
            floor=tier.percent,
            note=referral.garden.name,
            referral=referral,
            actor=actor,
        )
        audit(
            territory=group.territory,
            actor=actor,
            action="orders.member.tier.referral",
            subject=f"group:{group.pk}",
            household=household.pk,
            referral=referral.pk,
            percent=tier.percent,
        )
    return locked


def member_add_by_card(
    *, group: BuyingGroup, card: str, tier: PriceTier | None = None, actor: User | None
) -> GroupMembership:
    """A group's coordinator adds a household by its card number (they may not list the territory's households).
    An unknown or malformed number is refused on the ``card`` field, saying nothing of any household."""
    number = normalise_card_number(card or "")
    household = (
        Household.objects.filter(territory=group.territory, card_number=number, left_on__isnull=True).first()
        if number
        else None
    )
    if household is None:
        raise _invalid("card", _("No active household of this territory has this card number."))
    return membership_join(group=group, household=household, tier=tier, actor=actor)


# --- catalogues ---------------------------------------------------------------------------------------------------


def product_save(
    *,
    producer: Producer,
    name: str,
    unit: str,
    price_cents: int,
    case_size: int = 1,
    stock: int | None = None,
    is_active: bool = True,
    product: CatalogueProduct | None = None,
    actor: User | None,
) -> CatalogueProduct:
    """Add a product to a producer's catalogue, or change one (``product``). Open cycles keep the prices they froze."""
    errors: dict[str, list[str]] = {}
    name = name.strip()
    if not name:
        errors["name"] = [_("A product needs a name.")]
    if unit not in Unit.values:
        errors["unit"] = [_("Unknown unit.")]
    if not isinstance(price_cents, int) or isinstance(price_cents, bool) or price_cents <= 0:
        errors["price_cents"] = [_("A price above zero, in cents.")]
    if not isinstance(case_size, int) or case_size < 1:
        errors["case_size"] = [_("At least one unit per case.")]
    if stock is not None and (not isinstance(stock, int) or stock < 0):
        errors["stock"] = [_("A stock must be zero or more units.")]
    if errors:
        raise InvalidInput(_("Some fields are not valid."), errors=errors)
    if product is not None and product.producer_id != producer.pk:
        raise NotFound(_("This product is not in this farm's catalogue."))
    with transaction.atomic():
        clash = CatalogueProduct.objects.filter(producer=producer, name=name)
        if product is not None:
            clash = clash.exclude(pk=product.pk)
        if clash.exists():
            raise _invalid("name", _("This catalogue already has a product of this name."))
        if product is None:
            product = CatalogueProduct(producer=producer)
        product.name = name
        product.unit = unit
        product.price_cents = price_cents
        product.case_size = case_size
        product.stock = stock
        product.is_active = is_active
        product.updated_at = timezone.now()
        product.save()
        audit(
            territory=producer.territory,
            actor=actor,
            action="orders.product.save",
            subject=f"product:{product.pk}",
            price_cents=price_cents,
        )
    return product


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


def _locked_cycle(cycle: OrderCycle) -> OrderCycle:
    """The cycle's row, locked: orders, covers and the close of one cycle are serialised on it (the race: an order
    placed while the cycle closes, or two orders taking the last units of a stock)."""
    locked = (
        OrderCycle.objects.select_for_update().select_related("group", "group__territory").get(pk=cycle.pk)
    )
    return locked


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
    def delta(self) -> int:
        return sum(self.dues.values()) - sum(self.fulls.values())

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


def cycle_delta(cycle: OrderCycle, *, final: bool = False) -> int:
    """What the cycle's placed orders add to the pot (negative: take from it): as the close would compute it now
    (rounding to cases included), or at the final quantities once closed."""
    if not final or cycle.closed_at is None:
        return close_plan(cycle).delta
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
        lines, orders, fulls, dues, producers = plan.lines, plan.orders, plan.fulls, plan.dues, plan.producers
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
        legs: list[tuple[Account, int]] = []
        for oid, due in dues.items():
            if due:
                legs.append(
                    (accounts.household_account(territory, cycle.group_id, orders[oid].household_id), -due)
                )
        for producer_id, full in producers.items():
            if full:
                legs.append((accounts.producer_account(territory, cycle.group_id, producer_id), full))
        if delta:
            legs.append((accounts.pot_account(territory, cycle.group_id), delta))
        entry = None
        if sum(1 for _account, amount in legs if amount) >= 2:
            try:
                entry = ledger.entry_record(
                    territory=territory,
                    idempotency_key=f"orders:close:{cycle.pk}",
                    kind="orders.close",
                    legs=legs,
                    memo=str(cycle)[:300],
                    actor=actor,
                ).entry
            except InsufficientBalance as exc:  # another close of the same group took the pot first
                raise _pot_refusal(pot_balance(cycle.group), delta) from exc
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
        household_account = accounts.household_account(territory, group.pk, locked.household_id)
        fund_payment = None
        if method == PaymentMethod.CREDIT:
            if group.store is None or not group.store.is_approved:
                raise Forbidden(_("This group is not an approved point of sale: it cannot take food credit."))
            result = fund_services.pay(
                store=group.store,
                card=order.household.card_number,
                total_cents=amount_cents,
                idempotency_key=f"orders:{locked.pk}:{idempotency_key}",
                actor=actor,
                code=code,
            )
            fund_payment = result.payment
            legs = [(household_account, amount_cents)]
            if fund_payment.credit_cents:
                legs.append((accounts.fund_account(territory, group.pk), -fund_payment.credit_cents))
            if fund_payment.euro_cents:
                legs.append((accounts.external(territory, accounts.PAYMENTS_IN), -fund_payment.euro_cents))
        else:
            legs = [
                (household_account, amount_cents),
                (accounts.external(territory, accounts.PAYMENTS_IN), -amount_cents),
            ]
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
