"""Funders' statements (page, CSV, PDF) and the yearly report."""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from grenier.baskets import access, documents, forms, selectors
from grenier.baskets.models import Agreement
from grenier.baskets.views.common import _render
from grenier.core import permissions
from grenier.core.models import Territory
from grenier.core.permissions import Action
from grenier.core.views import territory_page


def _statement_from(
    request: HttpRequest, territory: Territory
) -> tuple[forms.PeriodForm, selectors.Statement | None]:
    funders = list(access.funders_of(request.user, territory).order_by("name"))
    # the first funder with an agreement is shown by default, not one with nothing to show
    with_agreements = set(Agreement.objects.filter(funder__in=funders).values_list("funder_id", flat=True))
    default = next((f for f in funders if f.pk in with_agreements), funders[0] if funders else None)
    today = timezone.localdate()
    data: Any = None
    if "funder" in request.GET:
        # a download or a link without dates: the current year so far
        data = request.GET.copy()
        for name, value in (("start", date(today.year, 1, 1)), ("end", today)):
            if not data.get(name):
                data[name] = value.isoformat()
    form = forms.PeriodForm(
        data,
        funders=[(f.pk, f.name) for f in funders],
        initial={
            "funder": default.pk if default else None,
            "start": date(today.year, 1, 1),
            "end": today,
        },
    )
    if data is None and default is not None:
        return form, selectors.statement(default, date(today.year, 1, 1), today)
    if form.is_valid():
        funder = access.funder_for(request.user, territory, form.cleaned_data["funder"])
        return form, selectors.statement(funder, form.cleaned_data["start"], form.cleaned_data["end"])
    if data is not None and "funder" in form.errors:
        raise Http404(_("This funder does not exist or you may not read its statements."))
    return form, None


@territory_page(Action.BASKETS_FIGURES, nav="baskets")
def statements(request: HttpRequest, territory: Territory) -> HttpResponse:
    form, statement = _statement_from(request, territory)
    return _render(
        request,
        territory,
        "statements.html",
        "statements",
        form=form,
        statement=statement,
        query=request.GET.urlencode()
        or (
            f"funder={statement.funder.pk}&start={statement.start.isoformat()}&end={statement.end.isoformat()}"
            if statement
            else ""
        ),
    )


@territory_page(Action.BASKETS_FIGURES, nav="baskets")
def statement_csv(request: HttpRequest, territory: Territory) -> HttpResponse:
    _form, statement = _statement_from(request, territory)
    if statement is None:
        raise Http404(_("Choose a funder and a period."))
    part = request.GET.get("part") or "baskets"
    if part not in documents.STATEMENT_CSV_PARTS:
        raise Http404(_("No such table."))
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=";").writerows(documents.statement_csv_rows(statement, part))
    response = HttpResponse(buffer.getvalue().encode("utf-8-sig"), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="releve-{part}-{statement.funder.pk}-{statement.start:%Y%m%d}-{statement.end:%Y%m%d}.csv"'
    )
    return response


@territory_page(Action.BASKETS_FIGURES, nav="baskets")
def statement_pdf(request: HttpRequest, territory: Territory) -> HttpResponse:
    _form, statement = _statement_from(request, territory)
    if statement is None:
        raise Http404(_("Choose a funder and a period."))
    response = HttpResponse(documents.statement_pdf(statement), content_type="application/pdf")
    response["Content-Disposition"] = (
        f'inline; filename="releve-{statement.funder.pk}-{statement.start:%Y%m%d}-{statement.end:%Y%m%d}.pdf"'
    )
    return response


@territory_page(Action.BASKETS_FIGURES, nav="baskets")
def report(request: HttpRequest, territory: Territory) -> HttpResponse:
    today = timezone.localdate()
    try:
        year = int(request.GET.get("year") or today.year)
    except ValueError:
        year = today.year
    year = min(max(year, 2000), today.year + 1)
    restricted = not (
        access.manages(request.user, territory)
        or "committee" in permissions.roles_of(request.user, territory)
    )
    figures = selectors.year_report(
        territory, year, funders=access.funders_of(request.user, territory) if restricted else None
    )
    return _render(
        request,
        territory,
        "report.html",
        "report",
        report=figures,
        year=year,
        years=list(range(today.year, today.year - 5, -1)),
        kinds=figures.workshops_by_kind,
        restricted=restricted,
    )
