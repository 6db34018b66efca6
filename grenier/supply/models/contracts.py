"""Contracts between the platform and a kitchen, their lines with the price in four parts."""

from __future__ import annotations

from datetime import date

from django.db import models
from django.db.models import F, Q
from django.utils.dates import MONTHS
from django.utils.translation import gettext_lazy as _

from grenier.core.models import Territory
from grenier.supply.models.reference import Kitchen, Producer, Product


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
