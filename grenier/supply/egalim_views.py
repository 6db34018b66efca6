"""Pages of EGalim shares per kitchen and of the week's planning table as XLSX.

* ``supply/egalim/``: the coordinator, the committee and funders (``SUPPLY_FIGURES``) see every kitchen's shares;
  a kitchen manager sees the kitchens it manages. A grower is refused.
* ``supply/egalim/<kitchen>/achats.csv|xlsx``: the kitchen's purchases in ma-cantine's import columns, for its
  managers and the coordinators (the committee and funders read aggregated figures only).
* ``supply/weeks/<monday>/sheet/``: download the week's table, upload the one the growers filled (the coordinator
  of the week or a coordinator of the territory).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from grenier.core.auth import user_of
from grenier.core.errors import Conflict, GrenierError
from grenier.core.models import Territory
from grenier.core.permissions import Action
from grenier.core.views import territory_page
from grenier.supply import access, egalim, spreadsheet, views
from grenier.supply.models import SupplyWeek, WeekStatus

# --- EGalim ------------------------------------------------------------------------------------------------------


def _period(request: HttpRequest) -> tuple[date, date, int | None]:
    """``?year=2025`` (the current year by default) or ``?start=2025-01-01&end=2025-06-30``."""
    start_text, end_text = request.GET.get("start", ""), request.GET.get("end", "")
    if start_text or end_text:
        try:
            start, end = date.fromisoformat(start_text), date.fromisoformat(end_text)
        except ValueError:
            raise Http404(_("Give both dates of the period, as YYYY-MM-DD.")) from None
        if end < start or (end - start).days > 3 * 366:
            raise Http404(_("The period must end after it starts and last at most three years."))
        return start, end, None
    try:
        year = int(request.GET.get("year") or timezone.localdate().year)
    except ValueError:
        raise Http404(_("No such year.")) from None
    if not 2000 <= year <= 2100:
        raise Http404(_("No such year."))
    start, end = egalim.year_period(year)
    return start, end, year


def _query(start: date, end: date, year: int | None) -> str:
    return f"year={year}" if year is not None else f"start={start.isoformat()}&end={end.isoformat()}"


def _n(value: float) -> str:
    return f"{value:.1f}"


def gauge(shares: egalim.KitchenShares) -> SafeString:
    """Two bars, organic and quality, from 0 to 100 % with the law's target marked on each. SVG drawn on the
    server like the fund's charts; the table beside it holds the same figures."""
    width, left, right = 640, 120, 16
    plot = width - left - right
    rows = (
        (_("Organic"), shares.spend.organic_percent, egalim.ORGANIC_TARGET_PERCENT, shares.spend.organic_met),
        (_("Quality"), shares.spend.quality_percent, egalim.QUALITY_TARGET_PERCENT, shares.spend.quality_met),
    )
    parts: list[str] = []
    for index, (label, percent, target, met) in enumerate(rows):
        y = 14 + index * 46
        value = float(percent or 0)
        parts.append(
            format_html(
                '<text class="axis" x="{}" y="{}" text-anchor="end">{}</text>'
                '<rect x="{}" y="{}" width="{}" height="22" fill="#eceee9" rx="4"/>'
                '<rect x="{}" y="{}" width="{}" height="22" fill="{}" rx="4"/>'
                '<line x1="{}" x2="{}" y1="{}" y2="{}" stroke="#a4161a" stroke-width="3" stroke-dasharray="4 2"/>'
                '<text class="axis" x="{}" y="{}" text-anchor="middle">{} {} %</text>',
                left - 8,
                _n(y + 16),
                label,
                left,
                y,
                plot,
                left,
                y,
                _n(plot * min(max(value, 0), 100) / 100),
                "#1f5130" if met else "#c98a00",
                _n(left + plot * target / 100),
                _n(left + plot * target / 100),
                y - 4,
                y + 26,
                _n(left + plot * target / 100),
                y + 38,
                _("target"),
                target,
            )
        )
    title = _(
        "%(kitchen)s: organic %(organic)s %%, quality %(quality)s %% (targets %(o)s %% and %(q)s %%)"
    ) % {
        "kitchen": shares.kitchen.name,
        "organic": _percent_text(shares.spend.organic_percent),
        "quality": _percent_text(shares.spend.quality_percent),
        "o": egalim.ORGANIC_TARGET_PERCENT,
        "q": egalim.QUALITY_TARGET_PERCENT,
    }
    return format_html(
        '<svg class="chart" viewBox="0 0 {} 110" role="img" aria-label="{}" preserveAspectRatio="xMidYMid meet">'
        "<title>{}</title>{}</svg>",
        width,
        title,
        title,
        mark_safe("".join(parts)),  # noqa: S308 - every part was built by format_html
    )


def _percent_text(value: Decimal | None) -> str:
    return "—" if value is None else f"{value}".replace(".", ",")


@territory_page(Action.VIEW_TERRITORY, nav="supply")
@require_GET
def egalim_page(request: HttpRequest, territory: Territory) -> HttpResponse:
    if not egalim.may_see_egalim(request.user, territory):
        raise PermissionDenied(_("EGalim shares are for kitchens and for the platform's coordinators."))
    start, end, year = _period(request)
    kitchens = egalim.kitchens_visible(request.user, territory).order_by("name", "id")
    exportable = set(access.kitchens_of(request.user, territory).values_list("pk", flat=True))
    rows: list[dict[str, Any]] = []
    for shares in egalim.territory_shares(kitchens, start, end):
        rows.append(
            {
                "shares": shares,
                "gauge": gauge(shares),
                "may_export": shares.kitchen.pk in exportable,
            }
        )
    this_year = timezone.localdate().year
    return render(
        request,
        "supply/egalim_shares.html",
        {
            "territory": territory,
            "page": "egalim",
            "rows": rows,
            "start": start,
            "end": end,
            "year": year,
            "query": _query(start, end, year),
            "years": list(range(this_year, this_year - 5, -1)),
            "organic_target": egalim.ORGANIC_TARGET_PERCENT,
            "quality_target": egalim.QUALITY_TARGET_PERCENT,
            "local_km": egalim.LOCAL_RADIUS_KM,
        },
    )


@territory_page(Action.VIEW_TERRITORY, nav="supply")
@require_GET
def egalim_export(request: HttpRequest, territory: Territory, kitchen_id: int, fmt: str) -> HttpResponse:
    if not egalim.may_see_egalim(request.user, territory):
        raise PermissionDenied(_("EGalim shares are for kitchens and for the platform's coordinators."))
    if fmt not in {"csv", "xlsx"}:
        raise Http404(_("CSV or XLSX only."))
    kitchen = egalim.kitchen_for_export(request.user, territory, kitchen_id)
    start, end, year = _period(request)
    name = f"achats-{kitchen.siret or kitchen.pk}-{year if year is not None else f'{start}_{end}'}"
    response: HttpResponse
    if fmt == "csv":
        response = HttpResponse(
            egalim.ma_cantine_csv(kitchen, start, end), content_type="text/csv; charset=utf-8"
        )
    else:
        response = HttpResponse(
            egalim.ma_cantine_xlsx(kitchen, start, end), content_type=spreadsheet.XLSX_CONTENT_TYPE
        )
    response["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return response


# --- the planning table ------------------------------------------------------------------------------------------


class SheetUploadForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("Planning table (.xlsx)"),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx," + spreadsheet.XLSX_CONTENT_TYPE}),
    )


def _sheet_week(request: HttpRequest, territory: Territory, monday: str) -> SupplyWeek:
    return views.week_to_coordinate(request, territory, views.parse_monday(monday))


@territory_page(Action.VIEW_TERRITORY, nav="supply")
@require_GET
def sheet_download(request: HttpRequest, territory: Territory, monday: str) -> HttpResponse:
    week = _sheet_week(request, territory, monday)
    response = HttpResponse(spreadsheet.week_workbook(week), content_type=spreadsheet.XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{spreadsheet.workbook_filename(week)}"'
    return response


@territory_page(Action.VIEW_TERRITORY, nav="supply")
@require_http_methods(["GET", "POST"])
def sheet_page(request: HttpRequest, territory: Territory, monday: str) -> HttpResponse:
    """Import is all or nothing and writes only what differs from the week: sending the same file twice changes
    nothing the second time, so the form needs no idempotency key."""
    week = _sheet_week(request, territory, monday)
    form = SheetUploadForm(request.POST or None, request.FILES or None)
    problems: list[spreadsheet.CellError] = []
    status = 200
    if request.method == "POST":
        status = 422
        if week.status == WeekStatus.PUBLISHED:
            form.add_error(
                None, _("The plan of this week is published: the table can no longer be imported.")
            )
            status = 409
        elif form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                if upload.size > spreadsheet.MAX_UPLOAD_BYTES:
                    raise spreadsheet.FileRefused(
                        _("The file is too big (at most %(mb)s MB).")
                        % {"mb": spreadsheet.MAX_UPLOAD_BYTES // (1024 * 1024)}
                    )
                result = spreadsheet.week_import(week=week, data=upload.read(), actor=user_of(request))
            except spreadsheet.SheetRefused as exc:
                problems = exc.problems
                form.add_error(None, exc.detail)
            except Conflict as exc:
                form.add_error(None, exc.detail)
                status = 409
            except GrenierError as exc:
                form.add_error("file", exc.detail)
            else:
                messages.success(
                    request,
                    _(
                        "Table imported: %(demand)s demand cells and %(availability)s declarations changed; "
                        "rows absent from the file were left as they were."
                    )
                    % {"demand": result.demand_changed, "availability": result.availability_changed},
                )
                return redirect("supply_sheet", territory.slug, week.monday.isoformat())
    return render(
        request,
        "supply/sheet_week.html",
        {
            "territory": territory,
            "page": "week",
            "week": week,
            "form": form,
            "problems": problems,
            "published": week.status == WeekStatus.PUBLISHED,
            "max_mb": spreadsheet.MAX_UPLOAD_BYTES // (1024 * 1024),
            "demand_sheet": spreadsheet.DEMAND_SHEET,
            "availability_sheet": spreadsheet.AVAILABILITY_SHEET,
            "plan_sheet": spreadsheet.PLAN_SHEET,
        },
        status=status,
    )
