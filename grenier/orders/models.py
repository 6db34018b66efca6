"""Buying groups (groupements d'achat): groups, their pickup points, tiers and member households; producers'
catalogues; order cycles with prices frozen at the opening; member orders; funders' covers of the solidarity pot;
payments of what members owe; pickups checked off.

The producers are ``supply.Producer`` rows (one concept, one table): a producer's people act for it here too.
Quantities are whole units of a product (a jar, a loaf, a 1 kg bag). Money is integer cents. A tier is a whole
percentage of the price (70, 100, 130). Every amount of money is also a ledger entry (see ``accounts.py``).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from grenier.core.idempotency import fingerprint_field
from grenier.core.models import Household, PaymentMethod, Territory
from grenier.fund.models import Funder, Payment, Store
from grenier.ledger.models import Entry
from grenier.supply.models import Producer


class BuyingGroup(models.Model):
    """A buying group of a territory. ``store`` links it to the common fund's point of sale it is, if approved, so
    that members may pay in food credit."""

    territory = models.ForeignKey(Territory, on_delete=models.PROTECT, related_name="buying_groups")
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    coordinators = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="coordinated_buying_groups",
        verbose_name=_("coordinators"),
    )
    store = models.ForeignKey(
        Store,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="buying_groups",
        verbose_name=_("point of sale of the common fund"),
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("buying group")
        verbose_name_plural = _("buying groups")
        ordering = ["name", "id"]
        constraints = [models.UniqueConstraint(fields=["territory", "name"], name="orders_group_name_once")]

    def __str__(self) -> str:
        return self.name


class PriceTier(models.Model):
    """A solidarity price tier of a group: members of this tier pay ``percent`` % of the price."""

    group = models.ForeignKey(BuyingGroup, on_delete=models.CASCADE, related_name="tiers")
    name = models.CharField(_("name"), max_length=60)
    percent = models.PositiveSmallIntegerField(_("share of the price paid (%)"))
    is_default = models.BooleanField(_("default tier"), default=False)

    class Meta:
        verbose_name = _("price tier")
        verbose_name_plural = _("price tiers")
        ordering = ["group", "percent"]
        constraints = [
            models.UniqueConstraint(fields=["group", "percent"], name="orders_tier_percent_once"),
            models.UniqueConstraint(
                fields=["group"], condition=Q(is_default=True), name="orders_one_default_tier"
            ),
            models.CheckConstraint(
                condition=Q(percent__gte=1) & Q(percent__lte=300), name="orders_tier_percent_1_300"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.percent} %)"


class GroupPickupPoint(models.Model):
    group = models.ForeignKey(BuyingGroup, on_delete=models.CASCADE, related_name="pickup_points")
    name = models.CharField(_("name"), max_length=200)
    address = models.CharField(_("address"), max_length=300, blank=True)
    hours = models.CharField(_("opening hours"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("pickup point")
        verbose_name_plural = _("pickup points")
        ordering = ["group", "name"]
        constraints = [models.UniqueConstraint(fields=["group", "name"], name="orders_pickup_point_once")]

    def __str__(self) -> str:
        return self.name


class TierSource(models.TextChoices):
    CHOSEN = "chosen", _("chosen by the household")
    REFERRAL = "referral", _("set by a social worker's referral")


class GroupMembership(models.Model):
    """A household in a group, at a tier. Free to join and to leave; the row stays after leaving (its orders do).

    A tier is chosen by the household, or set by a referral: the social worker who referred the household
    (``set_by_referral``, a ``baskets.Referral`` of theirs — the one place this app depends on the baskets app) or a
    coordinator recording one (``referral_note``). While set by a referral, ``referral_percent`` is the lowest tier
    the household may choose itself: it may pay more, never take a bigger discount. ``tier_set_by`` and
    ``tier_set_at`` say who set the tier last and when.
    """

    group = models.ForeignKey(BuyingGroup, on_delete=models.PROTECT, related_name="memberships")
    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="buying_memberships")
    tier = models.ForeignKey(PriceTier, on_delete=models.PROTECT, related_name="memberships")
    tier_source = models.CharField(
        _("tier set by"), max_length=10, choices=TierSource.choices, default=TierSource.CHOSEN
    )
    referral_note = models.CharField(_("referral"), max_length=200, blank=True)
    referral_percent = models.PositiveSmallIntegerField(
        _("lowest tier the household may choose (%)"), null=True, blank=True
    )  # set with a referral's tier: the household may pay more, never less, while it stands
    set_by_referral = models.ForeignKey(
        "baskets.Referral",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="buying_memberships",
        verbose_name=_("referral that set the tier"),
    )
    tier_set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    tier_set_at = models.DateTimeField(null=True, blank=True)
    joined_on = models.DateField(_("joined on"), default=timezone.localdate)
    left_on = models.DateField(_("left on"), null=True, blank=True)

    class Meta:
        verbose_name = _("membership of a buying group")
        verbose_name_plural = _("memberships of buying groups")
        ordering = ["group", "household__name"]
        constraints = [
            models.UniqueConstraint(fields=["group", "household"], name="orders_member_once_per_group"),
            models.CheckConstraint(
                condition=Q(tier_source__in=TierSource.values), name="orders_tier_source_known"
            ),
            models.CheckConstraint(
                condition=(Q(tier_source=TierSource.REFERRAL) & Q(referral_percent__isnull=False))
                | (~Q(tier_source=TierSource.REFERRAL) & Q(referral_percent__isnull=True)),
                name="orders_referral_tier_has_a_floor",
            ),
            models.CheckConstraint(
                condition=Q(set_by_referral__isnull=True) | Q(tier_source=TierSource.REFERRAL),
                name="orders_referral_row_only_when_set_by_referral",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.household} · {self.group}"

    @property
    def is_active(self) -> bool:
        return self.left_on is None


class Unit(models.TextChoices):
    PIECE = "piece", _("piece")
    KG = "kg", _("kg")
    JAR = "jar", _("jar")
    BOTTLE = "bottle", _("bottle")
    LOAF = "loaf", _("loaf")
    BAG = "bag", _("bag")
    DOZEN = "dozen", _("dozen")
    BUNCH = "bunch", _("bunch")


def unit_label(unit: str, quantity: int) -> str:
    """A unit's name for ``quantity`` of it, singular or plural ("1 loaf", "3 loaves"), translated."""
    forms = {
        Unit.PIECE: ngettext("piece", "pieces", quantity),
        Unit.KG: ngettext("kg", "kg", quantity),
        Unit.JAR: ngettext("jar", "jars", quantity),
        Unit.BOTTLE: ngettext("bottle", "bottles", quantity),
        Unit.LOAF: ngettext("loaf", "loaves", quantity),
        Unit.BAG: ngettext("bag", "bags", quantity),
        Unit.DOZEN: ngettext("dozen", "dozens", quantity),
        Unit.BUNCH: ngettext("bunch", "bunches", quantity),
    }
    return forms.get(unit, unit)  # type: ignore[call-overload]


class CatalogueProduct(models.Model):
    """A product in a producer's catalogue for buying groups: its unit, price per unit, case size and stock.

    ``case_size`` (units per case) is what the producer delivers in; a cycle may round each product's total to it.
    ``stock`` is what the producer can sell (empty: no limit); a cycle takes it as the most that may be ordered.
    """

    producer = models.ForeignKey(Producer, on_delete=models.PROTECT, related_name="catalogue")
    name = models.CharField(_("name"), max_length=150)
    unit = models.CharField(_("unit"), max_length=10, choices=Unit.choices, default=Unit.PIECE)
    price_cents = models.BigIntegerField(_("price per unit (cents)"))
    case_size = models.PositiveIntegerField(_("units per case"), default=1)
    stock = models.PositiveIntegerField(_("stock (units)"), null=True, blank=True)
    is_active = models.BooleanField(_("offered"), default=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("catalogue product")
        verbose_name_plural = _("catalogue products")
        ordering = ["producer", "name"]
        constraints = [
            models.UniqueConstraint(fields=["producer", "name"], name="orders_product_name_once"),
            models.CheckConstraint(condition=Q(price_cents__gt=0), name="orders_product_price_positive"),
            models.CheckConstraint(condition=Q(case_size__gte=1), name="orders_product_case_at_least_1"),
            models.CheckConstraint(condition=Q(unit__in=Unit.values), name="orders_product_unit_known"),
        ]

    def __str__(self) -> str:
        return self.name


class OrderCycle(models.Model):
    """An order cycle of a group: open from ``opens_at`` to ``closes_at``; closed once ``closed_at`` is set, and
    then nothing of it changes (services refuse; on PostgreSQL a trigger refuses changes to its orders' lines)."""

    group = models.ForeignKey(BuyingGroup, on_delete=models.PROTECT, related_name="cycles")
    name = models.CharField(_("name"), max_length=120)
    opens_at = models.DateTimeField(_("opens at"))
    closes_at = models.DateTimeField(_("closes at"))
    delivery_date = models.DateField(_("delivery date"))
    pickup_point = models.ForeignKey(
        GroupPickupPoint, on_delete=models.PROTECT, related_name="cycles", verbose_name=_("pickup point")
    )
    round_to_cases = models.BooleanField(_("round each product to whole cases at the close"), default=False)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    close_entry = models.OneToOneField(
        Entry, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("order cycle")
        verbose_name_plural = _("order cycles")
        ordering = ["-closes_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["group", "name"], name="orders_cycle_name_once"),
            models.CheckConstraint(
                condition=Q(closes_at__gt=models.F("opens_at")), name="orders_cycle_closes_after"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.group} · {self.name}"

    @property
    def is_closed(self) -> bool:
        return self.closed_at is not None

    def is_open(self, now: object = None) -> bool:
        moment = now or timezone.now()
        return self.closed_at is None and self.opens_at <= moment < self.closes_at  # type: ignore[operator]

    @property
    def state(self) -> str:
        if self.closed_at is not None:
            return "closed"
        now = timezone.now()
        if now < self.opens_at:
            return "scheduled"
        if now < self.closes_at:
            return "open"
        return "due"


class CycleProduct(models.Model):
    """A product offered in a cycle, with its price and case size frozen at the opening."""

    cycle = models.ForeignKey(OrderCycle, on_delete=models.PROTECT, related_name="products")
    product = models.ForeignKey(CatalogueProduct, on_delete=models.PROTECT, related_name="+")
    producer = models.ForeignKey(Producer, on_delete=models.PROTECT, related_name="+")
    name = models.CharField(max_length=150)
    unit = models.CharField(max_length=10, choices=Unit.choices)
    price_cents = models.BigIntegerField()
    case_size = models.PositiveIntegerField(default=1)
    max_quantity = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["producer__farm_name", "name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["cycle", "product"], name="orders_cycle_product_once"),
            models.CheckConstraint(condition=Q(price_cents__gt=0), name="orders_cycle_price_positive"),
            models.CheckConstraint(condition=Q(case_size__gte=1), name="orders_cycle_case_at_least_1"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.price_cents})"


class OrderStatus(models.TextChoices):
    PLACED = "placed", _("placed")
    CANCELLED = "cancelled", _("cancelled")


class Order(models.Model):
    """A household's order in a cycle (one per household and cycle). ``tier_percent`` is the household's tier when
    it last changed the order; ``pot_flagged`` says the pot would have gone below zero when it was placed."""

    cycle = models.ForeignKey(OrderCycle, on_delete=models.PROTECT, related_name="orders")
    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="buying_orders")
    tier_percent = models.PositiveSmallIntegerField()
    status = models.CharField(max_length=10, choices=OrderStatus.choices, default=OrderStatus.PLACED)
    pot_flagged = models.BooleanField(default=False)
    full_cents = models.BigIntegerField(
        null=True, blank=True
    )  # set at the close: the full price of what is delivered
    due_cents = models.BigIntegerField(
        null=True, blank=True
    )  # set at the close: what the household pays at its tier
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["cycle", "household__name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["cycle", "household"], name="orders_one_order_per_cycle"),
            models.CheckConstraint(
                condition=Q(tier_percent__gte=1) & Q(tier_percent__lte=300), name="orders_order_tier_1_300"
            ),
            models.CheckConstraint(
                condition=Q(status__in=OrderStatus.values), name="orders_order_status_known"
            ),
        ]

    def __str__(self) -> str:
        return f"order {self.pk} {self.household} in {self.cycle_id}"


class OrderLine(models.Model):
    """A quantity of a cycle's product. ``final_quantity`` is set at the close, after rounding to cases
    (``rules.case_round``): fewer units when the group's total is rounded down, a few more when it is rounded up to
    complete a case."""

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="lines")
    cycle_product = models.ForeignKey(CycleProduct, on_delete=models.PROTECT, related_name="lines")
    quantity = models.PositiveIntegerField()
    final_quantity = models.PositiveIntegerField(null=True, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["order", "cycle_product"]
        constraints = [
            models.UniqueConstraint(fields=["order", "cycle_product"], name="orders_line_once_per_product"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="orders_line_quantity_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.cycle_product} x {self.quantity}"


class OrderChange(models.Model):
    """Append-only history of an order: each placing, change or cancellation, once per idempotency key."""

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="changes")
    idempotency_key = models.CharField(max_length=100)
    request_fingerprint = fingerprint_field()
    kind = models.CharField(max_length=10)  # placed, changed, cancelled
    quantities = models.JSONField(default=dict)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["order", "at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["order", "idempotency_key"], name="orders_change_once_per_key"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.order_id}"


class FunderCover(models.Model):
    """A funder covers (part of) the solidarity pot's gap, so that a cycle may close."""

    cycle = models.ForeignKey(OrderCycle, on_delete=models.PROTECT, related_name="covers")
    funder = models.ForeignKey(Funder, on_delete=models.PROTECT, related_name="buying_group_covers")
    amount_cents = models.BigIntegerField()
    idempotency_key = models.CharField(max_length=100)
    request_fingerprint = fingerprint_field()
    entry = models.OneToOneField(Entry, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["cycle", "created_at"]
        constraints = [
            models.UniqueConstraint(fields=["cycle", "idempotency_key"], name="orders_cover_once_per_key"),
            models.CheckConstraint(condition=Q(amount_cents__gt=0), name="orders_cover_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.funder} {self.amount_cents}"


class OrderPayment(models.Model):
    """What a household paid for its order of a closed cycle. In food credit, ``fund_payment`` is the common fund's
    payment at the group's store."""

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="payments")
    method = models.CharField(max_length=10, choices=PaymentMethod.choices)
    amount_cents = models.BigIntegerField()
    idempotency_key = models.CharField(max_length=100)
    request_fingerprint = fingerprint_field()
    entry = models.OneToOneField(Entry, on_delete=models.PROTECT, related_name="+")
    fund_payment = models.OneToOneField(
        Payment, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["order", "created_at"]
        constraints = [
            models.UniqueConstraint(fields=["order", "idempotency_key"], name="orders_payment_once_per_key"),
            models.CheckConstraint(condition=Q(amount_cents__gt=0), name="orders_payment_positive"),
            models.CheckConstraint(
                condition=Q(method__in=PaymentMethod.values), name="orders_payment_method_known"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.method} {self.amount_cents}"


class Pickup(models.Model):
    """An order collected at the pickup point (checked off on the pickup list)."""

    order = models.OneToOneField(Order, on_delete=models.PROTECT, related_name="pickup")
    collected_at = models.DateTimeField(default=timezone.now)
    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    def __str__(self) -> str:
        return f"pickup of {self.order_id}"


class PayoutMethod(models.TextChoices):
    TRANSFER = "transfer", _("bank transfer")
    CHEQUE = "cheque", _("cheque")
    CASH = "cash", _("cash")


class ProducerPayout(models.Model):
    """The group paid a producer (part of) what a closed cycle owes it: the full price of what it delivered. A ledger
    entry from the producer's account to ``external:orders-payouts``; never more than is owed."""

    cycle = models.ForeignKey(OrderCycle, on_delete=models.PROTECT, related_name="payouts")
    producer = models.ForeignKey(Producer, on_delete=models.PROTECT, related_name="buying_payouts")
    method = models.CharField(_("paid by"), max_length=10, choices=PayoutMethod.choices)
    amount_cents = models.BigIntegerField()
    reference = models.CharField(_("reference"), max_length=120, blank=True)
    idempotency_key = models.CharField(max_length=100)
    request_fingerprint = fingerprint_field()
    entry = models.OneToOneField(Entry, on_delete=models.PROTECT, related_name="+")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["cycle", "producer", "created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["cycle", "idempotency_key"], name="orders_payout_once_per_key"),
            models.CheckConstraint(condition=Q(amount_cents__gt=0), name="orders_payout_positive"),
            models.CheckConstraint(
                condition=Q(method__in=PayoutMethod.values), name="orders_payout_method_known"
            ),
        ]

    def __str__(self) -> str:
        return f"payout {self.amount_cents} to {self.producer_id} for {self.cycle_id}"
