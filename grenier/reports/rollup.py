"""Roll-ups across territories: each indicator of a grouping's territories (``core.Grouping``: a network, a
département), per territory and across them, as its coordinators read it (small counts always hidden).

How a figure is combined depends on its nature (``Combine``), said beside it on the page and in the API:

* a count, a sum of money, of kilograms or of hours is **added up** over the territories where it is measured;
* a share or a rate (percent, grams per meal) is **computed again** from the sums of the numerators and of the
  denominators its territories computed it from (``Result.ratio``), never by averaging the territories' shares;
* the households reached, and the households reached by resources band, are **counted once** across
  territories (a household known in two territories is counted in the lowest band among the two). A household belongs to one territory
  (``Household.territory``): the same family known in two territories is two households with two cards. They are
  one household for the roll-up when a person of each is the same account (``HouseholdPerson.user``: one login, by
  e-mail, whatever the territory), directly or through other households linked the same way. The stable key is that
  account: no name, card or birth date is compared (this app reads none). Households with no account linked are
  counted in their own territory only.
* an indicator that gives no numerator and denominator for a share is **not combined** (shown per territory).

A territory where the indicator is not measured is left out of the total, which says over how many it runs.

Small counts are hidden in every figure (``disclosure.disclose`` with ``exact=False``): a grouping's coordinators
do not see the territories' households. When exactly one territory's figure is hidden in a row, the smallest other
territory's figure (not zero) is hidden too, or the total when there is none, so that the hidden one cannot be
found by subtracting the others from the total.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum

from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from grenier.core.models import Grouping, HouseholdPerson, Territory
from grenier.reports import registry
from grenier.reports.disclosure import Figure, Shown, Status, disclose, hidden_reason
from grenier.reports.indicators.access import basket_lines, fund_households, group_members, household_bands
from grenier.reports.registry import (
    Indicator,
    Module,
    Number,
    Part,
    Period,
    Result,
    Scope,
    Theme,
    Unit,
    one_decimal,
    percent,
)

DISTINCT_HOUSEHOLDS = "households_reached"
"""The indicator counted once across territories (the others count rows, money or persons of one territory)."""
DISTINCT_BANDS = "households_by_resources"
"""The households reached by resources band: counted once too, in the lowest band among the territories' (below)."""

_SUMMED_UNITS = frozenset(
    {Unit.HOUSEHOLDS, Unit.PERSONS, Unit.COUNT, Unit.CENTS, Unit.KG, Unit.HOURS, Unit.DAYS}
)


class Combine(StrEnum):
    SUM = "sum"
    RATIO = "ratio"
    DISTINCT = "distinct"
    NONE = "none"

    @property
    def label(self) -> str:
        return str(COMBINE_LABELS[self])


COMBINE_LABELS: dict[Combine, Promise] = {
    Combine.SUM: gettext_lazy("added up over the territories"),
    Combine.RATIO: gettext_lazy(
        "computed again from the territories' summed numerators and denominators (not an average of shares)"
    ),
    Combine.DISTINCT: gettext_lazy("each household counted once, even when known in two territories"),
    Combine.NONE: gettext_lazy("not combined: read it per territory"),
}


def combination(indicator: Indicator) -> Combine:
    """How ``indicator`` is combined across territories (before looking at the results)."""
    if indicator.code in {DISTINCT_HOUSEHOLDS, DISTINCT_BANDS}:
        return Combine.DISTINCT
    if indicator.unit in _SUMMED_UNITS:
        return Combine.SUM
    return Combine.RATIO


PERSONS_ADDED = gettext_lazy(
    "added up over the territories, not counted once: these are seats on each territory's committee and "
    "attendances at its sessions (a class by its headcount, people who walked in without a name), so a person "
    "on two committees or at sessions of two territories counts in each"
)


# -- combining results -------------------------------------------------------------------------------------------


def _sum(values: Iterable[Number | None]) -> Number | None:
    present = [value for value in values if value is not None]
    if not present:
        return None
    total: Number = 0
    for value in present:
        total = total + value
    return total


def _summed_parts(indicator: Indicator, results: list[Result]) -> tuple[Part, ...]:
    """The breakdown's lines added up by key, in the order they first appear; lines that are shares are left out."""
    labels: dict[str, Part] = {}
    values: dict[str, list[Number | None]] = {}
    supports: dict[str, list[int | None]] = {}
    for result in results:
        for part in result.parts:
            if (part.unit or indicator.unit) not in _SUMMED_UNITS:
                continue
            labels.setdefault(part.key, part)
            values.setdefault(part.key, []).append(part.value)
            supports.setdefault(part.key, []).append(part.support)
    return tuple(
        Part(key, first.label, _sum(values[key]), _support_sum(supports[key]), first.unit)
        for key, first in labels.items()
    )


def _support_sum(supports: list[int | None]) -> int | None:
    found = [support for support in supports if support is not None]
    return sum(found) if found else None


def combine(
    indicator: Indicator, results: list[Result], distinct: Result | None = None
) -> tuple[Combine, Result]:
    """The territories' ``results`` of ``indicator`` as one figure, and how it was combined. ``distinct`` is the
    households counted once (``distinct_households``), for the indicator so counted."""
    how = combination(indicator)
    measured = [result for result in results if result.measured]
    if not measured:
        return how, Result.not_measured(_("Not measured in any territory of the grouping for this period."))
    if how == Combine.DISTINCT and distinct is not None:
        return how, distinct
    if how == Combine.RATIO:
        ratios = [result.ratio for result in measured]
        if any(ratio is None for ratio in ratios):
            return Combine.NONE, Result.not_measured(str(COMBINE_LABELS[Combine.NONE]).capitalize() + ".")
        numerator = _sum(ratio[0] for ratio in ratios if ratio) or 0
        denominator = _sum(ratio[1] for ratio in ratios if ratio) or 0
        value = (
            percent(numerator, denominator)
            if indicator.unit == Unit.PERCENT
            else one_decimal(numerator, denominator)
        )
        if value is None:
            return how, Result.not_measured(_("Not measured: nothing to divide by in this period."))
        return how, Result(
            value,
            support=_support_sum([result.support for result in measured]),
            parts=_summed_parts(indicator, measured),
            ratio=(numerator, denominator),
        )
    return Combine.SUM, Result(
        _sum(result.value for result in measured),
        support=_support_sum([result.support for result in measured]),
        parts=_summed_parts(indicator, measured),
    )


# -- households counted once -----------------------------------------------------------------------------------


def _reached_ids(territory: Territory, period: Period) -> dict[int, set[str]]:
    """The households of ``territory`` that ``households_reached`` counts over ``period``, with the schemes that
    reached each (the same three readings, through the indicator module's own querysets)."""
    scope = Scope(territory, period.start, period.end)
    readings = {
        "fund": (Module.FUND, fund_households),
        "baskets": (Module.BASKETS, basket_lines),
        "groups": (Module.ORDERS, group_members),
    }
    reached: dict[int, set[str]] = {}
    for key, (module, rows) in readings.items():
        if scope.unmeasured(module) is not None:
            continue
        ids = rows(scope).filter(household__territory=territory).values_list("household_id", flat=True)
        for household_id in ids.distinct().order_by():
            reached.setdefault(household_id, set()).add(key)
    return reached


def _find(parent: dict[int, int], node: int) -> int:
    while parent[node] != node:
        parent[node] = parent[parent[node]]
        node = parent[node]
    return node


def _linked(territories: list[Territory], period: Period) -> tuple[dict[int, set[str]], dict[int, int]]:
    """The households reached in any of ``territories`` over ``period`` with their schemes, and each one's
    representative: households linked by a shared account (directly or through others) share one."""
    reached: dict[int, set[str]] = {}
    for territory in territories:
        reached.update(_reached_ids(territory, period))
    parent = {household_id: household_id for household_id in reached}
    first_of_account: dict[int, int] = {}
    persons = HouseholdPerson.objects.filter(household__territory__in=territories, user__isnull=False)
    for household_id, user_id in persons.values_list("household_id", "user_id").order_by():
        if household_id not in parent:
            continue
        other = first_of_account.setdefault(user_id, household_id)
        parent[_find(parent, household_id)] = _find(parent, other)
    return reached, {household_id: _find(parent, household_id) for household_id in reached}


Linked = tuple[dict[int, set[str]], dict[int, int]]


def distinct_households(territories: list[Territory], period: Period, linked: Linked | None = None) -> Result:
    """The households reached in any of ``territories`` over ``period``, households linked by a shared account
    counted once; the breakdown by scheme counted the same way. ``linked``: ``_linked`` of the same, read already."""
    reached, root = linked or _linked(territories, period)
    schemes: dict[int, set[str]] = {}
    for household_id, found in reached.items():
        schemes.setdefault(root[household_id], set()).update(found)
    return Result(len(schemes), parts=_scheme_parts(schemes))


def distinct_bands(
    territories: list[Territory], period: Period, summed: Result, linked: Linked | None = None
) -> Result:
    """The households reached by resources band over ``territories`` (``summed``: the territories' figures added
    up), a household known in several of them (linked by an account, as ``distinct_households`` links them)
    counted once: in the lowest band it falls in among those territories (its resources per consumption unit by
    each territory's own declaration and scale: the roll-up counts it where it is the most in need), in "resources
    not declared" only when it declared resources in none."""
    reached, root = linked or _linked(territories, period)
    families: dict[int, list[int]] = {}
    for household_id in reached:
        families.setdefault(root[household_id], []).append(household_id)
    shared = [household_id for group in families.values() if len(group) > 1 for household_id in group]
    if not shared:
        return summed
    bands: dict[int, int] = {}
    for territory in territories:
        bands.update(household_bands(Scope(territory, period.start, period.end), shared))
    extra: dict[str, int] = {}  # the copies taken out of each band
    for group in families.values():
        found = sorted((bands[h] for h in group if h in bands), key=lambda band: (band == 0, band))
        for band in found[1:]:  # the first kept: the lowest declared band, else not declared
            key = f"band_{band}" if band else "undeclared"
            extra[key] = extra.get(key, 0) + 1
    parts = tuple(
        Part(p.key, p.label, None if p.value is None else p.value - extra.get(p.key, 0), None, p.unit)
        for p in summed.parts
    )
    value = None if summed.value is None else summed.value - sum(extra.values())
    return Result(value, parts=parts)


def _scheme_parts(schemes: dict[int, set[str]]) -> tuple[Part, ...]:
    labels = {
        "fund": _("in the common fund"),
        "baskets": _("collected a solidarity basket"),
        "groups": _("in a buying group"),
    }
    return tuple(
        Part(key, label, sum(1 for found in schemes.values() if key in found))
        for key, label in labels.items()
    )


# -- what a coordinator reads --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RollupRow:
    indicator: Indicator
    combine: Combine
    total: Figure
    territories: tuple[Figure, ...]  # in the order of ``Rollup.territories``
    measured_in: int  # how many territories the total runs over

    @property
    def how(self) -> str:
        """How the row is combined, as the page says it."""
        if self.combine == Combine.SUM and self.indicator.unit == Unit.PERSONS:
            return str(PERSONS_ADDED)
        return self.combine.label


@dataclass(frozen=True)
class Rollup:
    grouping: Grouping
    period: Period
    territories: tuple[Territory, ...]
    themes: list[tuple[Theme, list[RollupRow]]]

    @property
    def rows(self) -> list[RollupRow]:
        return [row for _theme, rows in self.themes for row in rows]


def _hide(figure: Figure) -> Figure:
    parts = tuple(Shown(p.key, p.label, None, Status.HIDDEN, p.unit) for p in figure.parts)
    return Figure(None, Status.HIDDEN, hidden_reason(), parts)


def _protect(total: Figure, figures: list[Figure]) -> tuple[Figure, list[Figure]]:
    """One hidden territory cannot be found again from the total and the others: hide the smallest other figure
    not zero, else the total."""
    hidden = [i for i, figure in enumerate(figures) if figure.status == Status.HIDDEN]
    if len(hidden) != 1 or total.status != Status.MEASURED:
        return total, figures
    others = [
        (Decimal(figure.value), i)
        for i, figure in enumerate(figures)
        if figure.status == Status.MEASURED and figure.value
    ]
    if others:
        smallest = min(others)[1]
        figures = [_hide(figure) if i == smallest else figure for i, figure in enumerate(figures)]
        return total, figures
    return _hide(total), figures


def rollup(grouping: Grouping, period: Period, codes: list[str] | None = None) -> Rollup:
    """Every indicator (or those of ``codes``) of ``grouping``'s territories over ``period``, per territory and
    combined, small counts hidden."""
    territories = tuple(grouping.territories.order_by("name", "slug"))
    first_days: dict[Territory, dict[Module, date | None]] = {t: {} for t in territories}
    computed = {t: registry.compute(t, period, codes, first_days[t]) for t in territories}
    chosen = [registry.REGISTRY[code] for code in codes] if codes else registry.indicators()
    themes: dict[Theme, list[RollupRow]] = {}
    linked: dict[tuple[int, ...], Linked] = {}
    for found in chosen:
        results = [computed[t][found.code] for t in territories]
        distinct = None
        measured = [t for t, r in zip(territories, results, strict=True) if r.measured]
        if found.code in {DISTINCT_HOUSEHOLDS, DISTINCT_BANDS} and measured:
            key = tuple(t.pk for t in measured)
            if key not in linked:  # read once for both indicators counted once
                linked[key] = _linked(measured, period)
            if found.code == DISTINCT_HOUSEHOLDS:
                distinct = distinct_households(measured, period, linked[key])
            else:
                distinct = distinct_bands(measured, period, combine(found, results)[1], linked[key])
        how, combined = combine(found, results, distinct)
        total, figures = _protect(
            disclose(found, combined, exact=False),
            [disclose(found, result, exact=False) for result in results],
        )
        themes.setdefault(found.theme, []).append(
            RollupRow(
                found,
                how,
                total,
                tuple(figures),
                sum(1 for result in results if result.measured),
            )
        )
    return Rollup(grouping, period, territories, list(themes.items()))
