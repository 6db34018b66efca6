"""Pages of the indicators: the territory's dashboard for a year or a month (each figure beside the period before
and the same period a year before, its breakdown drawn as bars), an indicator's definition page (with the months
of the year as bars), and the downloads (CSV, XLSX, the open-data package). Coordinators, committee members and
funders read them (``reports.access``); only coordinators read small counts exactly."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from grenier.core import permissions
from grenier.core.errors import InvalidInput
from grenier.core.models import Territory
from grenier.core.permissions import Action
from grenier.core.views import territory_page
from grenier.reports import access, documents, exports, registry, selectors
from grenier.reports.disclosure import THRESHOLD, Figure, Status
from grenier.reports.format import bar_percent, change_text, number_text
from grenier.reports.registry import Indicator, Module, Period

read_page = territory_page(Action.REPORTS_VIEW, nav="reports")

# Where the list behind an indicator is, and who may read it there: (URL name, the action it needs).
LISTS: dict[str, tuple[str, Action]] = {
    "credit_issued": ("fund_dashboard", Action.FUND_VIEW_FIGURES),
    "credit_spent": ("fund_dashboard", Action.FUND_VIEW_FIGURES),
    "credit_share_spent": ("fund_dashboard", Action.FUND_VIEW_FIGURES),
    "households_reached": ("household_list", Action.LIST_HOUSEHOLDS),
    "baskets_distributed": ("baskets_home", Action.BASKETS_FIGURES),
    "baskets_member_part": ("baskets_home", Action.BASKETS_FIGURES),
    "baskets_member_share": ("baskets_home", Action.BASKETS_FIGURES),
    "garden_workshops": ("baskets_home", Action.BASKETS_FIGURES),
    "orders_by_tier": ("orders_home", Action.ORDERS_MANAGE),
    "orders_solidarity": ("orders_home", Action.ORDERS_MANAGE),
    "committee_size": ("governance_proposals", Action.GOV_READ),
    "votes_held": ("governance_proposals", Action.GOV_READ),
    "participation_rate": ("governance_proposals", Action.GOV_READ),
    "decisions_in_effect": ("governance_proposals", Action.GOV_READ),
    "actors": ("network_map", Action.NETWORK_VIEW),
    "cooperations_by_level": ("network_map", Action.NETWORK_VIEW),
    "level_changes": ("network_map", Action.NETWORK_VIEW),
    "bookings": ("network_map", Action.NETWORK_VIEW),
    "platform_sales": ("supply_home", Action.SUPPLY_FIGURES),
    "growers_income": ("supply_home", Action.SUPPLY_FIGURES),
    "organic_share": ("supply_home", Action.SUPPLY_FIGURES),
    "quality_share": ("supply_home", Action.SUPPLY_FIGURES),
    "food_waste_per_meal": ("waste_home", Action.WASTE_FIGURES),
    "biowaste_returned": ("waste_home", Action.WASTE_FIGURES),
    "sessions_held": ("activities_home", Action.ACTIVITIES_MANAGE),
    "participants": ("activities_home", Action.ACTIVITIES_MANAGE),
    "volunteering_hours": ("activities_home", Action.ACTIVITIES_MANAGE),
}


def _period(request: HttpRequest) -> tuple[Period, str]:
    """The period asked (``?period=2026`` or ``2026-03``, or the chooser's ``year`` and ``month``), else this year;
    with the reason when what was asked could not be read."""
    text = request.GET.get("period", "")
    if not text and request.GET.get("year"):
        month = request.GET.get("month", "")
        text = f"{request.GET['year']}-{month}" if month else request.GET["year"]
    if text:
        try:
            return Period.parse(text), ""
        except InvalidInput as exc:
            return Period(timezone.localdate().year), exc.detail
    return Period(timezone.localdate().year), ""


def _years(territory: Territory, first_days: dict[Module, date | None] | None = None) -> list[int]:
    """The years the chooser offers: this one back to the first a module held data (``first_days``: the modules'
    first days already looked up for the figures, not looked up again)."""
    scope = registry.Scope(
        territory, timezone.localdate(), timezone.localdate(), {} if first_days is None else first_days
    )
    firsts = [scope.first_day(module) for module in Module]
    first = min((day.year for day in firsts if day is not None), default=timezone.localdate().year)
    return list(range(timezone.localdate().year, first - 1, -1))


def _figure(figure: Figure, indicator: Indicator) -> dict[str, Any]:
    return {
        "text": number_text(figure.value, indicator.unit),
        "status": figure.status.value,
        "reason": figure.reason,
        "value": figure.value,
    }


def _parts(figure: Figure) -> list[dict[str, Any]]:
    groups: dict[str, list[Any]] = {}
    for part in figure.parts:
        groups.setdefault(part.unit.value, []).append(part)
    shown = []
    for part in figure.parts:
        largest = max((p.value for p in groups[part.unit.value] if p.value is not None), default=None)
        shown.append(
            {
                "key": part.key,
                "label": part.label,
                "text": _("hidden") if part.status == Status.HIDDEN else number_text(part.value, part.unit),
                "bar": bar_percent(part.value, largest),
                "hidden": part.status == Status.HIDDEN,
                "apart": not part.unit.drawn,
            }
        )
    return shown


def _row(row: selectors.Row, territory: Territory, period: Period) -> dict[str, Any]:
    indicator = row.indicator
    largest = max(
        (f.value for f in (row.now, row.previous, row.year_before) if f.value is not None), default=None
    )
    return {
        "code": indicator.code,
        "name": indicator.name,
        "unit": indicator.unit_label,
        "url": reverse("reports_indicator", args=[territory.slug, indicator.code]) + f"?period={period.key}",
        "now": _figure(row.now, indicator),
        "previous": _figure(row.previous, indicator),
        "year_before": _figure(row.year_before, indicator),
        "change_previous": change_text(row.now.value, row.previous.value, indicator.unit),
        "change_year": change_text(row.now.value, row.year_before.value, indicator.unit),
        "bars": [
            {"key": key, "bar": bar_percent(f.value, largest)}
            for key, f in (("now", row.now), ("previous", row.previous), ("year_before", row.year_before))
        ],
        "parts": _parts(row.now),
    }


def _context(
    request: HttpRequest,
    territory: Territory,
    period: Period,
    first_days: dict[Module, date | None] | None = None,
) -> dict[str, Any]:
    return {
        "territory": territory,
        "period": period,
        "years": _years(territory, first_days),
        "months": [(n, _month_name(n)) for n in range(1, 13)],
        "exact": access.exact_for(request.user, territory),
        "threshold": THRESHOLD,
    }


def _month_name(month: int) -> str:
    return date_format(date(2000, month, 1), "F")


@read_page
@require_GET
def dashboard(request: HttpRequest, territory: Territory) -> HttpResponse:
    period, error = _period(request)
    exact = access.exact_for(request.user, territory)
    found = selectors.dashboard(territory, period, exact=exact)
    themes = [(theme.label, [_row(row, territory, period) for row in rows]) for theme, rows in found.themes]
    return render(
        request,
        "reports/dashboard.html",
        {
            **_context(request, territory, period, found.first_days),
            "error": error,
            "themes": themes,
            "previous": found.previous,
            "year_before": found.year_before,
            "same_comparison": found.previous == found.year_before,
        },
        status=400 if error else 200,
    )


@read_page
@require_GET
def indicator(request: HttpRequest, territory: Territory, code: str) -> HttpResponse:
    found = registry.get(code)
    if found is None:
        raise Http404
    period, error = _period(request)
    exact = access.exact_for(request.user, territory)
    shown = selectors.dashboard(territory, period, exact=exact, codes=[code])
    row = shown.rows[0]
    months: list[dict[str, Any]] = []
    if period.month is None:
        figures = list(selectors.months(territory, period.year, code, exact=exact).items())
        largest = max((f.value for _m, f in figures if f.value is not None), default=None)
        months = [
            {
                "label": _month_name(month),
                "text": number_text(f.value, found.unit) if f.status != Status.HIDDEN else _("hidden"),
                "bar": bar_percent(f.value, largest),
                "period": Period(period.year, month).key,
            }
            for month, f in figures
        ]
    list_url = ""
    if code in LISTS and permissions.can(request.user, territory, LISTS[code][1]):
        try:
            list_url = reverse(LISTS[code][0], args=[territory.slug])
        except NoReverseMatch:  # pragma: no cover - every name above is mounted
            list_url = ""
    return render(
        request,
        "reports/indicator.html",
        {
            **_context(request, territory, period, shown.first_days),
            "error": error,
            "indicator": found,
            "row": _row(row, territory, period),
            "previous": period.previous(),
            "year_before": period.year_before(),
            "same_comparison": period.previous() == period.year_before(),
            "months_of_year": months,
            "list_url": list_url,
        },
        status=400 if error else 200,
    )


@read_page
@require_GET
def download(request: HttpRequest, territory: Territory, name: str) -> HttpResponse:
    """``indicators.csv``, ``indicators.xlsx`` (small counts exact for a coordinator) or ``open-data.zip``
    (always hidden) of the period."""
    period, error = _period(request)
    if error:
        raise InvalidInput(error, errors={"period": [error]})
    stem = f"grenier-{territory.slug}-{period.key}"
    exact = access.exact_for(request.user, territory)
    if name == "indicators.csv":
        response = HttpResponse(
            exports.csv_text(exports.lines(territory, period, exact=exact)),
            content_type="text/csv; charset=utf-8",
        )
        response["Content-Disposition"] = f'attachment; filename="{stem}-indicators.csv"'
        return response
    if name == "indicators.xlsx":
        response = HttpResponse(
            exports.xlsx_bytes(exports.lines(territory, period, exact=exact), registry.indicators()),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        response["Content-Disposition"] = f'attachment; filename="{stem}-indicators.xlsx"'
        return response
    if name == "open-data.zip":
        response = HttpResponse(
            exports.open_data_zip(territory, period, registry.indicators()), content_type="application/zip"
        )
        response["Content-Disposition"] = f'attachment; filename="{stem}-open-data.zip"'
        return response
    raise Http404


@read_page
@require_GET
def yearly_pdf(request: HttpRequest, territory: Territory, year: int) -> HttpResponse:
    """The year's report as a PDF, small counts hidden for every reader (it circulates)."""
    if not 2000 <= year <= 2100:
        raise Http404
    response = HttpResponse(documents.yearly_pdf(territory, year), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="grenier-{territory.slug}-{year}.pdf"'
    return response
