"""Money of the supply platform: invoices and credit notes numbered without gaps per issuer, their lines, cash
advances repaid by deduction; every amount is also a ledger entry."""

from __future__ import annotations

from datetime import date, timedelta

from django.db import models
from django.db.models import F, Q
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from grenier.core.idempotency import fingerprint_field
from grenier.core.models import Territory
from grenier.ledger.models import Entry
from grenier.supply.models.reference import Kitchen, Platform, Producer, Product
from grenier.supply.models.weeks import PlanLine


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
