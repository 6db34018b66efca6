"""The bodies of the biowaste API's operations (what goes in and what comes out).

Weights are integer grams in and out. Grams per meal come out as text with one decimal (``"105.8"``), rounded
once, halves up; ``total_g`` and ``meals`` beside them give the exact figure.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from ninja import Field, Schema

from grenier.core.schemas import FROM_TEXT, Day, Id, InputSchema, Items, Quantity
from grenier.waste.models import Destination, MealService, Phase

Key = Annotated[str, Field(min_length=8, max_length=100)]
PerMeal = Annotated[str | None, Field(description="Grams per meal, one decimal, rounded once (halves up).")]


class CampaignIn(InputSchema):
    kitchen: Id = Field(..., description="A kitchen the caller manages.")
    name: str = Field(..., min_length=1, max_length=150)
    phase: Annotated[Phase, FROM_TEXT] = Phase.BEFORE
    action: str = Field("", max_length=300, description="What changes between the campaigns.")
    starts_on: Day
    ends_on: Day
    services: Items[Annotated[MealService, FROM_TEXT]] = Field(..., min_length=1)
    weighed_by: str = Field("", max_length=200)
    compares_with: Id | None = Field(None, description="An earlier campaign of the same kitchen.")
    idempotency_key: Key


class WeighingCorrectionIn(InputSchema):
    meals: Quantity = Field(..., description="Meals served at the service (above zero).")
    preparation_g: Quantity = 0
    unserved_g: Quantity = 0
    plate_g: Quantity = 0
    bread_g: Quantity = 0
    note: str = Field("", max_length=300)
    confirm: bool = Field(
        False, description="The caller checked an unusual value (422 `unusual-value`) and confirms it."
    )


class WeighingIn(WeighingCorrectionIn):
    day: Day
    service: Annotated[MealService, FROM_TEXT]
    idempotency_key: Key


class WeighingOut(Schema):
    id: int
    day: date
    service: str
    meals: int
    preparation_g: int
    unserved_g: int
    plate_g: int
    bread_g: int
    total_g: int
    grams_per_meal: PerMeal
    confirmed_unusual: bool
    note: str
    recorded_at: datetime


class KindOut(Schema):
    kind: str
    grams: int
    grams_per_meal: PerMeal


class ServiceOut(Schema):
    service: str
    meals: int
    total_g: int
    grams_per_meal: PerMeal


class CampaignOut(Schema):
    id: int
    kitchen_id: int
    kitchen: str
    name: str
    phase: str
    action: str
    starts_on: date
    ends_on: date
    services: list[str]
    weighed_by: str
    compares_with: int | None
    weighings: int
    meals: int
    total_g: int
    grams_per_meal: PerMeal


class ComparisonOut(Schema):
    before_id: int
    before_grams_per_meal: PerMeal
    after_grams_per_meal: PerMeal
    change_grams_per_meal: PerMeal = Field(..., description="After minus before; negative: less waste.")
    change_percent: str | None
    change_kg_a_year: str | None = Field(..., description="At the kitchen's meals a day, one decimal.")
    meals_per_day: int
    days_a_year: int


class ReferenceOut(Schema):
    label: str
    low_g: int
    high_g: int
    source: str


class CampaignDetailOut(CampaignOut):
    by_kind: list[KindOut]
    by_service: list[ServiceOut]
    comparison: ComparisonOut | None
    weighings_list: list[WeighingOut]
    references: list[ReferenceOut]


class DeliveryIn(InputSchema):
    kitchen: Id
    day: Day
    weight_g: Quantity = Field(..., description="Grams sent (above zero).")
    kind: Annotated[Destination, FROM_TEXT]
    producer: Id | None = Field(None, description="The farm of the platform, when sent to a farm.")
    destination: str = Field("", max_length=200, description="Where, when not a farm of the platform.")
    note: str = Field("", max_length=300)
    idempotency_key: Key


class DeliveryOut(Schema):
    id: int
    kitchen_id: int
    kitchen: str
    day: date
    weight_g: int
    kind: str
    producer_id: int | None
    destination: str
