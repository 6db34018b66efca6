"""A member's payment recorded at the garden, and a funder's statement for a period."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query

from grenier.baskets import access, selectors, services
from grenier.baskets.api.common import _territory, router
from grenier.baskets.api.schemas import (
    BasketPaymentIn,
    BasketPaymentOut,
    FunderStatementOut,
    StatementMonthOut,
    StatementQuery,
    StatementRowOut,
)
from grenier.core.auth import user_of
from grenier.core.errors import InvalidInput
from grenier.core.permissions import Action


@router.post(
    "/baskets/payments", response={201: BasketPaymentOut}, summary="Record a member's payment (coordinator)"
)
def payment_record(request: HttpRequest, payload: BasketPaymentIn) -> tuple[int, BasketPaymentOut]:
    territory = _territory(request, Action.BASKETS_MANAGE)
    garden = access.garden_for(request.user, territory, payload.garden)
    household = services.household_by_card(territory, payload.household)
    payment = services.member_payment_record(
        garden=garden,
        household=household,
        amount_cents=payload.amount_cents,
        method=payload.method,
        reference=payload.reference,
        code=payload.code,
        idempotency_key=payload.idempotency_key,
        actor=user_of(request),
    )
    return 201, BasketPaymentOut(
        id=payment.pk,
        household=household.pk,
        amount_cents=payment.amount_cents,
        method=payment.method,
        reference=payment.reference,
        balance_cents=selectors.member_balance(garden, household),
    )


@router.get("/baskets/statements", response=FunderStatementOut, summary="A funder's statement for a period")
def statement(request: HttpRequest, query: Query[StatementQuery]) -> FunderStatementOut:
    territory = _territory(request, Action.BASKETS_FIGURES)
    funder = access.funder_for(request.user, territory, query.funder)
    if query.end < query.start:
        raise InvalidInput(_("The period must end after it starts."), errors={"to": [_("Before the start.")]})
    found = selectors.statement(funder, query.start, query.end)
    return FunderStatementOut(
        funder=funder.name,
        start=found.start,
        end=found.end,
        baskets=found.baskets,
        funded_cents=found.funded_cents,
        paid_cents=found.paid_cents,
        left_to_pay_cents=found.left_cents,
        agreements=[
            StatementRowOut(
                agreement=row.agreement.name,
                garden=row.agreement.garden.name,
                baskets=row.baskets,
                funded_cents=row.funded_cents,
                budget_cents=row.agreement.budget_cents,
                used_cents=row.agreement.spent_cents,
                left_cents=row.agreement.left_cents,
                paid_cents=row.paid_cents,
                left_to_pay_cents=row.left_cents,
                by_month=[
                    StatementMonthOut(month=month, baskets=baskets, funded_cents=cents)
                    for month, baskets, cents in row.by_month
                ],
            )
            for row in found.agreements
        ],
    )
