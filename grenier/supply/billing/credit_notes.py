"""Credit notes: what a kitchen asks back for a line, the note on its invoice and the ones that follow on the
producers' statements."""

from __future__ import annotations

from collections import defaultdict

from django.db import IntegrityError, transaction
from django.db.models import F, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from grenier.core.errors import InvalidInput
from grenier.core.idempotency import fingerprint, replayed
from grenier.core.models import User
from grenier.core.services import audit
from grenier.ledger.errors import InsufficientBalance
from grenier.supply import accounts
from grenier.supply.billing.devfund import _devfund_short
from grenier.supply.billing.invoices import _invoice_legs
from grenier.supply.billing.pending import Remaining, _on_kitchen_invoice, uncredited
from grenier.supply.billing.series import _document, _lock_series, _record, fit_key
from grenier.supply.models import (
    Advance,
    Invoice,
    InvoiceKind,
    InvoiceLine,
    InvoiceSeries,
    PlanLine,
)
from grenier.supply.quantities import Amounts, split_amount


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
