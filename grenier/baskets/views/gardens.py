"""A garden's page (coordinators): its subscriptions, generating the week's sheets, workshops held."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from grenier.baskets import access, forms, selectors, services
from grenier.baskets.models import (
    Agreement,
    Garden,
    Subscription,
    WorkshopKind,
)
from grenier.baskets.views.common import GARDEN_PAGE_SIZE, _render
from grenier.core.auth import user_of
from grenier.core.errors import GrenierError
from grenier.core.models import Household, Territory
from grenier.core.pages import error_text
from grenier.core.permissions import Action
from grenier.core.views import territory_page


@territory_page(Action.BASKETS_MANAGE, nav="baskets")
def garden(request: HttpRequest, territory: Territory, garden_id: int) -> HttpResponse:
    found: Garden = access.garden_for(request.user, territory, garden_id)
    today = timezone.localdate()
    forecast = selectors.budget_forecast(found, today)
    agreements = list(
        Agreement.objects.filter(garden=found).select_related("funder").order_by("priority", "id")
    )
    for agreement in agreements:
        agreement.left_at_end = forecast.left_at_end.get(agreement.pk, agreement.left_cents)  # type: ignore[attr-defined]
        agreement.runs_out = forecast.runs_out.get(agreement.pk)  # type: ignore[attr-defined]
    all_subscriptions = Subscription.objects.filter(offer__garden=found)
    q = request.GET.get("q", "").strip()[:100]
    page_obj = Paginator(
        all_subscriptions.filter(household__in=selectors.households_matching(Household.objects.all(), q))
        .select_related("household", "offer", "pickup_point")
        .order_by("stopped_on", "household__name", "pk"),
        GARDEN_PAGE_SIZE,
    ).get_page(request.GET.get("page"))
    return _render(
        request,
        territory,
        "garden.html",
        "garden",
        garden=found,
        forecast=forecast,
        agreements=agreements,
        offers=list(found.offers.all()),
        points=list(found.pickup_points.prefetch_related("volunteers")),
        subscriptions=list(page_obj),
        page_obj=page_obj,
        q=q,
        keep=[],
        active_count=all_subscriptions.filter(stopped_on__isnull=True, paused_from__isnull=True).count(),
        generate_form=forms.GenerateForm(initial={"day": today}),
        workshop_form=forms.WorkshopForm(),
        workshops=list(found.workshops.all()[:10]),
        settings=selectors.settings_of(territory),
        cap_percent=f"{selectors.settings_of(territory).member_cap_bp / 100:g}",
    )


@territory_page(Action.BASKETS_MANAGE, nav="baskets")
@require_POST
def generate(request: HttpRequest, territory: Territory, garden_id: int) -> HttpResponse:
    found: Garden = access.garden_for(request.user, territory, garden_id)
    form = forms.GenerateForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give a date."))
        return redirect("baskets_garden", territory.slug, found.pk)
    result = services.distribution_generate(
        garden=found, day=form.cleaned_data["day"], actor=user_of(request)
    )
    messages.success(
        request,
        _("%(sheets)s sheets ready, %(lines)s new baskets.")
        % {"sheets": len(result.sheets), "lines": result.lines_created},
    )
    if result.warned:
        messages.warning(request, _("The budgets will run short soon: the coordinators were told by e-mail."))
    return redirect("baskets_garden", territory.slug, found.pk)


@territory_page(Action.BASKETS_MANAGE, nav="baskets")
@require_POST
def workshop(request: HttpRequest, territory: Territory, garden_id: int) -> HttpResponse:
    found: Garden = access.garden_for(request.user, territory, garden_id)
    form = forms.WorkshopForm(request.POST)
    if form.is_valid():
        try:
            services.workshop_record(
                garden=found,
                on=form.cleaned_data["on"],
                title=form.cleaned_data["title"],
                kind=WorkshopKind(form.cleaned_data["kind"]),
                participants=form.cleaned_data["participants"],
                actor=user_of(request),
            )
        except GrenierError as exc:
            messages.error(request, error_text(exc))
        else:
            messages.success(request, _("Workshop recorded."))
    else:
        messages.error(request, _("The workshop could not be recorded."))
    return redirect("baskets_garden", territory.slug, found.pk)
