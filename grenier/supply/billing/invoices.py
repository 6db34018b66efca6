"""Issuing a month's documents (kitchens' invoices, producers' statements) and marking them paid."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date

from django.db import transaction
from django.db.models import F, Prefetch, QuerySet
from django.utils import timezone

from grenier.core.models import Territory, User
from grenier.core.services import audit
from grenier.ledger import services as ledger
from grenier.ledger.models import Account
from grenier.supply import accounts
from grenier.supply.billing.pending import _deductions, _statement_rows, pending_kitchen_lines
from grenier.supply.billing.series import (
    _check_month,
    _document,
    _lock_series,
    _next_key,
    _platform,
    _record,
    contract_line_of,
    egalim_labels_of,
    series_for,
)
from grenier.supply.models import (
    Advance,
    AdvanceRepayment,
    Invoice,
    InvoiceKind,
    InvoiceLine,
    Kitchen,
    Producer,
)


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


UNPAID_NOTES = "unpaid_credit_notes"


def with_unpaid_notes(documents: QuerySet[Invoice]) -> QuerySet[Invoice]:
    """``documents`` with their credit notes not yet paid read in one query for all of them (what
    :func:`amount_due` needs), not one per document of a list."""
    return documents.prefetch_related(
        Prefetch("credit_notes", queryset=Invoice.objects.filter(paid_at__isnull=True), to_attr=UNPAID_NOTES)
    )


def amount_due(invoice: Invoice) -> int:
    """What settles an invoice: its net, plus its credit notes not yet paid (negative); read with the invoice by
    :func:`with_unpaid_notes`, or here."""
    notes = getattr(invoice, UNPAID_NOTES, None)
    if notes is None:
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
