"""The supply platform (PIAL): a group of growers jointly supplying collective kitchens.

Who and what: the platform of a territory, its kitchens, producers (farms) and products, the distances between farms
and kitchens. Contracts with price parts. The weekly cycle: demand, declared availability, the plan (its lines are
also the delivery lines: a kitchen records what it received on them), shortfalls. Money: invoices and credit notes
numbered without gaps per issuer, cash advances repaid by deduction; every amount is also a ledger entry.

Quantities are integers in a product's *base unit*: grams for a product sold by the kg, pieces, bunches. Money is
integer cents. Prices are cents per *sales unit* (per kg, per piece, per bunch).
"""

from __future__ import annotations

from datetime import date, timedelta

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.dates import MONTHS
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from grenier.core.idempotency import fingerprint_field
from grenier.core.models import Territory
from grenier.ledger.models import Entry

# --- reference data ---------------------------------------------------------------------------------------------


class SalesUnit(models.TextChoices):
    KG = "kg", _("kg")
    PIECE = "piece", _("piece")
    BUNCH = "bunch", _("bunch")


# base units per sales unit: a kg is counted in grams, a piece or a bunch in itself
BASE_PER_UNIT = {SalesUnit.KG: 1000, SalesUnit.PIECE: 1, SalesUnit.BUNCH: 1}


class KitchenKind(models.TextChoices):
    SCHOOL = "school", _("School")
    NURSING_HOME = "nursing_home", _("Nursing home (EHPAD)")
    HOSPITAL = "hospital", _("Hospital")
    COMPANY = "company", _("Company restaurant")
    OTHER = "other", _("Other")


class ProductFamily(models.TextChoices):
    """ma-cantine's ``famille_produits`` values (purchase import)."""

    FRUITS_LEGUMES = "FRUITS_ET_LEGUMES", _("Fruit and vegetables")
    PRODUITS_LAITIERS = "PRODUITS_LAITIERS", _("Dairy")
    BOULANGERIE = "BOULANGERIE", _("Bakery")
    VIANDES_VOLAILLES = "VIANDES_VOLAILLES", _("Meat and poultry")
    PRODUITS_DE_LA_MER = "PRODUITS_DE_LA_MER", _("Fish and seafood")
    CHARCUTERIE = "CHARCUTERIE", _("Charcuterie")
    SURGELES = "SURGELES", _("Frozen")
    EPICERIE = "EPICERIE", _("Grocery")
    BOISSONS = "BOISSONS", _("Drinks")
    AUTRES = "AUTRES", _("Other")


class EgalimLabel(models.TextChoices):
    """ma-cantine's ``categories_egalim`` values that apply to fresh produce. ``BIO`` counts for the organic target;
    every one of them counts for the quality target (which includes organic)."""

    BIO = "BIO", _("Organic (AB)")
    LABEL_ROUGE = "LABEL_ROUGE", _("Label Rouge")
    AOCAOP_IGP_STG = "AOCAOP_IGP_STG", _("AOC / AOP / IGP / STG")
    HVE = "HVE", _("High environmental value (HVE)")
    FERMIER = "FERMIER", _("Farm product (fermier)")
    EXTERNALITES = "EXTERNALITES", _("Environmental externalities")
    PERFORMANCE = "PERFORMANCE", _("Environmental performance")
    COMMERCE_EQUITABLE = "COMMERCE_EQUITABLE", _("Fair trade")


class Platform(models.Model):
    """The territory's supply platform: the group of growers' common intermediation service. It issues the kitchens'
    invoices and holds the development fund."""

    territory = models.OneToOneField(Territory, on_delete=models.PROTECT, related_name="supply_platform")
    name = models.CharField(_("name"), max_length=200)
    siret = models.CharField(_("SIRET"), max_length=14, blank=True)
    address = models.CharField(_("address"), max_length=300, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    invoice_prefix = models.CharField(_("invoice number prefix"), max_length=12, default="PIAL")
    # a legal text printed verbatim on invoices, hence in French
    vat_mention = models.CharField(
        _("VAT mention"),
        max_length=200,
        blank=True,
        default="TVA non applicable, art. 293 B du CGI",
        help_text=_("Printed as it is on the platform's invoices and credit notes."),
    )
    payment_terms_days = models.PositiveSmallIntegerField(
        _("payment terms (days)"),
        default=30,
        help_text=_("An invoice is due this many days after it is issued (30 at most for public buyers)."),
    )

    class Meta:
        verbose_name = _("supply platform")
        verbose_name_plural = _("supply platforms")

    def __str__(self) -> str:
        return self.name


class Kitchen(models.Model):
    territory = models.ForeignKey(Territory, on_delete=models.PROTECT, related_name="kitchens")
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=20, choices=KitchenKind.choices)
    meals_per_day = models.PositiveIntegerField(_("meals per day"), default=0)
    siret = models.CharField(_("SIRET"), max_length=14, blank=True)
    address = models.CharField(_("address"), max_length=300, blank=True)
    latitude = models.DecimalField(_("latitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(_("longitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    managers = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="managed_kitchens", verbose_name=_("managers")
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("kitchen")
        verbose_name_plural = _("kitchens")
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["territory", "name"], name="supply_kitchen_name_once"),
            models.CheckConstraint(
                condition=Q(kind__in=KitchenKind.values), name="supply_kitchen_kind_known"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Producer(models.Model):
    """A farm of the group. ``certifications`` are EGalim labels the farm holds for everything it grows (``BIO``)."""

    territory = models.ForeignKey(Territory, on_delete=models.PROTECT, related_name="producers")
    farm_name = models.CharField(_("farm"), max_length=200)
    legal_name = models.CharField(_("legal name"), max_length=200, blank=True)
    siret = models.CharField(_("SIRET"), max_length=14, blank=True)
    address = models.CharField(_("address"), max_length=300, blank=True)
    latitude = models.DecimalField(_("latitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(_("longitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    certifications = models.JSONField(_("certifications"), default=list, blank=True)
    certifier = models.CharField(_("certifying body"), max_length=100, blank=True)
    users = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="producer_farms", verbose_name=_("people")
    )
    on_platform = models.BooleanField(
        _("supplies the platform"),
        default=True,
        help_text=_(
            "A farm of the group. Other producers of the territory (bakers, orchards selling to buying "
            "groups) are kept in the same table with this off."
        ),
    )
    admitted_on = models.DateField(_("admitted on"), default=date.today)
    left_on = models.DateField(_("left on"), null=True, blank=True)

    class Meta:
        verbose_name = _("producer")
        verbose_name_plural = _("producers")
        ordering = ["farm_name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["territory", "farm_name"], name="supply_producer_farm_once"),
        ]

    def __str__(self) -> str:
        return self.farm_name

    @property
    def is_organic(self) -> bool:
        return EgalimLabel.BIO.value in (self.certifications or [])


class ProducerShare(models.Model):
    """A producer's agreed share of the group's volume from ``valid_from`` on (basis points; the shares in force on
    a date are normalised to sum to 1 when planning)."""

    producer = models.ForeignKey(Producer, on_delete=models.CASCADE, related_name="shares")
    share_bp = models.PositiveIntegerField(_("share (basis points)"))
    valid_from = models.DateField(_("valid from"))

    class Meta:
        verbose_name = _("agreed share")
        verbose_name_plural = _("agreed shares")
        ordering = ["producer", "-valid_from"]
        constraints = [
            models.UniqueConstraint(fields=["producer", "valid_from"], name="supply_share_once_per_date"),
            models.CheckConstraint(condition=Q(share_bp__lte=10000), name="supply_share_at_most_whole"),
        ]

    def __str__(self) -> str:
        return f"{self.producer} {self.share_bp / 100:g} % from {self.valid_from}"


class Product(models.Model):
    territory = models.ForeignKey(Territory, on_delete=models.PROTECT, related_name="supply_products")
    name = models.CharField(_("name"), max_length=120)
    unit = models.CharField(_("unit"), max_length=8, choices=SalesUnit.choices, default=SalesUnit.KG)
    family = models.CharField(
        _("family"), max_length=24, choices=ProductFamily.choices, default=ProductFamily.FRUITS_LEGUMES
    )
    egalim_labels = models.JSONField(_("EGalim labels of the product itself"), default=list, blank=True)
    grams_per_unit = models.PositiveIntegerField(
        _("grams per piece or bunch"),
        default=1000,
        help_text=_("Used to add pieces and bunches to kilograms in shares and distances."),
    )
    step = models.PositiveIntegerField(
        _("planning step (base units)"),
        default=1000,
        help_text=_("Planned quantities are multiples of it: 1000 g plans whole kilograms."),
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["territory", "name"], name="supply_product_name_once"),
            models.CheckConstraint(condition=Q(unit__in=SalesUnit.values), name="supply_product_unit_known"),
            models.CheckConstraint(condition=Q(step__gte=1), name="supply_product_step_positive"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def base_per_unit(self) -> int:
        return BASE_PER_UNIT[SalesUnit(self.unit)]

    @property
    def share_factor(self) -> int:
        """Grams one base unit counts for in shares (1 for a product counted in grams)."""
        return 1 if self.unit == SalesUnit.KG else self.grams_per_unit


class Distance(models.Model):
    """Road distance between a farm and a kitchen, when known; otherwise the great-circle distance is used."""

    producer = models.ForeignKey(Producer, on_delete=models.CASCADE, related_name="distances")
    kitchen = models.ForeignKey(Kitchen, on_delete=models.CASCADE, related_name="distances")
    km = models.DecimalField(_("km"), max_digits=7, decimal_places=1)

    class Meta:
        verbose_name = _("distance")
        verbose_name_plural = _("distances")
        constraints = [
            models.UniqueConstraint(fields=["producer", "kitchen"], name="supply_distance_once"),
            models.CheckConstraint(condition=Q(km__gte=0), name="supply_distance_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.producer} → {self.kitchen}: {self.km} km"


# --- contracts --------------------------------------------------------------------------------------------------


class ContractStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    ACTIVE = "active", _("Active")
    ENDED = "ended", _("Ended")


class Contract(models.Model):
    """A kitchen and the group (or named producers, ``producers``; empty means the whole group)."""

    territory = models.ForeignKey(Territory, on_delete=models.PROTECT, related_name="supply_contracts")
    kitchen = models.ForeignKey(Kitchen, on_delete=models.PROTECT, related_name="contracts")
    title = models.CharField(_("title"), max_length=200)
    tender_lot = models.CharField(_("public tender lot reference"), max_length=100, blank=True)
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"))
    delivery_weekdays = models.JSONField(
        _("delivery days"), default=list, help_text=_("0 = Monday … 4 = Friday.")
    )
    producers = models.ManyToManyField(Producer, blank=True, related_name="contracts")
    status = models.CharField(
        _("status"), max_length=10, choices=ContractStatus.choices, default=ContractStatus.DRAFT
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("contract")
        verbose_name_plural = _("contracts")
        ordering = ["-starts_on", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(ends_on__gte=F("starts_on")), name="supply_contract_dates"),
            models.CheckConstraint(
                condition=Q(status__in=ContractStatus.values), name="supply_contract_status_known"
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def covers(self, day: date) -> bool:
        return self.starts_on <= day <= self.ends_on


class ContractLine(models.Model):
    """A product under contract: volumes (base units) and the unit price as its four parts (cents per sales unit).

    ``weekly_quantity`` is the schedule: the demand a week gets unless the kitchen enters another one, in the
    ``months`` of the line's seasonal calendar (all year when empty). ``minimum`` and ``maximum`` bound the whole
    contract period (a tender lot commits to a minimum volume).
    """

    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="contract_lines")
    weekly_quantity = models.PositiveBigIntegerField(_("weekly quantity (base units)"), default=0)
    minimum_quantity = models.PositiveBigIntegerField(_("minimum over the period (base units)"), default=0)
    maximum_quantity = models.PositiveBigIntegerField(
        _("maximum over the period (base units)"), null=True, blank=True
    )
    cost_cents = models.PositiveIntegerField(_("production cost (cents per unit)"))
    margin_cents = models.PositiveIntegerField(_("margin (cents per unit)"))
    service_fee_cents = models.PositiveIntegerField(_("intermediation service fee (cents per unit)"))
    levy_cents = models.PositiveIntegerField(_("development fund levy (cents per unit)"))
    months = models.JSONField(
        _("months"),
        default=list,
        blank=True,
        help_text=_(
            "The seasonal calendar: months (1 to 12) the weekly quantity applies in; empty = all year."
        ),
    )

    class Meta:
        verbose_name = _("contract line")
        verbose_name_plural = _("contract lines")
        ordering = ["contract", "product__name"]
        constraints = [
            models.UniqueConstraint(fields=["contract", "product"], name="supply_contract_product_once"),
            models.CheckConstraint(
                condition=Q(maximum_quantity__isnull=True) | Q(maximum_quantity__gte=F("minimum_quantity")),
                name="supply_contract_line_min_le_max",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.contract} · {self.product}"

    @property
    def unit_price_cents(self) -> int:
        return self.cost_cents + self.margin_cents + self.service_fee_cents + self.levy_cents

    @property
    def months_text(self) -> str:
        """The seasonal calendar in words, runs of months as "September - April" with an en dash (across the new year too);
        empty when all year."""
        months = sorted({int(m) for m in self.months or [] if 1 <= int(m) <= 12})
        if not months or len(months) == 12:
            return ""
        chosen = set(months)
        # each run starts at a month whose previous month is not chosen
        starts = [m for m in months if (m - 2) % 12 + 1 not in chosen]
        runs = []
        for start in starts:
            end = start
            while end % 12 + 1 in chosen:
                end = end % 12 + 1
            runs.append(str(MONTHS[start]) if end == start else f"{MONTHS[start]} \u2013 {MONTHS[end]}")
        return ", ".join(runs)

    @property
    def producer_price_cents(self) -> int:
        return self.cost_cents + self.margin_cents


# --- the weekly cycle -------------------------------------------------------------------------------------------


class WeekStatus(models.TextChoices):
    OPEN = "open", _("Open: demand and availability being entered")
    PLANNED = "planned", _("Planned: to be checked and published")
    PUBLISHED = "published", _("Published")


class SupplyWeek(models.Model):
    """One week of the cycle, named by its Monday. ``coordinator`` is the grower or person coordinating it (the
    rotation); ``solver`` keeps the last solve's figures (status, gap, seconds)."""

    territory = models.ForeignKey(Territory, on_delete=models.PROTECT, related_name="supply_weeks")
    monday = models.DateField(_("week of"))
    status = models.CharField(_("status"), max_length=10, choices=WeekStatus.choices, default=WeekStatus.OPEN)
    coordinator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("coordinator of the week"),
    )
    planned_at = models.DateTimeField(null=True, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    solver = models.JSONField(default=dict, blank=True)
    version = models.PositiveIntegerField(default=0, help_text="Bumped on every change of the plan's lines.")

    class Meta:
        verbose_name = _("supply week")
        verbose_name_plural = _("supply weeks")
        ordering = ["-monday"]
        constraints = [
            models.UniqueConstraint(fields=["territory", "monday"], name="supply_week_once"),
            models.CheckConstraint(
                condition=Q(status__in=WeekStatus.values), name="supply_week_status_known"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.territory.slug} · {self.monday:%G-W%V}"

    @property
    def days(self) -> list[date]:
        return [self.monday + timedelta(days=offset) for offset in range(7)]


class DemandSource(models.TextChoices):
    CONTRACT = "contract", _("Contract schedule")
    KITCHEN = "kitchen", _("Entered by the kitchen")
    IMPORT = "import", _("Imported")


class Demand(models.Model):
    """What a kitchen asks for one product on one delivery day of a week (base units)."""

    week = models.ForeignKey(SupplyWeek, on_delete=models.CASCADE, related_name="demand")
    kitchen = models.ForeignKey(Kitchen, on_delete=models.PROTECT, related_name="demand")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="demand")
    day = models.DateField(_("delivery day"))
    quantity = models.PositiveBigIntegerField(_("quantity (base units)"))
    source = models.CharField(max_length=10, choices=DemandSource.choices, default=DemandSource.KITCHEN)
    contract_line = models.ForeignKey(
        ContractLine, on_delete=models.PROTECT, null=True, blank=True, related_name="demand"
    )

    class Meta:
        verbose_name = _("demand")
        verbose_name_plural = _("demand")
        ordering = ["week", "kitchen", "product__name", "day"]
        constraints = [
            models.UniqueConstraint(fields=["week", "kitchen", "product", "day"], name="supply_demand_once"),
        ]

    def __str__(self) -> str:
        return f"{self.kitchen} · {self.product} · {self.day}: {self.quantity}"


class Availability(models.Model):
    """What a producer expects to have of a product in a week (base units), and the smallest lot worth sending."""

    week = models.ForeignKey(SupplyWeek, on_delete=models.CASCADE, related_name="availability")
    producer = models.ForeignKey(Producer, on_delete=models.PROTECT, related_name="availability")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="availability")
    quantity = models.PositiveBigIntegerField(_("available (base units)"))
    minimum_lot = models.PositiveBigIntegerField(_("minimum lot (base units)"), default=0)
    declared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    declared_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("availability")
        verbose_name_plural = _("availability")
        ordering = ["week", "producer", "product__name"]
        constraints = [
            models.UniqueConstraint(fields=["week", "producer", "product"], name="supply_availability_once"),
        ]

    def __str__(self) -> str:
        return f"{self.producer} · {self.product}: {self.quantity}"


class PlanLine(models.Model):
    """A line of the week's plan, which is also a delivery line: producer → kitchen, product, day, quantity.

    ``solver_quantity`` is what the optimiser proposed; ``quantity`` what stands after hand adjustment or
    re-planning. The kitchen records ``received_quantity`` on delivery; the difference is the discrepancy.
    """

    week = models.ForeignKey(SupplyWeek, on_delete=models.CASCADE, related_name="lines")
    producer = models.ForeignKey(Producer, on_delete=models.PROTECT, related_name="plan_lines")
    kitchen = models.ForeignKey(Kitchen, on_delete=models.PROTECT, related_name="plan_lines")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="plan_lines")
    day = models.DateField(_("delivery day"))
    quantity = models.PositiveBigIntegerField(_("quantity (base units)"))
    solver_quantity = models.PositiveBigIntegerField(default=0)
    adjusted = models.BooleanField(default=False)
    contract_line = models.ForeignKey(
        ContractLine, on_delete=models.PROTECT, null=True, blank=True, related_name="plan_lines"
    )
    received_quantity = models.PositiveBigIntegerField(_("received (base units)"), null=True, blank=True)
    received_at = models.DateTimeField(null=True, blank=True)
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    receipt_note = models.CharField(_("note"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("plan line")
        verbose_name_plural = _("plan lines")
        ordering = ["week", "day", "kitchen", "producer", "product__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["week", "producer", "kitchen", "product", "day"], name="supply_plan_line_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.producer} → {self.kitchen} · {self.product} · {self.day}: {self.quantity}"

    @property
    def discrepancy(self) -> int | None:
        return None if self.received_quantity is None else self.received_quantity - self.quantity


class PlanChangeReason(models.TextChoices):
    ADJUSTED = "adjusted", _("Adjusted by hand")
    SHORTFALL = "shortfall", _("Re-planned after a shortfall")


class PlanChange(models.Model):
    """Append-only: a published line that changed, and why. Those affected are told from these rows."""

    week = models.ForeignKey(SupplyWeek, on_delete=models.CASCADE, related_name="changes")
    producer = models.ForeignKey(Producer, on_delete=models.PROTECT, related_name="+")
    kitchen = models.ForeignKey(Kitchen, on_delete=models.PROTECT, related_name="+")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    day = models.DateField()
    before = models.PositiveBigIntegerField()
    after = models.PositiveBigIntegerField()
    reason = models.CharField(max_length=10, choices=PlanChangeReason.choices)
    shortfall = models.ForeignKey(
        "Shortfall", on_delete=models.PROTECT, null=True, blank=True, related_name="changes"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-at", "id"]

    def __str__(self) -> str:
        return f"{self.product} {self.day}: {self.before} → {self.after} ({self.reason})"


class Shortfall(models.Model):
    """A producer reported it will have only ``available`` of a product this week (crop failure, hail, pests)."""

    week = models.ForeignKey(SupplyWeek, on_delete=models.CASCADE, related_name="shortfalls")
    producer = models.ForeignKey(Producer, on_delete=models.PROTECT, related_name="shortfalls")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    declared_before = models.PositiveBigIntegerField()
    available = models.PositiveBigIntegerField()
    cause = models.CharField(_("cause"), max_length=300, blank=True)
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reported_at = models.DateTimeField(default=timezone.now)
    idempotency_key = models.CharField(max_length=100)
    request_fingerprint = fingerprint_field()

    class Meta:
        ordering = ["-reported_at"]
        constraints = [
            models.UniqueConstraint(fields=["week", "idempotency_key"], name="supply_shortfall_once"),
        ]

    def __str__(self) -> str:
        return f"{self.producer} · {self.product}: {self.declared_before} → {self.available}"


class ProducerWeek(models.Model):
    """A producer's volume in a published week and the gap to its share carried to the next (grams; positive =
    it has supplied less than its share so far)."""

    week = models.ForeignKey(SupplyWeek, on_delete=models.CASCADE, related_name="producer_weeks")
    producer = models.ForeignKey(Producer, on_delete=models.PROTECT, related_name="weeks")
    share = models.FloatField()
    volume = models.BigIntegerField()
    gap_after = models.FloatField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["week", "producer"], name="supply_producer_week_once"),
        ]

    def __str__(self) -> str:
        return f"{self.producer} · {self.week_id}: {self.volume}"


# --- money ------------------------------------------------------------------------------------------------------


class InvoiceKind(models.TextChoices):
    INVOICE = "invoice", _("Invoice")
    CREDIT_NOTE = "credit_note", _("Credit note")


class InvoiceSeries(models.Model):
    """One gapless numbering per issuer: the platform (``producer`` empty) or a producer (self-billed statements).
    ``last_number`` is read and bumped under a row lock in the transaction that writes the invoice."""

    territory = models.ForeignKey(Territory, on_delete=models.PROTECT, related_name="+")
    producer = models.ForeignKey(Producer, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    prefix = models.CharField(max_length=20)
    last_number = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["territory"], condition=Q(producer__isnull=True), name="supply_series_platform_once"
            ),
            models.UniqueConstraint(fields=["territory", "producer"], name="supply_series_producer_once"),
        ]

    def __str__(self) -> str:
        return f"{self.prefix} (last {self.last_number})"


class Invoice(models.Model):
    """An invoice or credit note. Two kinds of documents:

    * the platform to a kitchen (``kitchen`` set, ``producer`` empty): what the kitchen received in the month at the
      full unit price, split into the producers' part, the service fee and the development-fund levy;
    * a producer's monthly statement, self-billed by the platform in the producer's name (``producer`` set): its
      part of what it delivered, less advance repayments.

    Written once; a correction is a credit note (``corrects``) with negative amounts.
    """

    territory = models.ForeignKey(Territory, on_delete=models.PROTECT, related_name="supply_invoices")
    series = models.ForeignKey(InvoiceSeries, on_delete=models.PROTECT, related_name="invoices")
    number = models.PositiveIntegerField()
    reference = models.CharField(max_length=40)
    kind = models.CharField(max_length=12, choices=InvoiceKind.choices, default=InvoiceKind.INVOICE)
    kitchen = models.ForeignKey(
        Kitchen, on_delete=models.PROTECT, null=True, blank=True, related_name="invoices"
    )
    producer = models.ForeignKey(
        Producer, on_delete=models.PROTECT, null=True, blank=True, related_name="invoices"
    )
    month = models.DateField(_("month"))  # first day
    issued_on = models.DateField(_("issued on"))
    total_cents = models.BigIntegerField()
    producers_cents = models.BigIntegerField(default=0)
    service_fee_cents = models.BigIntegerField(default=0)
    levy_cents = models.BigIntegerField(default=0)
    advance_deduction_cents = models.BigIntegerField(default=0)
    corrects = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="credit_notes"
    )
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    entry = models.ForeignKey(Entry, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    paid_at = models.DateTimeField(null=True, blank=True)
    paid_entry = models.ForeignKey(Entry, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    idempotency_key = models.CharField(max_length=100)
    request_fingerprint = fingerprint_field()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("invoice")
        verbose_name_plural = _("invoices")
        ordering = ["-issued_on", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["series", "number"], name="supply_invoice_number_once"),
            models.UniqueConstraint(fields=["territory", "idempotency_key"], name="supply_invoice_key_once"),
            models.CheckConstraint(
                condition=Q(kitchen__isnull=False) | Q(producer__isnull=False),
                name="supply_invoice_has_party",
            ),
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def net_cents(self) -> int:
        """What is to be paid: the total, less advance repayments on a producer's statement."""
        return self.total_cents - self.advance_deduction_cents

    @property
    def document(self) -> str:
        """``invoice`` (the platform's to a kitchen), ``statement`` (a producer's self-billed monthly statement) or
        ``credit_note`` (correcting either)."""
        if self.kind == InvoiceKind.CREDIT_NOTE:
            return "credit_note"
        return "statement" if self.producer_id is not None else "invoice"

    def due_with(self, platform: Platform | None) -> date | None:
        """When a kitchen's invoice is to be paid: issued on, plus ``platform``'s payment terms (the default
        terms without one). None for a statement (the platform pays it) or a credit note."""
        if self.document != "invoice":
            return None
        return self.issued_on + timedelta(days=int((platform or Platform()).payment_terms_days))

    @cached_property
    def due_on(self) -> date | None:
        """:meth:`due_with` the territory's platform."""
        if self.document != "invoice":
            return None
        return self.due_with(Platform.objects.filter(territory_id=self.territory_id).first())


class InvoiceLine(models.Model):
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")
    plan_line = models.ForeignKey(PlanLine, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    producer = models.ForeignKey(Producer, on_delete=models.PROTECT, related_name="+")
    kitchen = models.ForeignKey(Kitchen, on_delete=models.PROTECT, related_name="+")
    day = models.DateField()
    quantity = models.BigIntegerField()  # base units; negative on a credit note
    unit_price_cents = models.PositiveIntegerField()  # per sales unit, as billed on this document
    amount_cents = models.BigIntegerField()
    producers_cents = models.BigIntegerField(default=0)
    service_fee_cents = models.BigIntegerField(default=0)
    levy_cents = models.BigIntegerField(default=0)
    egalim_labels = models.JSONField(default=list, blank=True)  # frozen at invoicing: product's + farm's
    # billed at the planned quantity because no receipt had been recorded when the document was issued
    billed_as_planned = models.BooleanField(default=False)

    class Meta:
        ordering = ["invoice", "day", "product__name", "id"]

    def __str__(self) -> str:
        return f"{self.invoice_id} · {self.product_id}: {self.amount_cents}"


class Advance(models.Model):
    """A cash advance to a producer at the start of a season, paid from the development fund and repaid by
    deduction from its monthly statements."""

    territory = models.ForeignKey(Territory, on_delete=models.PROTECT, related_name="+")
    producer = models.ForeignKey(Producer, on_delete=models.PROTECT, related_name="advances")
    amount_cents = models.BigIntegerField()
    repaid_cents = models.BigIntegerField(default=0)
    granted_on = models.DateField()
    monthly_deduction_cents = models.BigIntegerField(
        help_text="At most this much is deducted from each monthly statement."
    )
    purpose = models.CharField(max_length=300, blank=True)
    entry = models.ForeignKey(Entry, on_delete=models.PROTECT, related_name="+")
    idempotency_key = models.CharField(max_length=100)
    request_fingerprint = fingerprint_field()

    class Meta:
        ordering = ["-granted_on", "id"]
        constraints = [
            models.UniqueConstraint(fields=["territory", "idempotency_key"], name="supply_advance_key_once"),
            models.CheckConstraint(condition=Q(amount_cents__gt=0), name="supply_advance_positive"),
            models.CheckConstraint(
                condition=Q(repaid_cents__gte=0) & Q(repaid_cents__lte=F("amount_cents")),
                name="supply_advance_repaid_within",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.producer} {self.amount_cents} on {self.granted_on}"

    @property
    def outstanding_cents(self) -> int:
        return self.amount_cents - self.repaid_cents


class AdvanceRepayment(models.Model):
    """Part of an advance deducted from a producer's statement (oldest advance first)."""

    advance = models.ForeignKey(Advance, on_delete=models.PROTECT, related_name="repayments")
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="advance_repayments")
    amount_cents = models.BigIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["advance", "invoice"], name="supply_repayment_once"),
            models.CheckConstraint(condition=Q(amount_cents__gt=0), name="supply_repayment_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.advance_id} ← {self.invoice_id}: {self.amount_cents}"
