"""A campaign's figures, exact: sums of integer grams and meals, grams per meal as fractions, rounded once when
shown (to a tenth of a gram, halves up). Reads only; one aggregate query per figure."""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

from django.db.models import Count, QuerySet, Sum
from django.utils.formats import get_format, number_format

from grenier.supply.models import Kitchen, KitchenKind
from grenier.waste.models import Campaign, MealService, WasteKind, Weighing

KINDS = tuple(WasteKind.values)

# The days a year a kitchen serves its meals a day, to turn grams per meal into kilograms a year: a school 36 weeks
# of four days, a nursing home or a hospital every day, a company its working days.
DAYS_A_YEAR = {
    KitchenKind.SCHOOL: 144,
    KitchenKind.NURSING_HOME: 365,
    KitchenKind.HOSPITAL: 365,
    KitchenKind.COMPANY: 230,
    KitchenKind.OTHER: 250,
}


@dataclass(frozen=True)
class Totals:
    """Grams thrown away by kind over some weighings, and the meals served at them."""

    meals: int = 0
    grams: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    weighings: int = 0

    @property
    def total_g(self) -> int:
        return sum(self.grams.values())

    def per_meal(self, kind: str | None = None) -> Fraction | None:
        """Grams per meal served, exactly (``None`` with no meal weighed)."""
        if not self.meals:
            return None
        return Fraction(self.total_g if kind is None else self.grams[kind], self.meals)

    def kinds(self) -> list[tuple[str, str, int, Fraction | None]]:
        """(kind, its label, grams, grams per meal), in the order waste is thrown away."""
        return [(kind, str(WasteKind(kind).label), self.grams[kind], self.per_meal(kind)) for kind in KINDS]


def totals(weighings: QuerySet[Weighing]) -> Totals:
    sums = weighings.aggregate(
        meals=Sum("meals"), weighings=Count("id"), **{kind: Sum(f"{kind}_g") for kind in KINDS}
    )
    return Totals(
        meals=sums["meals"] or 0,
        grams={kind: sums[kind] or 0 for kind in KINDS},
        weighings=sums["weighings"] or 0,
    )


def totals_by_campaign(campaigns: QuerySet[Campaign]) -> dict[int, Totals]:
    """Each campaign's totals, in one grouped query (a campaign with no weighing is absent)."""
    rows = (
        Weighing.objects.filter(campaign__in=campaigns)
        .values("campaign")
        .annotate(meals_sum=Sum("meals"), count=Count("id"), **{kind: Sum(f"{kind}_g") for kind in KINDS})
        .order_by()
    )
    return {row["campaign"]: _totals_of(row) for row in rows}


def _totals_of(row: dict[str, int]) -> Totals:
    return Totals(
        meals=row["meals_sum"], grams={kind: row[kind] or 0 for kind in KINDS}, weighings=row["count"]
    )


def by_service(campaign: Campaign) -> list[tuple[str, str, Totals]]:
    """The campaign's totals for each of its services: (service, its label, totals)."""
    rows = {
        row["service"]: _totals_of(row)
        for row in campaign.weighings.values("service")
        .annotate(meals_sum=Sum("meals"), count=Count("id"), **{kind: Sum(f"{kind}_g") for kind in KINDS})
        .order_by()
    }
    return [
        (service, str(MealService(service).label), rows.get(service, Totals()))
        for service in campaign.services
    ]


def days_a_year(kitchen: Kitchen) -> int:
    return DAYS_A_YEAR.get(KitchenKind(kitchen.kind), DAYS_A_YEAR[KitchenKind.OTHER])


def yearly_grams(per_meal: Fraction, kitchen: Kitchen) -> Fraction:
    """Grams a year at ``per_meal`` grams a meal, at the kitchen's meals a day and days a year."""
    return per_meal * kitchen.meals_per_day * days_a_year(kitchen)


@dataclass(frozen=True)
class Comparison:
    """An "after" campaign beside its "before": the change in grams per meal (negative: less waste) and what it
    makes in a year at the kitchen's meals a day."""

    before: Totals
    after: Totals
    kitchen: Kitchen

    @property
    def complete(self) -> bool:
        return bool(self.before.meals and self.after.meals)

    def change_per_meal(self, kind: str | None = None) -> Fraction | None:
        before, after = self.before.per_meal(kind), self.after.per_meal(kind)
        if before is None or after is None:
            return None
        return after - before

    def change_share(self) -> Fraction | None:
        """The change as a share of the "before" figure (-0.25: a quarter less)."""
        before, change = self.before.per_meal(), self.change_per_meal()
        if not before or change is None:
            return None
        return change / before

    def change_a_year_g(self) -> Fraction | None:
        change = self.change_per_meal()
        return None if change is None else yearly_grams(change, self.kitchen)

    @property
    def days_a_year(self) -> int:
        return days_a_year(self.kitchen)

    def kinds(self) -> list[tuple[str, str, Fraction | None, Fraction | None]]:
        """(kind, its label, grams per meal before, after), in the order waste is thrown away."""
        return [
            (kind, str(WasteKind(kind).label), self.before.per_meal(kind), self.after.per_meal(kind))
            for kind in KINDS
        ]

    def largest(self) -> Fraction:
        """The largest figure by kind, before or after: a chart's full bar."""
        return max(
            (value or Fraction(0) for _k, _l, *pair in self.kinds() for value in pair), default=Fraction(0)
        )


def comparison(campaign: Campaign) -> Comparison | None:
    if campaign.compares_with is None:
        return None
    return Comparison(
        before=totals(campaign.compares_with.weighings.all()),
        after=totals(campaign.weighings.all()),
        kitchen=campaign.kitchen,
    )


# --- shown once, rounded once ---------------------------------------------------------------------------------------


def round_half_up(value: Fraction, places: int = 0) -> tuple[int, int]:
    """``value`` rounded to ``places`` decimals, halves away from zero: (the integer of its digits, places)."""
    scaled = value * 10**places
    sign = -1 if scaled < 0 else 1
    magnitude = abs(scaled)
    return sign * int((magnitude * 2 + 1) // 2), places


def decimal_text(value: Fraction, places: int) -> str:
    digits, places = round_half_up(value, places)
    sign = "\u2212" if digits < 0 else ""  # the minus sign, as typeset
    whole, part = divmod(abs(digits), 10**places)
    text = number_format(whole, force_grouping=True)
    if places:
        text += f"{get_format('DECIMAL_SEPARATOR')}{part:0{places}d}"
    return sign + text


def grams_per_meal_text(value: Fraction | None) -> str:
    """``118,4 g`` (a tenth of a gram), or a dash with no meal weighed."""
    return "—" if value is None else f"{decimal_text(value, 1)}\u00a0g"


def kilograms_text(grams: Fraction | int | None, places: int = 1) -> str:
    """``12,5 kg`` from grams."""
    return "—" if grams is None else f"{decimal_text(Fraction(grams) / 1000, places)}\u00a0kg"


def percent_text(share: Fraction | None) -> str:
    return "—" if share is None else f"{decimal_text(share * 100, 0)}\u00a0%"
