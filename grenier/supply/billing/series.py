"""What every money document shares: months, the platform, gapless numbers per issuer, keys that fit, references,
the document row and its audit line."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import date
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from grenier.core.errors import InvalidInput, NotFound
from grenier.core.models import Territory, User
from grenier.core.months import first_of_month
from grenier.ledger import services as ledger
from grenier.ledger.models import Account, Entry
from grenier.supply.models import (
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
)

CONTRIBUTIONS = "external:supply-contributions"  # the group's own contributions and grants into the fund


def fit_key(key: str, limit: int = 100) -> str:
    """An idempotency key that fits its column: a long one keeps its start and ends with a digest of the whole."""
    if len(key) <= limit:
        return key
    return f"{key[: limit - 41]}~{hashlib.sha256(key.encode()).hexdigest()[:40]}"


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


def _positive_cents(value: object, name: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise InvalidInput(
            _("The amount must be positive."), errors={name: [_("A positive number of cents.")]}
        )
    return value
