"""API of the common fund: payments and refunds at the till, the monthly run, settlements, figures, statements."""

from __future__ import annotations

from datetime import date, datetime

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from grenier.api import territory_of
from grenier.core import permissions
from grenier.core.auth import user_of
from grenier.core.permissions import Action
from grenier.core.schemas import Cents, Id, InputSchema, Month
from grenier.fund import access, selectors, services
from grenier.fund.models import Payment, Settlement

router = Router(tags=["fund"])


class TillPaymentIn(InputSchema):
    household: str = Field(..., min_length=1, max_length=30, description="The household's card number.")
    amount_cents: Cents = Field(..., gt=0, le=100_000_00, description="The purchase total, in cents.")
    idempotency_key: str = Field(..., min_length=8, max_length=100)
    code: str | None = Field(
        None, max_length=6, description="The member's personal code, if the household set one."
    )
    store: Id | None = Field(None, description="Needed only when the cashier works at several stores.")


class TillPaymentOut(Schema):
    id: int
    store: str
    created_at: datetime
    total_cents: int
    credit_cents: int
    euro_cents: int = Field(
        ..., description="What the member pays in euros at the till (coverage below 100 %)."
    )
    refunded_credit_cents: int
    remaining_credit_cents: int | None = Field(None, description="The household's credit after this payment.")


class RefundIn(InputSchema):
    amount_cents: Cents = Field(..., gt=0, description="Food credit to give back, in cents.")
    idempotency_key: str = Field(..., min_length=8, max_length=100)


class RefundOut(Schema):
    id: int
    payment: int
    credit_cents: int
    payment_refunded_credit_cents: int
    remaining_credit_cents: int


class MonthIn(InputSchema):
    month: Month


class RunOut(Schema):
    month: date
    households: int
    processed_now: int
    credit_issued_cents: int
    contributions_due_cents: int
    contributions_paid_cents: int
    returned_cents: int


class SettlementOut(Schema):
    id: int
    store: str
    month: date
    payments_count: int
    credit_received_cents: int
    credit_refunded_cents: int
    amount_cents: int
    status: str


class StoreSpendingOut(Schema):
    store: str
    credit_cents: int = Field(..., description="Food credit spent at the store over the last three months.")


class FiguresOut(Schema):
    euro_balance_cents: int
    outstanding_credit_cents: int
    settlements_due_cents: int
    contributions_total_cents: int
    grants_total_cents: int
    months_covered: float | None
    spending_by_store: list[StoreSpendingOut]


class StatementStoreOut(Schema):
    store: str
    payments: int
    credit_cents: int = Field(..., description="Food credit spent at the store this month.")


class HouseholdStatementOut(Schema):
    month: date
    balance_cents: int
    allocation_cents: int
    returned_cents: int
    contribution_cents: int
    spent_cents: int
    refunded_cents: int
    by_store: list[StatementStoreOut]


def _payment_out(payment: Payment, remaining: int | None = None) -> TillPaymentOut:
    return TillPaymentOut(
        id=payment.pk,
        store=payment.store.name,
        created_at=payment.created_at,
        total_cents=payment.total_cents,
        credit_cents=payment.credit_cents,
        euro_cents=payment.euro_cents,
        refunded_credit_cents=payment.refunded_credit_cents,
        remaining_credit_cents=remaining,
    )


@router.post(
    "/payments", response={201: TillPaymentOut}, summary="A member household pays in food credit (cashier)"
)
def payment_create(request: HttpRequest, payload: TillPaymentIn) -> tuple[int, TillPaymentOut]:
    territory = territory_of(request)
    store = access.cashier_store(request.user, territory, payload.store)
    result = services.pay(
        store=store,
        card=payload.household,
        total_cents=payload.amount_cents,
        idempotency_key=payload.idempotency_key,
        code=payload.code,
        actor=user_of(request),
    )
    return 201, _payment_out(result.payment, result.remaining_credit_cents)


@router.get(
    "/payments",
    response=list[TillPaymentOut],
    summary="The payments taken at the cashier's store, newest first",
)
def payment_list(
    request: HttpRequest, store: Id | None = None, limit: int = Query(50, ge=1, le=500)
) -> list[TillPaymentOut]:
    territory = territory_of(request)
    chosen = access.cashier_store(request.user, territory, store)
    return [_payment_out(p) for p in selectors.store_payments(chosen, limit=limit).select_related("store")]


@router.post(
    "/payments/{payment_id}/refund", response={201: RefundOut}, summary="Refund a payment, whole or part"
)
def payment_refund(request: HttpRequest, payment_id: int, payload: RefundIn) -> tuple[int, RefundOut]:
    territory = territory_of(request)
    payment = access.store_payment(request.user, territory, payment_id)
    refund = services.refund(
        payment=payment,
        credit_cents=payload.amount_cents,
        idempotency_key=payload.idempotency_key,
        actor=user_of(request),
    )
    payment.refresh_from_db()
    return 201, RefundOut(
        id=refund.pk,
        payment=payment.pk,
        credit_cents=refund.credit_cents,
        payment_refunded_credit_cents=payment.refunded_credit_cents,
        remaining_credit_cents=services.credit_balance(payment.household),
    )


@router.post(
    "/fund/runs", response=RunOut, summary="Run a month: contributions, allocations, carry-over (coordinator)"
)
def run_month(request: HttpRequest, payload: MonthIn) -> RunOut:
    territory = territory_of(request)
    permissions.require(request.user, territory, Action.FUND_MANAGE)
    summary = services.monthly_run(territory=territory, month=payload.month, actor=user_of(request))
    return RunOut(**{k: getattr(summary, k) for k in RunOut.model_fields})


@router.get(
    "/fund/runs/preview",
    response=RunOut,
    summary="What running a month would do now, written nowhere (coordinator)",
)
def run_month_preview(request: HttpRequest, month: Month) -> RunOut:
    territory = territory_of(request)
    permissions.require(request.user, territory, Action.FUND_MANAGE)
    summary = services.run_preview(territory=territory, month=month)
    return RunOut(**{k: getattr(summary, k) for k in RunOut.model_fields})


@router.post(
    "/fund/settlements", response=list[SettlementOut], summary="Settle a month with every store (coordinator)"
)
def settle_month(request: HttpRequest, payload: MonthIn) -> list[SettlementOut]:
    territory = territory_of(request)
    permissions.require(request.user, territory, Action.FUND_MANAGE)
    settlements = services.settle(territory=territory, month=payload.month, actor=user_of(request))
    return [_settlement_out(s) for s in settlements]


@router.get(
    "/fund/settlements",
    response=list[SettlementOut],
    summary="Settlements (coordinator), or a store's own (cashier)",
)
def settlement_list(request: HttpRequest, month: Month | None = None) -> list[SettlementOut]:
    territory = territory_of(request)
    rows = access.settlements_visible(request.user, territory, selectors.settlements_of(territory, month))
    return [_settlement_out(s) for s in rows[:500]]


def _settlement_out(settlement: Settlement) -> SettlementOut:
    return SettlementOut(
        id=settlement.pk,
        store=settlement.store.name,
        month=settlement.month,
        payments_count=settlement.payments_count,
        credit_received_cents=settlement.credit_received_cents,
        credit_refunded_cents=settlement.credit_refunded_cents,
        amount_cents=settlement.amount_cents,
        status=settlement.status,
    )


@router.get(
    "/fund/figures",
    response=FiguresOut,
    summary="The fund's aggregated figures (coordinator, committee, funder)",
)
def figures(request: HttpRequest) -> FiguresOut:
    territory = territory_of(request)
    permissions.require(request.user, territory, Action.FUND_VIEW_FIGURES)
    data = selectors.fund_figures(territory)
    fields = {k: getattr(data, k) for k in FiguresOut.model_fields if k != "spending_by_store"}
    return FiguresOut(
        **fields,
        spending_by_store=[
            StoreSpendingOut(store=name, credit_cents=total) for name, total in data.spending_by_store
        ],
    )


@router.get(
    "/households/{household_id}/statement",
    response=HouseholdStatementOut,
    summary="A household's monthly statement",
)
def statement(
    request: HttpRequest,
    household_id: int,
    month: Month | None = None,  # this month by default
) -> HouseholdStatementOut:
    from django.utils import timezone

    territory = territory_of(request)
    household = permissions.household_for(request.user, territory, household_id)
    data = selectors.household_statement(household, month or timezone.localdate())
    fields = {k: getattr(data, k) for k in HouseholdStatementOut.model_fields if k != "by_store"}
    return HouseholdStatementOut(
        **fields,
        by_store=[
            StatementStoreOut(store=name, payments=count, credit_cents=total)
            for name, count, total in data.by_store
        ],
    )
