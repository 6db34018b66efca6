"""Every request and response body of the buying groups' API."""

from __future__ import annotations

from datetime import date, datetime

from ninja import Field, Schema

from grenier.core.schemas import Cents, Id, InputSchema, Quantity
from grenier.orders.models import (
    PayoutMethod,
    Unit,
)


class CatalogueProductIn(InputSchema):
    name: str = Field(..., min_length=1, max_length=150)
    unit: str = Field(Unit.PIECE.value, description="piece, kg, jar, bottle, loaf, bag, dozen, bunch")
    price_cents: Cents = Field(..., gt=0, le=1_000_000)
    case_size: int = Field(1, ge=1, le=10_000)
    stock: Quantity | None = Field(None, description="Units the producer can sell; empty: no limit.")
    is_active: bool = True


class CatalogueProductOut(Schema):
    id: int
    producer: int
    producer_name: str
    name: str
    unit: str
    price_cents: int
    case_size: int
    stock: int | None
    is_active: bool


class CycleProductOut(Schema):
    id: int
    producer: int
    producer_name: str
    name: str
    unit: str
    price_cents: int = Field(..., description="Frozen at the opening: the full price producers get.")
    case_size: int
    left: int | None = Field(None, description="Units still available, if the stock is limited.")


class PotOut(Schema):
    now_cents: int
    cycle_delta_cents: int
    after_close_cents: int
    households_cents: int
    full_cents: int


class CycleOut(Schema):
    id: int
    group: int
    group_name: str
    name: str
    state: str
    opens_at: datetime
    closes_at: datetime
    delivery_date: date
    pickup_point: str
    round_to_cases: bool
    pot: PotOut
    products: list[CycleProductOut]


class OrderLineIn(InputSchema):
    product: Id = Field(..., description="A cycle product's id.")
    quantity: int = Field(..., ge=0, le=10_000)


class OrderIn(InputSchema):
    lines: list[OrderLineIn] = Field(..., min_length=1, max_length=500)
    idempotency_key: str = Field(..., min_length=8, max_length=100)


class CancelIn(InputSchema):
    idempotency_key: str = Field(..., min_length=8, max_length=100)


class OrderLineOut(Schema):
    product: int
    name: str
    quantity: int
    final_quantity: int | None
    price_cents: int


class OrderOut(Schema):
    id: int
    cycle: int
    status: str
    tier_percent: int
    full_cents: int
    due_cents: int = Field(
        ..., description="What the household pays at its tier (rounded half up, once per order)."
    )
    pot_flagged: bool
    pot_after_close_cents: int | None = None
    lines: list[OrderLineOut]


class CloseOut(Schema):
    cycle: int
    closed_now: bool
    orders: int
    full_cents: int
    households_cents: int
    pot_delta_cents: int
    pot_after_cents: int
    trimmed_units: int
    added_units: int


class PurchaseLineOut(Schema):
    product: int
    name: str
    unit: str
    quantity: int
    case_size: int
    price_cents: int
    total_cents: int


class PayoutOut(Schema):
    id: int
    cycle: int
    producer: int
    amount_cents: int
    method: str
    reference: str
    created_at: datetime


class PurchaseOrderOut(Schema):
    cycle: int
    producer: int
    producer_name: str
    final: bool
    total_cents: int
    owed_cents: int = Field(..., description="What the closed cycle owes the producer (0 while open).")
    paid_cents: int
    left_cents: int
    payouts: list[PayoutOut]
    lines: list[PurchaseLineOut]


class PayoutIn(InputSchema):
    amount_cents: Cents = Field(..., gt=0)
    method: str = Field(PayoutMethod.TRANSFER.value, description="transfer, cheque, cash")
    reference: str = Field("", max_length=120)
    idempotency_key: str = Field(..., min_length=8, max_length=100)


class OrderPaymentIn(InputSchema):
    method: str = Field(..., description="cash, cheque, transfer, credit (food credit)")
    amount_cents: Cents = Field(..., gt=0)
    idempotency_key: str = Field(..., min_length=8, max_length=100)
    code: str | None = Field(None, max_length=6, description="The member's personal code, for food credit.")


class OrderPaymentOut(Schema):
    id: int
    order: int
    method: str
    amount_cents: int
    created_at: datetime


class ReceiptOut(Schema):
    order: OrderOut
    household: str
    paid_cents: int
    left_cents: int
    collected: bool
    payments: list[OrderPaymentOut]


class CoverIn(InputSchema):
    funder: Id
    amount_cents: Cents = Field(..., gt=0)
    idempotency_key: str = Field(..., min_length=8, max_length=100)


class CoverOut(Schema):
    id: int
    cycle: int
    funder: int
    funder_name: str
    amount_cents: int
    pot_now_cents: int
    pot_after_close_cents: int


class PickupOut(Schema):
    order: int
    household: str
    due_cents: int
    paid_cents: int
    collected: bool


class PickupIn(InputSchema):
    collected: bool


class MemberCardIn(InputSchema):
    card: str = Field(..., min_length=1, max_length=30, description="The household's card number.")
    tier: Id | None = Field(None, description="A tier of the group; empty: the group's default.")


class MembershipOut(Schema):
    id: int
    group: int
    group_name: str
    household: int
    household_name: str
    tier: int
    tier_percent: int
    tier_source: str = Field(..., description="chosen, or referral")
    referral_percent: int | None = Field(
        None, description="While set by a referral: the lowest tier allowed."
    )
    set_by_referral: int | None
    tier_set_by: int | None


class TierOut(Schema):
    id: int
    name: str
    percent: int
    is_default: bool


class GroupTiersOut(Schema):
    id: int
    name: str
    tiers: list[TierOut]
    membership: MembershipOut | None


class ReferredOut(Schema):
    household: int
    name: str
    referral: int
    consent_on: date
    memberships: list[MembershipOut]


class ReferredDetailOut(ReferredOut):
    groups: list[GroupTiersOut]


class ReferredTierIn(InputSchema):
    tier: Id
