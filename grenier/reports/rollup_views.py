"""Pages of a grouping of territories (``/groupings/<slug>/reports/``): each indicator per territory and across
them, said how it is combined (``rollup``), small counts hidden; and the same as CSV. Only the grouping's
coordinators read them (``permissions.grouping_for``: anyone else is told the grouping does not exist); they reach
no territory's page through them."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from grenier.core import permissions
from grenier.core.errors import InvalidInput
from grenier.core.models import Grouping
from grenier.core.permissions import Action
from grenier.reports import rollup
from grenier.reports.disclosure import THRESHOLD, Figure, Status
from grenier.reports.exports import FILE_UNITS, _value
from grenier.reports.format import bar_percent, number_text
from grenier.reports.registry import Indicator
from grenier.reports.views import _month_name, _parts, _period

View = Callable[..., HttpResponse]


def grouping_page(view: View) -> View:
    """Resolve ``slug`` to a grouping the person coordinates (404 otherwise, whether it exists or not)."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, slug: str, *args: Any, **kwargs: Any) -> HttpResponse:
        grouping = permissions.grouping_for(request.user, slug, Action.GROUPING_REPORTS)
        return view(request, grouping, *args, **kwargs)

    return wrapper


def _text(figure: Figure, indicator: Indicator) -> str:
    if figure.status == Status.HIDDEN:
        return _("hidden")
    if figure.status == Status.NOT_MEASURED:
        return _("not measured")  # said, not a dash: a phone shows no tooltip
    return number_text(figure.value, indicator.unit)


def _row(row: rollup.RollupRow, names: list[str]) -> dict[str, Any]:
    largest = max((f.value for f in row.territories if f.value is not None), default=None)
    return {
        "code": row.indicator.code,
        "name": row.indicator.name,
        "definition": row.indicator.definition,
        "unit": row.indicator.unit_label,
        "how": row.how,
        "combine": row.combine.value,
        "measured_in": row.measured_in,
        "total": {
            "text": _text(row.total, row.indicator),
            "status": row.total.status.value,
            "reason": row.total.reason,
        },
        "territories": [
            {
                "label": name,
                "text": _text(figure, row.indicator),
                "bar": bar_percent(figure.value, largest),
                "hidden": figure.status == Status.HIDDEN,
                "reason": figure.reason if figure.status == Status.NOT_MEASURED else "",
            }
            for name, figure in zip(names, row.territories, strict=True)
        ],
        "parts": _parts(row.total),
        "parts_caption": _("Across the territories, by part"),
    }


def _years() -> list[int]:
    this_year = timezone.localdate().year
    return list(range(this_year, this_year - 6, -1))


@grouping_page
@require_GET
def grouping_reports(request: HttpRequest, grouping: Grouping) -> HttpResponse:
    period, error = _period(request)
    found = rollup.rollup(grouping, period)
    names = [territory.name for territory in found.territories]
    return render(
        request,
        "reports/grouping.html",
        {
            "grouping": grouping,
            "period": period,
            "years": _years(),
            "months": [(n, _month_name(n)) for n in range(1, 13)],
            "error": error,
            "threshold": THRESHOLD,
            "territories": found.territories,
            "themes": [(theme.label, [_row(row, names) for row in rows]) for theme, rows in found.themes],
        },
        status=400 if error else 200,
    )


CSV_COLUMNS = (
    "grouping",
    "period",
    "theme",
    "indicator",
    "name",
    "unit",
    "combination",
    "territory",
    "value",
    "status",
)


@grouping_page
@require_GET
def grouping_csv(request: HttpRequest, grouping: Grouping) -> HttpResponse:
    """One line per indicator and territory, then its total (``territory`` empty), small counts hidden."""
    period, error = _period(request)
    if error:
        raise InvalidInput(error, errors={"period": [error]})
    found = rollup.rollup(grouping, period)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for row in found.rows:
        unit = FILE_UNITS.get(row.indicator.unit, row.indicator.unit.value)
        head = [
            grouping.slug,
            period.key,
            row.indicator.theme.value,
            row.indicator.code,
            row.indicator.name,
            unit,
        ]
        for territory, figure in zip(found.territories, row.territories, strict=True):
            writer.writerow(
                [
                    *head,
                    row.combine.value,
                    territory.slug,
                    _value(figure.value, row.indicator.unit),
                    figure.status.value,
                ]
            )
        writer.writerow(
            [
                *head,
                row.combine.value,
                "",
                _value(row.total.value, row.indicator.unit),
                row.total.status.value,
            ]
        )
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="grenier-{grouping.slug}-{period.key}-rollup.csv"'
    )
    return response
