"""Every request and response body of the activities API."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from ninja import Field, Schema

from grenier.activities.models import MAX_PRICE_CENTS
from grenier.core.schemas import Day, Id, InputSchema, TimeOfDay


class SessionOut(Schema):
    id: int
    activity: str
    activity_id: int
    kind: str
    date: date
    starts_at: TimeOfDay
    ends_at: TimeOfDay
    where: str
    capacity: int
    places_left: int
    waiting: int = Field(..., description="Registrations on the waiting list.")
    audience: str = Field(..., description="territory, garden, group or school")
    audience_name: str = Field(..., description="The garden or group whose members may come, if one.")
    accessibility: str
    paid_in: str = Field(
        ...,
        description="free, euros (paid at the session) or credit (food credit, taken when a place is confirmed)",
    )
    price_adult_cents: int = Field(..., description="A member's part per adult (0 when free).")
    price_child_cents: int = Field(..., description="A member's part per child (0 when free).")
    payee_store_id: int | None = Field(
        None, description="The approved store its activity's food credit is paid at (decision 0004), if one."
    )
    payee_store: str = Field("", description="That store's name ('' when none).")
    registration_deadline: datetime = Field(..., description="Registering and cancelling close then.")
    cancelled: bool
    closed: bool


class PriceIn(InputSchema):
    """A session's new price; refused (409) once a household has paid it. The same price again changes nothing."""

    paid_in: Literal["free", "euros", "credit"] = Field(
        ...,
        description="free, euros (paid at the session) or credit (food credit, taken when a place is confirmed)",
    )
    price_adult_cents: int = Field(0, ge=0, le=MAX_PRICE_CENTS, description="Per adult (0 when free).")
    price_child_cents: int = Field(0, ge=0, le=MAX_PRICE_CENTS, description="Per child (0 when free).")


class RegistrationIn(InputSchema):
    household_id: Id | None = Field(
        None,
        description="The household registered: one's own, one a social worker follows (any for a coordinator).",
    )
    class_name: str = Field(
        "",
        max_length=120,
        description="A school class instead (its organiser registers it): no child's name.",
    )
    adults: int = Field(..., ge=0, le=50)
    children: int = Field(0, ge=0, le=50)
    idempotency_key: str = Field(..., min_length=8, max_length=100)


class RegistrationOut(Schema):
    id: int
    session_id: int
    household_id: int | None
    household: str = Field(..., description="The household's name, or the class's.")
    adults: int
    children: int
    status: str = Field(..., description="confirmed, waiting or cancelled")
    attended: bool | None = Field(..., description="Ticked by the organiser: present, absent, or not yet.")
    price_cents: int = Field(..., description="The household's part for its persons (0: free, or a class).")
    paid_in: str = Field(..., description="The session's: free, euros or credit.")
    paid_at: datetime | None = Field(
        ...,
        description="When the part was paid: food credit taken from the wallet (at registration, or when the "
        "waiting list gave the place), or euros recorded by the organiser; null until then.",
    )
    refunded: bool = Field(..., description="The part paid was given back on cancelling.")
    created_at: datetime


class SlotOut(Schema):
    id: int
    task: str
    what: str = Field(
        ...,
        description="The session's activity, the pickup point's distribution, the buying group's pickup or the "
        "platform's delivery to a kitchen.",
    )
    session_id: int | None
    sheet_id: int | None
    cycle_id: int | None = Field(
        None, description="The buying group's order cycle whose pickup this slot helps."
    )
    delivery_week_id: int | None = Field(
        None,
        description="The supply week whose delivery to ``delivery_kitchen_id`` on ``date`` this slot helps.",
    )
    delivery_kitchen_id: int | None = Field(None, description="The kitchen the platform delivers to.")
    date: date
    starts_at: TimeOfDay
    ends_at: TimeOfDay
    where: str
    places: int
    places_left: int


class SlotIn(InputSchema):
    """A call for volunteers on one target: a session, a distribution sheet, a buying group's pickup (its order
    cycle) or a platform delivery (a published week, a kitchen and the day the plan delivers it)."""

    session_id: Id | None = Field(None, description="A session of an activity one runs.")
    sheet_id: Id | None = Field(None, description="A distribution sheet of a pickup point one serves.")
    cycle_id: Id | None = Field(None, description="An order cycle of a buying group one coordinates.")
    delivery_week_id: Id | None = Field(
        None, description="A published supply week; with ``delivery_kitchen_id`` and ``date``."
    )
    delivery_kitchen_id: Id | None = Field(None, description="A kitchen one acts for on the supply platform.")
    date: Day | None = Field(None, description="The delivery's day (a platform delivery only).")
    task: str = Field(..., min_length=1, max_length=200)
    starts_at: TimeOfDay
    ends_at: TimeOfDay
    places: int = Field(..., ge=1, le=100, description="Volunteers wanted.")
    idempotency_key: str = Field(..., min_length=8, max_length=100)


class SignUpIn(InputSchema):
    idempotency_key: str = Field(..., min_length=8, max_length=100)


class HoursIn(InputSchema):
    minutes: int = Field(..., ge=0, le=720, description="The time given, in minutes (0: did not come).")


class VolunteeringOut(Schema):
    id: int
    slot_id: int
    household_id: int | None
    status: str = Field(..., description="signed or cancelled")
    minutes: int | None = Field(..., description="Recorded by those who run the slot; null until then.")


# --- figures and reciprocity ----------------------------------------------------------------------------------------


class ActivityFiguresRowOut(Schema):
    key: str = Field(
        ..., description="total, a kind's id, an organiser's key (garden:3, association:…) or YYYY-MM"
    )
    label: str
    sessions: int = Field(..., description="Sessions held: not cancelled, their day come.")
    persons: int = Field(..., description="Ticked present plus walk-ins (a class: its head count).")
    children: int
    households: int = Field(..., description="Distinct households present (by registration or card).")
    new_households: int = Field(..., description="Households that had never come before the period.")
    volunteering_minutes: int


class ActivityFiguresOut(Schema):
    start: date
    end: date
    total: ActivityFiguresRowOut
    by_kind: list[ActivityFiguresRowOut]
    by_organiser: list[ActivityFiguresRowOut]
    by_month: list[ActivityFiguresRowOut]
    not_taken: int = Field(..., description="Sessions held whose attendance was never taken.")
    distributions_minutes: int | None = Field(
        ..., description="Volunteering at the basket distributions (coordinators, without a filter)."
    )


class ReciprocityRewardOut(Schema):
    sequence: int
    paid_at: datetime
    minutes: int
    reward: str = Field(..., description="credit or basket")
    amount_cents: int
    garden: str


class ReciprocityRewardsOut(Schema):
    rule: str = Field(..., description="The rule in force, in words.")
    household_id: int | None = Field(
        ..., description="The household rewarded for one's hours (none: no reward)."
    )
    minutes_counted: int
    minutes_rewarded: int
    minutes_to_next: int | None = Field(
        ..., description="Still to give for the next reward (none: no reward)."
    )
    rewards_due: int = Field(..., description="Earned, paid at the next run.")
    rewards: list[ReciprocityRewardOut]


class ReciprocityPaidOut(Schema):
    households: int
    rewards: int
    credit_cents: int
    basket_cents: int


class PayeeStoreIn(InputSchema):
    """A coordinator's choice of the store receiving an activity's food credit."""

    store_id: Id | None = Field(
        ...,
        description="An approved store of the territory (422 otherwise), or null for none (409 while a session of "
        "the activity, not closed nor cancelled, is priced in food credit).",
    )


class PayeeStoreOut(Schema):
    activity_id: int
    payee_store_id: int | None
    payee_store: str = Field(..., description="The store's name ('' when none).")
