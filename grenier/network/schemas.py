"""The bodies of the map API's operations (what goes in and what comes out)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from ninja import Field, Schema

from grenier.core.schemas import Day, Id, InputSchema, Items

ActorKindText = Literal[
    "association",
    "food_aid",
    "social_centre",
    "ccas",
    "town_hall",
    "school",
    "ehpad",
    "farm",
    "store",
    "kitchen",
    "garden",
    "buying_group",
    "funder",
    "research",
    "third_party",
    "collective",
    "common",
    "other",
]
ScaleText = Literal["self_organised", "public", "private", "non_profit", "social_economy", "informal"]
SortText = Literal["proximity", "theme", "scale", "people"]
ThemeText = Literal["food_system", "social_action"]
PeopleText = Literal["residents", "welcomed", "farmers", "volunteers", "professionals"]
LevelNumber = Annotated[
    int, Field(ge=1, le=5, description="1 a wish to cooperate … 5 collective organisation")
]


class ActorIn(InputSchema):
    name: str = Field(..., min_length=1, max_length=200)
    kind: ActorKindText
    scale: ScaleText = "non_profit"
    description: str = Field("", max_length=2000)
    address: str = Field("", max_length=300)
    latitude: float | None = Field(None, ge=-90, le=90)
    longitude: float | None = Field(None, ge=-180, le=180)
    contact_name: str = Field("", max_length=150, description="A person's: read back by coordinators only.")
    contact_phone: str = Field("", max_length=30)
    contact_email: str = Field("", max_length=254)
    idempotency_key: str = Field(..., min_length=8, max_length=100)


class ContactOut(Schema):
    name: str
    phone: str
    email: str


class ActorOut(Schema):
    id: int
    name: str
    kind: str
    scale: str
    description: str
    address: str
    latitude: float | None
    longitude: float | None
    linked_to: str = Field(..., description="The Grenier row it is (``store:3``, ``producer:5``…), or empty.")
    joined_on: date
    left_on: date | None
    contact: ContactOut | None = Field(None, description="Only for coordinators.")


class LevelChangeOut(Schema):
    level_from: int | None
    level_to: int
    on: date
    reason: str
    recorded_by: str | None
    recorded_at: datetime


class CooperationIn(InputSchema):
    title: str = Field(..., min_length=1, max_length=200)
    sort: SortText
    level: LevelNumber
    actors: Items[Id] = Field(..., min_length=2, description="Two actors or more of the territory.")
    starts_on: Day
    description: str = Field("", max_length=4000)
    themes: Items[ThemeText] = Field(default_factory=list)
    scale: ScaleText | Literal[""] = ""
    people: Items[PeopleText] = Field(default_factory=list)
    documents: str = Field("", max_length=2000)
    reason: str = Field("", max_length=300, description="Why at this level (kept in its history).")
    idempotency_key: str = Field(..., min_length=8, max_length=100)


class CooperationOut(Schema):
    id: int
    title: str
    sort: str
    level: int
    status: str = Field(..., description="proposed (by Grenier, to confirm), confirmed or dismissed")
    description: str
    themes: list[str]
    scale: str
    people: list[str]
    starts_on: date
    ends_on: date | None
    actors: list[int]
    documents: str
    source: str | None = Field(None, description="The Grenier row a proposed cooperation comes from.")
    history: list[LevelChangeOut]


class LevelIn(InputSchema):
    level: LevelNumber
    reason: str = Field(..., min_length=1, max_length=300)
    on: Day | None = Field(None, description="The day it changed; today if not given.")
    idempotency_key: str = Field(..., min_length=8, max_length=100)


class EndIn(InputSchema):
    on: Day | None = Field(None, description="The day it ended; today if not given.")
    reason: str = Field("", max_length=300)


class ResourceOut(Schema):
    id: int
    actor: int
    kind: str
    name: str
    description: str
    shareable: bool
    terms: str


class BookingIn(InputSchema):
    resource: Id
    requester: Id = Field(..., description="The actor asking (one the caller acts for).")
    starts_on: Day
    ends_on: Day
    note: str = Field("", max_length=300)
    idempotency_key: str = Field(..., min_length=8, max_length=100)


class RefuseIn(InputSchema):
    reason: str = Field(..., min_length=1, max_length=300)


class BookingOut(Schema):
    id: int
    resource: int
    requester: int
    starts_on: date
    ends_on: date
    status: str
    note: str
    reason: str
