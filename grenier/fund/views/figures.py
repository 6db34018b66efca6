"""The fund's figures and its projection, for the coordinators, the committee and the funders (aggregates only)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from grenier.core import permissions
from grenier.core.errors import Conflict
from grenier.core.models import Territory
from grenier.core.months import shift_month
from grenier.core.permissions import Action
from grenier.core.views import territory_page
from grenier.fund import charts, forms, selectors


@territory_page(Action.FUND_VIEW_FIGURES, nav="fund")
def dashboard(request: HttpRequest, territory: Territory) -> HttpResponse:
    figures = selectors.fund_figures(territory)
    labels = [f"{row.month:%m/%y}" for row in figures.monthly]
    series = [
        charts.Series(_("Credit issued"), [row.allocation for row in figures.monthly], "s-credit"),
        charts.Series(_("Credit spent"), [row.spent for row in figures.monthly], "s-spent"),
        charts.Series(_("Contributions"), [row.contributions for row in figures.monthly], "s-contrib"),
        charts.Series(_("Grants"), [row.grants for row in figures.monthly], "s-grants"),
    ]
    income = figures.contributions_total_cents + figures.grants_total_cents
    spending_top = max((total for _name, total in figures.spending_by_store), default=0)
    return render(
        request,
        "fund/dashboard.html",
        {
            "territory": territory,
            "figures": figures,
            "chart": charts.grouped_bars(labels, series, title=_("The fund month by month")),
            "legend": charts.legend(series),
            "contribution_share": round(100 * figures.contributions_total_cents / income) if income else None,
            "spending": [
                (name, total, round(100 * total / spending_top) if spending_top else 0)
                for name, total in figures.spending_by_store
            ],
            "may_manage": permissions.can(request.user, territory, Action.FUND_MANAGE),
        },
    )


@territory_page(Action.FUND_VIEW_FIGURES, nav="fund")
def projection(request: HttpRequest, territory: Territory) -> HttpResponse:
    from grenier.fund import planning

    form = forms.ProjectionForm(request.GET or None)
    context: dict[str, Any] = {
        "territory": territory,
        "form": form,
        "may_manage": permissions.can(request.user, territory, Action.FUND_MANAGE),
    }
    if not request.GET or form.is_valid():
        data = form.cleaned_data if request.GET else {}
        try:
            result = planning.project_territory(
                territory,
                months=data.get("months") or 12,
                scenarios=500,
                base_cents=data.get("base"),
                per_additional_person_cents=data.get("per_additional_person"),
                monthly_grants_cents=data.get("monthly_grants"),
            )
        except Conflict as exc:
            context["problem"] = exc.detail
        else:
            projected = result.projection
            start = timezone.localdate().replace(day=1)
            labels = [f"{shift_month(start, i + 1):%m/%y}" for i in range(projected.months)]
            context.update(
                {
                    "result": result,
                    "projected": projected,
                    "rows": list(
                        zip(
                            labels,
                            projected.balance_p05_cents,
                            projected.balance_p50_cents,
                            projected.balance_p95_cents,
                            strict=True,
                        )
                    ),
                    "depletion_percent": round(100 * projected.depletion_probability),
                    "chart": charts.band(
                        labels,
                        [int(v) for v in projected.balance_p05_cents],
                        [int(v) for v in projected.balance_p50_cents],
                        [int(v) for v in projected.balance_p95_cents],
                        title=_("The fund's euro balance, month by month: median and 90 % band"),
                    ),
                }
            )
    return render(request, "fund/projection.html", context)
