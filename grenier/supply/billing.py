"""The platform's money: monthly invoices to kitchens, producers' self-billed statements, credit notes, cash
advances repaid by deduction, the development fund. Every amount is also a ledger entry (signs in ``accounts``).

Documents and their ledger legs:

* a kitchen's invoice (issued by the platform): kitchen -total, each producer +its part, fees +fee, devfund +levy;
* a producer's monthly statement (self-billed in the producer's name): the parts were already credited by the
  kitchens' invoices, so only the advance deduction moves: producer -deduction, devfund +deduction;
* a credit note: the exact opposite legs of what it corrects. A credit note on a kitchen's invoice also writes,
  for the lines already on a producer's statement, the matching credit note on that statement (no legs: the
  producer's part was reversed by the kitchen's credit note), so a statement always says what the producer's
  account holds;
* paid: a kitchen's payment (kitchen +total, external payments -total), a payout to a producer (producer -net,
  payouts +net).

Numbers are gapless per issuer: ``InvoiceSeries.last_number`` is bumped under a row lock in the transaction that
writes the document, so a failed write leaves no hole and two writers never share a number. The series lock also
makes every issuer's writers take turns, which is what keeps a plan line from being billed twice.

Lock order (no cycle, so no deadlock): the platform's series, then a producer's series, then advances, then the
ledger's accounts (their own order). Marking paid locks the invoice rows, then the accounts.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from grenier.core import permissions
from grenier.core.errors import Conflict, InvalidInput, NotFound
from grenier.core.idempotency import KeyReused, fingerprint, replayed
from grenier.core.models import Territory, User
from grenier.core.money import format_cents
from grenier.core.permissions import Action
from grenier.core.services import audit
from grenier.ledger import services as ledger
from grenier.ledger.errors import InsufficientBalance
from grenier.ledger.models import Account, Entry, Posting
from grenier.supply import accounts
from grenier.supply.access import kitchens_of, producers_of
from grenier.supply.models import (
    Advance,
    AdvanceRepayment,
    ContractLine,
    ContractStatus,
    Invoice,
    InvoiceKind,
    InvoiceLine,
    InvoiceSeries,
    Kitchen,
    PlanLine,
    Platform,
    Producer,
    WeekStatus,
)
from grenier.supply.quantities import Amounts, line_amounts, split_amount

CONTRIBUTIONS = "external:supply-contributions"  # the group's own contributions and grants into the fund


def fit_key(key: str, limit: int = 100) -> str:
    """An idempotency key that fits its column: a long one keeps its start and ends with a digest of the whole."""
    if len(key) <= limit:
        return key
    return f"{key[: limit - 41]}~{hashlib.sha256(key.encode()).hexdigest()[:40]}"


# --- months and series --------------------------------------------------------------------------------------------


def first_of_month(day: date) -> date:
    return day.replace(day=1)


def next_month(month: date) -> date:
    return date(month.year + (month.month == 12), month.month % 12 + 1, 1)


def _check_month(month: date) -> date:
    month = first_of_month(month)
    if month > first_of_month(timezone.localdate()):
        raise InvalidInput(
            _("A month is invoiced once it has begun."), errors={"month": [_("This month is in the future.")]}
        )
    return month


def _platform(territory: Territory) -> Platform:
    platform = Platform.objects.filter(territory=territory).first()
    if platform is None:
        raise NotFound(_("This territory has no supply platform."))
    return platform


# late payment of an invoice (French Commercial Code, L441-10 and D441-5): penalties at three times the legal
# interest rate, and a fixed indemnity for recovery costs
LATE_PENALTY_LEGAL_RATE_MULTIPLE = 3
RECOVERY_INDEMNITY_CENTS = 4000


def document_of(invoice: Invoice) -> str:
    """What a document is: ``invoice`` (the platform's to a kitchen), ``statement`` (a producer's self-billed
    monthly statement) or ``credit_note`` (correcting either)."""
    return invoice.document


def due_on(invoice: Invoice, platform: Platform | None = None) -> date | None:
    """When a kitchen's invoice is to be paid: its issue date plus the platform's payment terms (``platform``
    given saves reading it). None for a statement (the platform pays it) or a credit note."""
    return invoice.due_on if platform is None else invoice.due_with(platform)


def series_prefix(territory: Territory, producer: Producer | None) -> str:
    base = _platform(territory).invoice_prefix or "PIAL"
    return base if producer is None else f"{base}-P{producer.pk}"


def series_for(territory: Territory, producer: Producer | None = None) -> InvoiceSeries:
    """The issuer's numbering: the platform's (``producer`` None) or a producer's, created on first use.

    Created outside the number's lock: two first documents at once both try to create it, one of them meets the
    unique constraint and reads the other's row."""
    lookup: dict[str, Any] = {"territory": territory, "producer": producer}
    found = InvoiceSeries.objects.filter(**lookup).first()
    if found is not None:
        return found
    prefix = series_prefix(territory, producer)
    try:
        with transaction.atomic():
            return InvoiceSeries.objects.create(territory=territory, producer=producer, prefix=prefix)
    except IntegrityError:
        return InvoiceSeries.objects.get(**lookup)


def _lock_series(series: InvoiceSeries) -> InvoiceSeries:
    # The race: two documents of one issuer read the same last number. The row lock makes them take turns; the
    # number is bumped in the transaction that writes the document, so a rollback takes the number back too.
    return InvoiceSeries.objects.select_for_update().get(pk=series.pk)


def reference_of(series: InvoiceSeries, number: int) -> str:
    return f"{series.prefix}-{number:05d}"


def _next_key(territory: Territory, base: str) -> str:
    """``base`` for a month's first document of a party; ``base:2``, ``base:3``… for the lines that came later (a
    week published after the month was invoiced). Read under the series lock, so two runs agree."""
    taken = Invoice.objects.filter(territory=territory).filter(
        Q(idempotency_key=base) | Q(idempotency_key__startswith=f"{base}:")
    )
    count = taken.count()
    return base if count == 0 else f"{base}:{count + 1}"


# --- what a month bills -------------------------------------------------------------------------------------------


def contract_line_of(plan_line: PlanLine) -> ContractLine | None:
    """The price of a plan line: its contract line, else the kitchen's contract covering the day (not a draft)."""
    if plan_line.contract_line_id is not None:
        return plan_line.contract_line
    return (
        ContractLine.objects.filter(
            contract__kitchen_id=plan_line.kitchen_id,
            contract__starts_on__lte=plan_line.day,
            contract__ends_on__gte=plan_line.day,
            product_id=plan_line.product_id,
        )
        .exclude(contract__status=ContractStatus.DRAFT)
        .select_related("product")
        .order_by("contract__starts_on", "contract_id")
        .first()
    )


def egalim_labels_of(plan_line: PlanLine) -> list[str]:
    return sorted(set(plan_line.product.egalim_labels or []) | set(plan_line.producer.certifications or []))


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
            day__lt=next_month(month),
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


def uncredited(invoice: Invoice) -> dict[int, Remaining]:
    """Per line id of ``invoice``: its quantity and amounts less what its credit notes took back. A credit note's
    line is matched to the invoice's line by plan line."""
    lines = list(invoice.lines.all())
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
        producer=producer, repaid_cents__lt=F("amount_cents"), granted_on__lt=next_month(month)
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


# --- issuing ------------------------------------------------------------------------------------------------------


def _document(
    series: InvoiceSeries,
    *,
    kind: InvoiceKind,
    month: date,
    issued_on: date,
    key: str,
    kitchen: Kitchen | None = None,
    producer: Producer | None = None,
    corrects: Invoice | None = None,
    reason: str = "",
    lines: Sequence[InvoiceLine],
    deduction_cents: int = 0,
    request_fingerprint: str = "",
) -> Invoice:
    """Write a document and its lines with the next number of the (locked) series, and bump the series."""
    number = series.last_number + 1
    invoice = Invoice.objects.create(
        territory_id=series.territory_id,
        series=series,
        number=number,
        reference=reference_of(series, number),
        kind=kind,
        kitchen=kitchen,
        producer=producer,
        month=month,
        issued_on=issued_on,
        total_cents=sum(line.amount_cents for line in lines),
        producers_cents=sum(line.producers_cents for line in lines),
        service_fee_cents=sum(line.service_fee_cents for line in lines),
        levy_cents=sum(line.levy_cents for line in lines),
        advance_deduction_cents=deduction_cents,
        corrects=corrects,
        reason=reason[:300],
        idempotency_key=key,
        request_fingerprint=request_fingerprint,
    )
    for line in lines:
        line.invoice = invoice
    InvoiceLine.objects.bulk_create(lines)
    InvoiceSeries.objects.filter(pk=series.pk).update(last_number=number)
    series.last_number = number
    return invoice


def _record(
    invoice: Invoice, legs: list[tuple[Account, int]], kind: str, actor: User | None, memo: str = ""
) -> Entry | None:
    if not any(amount for _account, amount in legs):
        return None
    entry = ledger.entry_record(
        territory=invoice.territory,
        idempotency_key=f"supply:{invoice.idempotency_key}",
        kind=kind,
        legs=legs,
        memo=memo or invoice.reference,
        actor=actor,
    ).entry
    invoice.entry = entry
    invoice.save(update_fields=["entry"])
    return entry


def _invoice_legs(invoice: Invoice, lines: Iterable[InvoiceLine]) -> list[tuple[Account, int]]:
    """A kitchen's invoice (or its credit note, amounts negative): kitchen -total, producers +parts, fees, levy."""
    territory = invoice.territory
    parts: dict[int, int] = defaultdict(int)
    for line in lines:
        parts[line.producer_id] += line.producers_cents
    legs: list[tuple[Account, int]] = [
        (accounts.kitchen_account(territory, invoice.kitchen_id or 0), -invoice.total_cents)
    ]
    legs += [(accounts.producer_account(territory, pk), amount) for pk, amount in sorted(parts.items())]
    legs += [
        (accounts.fees_account(territory), invoice.service_fee_cents),
        (accounts.devfund_account(territory), invoice.levy_cents),
    ]
    return legs


def _devfund_short(territory: Territory, exc: InsufficientBalance, needed: int) -> Conflict:
    return Conflict(
        _("The development fund holds %(balance)s, less than the %(needed)s this needs.")
        % {"balance": format_cents(devfund_balance(territory)), "needed": format_cents(needed)},
        extra={"devfund_balance_cents": devfund_balance(territory), "needed_cents": needed},
    )


def kitchen_invoice_issue(
    *, kitchen: Kitchen, month: date, actor: User | None, issued_on: date | None = None
) -> Invoice | None:
    """The platform's invoice to ``kitchen`` for the lines of ``month`` not yet invoiced; ``None`` when there is
    nothing (left) to bill."""
    territory = kitchen.territory
    month = _check_month(month)
    series = series_for(territory, None)
    with transaction.atomic():
        locked = _lock_series(series)
        pending, _unpriced = pending_kitchen_lines(territory, month, kitchen)
        if not pending:
            return None
        key = _next_key(territory, f"invoice:{month:%Y-%m}:kitchen:{kitchen.pk}")
        lines = [
            InvoiceLine(
                plan_line=row.plan_line,
                product=row.plan_line.product,
                producer=row.plan_line.producer,
                kitchen=kitchen,
                day=row.plan_line.day,
                quantity=row.quantity,
                unit_price_cents=row.contract_line.unit_price_cents,
                amount_cents=row.amounts.total,
                producers_cents=row.amounts.producers,
                service_fee_cents=row.amounts.service_fee,
                levy_cents=row.amounts.levy,
                egalim_labels=egalim_labels_of(row.plan_line),
                billed_as_planned=row.as_planned,
            )
            for row in pending
        ]
        invoice = _document(
            locked,
            kind=InvoiceKind.INVOICE,
            month=month,
            issued_on=issued_on or timezone.localdate(),
            key=key,
            kitchen=kitchen,
            lines=lines,
        )
        _record(invoice, _invoice_legs(invoice, lines), "supply.invoice", actor)
        audit(territory=territory, actor=actor, action="supply.invoice", subject=f"invoice:{invoice.pk}")
    return invoice


def producer_statement_issue(
    *, producer: Producer, month: date, actor: User | None, issued_on: date | None = None
) -> Invoice | None:
    """The producer's monthly statement (self-billed in its name): its part of what the kitchens' invoices of
    ``month`` billed for its deliveries, less advance repayments. ``None`` when nothing is left to state."""
    territory = producer.territory
    month = _check_month(month)
    series = series_for(territory, producer)
    with transaction.atomic():
        locked = _lock_series(series)
        rows = _statement_rows(producer, month)
        if not rows:
            return None
        key = _next_key(territory, f"statement:{month:%Y-%m}:producer:{producer.pk}")
        lines = []
        for row in rows:
            contract_line = contract_line_of(row.line.plan_line) if row.line.plan_line else None
            lines.append(
                InvoiceLine(
                    plan_line=row.line.plan_line,
                    product=row.line.product,
                    producer=producer,
                    kitchen=row.line.kitchen,
                    day=row.line.day,
                    quantity=row.quantity,
                    unit_price_cents=(
                        contract_line.producer_price_cents if contract_line else row.line.unit_price_cents
                    ),
                    amount_cents=row.producers_cents,
                    producers_cents=row.producers_cents,
                    egalim_labels=row.line.egalim_labels,
                    billed_as_planned=row.line.billed_as_planned,
                )
            )
        total = sum(line.amount_cents for line in lines)
        repayments = _deductions(producer, month, total, lock=True)
        deduction = sum(amount for _advance, amount in repayments)
        invoice = _document(
            locked,
            kind=InvoiceKind.INVOICE,
            month=month,
            issued_on=issued_on or timezone.localdate(),
            key=key,
            producer=producer,
            lines=lines,
            deduction_cents=deduction,
        )
        for advance, amount in repayments:
            AdvanceRepayment.objects.create(advance=advance, invoice=invoice, amount_cents=amount)
            Advance.objects.filter(pk=advance.pk).update(repaid_cents=F("repaid_cents") + amount)
        _record(
            invoice,
            [
                (accounts.producer_account(territory, producer.pk), -deduction),
                (accounts.devfund_account(territory), deduction),
            ],
            "supply.statement",
            actor,
        )
        audit(territory=territory, actor=actor, action="supply.statement", subject=f"invoice:{invoice.pk}")
    return invoice


def invoices_issue(
    *, territory: Territory, month: date, actor: User | None, issued_on: date | None = None
) -> list[Invoice]:
    """Issue ``month``: an invoice per kitchen, then a statement per producer, for what is not yet billed.

    Returns the documents written now; running it again writes nothing (keys ``invoice:<yyyy-mm>:kitchen:<id>``
    and ``statement:<yyyy-mm>:producer:<id>``, then ``…:2`` for lines of a week published after the month was
    invoiced)."""
    month = _check_month(month)
    _platform(territory)
    issued: list[Invoice] = []
    for kitchen in Kitchen.objects.filter(territory=territory).order_by("name", "pk"):
        invoice = kitchen_invoice_issue(kitchen=kitchen, month=month, actor=actor, issued_on=issued_on)
        if invoice is not None:
            issued.append(invoice)
    for producer in Producer.objects.filter(territory=territory).order_by("farm_name", "pk"):
        statement = producer_statement_issue(producer=producer, month=month, actor=actor, issued_on=issued_on)
        if statement is not None:
            issued.append(statement)
    return issued


# --- credit notes -------------------------------------------------------------------------------------------------


def credit_requested(plan_line: PlanLine) -> tuple[InvoiceLine, int] | None:
    """A kitchen that records, after its invoice, less than is still billed for a line asks for a credit note:
    the kitchen invoice's line and the quantity to credit (base units); ``None`` when nothing is asked."""
    if plan_line.received_quantity is None:
        return None
    line = _on_kitchen_invoice().filter(plan_line=plan_line).select_related("invoice").first()
    if line is None:
        return None
    missing = uncredited(line.invoice)[line.pk].quantity - plan_line.received_quantity
    return (line, missing) if missing > 0 else None


def _credit_line(line: InvoiceLine, quantity: int, left: Remaining) -> InvoiceLine:
    """The credit note's line taking ``quantity`` back from ``line``: all that is left when it is all the quantity
    left, else the same proportion of each part (the parts still sum to the total exactly)."""
    if quantity == left.quantity:
        amounts = Amounts(left.total, left.producers, left.service_fee, left.levy)
    else:
        amounts = split_amount(quantity, left.quantity, [left.producers, left.service_fee, left.levy])
    return InvoiceLine(
        plan_line_id=line.plan_line_id,
        product_id=line.product_id,
        producer_id=line.producer_id,
        kitchen_id=line.kitchen_id,
        day=line.day,
        quantity=-quantity,
        unit_price_cents=line.unit_price_cents,
        amount_cents=-amounts.total,
        producers_cents=-amounts.producers,
        service_fee_cents=-amounts.service_fee,
        levy_cents=-amounts.levy,
        egalim_labels=line.egalim_labels,
        billed_as_planned=line.billed_as_planned,
    )


def credit_note_issue(
    *,
    invoice: Invoice,
    lines: list[tuple[InvoiceLine, int]] | None,
    reason: str,
    idempotency_key: str,
    actor: User | None,
) -> Invoice:
    """A credit note correcting ``invoice``: every line for what is left uncredited (``lines`` None), or the
    chosen ``(line, quantity in base units)``. Same series as the invoice, negative amounts, opposite ledger legs.
    The same ``idempotency_key`` returns the credit note already written."""
    territory = invoice.territory
    key = fit_key(f"credit:{invoice.pk}:{idempotency_key}")
    request = {
        "lines": None if lines is None else sorted((line.pk, quantity) for line, quantity in lines),
        "reason": (reason or "").strip(),
    }
    existing = Invoice.objects.filter(territory=territory, idempotency_key=key).first()
    if existing is not None:
        return replayed(existing, key=idempotency_key, **request)
    if invoice.kind != InvoiceKind.INVOICE:
        raise InvalidInput(_("A credit note corrects an invoice, not another credit note."))
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(
            _("Say why the invoice is corrected."), errors={"reason": [_("This field is required.")]}
        )
    try:
        with transaction.atomic():
            locked = _lock_series(invoice.series)
            existing = Invoice.objects.filter(territory=territory, idempotency_key=key).first()
            if existing is not None:
                return replayed(existing, key=idempotency_key, **request)
            note = _credit_note_write(locked, invoice, lines, reason, key, actor, fingerprint(**request))
    except IntegrityError:
        existing = Invoice.objects.filter(territory=territory, idempotency_key=key).first()
        if existing is None:
            raise
        return replayed(existing, key=idempotency_key, **request)
    return note


def _credit_note_write(
    series: InvoiceSeries,
    invoice: Invoice,
    lines: list[tuple[InvoiceLine, int]] | None,
    reason: str,
    key: str,
    actor: User | None,
    request_fingerprint: str,
) -> Invoice:
    territory = invoice.territory
    left = uncredited(invoice)
    own = {line.pk: line for line in invoice.lines.all()}
    if lines is None:
        chosen = [(own[pk], rest.quantity) for pk, rest in left.items() if rest.quantity > 0]
    else:
        chosen = []
        for line, quantity in lines:
            if line.pk not in own:
                raise InvalidInput(
                    _("This line is not on the invoice."),
                    errors={"lines": [_("Choose lines of this invoice.")]},
                )
            if not isinstance(quantity, int) or quantity < 0 or quantity > left[line.pk].quantity:
                raise InvalidInput(
                    _("A line can be credited for at most what is still uncredited on it."),
                    errors={"quantity": [_("Between zero and what is still uncredited.")]},
                    extra={"line": line.pk, "uncredited": left[line.pk].quantity},
                )
            if quantity:
                chosen.append((own[line.pk], quantity))
    reverse_deduction = 0
    if lines is None and invoice.producer_id is not None and invoice.advance_deduction_cents:
        reversed_before = (
            Invoice.objects.filter(corrects=invoice).aggregate(s=Sum("advance_deduction_cents"))["s"] or 0
        )
        reverse_deduction = invoice.advance_deduction_cents + reversed_before
    if not chosen and not reverse_deduction:
        raise InvalidInput(
            _("Nothing is left to credit on this invoice."), errors={"lines": [_("Choose a quantity.")]}
        )
    credit_lines = [_credit_line(line, quantity, left[line.pk]) for line, quantity in chosen]
    note = _document(
        series,
        kind=InvoiceKind.CREDIT_NOTE,
        month=invoice.month,
        issued_on=timezone.localdate(),
        key=key,
        kitchen=invoice.kitchen,
        producer=invoice.producer,
        corrects=invoice,
        reason=reason,
        lines=credit_lines,
        deduction_cents=-reverse_deduction,
        request_fingerprint=request_fingerprint,
    )
    if invoice.kitchen_id is not None:
        legs = _invoice_legs(note, credit_lines)
        needed = -note.levy_cents
    else:
        legs = [
            (accounts.producer_account(territory, invoice.producer_id or 0), reverse_deduction),
            (accounts.devfund_account(territory), -reverse_deduction),
        ]
        needed = reverse_deduction
        _advances_restore(invoice, reverse_deduction)
    try:
        _record(note, legs, "supply.credit_note", actor, memo=f"{note.reference} → {invoice.reference}")
    except InsufficientBalance as exc:
        raise _devfund_short(territory, exc, needed) from exc
    if invoice.kitchen_id is not None:
        _statements_follow(note, credit_lines, reason, actor)
    audit(territory=territory, actor=actor, action="supply.credit_note", subject=f"invoice:{note.pk}")
    return note


def _advances_restore(statement: Invoice, amount: int) -> None:
    """Give back to the advances what a statement's credit note no longer deducts (latest advance first)."""
    for repayment in statement.advance_repayments.select_related("advance").order_by(
        "-advance__granted_on", "-pk"
    ):
        if amount <= 0:
            break
        advance = Advance.objects.select_for_update().get(pk=repayment.advance_id)
        back = min(amount, repayment.amount_cents, advance.repaid_cents)
        Advance.objects.filter(pk=advance.pk).update(repaid_cents=F("repaid_cents") - back)
        amount -= back


def _statements_follow(
    note: Invoice, credit_lines: list[InvoiceLine], reason: str, actor: User | None
) -> None:
    """A kitchen's credit note took back producers' parts: the statements that already state those lines get the
    matching credit note (no ledger legs, the kitchen's credit note moved the producer's account)."""
    by_plan_line: dict[int | None, InvoiceLine] = {
        line.plan_line_id: line for line in credit_lines if line.plan_line_id
    }
    stated = (
        InvoiceLine.objects.filter(
            invoice__kind=InvoiceKind.INVOICE,
            invoice__producer__isnull=False,
            plan_line_id__in=list(by_plan_line),
        )
        .select_related("invoice__series")
        .order_by("invoice__series_id", "invoice_id", "pk")
    )
    per_statement: dict[int, list[InvoiceLine]] = defaultdict(list)
    statements: dict[int, Invoice] = {}
    for line in stated:
        per_statement[line.invoice_id].append(line)
        statements[line.invoice_id] = line.invoice
    for statement_id, stated_lines in per_statement.items():
        statement = statements[statement_id]
        locked = _lock_series(statement.series)
        left = uncredited(statement)
        follow = []
        for line in stated_lines:
            taken = by_plan_line[line.plan_line_id]
            rest = left[line.pk]
            quantity = min(-taken.quantity, rest.quantity)
            if quantity <= 0:
                continue
            amount = rest.total if quantity == rest.quantity else min(-taken.producers_cents, rest.total)
            follow.append(
                InvoiceLine(
                    plan_line_id=line.plan_line_id,
                    product_id=line.product_id,
                    producer_id=line.producer_id,
                    kitchen_id=line.kitchen_id,
                    day=line.day,
                    quantity=-quantity,
                    unit_price_cents=line.unit_price_cents,
                    amount_cents=-amount,
                    producers_cents=-amount,
                    egalim_labels=line.egalim_labels,
                    billed_as_planned=line.billed_as_planned,
                )
            )
        if follow:
            _document(
                locked,
                kind=InvoiceKind.CREDIT_NOTE,
                month=statement.month,
                issued_on=note.issued_on,
                key=fit_key(f"credit:{statement.pk}:{note.idempotency_key}"),
                producer=statement.producer,
                corrects=statement,
                reason=reason,
                lines=follow,
            )


# --- payments -----------------------------------------------------------------------------------------------------


def amount_due(invoice: Invoice) -> int:
    """What settles an invoice: its net, plus its credit notes not yet paid (negative)."""
    notes = invoice.credit_notes.filter(paid_at__isnull=True)
    return (0 if invoice.paid_at else invoice.net_cents) + sum(note.net_cents for note in notes)


def invoice_mark_paid(*, invoice: Invoice, reference: str = "", actor: User | None) -> Invoice:
    """Record the money moving for a document: a kitchen paid its invoice (kitchen +total, payments -total), the
    platform paid a producer its statement (producer -net, payouts +net). An invoice is settled with its credit
    notes not yet paid; a credit note alone is a refund. Marking twice changes nothing."""
    territory = invoice.territory
    with transaction.atomic():
        locked = Invoice.objects.select_for_update().get(pk=invoice.pk)
        documents = [locked]
        if locked.kind == InvoiceKind.INVOICE:
            documents += list(
                Invoice.objects.select_for_update()
                .filter(corrects=locked, paid_at__isnull=True)
                .order_by("pk")
            )
        now = timezone.now()
        for document in documents:
            if document.paid_at is not None:
                continue
            if document.kitchen_id is not None:
                amount = document.total_cents
                legs = [
                    (accounts.kitchen_account(territory, document.kitchen_id), amount),
                    (accounts.external(territory, accounts.PAYMENTS_IN), -amount),
                ]
            else:
                amount = document.net_cents
                legs = [
                    (accounts.producer_account(territory, document.producer_id or 0), -amount),
                    (accounts.external(territory, accounts.PAYOUTS), amount),
                ]
            entry = None
            if amount:
                entry = ledger.entry_record(
                    territory=territory,
                    idempotency_key=f"supply:paid:{document.pk}",
                    kind="supply.paid",
                    legs=legs,
                    memo=" ".join(filter(None, [document.reference, reference]))[:300],
                    actor=actor,
                ).entry
            document.paid_at = now
            document.paid_entry = entry
            document.save(update_fields=["paid_at", "paid_entry"])
            audit(
                territory=territory,
                actor=actor,
                action="supply.paid",
                subject=f"invoice:{document.pk}",
                reference=reference[:100],
            )
    locked.refresh_from_db()
    return locked


# --- advances and the development fund ----------------------------------------------------------------------------


def _positive_cents(value: object, name: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise InvalidInput(
            _("The amount must be positive."), errors={name: [_("A positive number of cents.")]}
        )
    return value


def advance_grant(
    *,
    producer: Producer,
    amount_cents: int,
    monthly_deduction_cents: int,
    granted_on: date,
    purpose: str = "",
    idempotency_key: str,
    actor: User | None,
) -> Advance:
    """A cash advance paid to a producer from the development fund (devfund -, payouts +), repaid by deduction
    from its monthly statements. Refused (``Conflict``, the fund's balance in ``extra``) when the fund holds less."""
    territory = producer.territory
    idempotency_key = fit_key(idempotency_key)
    request = {
        "producer": producer,
        "amount_cents": amount_cents,
        "monthly_deduction_cents": monthly_deduction_cents,
        "granted_on": granted_on,
        "purpose": purpose,
    }
    existing = Advance.objects.filter(territory=territory, idempotency_key=idempotency_key).first()
    if existing is not None:
        return replayed(existing, key=idempotency_key, **request)
    _positive_cents(amount_cents, "amount_cents")
    _positive_cents(monthly_deduction_cents, "monthly_deduction_cents")
    if monthly_deduction_cents > amount_cents:
        raise InvalidInput(
            _("The monthly deduction cannot exceed the advance."),
            errors={"monthly_deduction_cents": [_("At most the advance's amount.")]},
        )
    try:
        with transaction.atomic():
            try:
                entry = ledger.entry_record(
                    territory=territory,
                    idempotency_key=f"supply:advance:{idempotency_key}",
                    kind="supply.advance",
                    legs=[
                        (accounts.devfund_account(territory), -amount_cents),
                        (accounts.external(territory, accounts.PAYOUTS), amount_cents),
                    ],
                    memo=f"{producer.farm_name} {purpose}".strip(),
                    actor=actor,
                ).entry
            except InsufficientBalance as exc:
                raise _devfund_short(territory, exc, amount_cents) from exc
            advance = Advance.objects.create(
                territory=territory,
                producer=producer,
                amount_cents=amount_cents,
                monthly_deduction_cents=monthly_deduction_cents,
                granted_on=granted_on,
                purpose=purpose[:300],
                entry=entry,
                idempotency_key=idempotency_key,
                request_fingerprint=fingerprint(**request),
            )
            audit(territory=territory, actor=actor, action="supply.advance", subject=f"advance:{advance.pk}")
    except IntegrityError:
        existing = Advance.objects.filter(territory=territory, idempotency_key=idempotency_key).first()
        if existing is None:
            raise
        return replayed(existing, key=idempotency_key, **request)
    return advance


def devfund_contribute(
    *, territory: Territory, amount_cents: int, source: str, idempotency_key: str, actor: User | None
) -> Entry:
    """Euros into the development fund from the group itself or a grant (``source`` says who)."""
    _positive_cents(amount_cents, "amount_cents")
    try:
        recorded = ledger.entry_record(
            territory=territory,
            idempotency_key=fit_key(f"supply:devfund:{idempotency_key}", 120),
            kind="supply.devfund.contribution",
            legs=[
                (accounts.external(territory, CONTRIBUTIONS), -amount_cents),
                (accounts.devfund_account(territory), amount_cents),
            ],
            memo=source[:300],
            actor=actor,
        )
    except KeyReused:  # the ledger entry is the contribution's only record: its postings are compared
        raise KeyReused(idempotency_key) from None
    if recorded.created:
        audit(territory=territory, actor=actor, action="supply.devfund", subject=f"entry:{recorded.entry.pk}")
    return recorded.entry


# --- reads --------------------------------------------------------------------------------------------------------


def devfund_balance(territory: Territory) -> int:
    return (
        Account.objects.filter(territory=territory, code=accounts.DEVFUND)
        .values_list("balance_cents", flat=True)
        .first()
        or 0
    )


@dataclass(frozen=True)
class Movement:
    at: Any
    kind: str
    memo: str
    amount_cents: int


def devfund_movements(territory: Territory, limit: int = 200) -> list[Movement]:
    """The development fund's movements, latest first: levies, contributions, advances out, repayments in."""
    # Sorted here, not by the database: ordered by the entry's time, PostgreSQL may drive the join from every
    # entry of the ledger when its statistics are stale (a test's own transaction: a 20-minute query); the fund's
    # account has a few postings a month, found by its own index.
    account_id = (
        Account.objects.filter(territory=territory, code=accounts.DEVFUND)
        .values_list("pk", flat=True)
        .first()
    )
    if account_id is None:
        return []
    rows = list(Posting.objects.filter(account_id=account_id).select_related("entry"))
    rows.sort(key=lambda row: (row.entry.created_at, row.pk), reverse=True)
    return [
        Movement(row.entry.created_at, row.entry.kind, row.entry.memo, row.amount_cents)
        for row in rows[:limit]
    ]


def documents(territory: Territory) -> QuerySet[Invoice]:
    return (
        Invoice.objects.filter(territory=territory)
        .select_related("kitchen", "producer", "corrects")
        .order_by("-issued_on", "-pk")
    )


def kitchen_invoices(kitchen: Kitchen) -> QuerySet[Invoice]:
    """A kitchen's invoices and credit notes, latest first."""
    return documents(kitchen.territory).filter(kitchen=kitchen)


def producer_statements(producer: Producer) -> QuerySet[Invoice]:
    """A producer's statements and their credit notes, latest first."""
    return documents(producer.territory).filter(producer=producer)


def outstanding_advances(territory: Territory, producer: Producer | None = None) -> QuerySet[Advance]:
    """Advances not fully repaid, oldest first (the order they are repaid in)."""
    rows = Advance.objects.filter(territory=territory, repaid_cents__lt=F("amount_cents"))
    if producer is not None:
        rows = rows.filter(producer=producer)
    return rows.select_related("producer").order_by("granted_on", "pk")


def advances_of(territory: Territory, producer: Producer | None = None) -> QuerySet[Advance]:
    rows = Advance.objects.filter(territory=territory)
    if producer is not None:
        rows = rows.filter(producer=producer)
    return rows.select_related("producer").order_by("-granted_on", "-pk")


@dataclass(frozen=True)
class Retained:
    month: date
    service_fee_cents: int
    levy_cents: int
    billed_cents: int


def retained_by_month(territory: Territory) -> list[Retained]:
    """Per month, what the kitchens' invoices (less credit notes) retained: service fees and levies."""
    rows = (
        Invoice.objects.filter(territory=territory, kitchen__isnull=False)
        .values("month")
        .annotate(fee=Sum("service_fee_cents"), levy=Sum("levy_cents"), billed=Sum("total_cents"))
        .order_by("-month")
    )
    return [Retained(row["month"], row["fee"] or 0, row["levy"] or 0, row["billed"] or 0) for row in rows]


def documents_for(user: Any, territory: Territory) -> QuerySet[Invoice]:
    """The documents a person may read: a coordinator all of them, a kitchen manager its kitchens' invoices, a
    grower its farms' statements."""
    if permissions.can(user, territory, Action.SUPPLY_MANAGE):
        return documents(territory)
    return documents(territory).filter(
        Q(kitchen__in=kitchens_of(user, territory), producer__isnull=True)
        | Q(producer__in=producers_of(user, territory))
    )


def document_for(user: Any, territory: Territory, invoice_id: int) -> Invoice:
    invoice = documents_for(user, territory).filter(pk=invoice_id).first()
    if invoice is None:
        raise NotFound(_("No invoice you may read has this number."))
    return invoice
