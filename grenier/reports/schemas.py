"""The bodies the indicators' API answers: an indicator's figure over a period, its breakdown, its definition."""

from __future__ import annotations

from typing import Literal

from ninja import Field, Schema

StatusText = Literal["measured", "not_measured", "hidden"]
UnitText = Literal[
    "households", "persons", "count", "cents", "percent", "kg", "g_per_meal", "hours", "km_per_kg", "days"
]
ThemeText = Literal["access", "democracy", "cooperation", "food_system", "activity"]
PERIOD_PATTERN = r"^\d{4}(-\d{2})?$"


class IndicatorPartOut(Schema):
    key: str
    label: str
    unit: UnitText
    value: int | float | None = Field(description="Empty when hidden or not measured; money in cents.")
    status: StatusText


class FigureOut(Schema):
    period: str = Field(description="A year (2026) or a month (2026-03).")
    value: int | float | None = Field(description="Empty when hidden or not measured; money in cents.")
    status: StatusText
    reason: str = Field(description="Why the figure is not measured or hidden; empty otherwise.")
    parts: list[IndicatorPartOut]


class IndicatorOut(Schema):
    code: str
    theme: ThemeText
    name: str
    unit: UnitText
    figure: FigureOut


class IndicatorListOut(Schema):
    territory: str
    period: str
    exact: bool = Field(description="True when small counts are shown exactly (a coordinator).")
    threshold: int = Field(description="Counts of households or persons from 1 to threshold - 1 are hidden.")
    indicators: list[IndicatorOut]


class IndicatorDetailOut(IndicatorOut):
    definition: str
    previous: FigureOut = Field(description="The period before: the year or month before.")
    year_before: FigureOut = Field(description="The same period a year before.")


CombineText = Literal["sum", "ratio", "distinct", "none"]


class GroupingTerritoryOut(Schema):
    slug: str
    name: str


class TerritoryFigureOut(Schema):
    territory: str = Field(description="The territory's slug.")
    figure: FigureOut


class RollupIndicatorOut(Schema):
    code: str
    theme: ThemeText
    name: str
    unit: UnitText
    combination: CombineText = Field(
        description=(
            "How the total is made: sum (added up), ratio (computed again from the summed numerators and "
            "denominators), distinct (households counted once across territories), none (not combined)."
        )
    )
    measured_in: int = Field(description="How many territories the total runs over.")
    total: FigureOut
    territories: list[TerritoryFigureOut]


class RollupOut(Schema):
    grouping: str
    name: str
    period: str
    threshold: int = Field(description="Counts of households or persons from 1 to threshold - 1 are hidden.")
    territories: list[GroupingTerritoryOut]
    indicators: list[RollupIndicatorOut]
