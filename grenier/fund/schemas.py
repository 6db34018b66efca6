"""The bodies of the fund API's operations (what goes in and what comes out)."""

from __future__ import annotations

from datetime import date, datetime

from ninja import Field, Schema

from grenier.core.schemas import Cents, Id, InputSchema, Month


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


class FundReferralIn(InputSchema):
    consent: bool = Field(..., description="The household agreed to join the common fund (must be true).")
    card: str = Field(
        "",
        max_length=30,
        description="Card number of a member household not yet in the fund (garden, group).",
    )
    name: str = Field("", max_length=150, description="A new household's name (when there is no card).")
    first_name: str = Field("", max_length=100)
    persons: int = Field(1, ge=1, le=20)
    phone: str = Field("", max_length=30)
    email: str = Field("", max_length=254)
    note: str = Field("", max_length=300, description="For the coordinator; no detail of the situation.")
    idempotency_key: str = Field(..., min_length=8, max_length=100)


class DeclineIn(InputSchema):
    reason: str = Field(..., min_length=1, max_length=300, description="Why; the social worker reads it.")


class FundReferralOut(Schema):
    id: int
    status: str = Field(..., description="pending, confirmed, declined or withdrawn")
    household: str = Field(
        ..., description="Its name (the member household's, or the new one's as referred)."
    )
    household_id: int | None = Field(None, description="Once the household is a member (on confirmation).")
    card_number: str | None = None
    persons: int
    consent_on: date
    note: str
    reason: str = Field(..., description="Why it was declined, if it was.")
    social_worker: str
    created_at: datetime
    decided_at: datetime | None
