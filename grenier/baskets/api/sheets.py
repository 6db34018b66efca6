"""Distribution sheets: read, checked off, closed and reopened; the week's sheets generated; a garden's
forecast."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Query

from grenier.baskets import access, selectors, services
from grenier.baskets.api.common import _territory, router
from grenier.baskets.api.schemas import (
    CheckIn,
    ForecastOut,
    ForecastWeekOut,
    GenerateIn,
    GenerateOut,
    SheetLineOut,
    SheetOut,
    SheetsQuery,
)
from grenier.baskets.models import DistributionLine, DistributionSheet
from grenier.core.auth import user_of
from grenier.core.errors import NotFound
from grenier.core.permissions import Action


def _sheet_out(sheet: DistributionSheet) -> SheetOut:
    lines = sheet.lines.select_related("household", "offer").order_by("household__name", "pk")
    return SheetOut(
        id=sheet.pk,
        pickup_point=sheet.pickup_point.name,
        garden=sheet.pickup_point.garden.name,
        on=sheet.on,
        closed=sheet.closed_at is not None,
        lines=[
            SheetLineOut(
                id=line.pk,
                household=str(line.household.display_name),
                offer=line.offer.name,
                status=line.status,
            )
            for line in lines
        ],
    )


@router.get("/baskets/sheets", response=list[SheetOut], summary="Sheets of the pickup points one serves")
def sheets(request: HttpRequest, query: Query[SheetsQuery]) -> list[SheetOut]:
    territory = _territory(request, Action.BASKETS_DISTRIBUTE)
    found = selectors.sheets_for_points(
        access.pickup_points_of(request.user, territory), timezone.localdate()
    )
    if query.on is not None:
        found = DistributionSheet.objects.filter(
            pickup_point__in=access.pickup_points_of(request.user, territory), on=query.on
        ).select_related("pickup_point__garden")
    return [_sheet_out(sheet) for sheet in found]


@router.get("/baskets/sheets/{sheet_id}", response=SheetOut, summary="One distribution sheet")
def sheet_detail(request: HttpRequest, sheet_id: int) -> SheetOut:
    territory = _territory(request, Action.BASKETS_DISTRIBUTE)
    return _sheet_out(access.sheet_for(request.user, territory, sheet_id))


@router.post(
    "/baskets/sheets/{sheet_id}/lines/{line_id}", response=SheetLineOut, summary="Check a basket off"
)
def sheet_line(request: HttpRequest, sheet_id: int, line_id: int, payload: CheckIn) -> SheetLineOut:
    territory = _territory(request, Action.BASKETS_DISTRIBUTE)
    sheet = access.sheet_for(request.user, territory, sheet_id)
    line = (
        DistributionLine.objects.filter(sheet=sheet, pk=line_id).select_related("household", "offer").first()
    )
    if line is None:
        raise NotFound(_("No such line on this sheet."))
    checked = services.line_check(line=line, collected=payload.collected, actor=user_of(request))
    return SheetLineOut(
        id=line.pk, household=str(line.household.display_name), offer=line.offer.name, status=checked.status
    )


@router.post(
    "/baskets/sheets/{sheet_id}/close", response=SheetOut, summary="Close a sheet (unclaimed recorded)"
)
def sheet_close(request: HttpRequest, sheet_id: int) -> SheetOut:
    territory = _territory(request, Action.BASKETS_DISTRIBUTE)
    sheet = access.sheet_for(request.user, territory, sheet_id)
    return _sheet_out(services.sheet_close(sheet=sheet, actor=user_of(request)))


@router.post(
    "/baskets/sheets/{sheet_id}/reopen",
    response=SheetOut,
    summary="Reopen a sheet closed by mistake (coordinator)",
)
def sheet_reopen(request: HttpRequest, sheet_id: int) -> SheetOut:
    territory = _territory(request, Action.BASKETS_MANAGE)
    sheet = access.sheet_for(request.user, territory, sheet_id)
    access.garden_for(request.user, territory, sheet.pickup_point.garden_id)
    return _sheet_out(services.sheet_reopen(sheet=sheet, actor=user_of(request)))


@router.post(
    "/baskets/distributions", response={201: GenerateOut}, summary="Prepare a week's sheets (coordinator)"
)
def distribution_generate(request: HttpRequest, payload: GenerateIn) -> tuple[int, GenerateOut]:
    territory = _territory(request, Action.BASKETS_MANAGE)
    garden = access.garden_for(request.user, territory, payload.garden)
    result = services.distribution_generate(garden=garden, day=payload.day, actor=user_of(request))
    return 201, GenerateOut(
        sheets=[s.pk for s in result.sheets],
        lines_created=result.lines_created,
        short_cents=result.short_cents,
        warned=result.warned,
    )


@router.get(
    "/baskets/gardens/{garden_id}/forecast", response=ForecastOut, summary="Budget forecast (coordinator)"
)
def forecast(request: HttpRequest, garden_id: int) -> ForecastOut:
    territory = _territory(request, Action.BASKETS_MANAGE)
    garden = access.garden_for(request.user, territory, garden_id)
    found = selectors.budget_forecast(garden, timezone.localdate())
    return ForecastOut(
        garden=garden.name,
        first_short=found.first_short,
        short_cents=found.short_cents,
        weeks=[
            ForecastWeekOut(
                monday=w.monday,
                baskets=w.baskets,
                to_fund_cents=w.to_fund_cents,
                covered_cents=w.covered_cents,
                short_cents=w.short_cents,
            )
            for w in found.weeks
        ],
    )
