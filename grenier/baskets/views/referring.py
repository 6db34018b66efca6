"""A social worker's referrals to a garden's baskets, and a coordinator's decision."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from grenier.baskets import access, forms, selectors, services
from grenier.baskets.models import (
    Garden,
    Subscription,
)
from grenier.baskets.views.common import _render, _require
from grenier.core.auth import user_of
from grenier.core.errors import GrenierError
from grenier.core.models import Household, Territory
from grenier.core.pages import PAGE_SIZE, form_errors, idempotency_key
from grenier.core.permissions import Action
from grenier.core.views import territory_page


@territory_page(Action.VIEW_TERRITORY, nav="baskets")
def referrals(request: HttpRequest, territory: Territory) -> HttpResponse:
    _require(request, territory, Action.BASKETS_REFER, Action.BASKETS_MANAGE)
    q = request.GET.get("q", "").strip()[:100]
    page_obj = Paginator(
        access.referrals_of(request.user, territory)
        .filter(household__in=selectors.households_matching(Household.objects.all(), q))
        .select_related("household", "garden", "social_worker"),
        PAGE_SIZE,
    ).get_page(request.GET.get("page"))
    rows = list(page_obj)
    statuses = selectors.referral_statuses(rows)
    for referral in rows:
        referral.status = statuses[referral.pk]
    return _render(
        request, territory, "referrals.html", "referrals", referrals=rows, page_obj=page_obj, q=q, keep=[]
    )


@territory_page(Action.BASKETS_REFER, nav="baskets")
@require_http_methods(["GET", "POST"])
def referral_new(request: HttpRequest, territory: Territory) -> HttpResponse:
    gardens = list(Garden.objects.filter(territory=territory).order_by("name"))
    form = forms.ReferralForm(request.POST or None, gardens=[(g.pk, g.name) for g in gardens])
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        new = (
            services.NewHousehold(
                name=data["name"],
                first_name=data["first_name"],
                persons=data["persons"] or 1,
                phone=data["phone"],
            )
            if not data["card"].strip()
            else None
        )
        share = data["member_share_percent"]
        try:
            referral = services.referral_create(
                garden=next(g for g in gardens if g.pk == data["garden"]),
                social_worker=user_of(request),
                consent=data["consent"],
                idempotency_key=idempotency_key(request),
                card=data["card"],
                new_household=new,
                member_share_bp=share * 100 if share is not None else None,
                note=data["note"],
            )
        except GrenierError as exc:
            form_errors(form, exc, {"member_share_bp": "member_share_percent"})
        else:
            messages.success(request, _("Referral recorded: the household is now a member of the garden."))
            return redirect("baskets_referral", territory.slug, referral.pk)
    return _render(
        request,
        territory,
        "referral_new.html",
        "referrals",
        form=form,
        idempotency_key=idempotency_key(request),
    )


@territory_page(Action.VIEW_TERRITORY, nav="baskets")
@require_http_methods(["GET", "POST"])
def referral(request: HttpRequest, territory: Territory, referral_id: int) -> HttpResponse:
    _require(request, territory, Action.BASKETS_REFER, Action.BASKETS_MANAGE)
    found = access.referral_for(request.user, territory, referral_id)
    subscriptions = list(
        Subscription.objects.filter(household=found.household, offer__garden=found.garden).select_related(
            "offer", "pickup_point"
        )
    )
    if request.method == "POST":
        if request.POST.get("action") != "withdraw" or found.social_worker_id != request.user.pk:
            raise PermissionDenied(_("Only the social worker who made a referral may withdraw it."))
        services.referral_withdraw(referral=found, actor=user_of(request))
        messages.success(request, _("Referral withdrawn."))
        return redirect("baskets_referral", territory.slug, found.pk)
    return _render(
        request,
        territory,
        "referral.html",
        "referrals",
        referral=found,
        persons=found.household.persons.count(),
        mine=found.social_worker_id == request.user.pk,
        status=selectors.referral_status(found),
        subscriptions=subscriptions,
        manage=access.manages(request.user, territory),
    )
