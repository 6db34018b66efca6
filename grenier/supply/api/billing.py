"""Invoices and the development fund."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query

from grenier.core import permissions
from grenier.core.auth import user_of
from grenier.core.errors import NotFound
from grenier.core.money import format_cents
from grenier.core.permissions import Action
from grenier.core.schemas import Month
from grenier.supply.api.common import _require_any, _territory, router
from grenier.supply.api.schemas import DevfundOut, InvoiceOut, IssueIn, MovementOut, PaidIn, RetainedOut
from grenier.supply.models import (
    Platform,
)


def _invoice_out(invoice: Any, platform: Platform | None = None) -> InvoiceOut:
    from grenier.supply import billing

    return InvoiceOut(
        id=invoice.pk,
        reference=invoice.reference,
        kind=invoice.kind,
        document=billing.document_of(invoice),
        kitchen=invoice.kitchen_id,
        kitchen_name=invoice.kitchen.name if invoice.kitchen_id else None,
        producer=invoice.producer_id,
        producer_name=invoice.producer.farm_name if invoice.producer_id else None,
        month=invoice.month,
        issued_on=invoice.issued_on,
        due_on=billing.due_on(invoice, platform),
        total_cents=invoice.total_cents,
        producers_cents=invoice.producers_cents,
        service_fee_cents=invoice.service_fee_cents,
        levy_cents=invoice.levy_cents,
        advance_deduction_cents=invoice.advance_deduction_cents,
        net_cents=invoice.net_cents,
        total_text=format_cents(invoice.total_cents),
        corrects=invoice.corrects_id,
        reason=invoice.reason,
        paid_at=invoice.paid_at,
    )


@router.get(
    "/supply/invoices",
    response=list[InvoiceOut],
    summary="Invoices and statements: a coordinator all, a kitchen its invoices, a grower its statements",
)
def invoice_list(
    request: HttpRequest,
    month: Month | None = None,
    limit: int = Query(200, ge=1, le=1000),
) -> list[InvoiceOut]:
    from grenier.supply import billing

    territory = _territory(request)
    _require_any(request, territory, Action.SUPPLY_MANAGE, Action.SUPPLY_PRODUCE, Action.SUPPLY_KITCHEN)
    rows = billing.documents_for(request.user, territory)
    if month:
        rows = rows.filter(month=month)
    platform = Platform.objects.filter(territory=territory).first()
    return [_invoice_out(invoice, platform) for invoice in rows[:limit]]


@router.post(
    "/supply/invoices/issue",
    response=list[InvoiceOut],
    summary="Issue a month's invoices and statements (coordinator); again issues only what is new",
)
def invoices_issue(request: HttpRequest, payload: IssueIn) -> list[InvoiceOut]:
    from grenier.supply import billing

    territory = _territory(request)
    permissions.require(request.user, territory, Action.SUPPLY_MANAGE)
    issued = billing.invoices_issue(territory=territory, month=payload.month, actor=user_of(request))
    return [_invoice_out(invoice) for invoice in issued]


@router.post(
    "/supply/invoices/{invoice_id}/paid",
    response=InvoiceOut,
    summary="Record that a document was paid (coordinator); marking again changes nothing",
)
def invoice_paid(request: HttpRequest, invoice_id: int, payload: PaidIn) -> InvoiceOut:
    from grenier.supply import billing

    territory = _territory(request)
    permissions.require(request.user, territory, Action.SUPPLY_MANAGE)
    invoice = billing.documents(territory).filter(pk=invoice_id).first()
    if invoice is None:
        raise NotFound(_("No invoice has this number here."))
    paid = billing.invoice_mark_paid(invoice=invoice, reference=payload.reference, actor=user_of(request))
    return _invoice_out(billing.documents(territory).get(pk=paid.pk))


@router.get(
    "/supply/devfund",
    response=DevfundOut,
    summary="The development fund: balance, retained fees and levies, movements (coordinator, committee, funder)",
)
def devfund(request: HttpRequest, limit: int = Query(50, ge=1, le=500)) -> DevfundOut:
    from grenier.supply import billing

    territory = _territory(request)
    permissions.require(request.user, territory, Action.SUPPLY_FIGURES)
    manager = permissions.can(request.user, territory, Action.SUPPLY_MANAGE)
    balance = billing.devfund_balance(territory)
    outstanding = sum(a.outstanding_cents for a in billing.outstanding_advances(territory))
    return DevfundOut(
        balance_cents=balance,
        balance_text=format_cents(balance),
        outstanding_advances_cents=outstanding,
        retained=[
            RetainedOut(
                month=row.month,
                service_fee_cents=row.service_fee_cents,
                levy_cents=row.levy_cents,
                billed_cents=row.billed_cents,
            )
            for row in billing.retained_by_month(territory)
        ],
        movements=[
            MovementOut(
                at=row.at, kind=row.kind, amount_cents=row.amount_cents, memo=row.memo if manager else None
            )
            for row in billing.devfund_movements(territory, limit=limit)
        ],
    )
