"""Every request and response body of the baskets API."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from ninja import Field, Schema

from grenier.baskets import services
from grenier.baskets.models import BasketSize, Frequency, PaymentMethod
from grenier.core.schemas import (
    FROM_TEXT,
    BasisPoints,
    Cents,
    Day,
    Id,
    InputSchema,
    Items,
    TimeOfDay,
    Weekday,
)


class PickupPointOut(Schema):
    id: int
    name: str
    address: str
    weekday: int = Field(..., description="0 = Monday … 6 = Sunday")
    opens_at: TimeOfDay


class OfferOut(Schema):
    id: int
    garden: str
    garden_id: int
    name: str
    size: str
    price_cents: int
    member_cap_cents: int = Field(
        ..., description="The most a member pays for this basket (the territory's cap)."
    )
    season_start: date
    season_end: date
    weekday: int
    pickup_points: list[PickupPointOut]


class SubscriptionIn(InputSchema):
    household: Id | None = Field(
        None, description="Needed for a coordinator, or a person of several households."
    )
    offer: Id
    pickup_point: Id
    frequency: Annotated[Frequency, FROM_TEXT] = Frequency.WEEKLY
    start_on: Day
    idempotency_key: str = Field(..., min_length=8, max_length=100)


class SubscriptionOut(Schema):
    id: int
    household: int
    offer: int
    offer_name: str
    pickup_point: int
    pickup_point_name: str
    frequency: str
    start_on: date
    paused_from: date | None
    stopped_on: date | None
    member_share_bp: int | None
    next_baskets: list[date]
    absences: list[date]
    balance_cents: int = Field(
        ..., description="Paid minus member parts due at this garden (negative: owed)."
    )


class DayIn(InputSchema):
    on: Day


class SubscriptionActionIn(InputSchema):
    action: str = Field(..., pattern="^(pause|resume|stop)$")


class ReferralIn(InputSchema):
    garden: Id
    consent: bool = Field(..., description="The household agreed to be referred (must be true).")
    card: str = Field(
        "", max_length=30, description="Card number of a household already member of the territory."
    )
    name: str = Field("", max_length=150, description="A new household's name (when there is no card).")
    first_name: str = Field("", max_length=100)
    persons: int = Field(1, ge=1, le=20)
    phone: str = Field("", max_length=30)
    member_share_bp: BasisPoints | None = None
    note: str = Field("", max_length=300)
    idempotency_key: str = Field(..., min_length=8, max_length=100)


class ReferralOut(Schema):
    id: int
    garden: str
    household: str
    household_id: int
    consent_on: date
    member_share_bp: int | None
    status: str = Field(..., description="member, subscribed, paused, stopped or left")
    created_at: datetime


class SheetLineOut(Schema):
    id: int
    household: str
    offer: str
    status: str


class SheetOut(Schema):
    id: int
    pickup_point: str
    garden: str
    on: date
    closed: bool
    lines: list[SheetLineOut]


class CheckIn(InputSchema):
    collected: bool = True


class GenerateIn(InputSchema):
    garden: Id
    day: Day


class GenerateOut(Schema):
    sheets: list[int]
    lines_created: int
    short_cents: int
    warned: list[str]


class BasketPaymentIn(InputSchema):
    garden: Id
    household: str = Field(..., min_length=1, max_length=30, description="The household's card number.")
    amount_cents: Cents = Field(..., gt=0, le=100_000_00)
    method: Annotated[PaymentMethod, FROM_TEXT]
    reference: str = Field("", max_length=100)
    code: str | None = Field(None, max_length=6)
    idempotency_key: str = Field(..., min_length=8, max_length=100)


class BasketPaymentOut(Schema):
    id: int
    household: int
    amount_cents: int
    method: str
    reference: str
    balance_cents: int


class StatementMonthOut(Schema):
    month: date = Field(..., description="The first day of the month.")
    baskets: int
    funded_cents: int


class StatementRowOut(Schema):
    agreement: str
    garden: str
    baskets: int
    funded_cents: int
    budget_cents: int
    used_cents: int
    left_cents: int
    paid_cents: int = Field(..., description="Paid by the funder for the period.")
    left_to_pay_cents: int
    by_month: list[StatementMonthOut]


class FunderStatementOut(Schema):
    funder: str
    start: date
    end: date
    baskets: int
    funded_cents: int = Field(..., description="Due by the funder for the period's baskets.")
    paid_cents: int
    left_to_pay_cents: int
    agreements: list[StatementRowOut]


class ForecastWeekOut(Schema):
    monday: date
    baskets: int
    to_fund_cents: int
    covered_cents: int
    short_cents: int


class ForecastOut(Schema):
    garden: str
    first_short: date | None
    short_cents: int
    weeks: list[ForecastWeekOut]


class SheetsQuery(Schema):
    on: Day | None = Field(None, description="Sheets of this day only (default: from two weeks ago on).")


class StatementQuery(Schema):
    funder: Id
    start: Day = Field(..., alias="from")
    end: Day = Field(..., alias="to")


# --- the coordinator's reference data ------------------------------------------------------------------------------


class GardenIn(InputSchema):
    name: str = Field(..., min_length=1, max_length=200)
    address: str = Field("", max_length=300)
    store: Id | None = Field(None, description="A store of the common fund (for food credit), or none.")


class GardenNewIn(GardenIn):
    idempotency_key: str = Field(..., min_length=8, max_length=100)


class GardenOut(Schema):
    id: int
    name: str
    address: str
    store: int | None
    store_approved: bool


class OfferIn(InputSchema):
    name: str = Field(..., min_length=1, max_length=120)
    size: Annotated[BasketSize, FROM_TEXT] = BasketSize.SMALL
    price_cents: Cents = Field(..., description="Baskets already booked keep the price they were booked at.")
    season_start: Day
    season_end: Day
    weekday: Weekday


class OfferNewIn(OfferIn):
    idempotency_key: str = Field(..., min_length=8, max_length=100)


class OfferEditIn(OfferIn):
    active: bool = True


class OfferDetailOut(Schema):
    id: int
    garden_id: int
    name: str
    size: str
    price_cents: int
    season_start: date
    season_end: date
    weekday: int
    active: bool


class PointIn(InputSchema):
    name: str = Field(..., min_length=1, max_length=200)
    address: str = Field("", max_length=300)
    weekday: Weekday
    opens_at: TimeOfDay
    volunteers: Items[Id] = Field([], description="Users with the cashier role in the territory.")


class PointNewIn(PointIn):
    idempotency_key: str = Field(..., min_length=8, max_length=100)


class PointEditIn(PointIn):
    active: bool = True


class PointDetailOut(PickupPointOut):
    garden_id: int
    active: bool
    volunteers: list[int]


class AgreementIn(InputSchema):
    funder: Id
    name: str = Field(..., min_length=1, max_length=200)
    share_bp: BasisPoints | None = Field(
        None, description="A share of each basket's price, in basis points …"
    )
    amount_per_basket_cents: Cents | None = Field(
        None, description="… or a fixed amount per basket, not both."
    )
    budget_cents: Cents
    starts_on: Day
    ends_on: Day
    priority: int = Field(1, ge=1, le=services.PRIORITY_MAX, description="1 pays first.")


class AgreementNewIn(AgreementIn):
    idempotency_key: str = Field(..., min_length=8, max_length=100)


class AgreementOut(Schema):
    id: int
    garden_id: int
    funder: int
    name: str
    share_bp: int | None
    amount_per_basket_cents: int | None
    budget_cents: int
    used_cents: int
    left_cents: int
    starts_on: date
    ends_on: date
    priority: int


class SettingsIn(InputSchema):
    member_cap_bp: BasisPoints = Field(
        ..., description="The most a member pays, in basis points of the price (3000 = 30 %)."
    )
    warn_weeks: int = Field(4, ge=0, le=services.WARN_WEEKS_MAX)


class SettingsOut(Schema):
    member_cap_bp: int
    warn_weeks: int


class FunderPaymentIn(InputSchema):
    funder: Id
    start: Day = Field(..., alias="from")
    end: Day = Field(..., alias="to")
    amount_cents: Cents = Field(..., description="Never more than what is left to pay for the period.")
    received_on: Day | None = None
    reference: str = Field("", max_length=100)
    agreement: Id | None = Field(
        None, description="One agreement only; by default split among them by priority."
    )
    idempotency_key: str = Field(..., min_length=8, max_length=100)


class FunderPaymentPartOut(Schema):
    agreement: int
    amount_cents: int


class FunderPaymentOut(Schema):
    id: int
    funder: int
    start: date
    end: date
    received_on: date
    amount_cents: int
    reference: str
    parts: list[FunderPaymentPartOut]
    left_cents: int = Field(..., description="Left to pay for the period after this payment.")
