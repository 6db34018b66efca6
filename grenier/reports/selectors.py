"""The dashboard's figures: every indicator over a period, beside the period before and the same period a year
before, as a reader may see them (``disclosure``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from grenier.core.models import Territory
from grenier.reports import registry
from grenier.reports.disclosure import Figure, disclose
from grenier.reports.registry import Indicator, Module, Period, Theme


@dataclass(frozen=True)
class Row:
    indicator: Indicator
    now: Figure
    previous: Figure
    year_before: Figure


@dataclass(frozen=True)
class Dashboard:
    period: Period
    previous: Period
    year_before: Period
    themes: list[tuple[Theme, list[Row]]]
    # Each module's first day, looked up once for the figures and the page's chooser of years.
    first_days: dict[Module, date | None]

    @property
    def rows(self) -> list[Row]:
        return [row for _theme, rows in self.themes for row in rows]


def figures(
    territory: Territory, period: Period, *, exact: bool, codes: list[str] | None = None
) -> list[tuple[Indicator, Figure]]:
    """The indicators (or those of ``codes``) over ``period`` as shown to a reader."""
    results = registry.compute(territory, period, codes)
    return [(found, disclose(found, results[found.code], exact=exact)) for found in _chosen(codes)]


def months(territory: Territory, year: int, code: str, *, exact: bool) -> dict[int, Figure]:
    """The indicator ``code`` over each month of ``year`` as shown to a reader (one pass over the year when the
    indicator computes its months at once)."""
    found = registry.REGISTRY[code]
    return {
        month: disclose(found, result, exact=exact)
        for month, result in registry.compute_months(territory, year, code).items()
    }


def _chosen(codes: list[str] | None) -> list[Indicator]:
    return [registry.REGISTRY[code] for code in codes] if codes else registry.indicators()


def dashboard(
    territory: Territory, period: Period, *, exact: bool, codes: list[str] | None = None
) -> Dashboard:
    first_days: dict[Module, date | None] = {}
    previous, year_before = period.previous(), period.year_before()
    computed = {
        key: registry.compute(territory, key, codes, first_days) for key in {period, previous, year_before}
    }
    themes: dict[Theme, list[Row]] = {}
    for found in _chosen(codes):
        row = Row(
            found,
            *(
                disclose(found, computed[key][found.code], exact=exact)
                for key in (period, previous, year_before)
            ),
        )
        themes.setdefault(found.theme, []).append(row)
    return Dashboard(period, previous, year_before, list(themes.items()), first_days)
