"""API of the indicators: every indicator of the caller's territory over a year or a month, and one indicator with
its definition beside the period before and the same period a year before. Coordinators, committee members and
funders read them; small counts are exact for coordinators only (``reports.access``, ``reports.disclosure``)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Query, Router

from grenier.api import territory_of
from grenier.core import permissions
from grenier.core.errors import NotFound
from grenier.core.permissions import Action
from grenier.reports import access, registry, rollup, selectors
from grenier.reports.disclosure import THRESHOLD, Figure
from grenier.reports.registry import Indicator, Number, Period
from grenier.reports.schemas import (
    PERIOD_PATTERN,
    FigureOut,
    GroupingTerritoryOut,
    IndicatorDetailOut,
    IndicatorListOut,
    IndicatorOut,
    IndicatorPartOut,
    RollupIndicatorOut,
    RollupOut,
    TerritoryFigureOut,
)

router = Router(tags=["reports"])

PERIOD_QUERY = Query(
    None,
    pattern=PERIOD_PATTERN,
    description="A year (2026) or a month (2026-03), between 2000 and 2100; this year when left out.",
)


def _number(value: Number | None) -> int | float | None:
    return float(value) if isinstance(value, Decimal) else value


def _figure_out(period: Period, figure: Figure) -> FigureOut:
    return FigureOut(
        period=period.key,
        value=_number(figure.value),
        status=figure.status.value,
        reason=figure.reason,
        parts=[
            IndicatorPartOut(
                key=p.key, label=p.label, unit=p.unit.value, value=_number(p.value), status=p.status.value
            )
            for p in figure.parts
        ],
    )


def _period(text: str | None) -> Period:
    return Period.parse(text) if text else Period(timezone.localdate().year)


def _head(indicator: Indicator) -> dict[str, Any]:
    return {
        "code": indicator.code,
        "theme": indicator.theme.value,
        "name": indicator.name,
        "unit": indicator.unit.value,
    }


@router.get("/reports/indicators", response=IndicatorListOut)
def indicator_list(request: HttpRequest, period: str | None = PERIOD_QUERY) -> IndicatorListOut:
    territory = territory_of(request)
    access.require_read(request.user, territory)
    asked = _period(period)
    exact = access.exact_for(request.user, territory)
    return IndicatorListOut(
        territory=territory.slug,
        period=asked.key,
        exact=exact,
        threshold=THRESHOLD,
        indicators=[
            IndicatorOut(**_head(found), figure=_figure_out(asked, figure))
            for found, figure in selectors.figures(territory, asked, exact=exact)
        ],
    )


@router.get("/reports/indicators/{code}", response=IndicatorDetailOut)
def indicator_detail(
    request: HttpRequest, code: str, period: str | None = PERIOD_QUERY
) -> IndicatorDetailOut:
    territory = territory_of(request)
    access.require_read(request.user, territory)
    found = registry.get(code)
    if found is None:
        raise NotFound(_("No indicator has this code."))
    asked = _period(period)
    row = selectors.dashboard(
        territory, asked, exact=access.exact_for(request.user, territory), codes=[code]
    ).rows[0]
    return IndicatorDetailOut(
        **_head(found),
        definition=found.definition,
        figure=_figure_out(asked, row.now),
        previous=_figure_out(asked.previous(), row.previous),
        year_before=_figure_out(asked.year_before(), row.year_before),
    )


@router.get("/reports/groupings/{slug}/indicators", response=RollupOut)
def grouping_indicators(request: HttpRequest, slug: str, period: str | None = PERIOD_QUERY) -> RollupOut:
    """Every indicator of a grouping's territories, per territory and combined (``combination`` says how), small
    counts hidden. Only the grouping's coordinators (with a token, one made in a territory of the grouping): anyone
    else is told it does not exist (404)."""
    grouping = permissions.grouping_for(request.user, slug, Action.GROUPING_REPORTS)
    api_token = getattr(request, "api_token", None)
    if api_token is not None and not grouping.territories.filter(pk=api_token.territory_id).exists():
        # a token works in its territory: it reads the groupings that territory is in
        raise NotFound(_("This grouping does not exist or you have no access to it."))
    asked = _period(period)
    found = rollup.rollup(grouping, asked)
    return RollupOut(
        grouping=grouping.slug,
        name=grouping.name,
        period=asked.key,
        threshold=THRESHOLD,
        territories=[GroupingTerritoryOut(slug=t.slug, name=t.name) for t in found.territories],
        indicators=[
            RollupIndicatorOut(
                **_head(row.indicator),
                combination=row.combine.value,
                measured_in=row.measured_in,
                total=_figure_out(asked, row.total),
                territories=[
                    TerritoryFigureOut(territory=t.slug, figure=_figure_out(asked, figure))
                    for t, figure in zip(found.territories, row.territories, strict=True)
                ],
            )
            for row in found.rows
        ],
    )
