"""API of the common fund: payments and refunds at the till, the monthly run, settlements, figures, statements, and
the referrals of households to the fund."""

from __future__ import annotations

from typing import Literal

from django.http import HttpRequest
from ninja import Query, Router

from grenier.api import territory_of
from grenier.core import permissions
from grenier.core.auth import user_of
from grenier.core.openapi import READ_MAY_REFUSE
from grenier.core.permissions import Action
from grenier.core.schemas import Id, Month
from grenier.core.services import NewHousehold
from grenier.fund import access, referrals, selectors, services
from grenier.fund.models import FundReferral, Payment, Settlement
from grenier.fund.schemas import (
    DeclineIn,
    FiguresOut,
    FundReferralIn,
    FundReferralOut,
    HouseholdStatementOut,
    MonthIn,
    RefundIn,
    RefundOut,
    RunOut,
    SettlementOut,
    StatementStoreOut,
    StoreSpendingOut,
    TillPaymentIn,
    TillPaymentOut,
)

router = Router(tags=["fund"])


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
    openapi_extra=READ_MAY_REFUSE,
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


# --- referrals to the fund ------------------------------------------------------------------------------------------


def _fund_referral_out(referral: FundReferral) -> FundReferralOut:
    household = referral.household
    return FundReferralOut(
        id=referral.pk,
        status=referral.status,
        household=str(household.display_name) if household else referral.name,
        household_id=household.pk if household else None,
        card_number=household.card_number if household else None,
        persons=household.persons.count() if household else referral.persons,
        consent_on=referral.consent_on,
        note=referral.note,
        reason=referral.reason,
        social_worker=str(referral.social_worker),
        created_at=referral.created_at,
        decided_at=referral.decided_at,
    )


@router.get(
    "/fund/referrals",
    response=list[FundReferralOut],
    summary="Referrals to the common fund: a social worker's own, every one for a coordinator",
)
def fund_referral_list(
    request: HttpRequest, status: Literal["pending", "confirmed", "declined", "withdrawn"] | None = None
) -> list[FundReferralOut]:
    territory = territory_of(request)
    access.require_referrals(request.user, territory)
    rows = access.referrals_of(request.user, territory).select_related("household", "social_worker")
    if status:
        rows = rows.filter(status=status)
    return [_fund_referral_out(r) for r in rows[:500]]


@router.get(
    "/fund/referrals/{referral_id}", response=FundReferralOut, summary="One referral to the common fund"
)
def fund_referral_detail(request: HttpRequest, referral_id: int) -> FundReferralOut:
    return _fund_referral_out(access.referral_for(request.user, territory_of(request), referral_id))


@router.post(
    "/fund/referrals",
    response={201: FundReferralOut},
    summary="Refer a household to the common fund (social worker)",
)
def fund_referral_create(request: HttpRequest, payload: FundReferralIn) -> tuple[int, FundReferralOut]:
    territory = territory_of(request)
    permissions.require(request.user, territory, Action.FUND_REFER)
    referral = referrals.referral_create(
        territory=territory,
        social_worker=user_of(request),
        consent=payload.consent,
        idempotency_key=payload.idempotency_key,
        card=payload.card,
        new_household=None
        if payload.card.strip()
        else NewHousehold(
            name=payload.name,
            first_name=payload.first_name,
            persons=payload.persons,
            phone=payload.phone,
            email=payload.email,
        ),
        note=payload.note,
    )
    return 201, _fund_referral_out(referral)


def _managed_referral(request: HttpRequest, referral_id: int) -> FundReferral:
    territory = territory_of(request)
    permissions.require(request.user, territory, Action.FUND_MANAGE)
    return access.referral_for(request.user, territory, referral_id)


@router.post(
    "/fund/referrals/{referral_id}/confirm",
    response=FundReferralOut,
    summary="Take the household into the common fund (coordinator); again changes nothing",
)
def fund_referral_confirm(request: HttpRequest, referral_id: int) -> FundReferralOut:
    referral = _managed_referral(request, referral_id)
    return _fund_referral_out(referrals.referral_confirm(referral=referral, actor=user_of(request)))


@router.post(
    "/fund/referrals/{referral_id}/decline",
    response=FundReferralOut,
    summary="Decline a referral, saying why (coordinator)",
)
def fund_referral_decline(request: HttpRequest, referral_id: int, payload: DeclineIn) -> FundReferralOut:
    referral = _managed_referral(request, referral_id)
    return _fund_referral_out(
        referrals.referral_decline(referral=referral, actor=user_of(request), reason=payload.reason)
    )


@router.post(
    "/fund/referrals/{referral_id}/withdraw",
    response=FundReferralOut,
    summary="Withdraw a referral still waiting (the social worker who made it)",
)
def fund_referral_withdraw(request: HttpRequest, referral_id: int) -> FundReferralOut:
    referral = access.referral_for(request.user, territory_of(request), referral_id)
    return _fund_referral_out(referrals.referral_withdraw(referral=referral, actor=user_of(request)))
