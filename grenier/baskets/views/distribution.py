"""The week's distribution sheets, checked off on a phone by a pickup point's volunteers."""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from grenier.baskets import access, documents, selectors, services
from grenier.baskets.models import (
    DistributionLine,
    DistributionSheet,
    LineStatus,
)
from grenier.baskets.views.common import _render
from grenier.core.auth import user_of
from grenier.core.errors import GrenierError
from grenier.core.models import Territory
from grenier.core.pages import error_text
from grenier.core.permissions import Action
from grenier.core.views import territory_page


@territory_page(Action.BASKETS_DISTRIBUTE, nav="baskets")
def sheets(request: HttpRequest, territory: Territory) -> HttpResponse:
    today = timezone.localdate()
    points = access.pickup_points_of(request.user, territory)
    return _render(
        request,
        territory,
        "sheets.html",
        "sheets",
        sheets=list(selectors.sheets_for_points(points, today)),
        points=list(points.select_related("garden")),
        today=today,
    )


def _sheet_lines(sheet: DistributionSheet) -> list[DistributionLine]:
    return list(
        sheet.lines.select_related("household", "offer", "subscription").order_by("household__name", "pk")
    )


@territory_page(Action.BASKETS_DISTRIBUTE, nav="baskets")
def sheet(request: HttpRequest, territory: Territory, sheet_id: int) -> HttpResponse:
    found: DistributionSheet = access.sheet_for(request.user, territory, sheet_id)
    lines = _sheet_lines(found)
    return _render(
        request,
        territory,
        "sheet.html",
        "sheets",
        sheet=found,
        lines=lines,
        early=found.on > timezone.localdate(),
        can_reopen=found.closed_at is not None
        and access.manages(request.user, territory)
        and timezone.now() - found.closed_at <= timedelta(days=services.REOPEN_DAYS),
        collected=sum(1 for line in lines if line.status == LineStatus.COLLECTED),
        unclaimed=sum(1 for line in lines if line.status == LineStatus.UNCLAIMED),
    )


@territory_page(Action.BASKETS_DISTRIBUTE, nav="baskets")
@require_POST
def sheet_line(request: HttpRequest, territory: Territory, sheet_id: int, line_id: int) -> HttpResponse:
    found: DistributionSheet = access.sheet_for(request.user, territory, sheet_id)
    line = found.lines.filter(pk=line_id).first()
    if line is None:
        raise Http404(_("No such line on this sheet."))
    try:
        services.line_check(line=line, collected=request.POST.get("collected") == "1", actor=user_of(request))
    except GrenierError as exc:
        messages.error(request, error_text(exc))
    return redirect(f"{_sheet_url(territory, found)}#line-{line.pk}")


def _sheet_url(territory: Territory, found: DistributionSheet) -> str:
    return reverse("baskets_sheet", args=[territory.slug, found.pk])


@territory_page(Action.BASKETS_DISTRIBUTE, nav="baskets")
@require_POST
def sheet_close(request: HttpRequest, territory: Territory, sheet_id: int) -> HttpResponse:
    found: DistributionSheet = access.sheet_for(request.user, territory, sheet_id)
    try:
        services.sheet_close(sheet=found, actor=user_of(request))
    except GrenierError as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(request, _("Sheet closed: the baskets not collected are recorded unclaimed."))
    return redirect("baskets_sheet", territory.slug, found.pk)


@territory_page(Action.BASKETS_MANAGE, nav="baskets")
@require_POST
def sheet_reopen(request: HttpRequest, territory: Territory, sheet_id: int) -> HttpResponse:
    found: DistributionSheet = access.sheet_for(request.user, territory, sheet_id)
    access.garden_for(request.user, territory, found.pickup_point.garden_id)
    try:
        services.sheet_reopen(sheet=found, actor=user_of(request))
    except GrenierError as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(request, _("Sheet reopened: the baskets recorded unclaimed are to collect again."))
    return redirect("baskets_sheet", territory.slug, found.pk)


@territory_page(Action.BASKETS_DISTRIBUTE, nav="baskets")
def sheet_pdf(request: HttpRequest, territory: Territory, sheet_id: int) -> HttpResponse:
    found: DistributionSheet = access.sheet_for(request.user, territory, sheet_id)
    response = HttpResponse(documents.sheet_pdf(found, _sheet_lines(found)), content_type="application/pdf")
    response["Content-Disposition"] = (
        f'inline; filename="feuille-{found.pickup_point_id}-{found.on:%Y-%m-%d}.pdf"'
    )
    return response
