"""What a month still has to bill: the kitchens' lines not invoiced, what is left of each line after its credit
notes, the producers' statement rows and their advance deductions, the preview of an issue."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from django.db.models import F, QuerySet, Sum

from grenier.core.models import Territory
from grenier.core.months import first_of_month, shift_month
from grenier.supply.billing.series import contract_line_of
from grenier.supply.models import (
    Advance,
    AdvanceRepayment,
    ContractLine,
    Invoice,
    InvoiceKind,
    InvoiceLine,
    Kitchen,
    PlanLine,
    Producer,
    WeekStatus,
)
from grenier.supply.quantities import Amounts, line_amounts


@dataclass(frozen=True)
class PendingLine:
    plan_line: PlanLine
    contract_line: ContractLine
    quantity: int  # base units billed: received, else planned
    as_planned: bool  # no receipt recorded: billed at the planned quantity
    amounts: Amounts


@dataclass
class PendingKitchen:
    kitchen: Kitchen
    lines: list[PendingLine] = field(default_factory=list)

    @property
    def total_cents(self) -> int:
        return sum(line.amounts.total for line in self.lines)

    @property
    def producers_cents(self) -> int:
        return sum(line.amounts.producers for line in self.lines)

    @property
    def service_fee_cents(self) -> int:
        return sum(line.amounts.service_fee for line in self.lines)

    @property
    def levy_cents(self) -> int:
        return sum(line.amounts.levy for line in self.lines)

    @property
    def as_planned(self) -> int:
        return sum(1 for line in self.lines if line.as_planned)


@dataclass
class PendingProducer:
    producer: Producer
    total_cents: int = 0
    deduction_cents: int = 0

    @property
    def net_cents(self) -> int:
        return self.total_cents - self.deduction_cents


@dataclass
class Preview:
    """What issuing ``month`` would bill now: per kitchen, per producer, and the lines without a price."""

    month: date
    kitchens: list[PendingKitchen]
    producers: list[PendingProducer]
    unpriced: list[PlanLine]

    @property
    def total_cents(self) -> int:
        return sum(k.total_cents for k in self.kitchens)

    @property
    def is_empty(self) -> bool:
        return not self.kitchens and not any(p.total_cents for p in self.producers)


def _month_plan_lines(territory: Territory, month: date) -> QuerySet[PlanLine]:
    return (
        PlanLine.objects.filter(
            week__territory=territory,
            week__status=WeekStatus.PUBLISHED,
            day__gte=month,
            day__lt=shift_month(month, 1),
        )
        .select_related("product", "producer", "kitchen", "contract_line__product")
        .order_by("day", "kitchen_id", "producer_id", "product__name", "pk")
    )


def _on_kitchen_invoice() -> QuerySet[InvoiceLine]:
    return InvoiceLine.objects.filter(
        invoice__kind=InvoiceKind.INVOICE, invoice__producer__isnull=True, plan_line__isnull=False
    )


def pending_kitchen_lines(
    territory: Territory, month: date, kitchen: Kitchen | None = None
) -> tuple[list[PendingLine], list[PlanLine]]:
    """Plan lines of published weeks in ``month`` not yet on a kitchen's invoice, priced; and those without a
    price (no contract covers them). Lines whose quantity is zero are left out."""
    rows = _month_plan_lines(territory, month).exclude(pk__in=_on_kitchen_invoice().values("plan_line_id"))
    if kitchen is not None:
        rows = rows.filter(kitchen=kitchen)
    priced: list[PendingLine] = []
    unpriced: list[PlanLine] = []
    for plan_line in rows:
        as_planned = plan_line.received_quantity is None
        quantity = plan_line.quantity if as_planned else plan_line.received_quantity
        if not quantity:
            continue
        contract_line = contract_line_of(plan_line)
        if contract_line is None:
            unpriced.append(plan_line)
            continue
        priced.append(
            PendingLine(plan_line, contract_line, quantity, as_planned, line_amounts(quantity, contract_line))
        )
    return priced, unpriced


@dataclass(frozen=True)
class Remaining:
    """What is still uncredited on a line: quantity and amounts (positive on an invoice's line)."""

    quantity: int
    total: int
    producers: int
    service_fee: int
    levy: int


def uncredited(invoice: Invoice, lines: Iterable[InvoiceLine] | None = None) -> dict[int, Remaining]:
    """Per line id of ``invoice``: its quantity and amounts less what its credit notes took back. A credit note's
    line is matched to the invoice's line by plan line. ``lines``: the invoice's lines when already read."""
    lines = list(invoice.lines.all() if lines is None else lines)
    credited: dict[int | None, list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0])
    for row in InvoiceLine.objects.filter(invoice__corrects=invoice).values_list(
        "plan_line_id", "quantity", "amount_cents", "producers_cents", "service_fee_cents", "levy_cents"
    ):
        sums = credited[row[0]]
        for i, value in enumerate(row[1:]):
            sums[i] += value
    result = {}
    for line in lines:
        q, t, p, f, lv = credited.get(line.plan_line_id, [0, 0, 0, 0, 0])
        result[line.pk] = Remaining(
            line.quantity + q,
            line.amount_cents + t,
            line.producers_cents + p,
            line.service_fee_cents + f,
            line.levy_cents + lv,
        )
    return result


@dataclass(frozen=True)
class StatementRow:
    line: InvoiceLine  # the kitchen invoice's line
    quantity: int
    producers_cents: int


def _statement_rows(producer: Producer, month: date) -> list[StatementRow]:
    """The producer's lines on the kitchens' invoices of ``month`` not yet on one of its statements, net of the
    credit notes already written on them."""
    stated = InvoiceLine.objects.filter(
        invoice__kind=InvoiceKind.INVOICE, invoice__producer=producer, plan_line__isnull=False
    ).values("plan_line_id")
    lines = (
        InvoiceLine.objects.filter(
            invoice__kind=InvoiceKind.INVOICE,
            invoice__producer__isnull=True,
            invoice__territory_id=producer.territory_id,
            invoice__month=month,
            producer=producer,
        )
        .exclude(plan_line_id__in=stated)
        .select_related("invoice", "product", "kitchen", "plan_line__contract_line__product", "plan_line")
        .order_by("day", "kitchen_id", "product__name", "pk")
    )
    rows = []
    remaining_by_invoice: dict[int, dict[int, Remaining]] = {}
    for line in lines:
        if line.invoice_id not in remaining_by_invoice:
            remaining_by_invoice[line.invoice_id] = uncredited(line.invoice)
        left = remaining_by_invoice[line.invoice_id][line.pk]
        if left.quantity <= 0:
            continue
        rows.append(StatementRow(line, left.quantity, left.producers))
    return rows


def _deductions(
    producer: Producer, month: date, total_cents: int, *, lock: bool
) -> list[tuple[Advance, int]]:
    """Advance repayments on a statement of ``total_cents``: oldest advance first, at most its monthly deduction
    per month (less what an earlier statement of the month took), never above what is outstanding, never above
    the statement's total."""
    left = total_cents
    plan: list[tuple[Advance, int]] = []
    if left <= 0:
        return plan
    advances = Advance.objects.filter(
        producer=producer, repaid_cents__lt=F("amount_cents"), granted_on__lt=shift_month(month, 1)
    ).order_by("granted_on", "pk")
    if lock:
        advances = advances.select_for_update()
    for advance in advances:
        this_month = (
            AdvanceRepayment.objects.filter(advance=advance, invoice__month=month).aggregate(
                s=Sum("amount_cents")
            )["s"]
            or 0
        )
        amount = min(advance.monthly_deduction_cents - this_month, advance.outstanding_cents, left)
        if amount <= 0:
            continue
        plan.append((advance, amount))
        left -= amount
        if left == 0:
            break
    return plan


def billing_preview(*, territory: Territory, month: date) -> Preview:
    """What ``invoices_issue`` would write for ``month`` now (nothing is written)."""
    month = first_of_month(month)
    priced, unpriced = pending_kitchen_lines(territory, month)
    kitchens: dict[int, PendingKitchen] = {}
    for line in priced:
        kitchen = line.plan_line.kitchen
        kitchens.setdefault(kitchen.pk, PendingKitchen(kitchen)).lines.append(line)
    parts: dict[int, int] = defaultdict(int)
    producers: dict[int, Producer] = {}
    for line in priced:
        parts[line.plan_line.producer_id] += line.amounts.producers
        producers[line.plan_line.producer_id] = line.plan_line.producer
    for producer in Producer.objects.filter(territory=territory):
        already = sum(row.producers_cents for row in _statement_rows(producer, month))
        if already:
            parts[producer.pk] += already
            producers[producer.pk] = producer
    pending_producers = []
    for producer_id in sorted(producers, key=lambda pk: producers[pk].farm_name):
        total = parts[producer_id]
        deduction = sum(d for _a, d in _deductions(producers[producer_id], month, total, lock=False))
        pending_producers.append(PendingProducer(producers[producer_id], total, deduction))
    return Preview(
        month=month,
        kitchens=sorted(kitchens.values(), key=lambda k: k.kitchen.name),
        producers=pending_producers,
        unpriced=unpriced,
    )
