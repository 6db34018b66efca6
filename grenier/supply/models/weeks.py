"""The weekly cycle: demand, declared availability, the plan (its lines are also the delivery lines: a kitchen
records what it received on them), its changes, shortfalls, a producer's week."""

from __future__ import annotations

from datetime import date, timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from grenier.core.idempotency import fingerprint_field
from grenier.core.models import Territory
from grenier.supply.models.contracts import ContractLine
from grenier.supply.models.reference import Kitchen, Producer, Product


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
