"""Pages of the referrals to the common fund: a social worker refers a household and follows the referrals they
made; a coordinator sees every referral, the waiting ones first, and takes each household in or declines.

Every page resolves the territory and checks who may see it through ``territory_page`` and ``fund.access``;
``fund.referrals`` decides.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Case, IntegerField, Value, When
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from grenier.core import permissions
from grenier.core.auth import user_of
from grenier.core.errors import GrenierError
from grenier.core.models import Territory
from grenier.core.pages import PAGE_SIZE, form_errors, idempotency_key
from grenier.core.permissions import Action
from grenier.core.services import NewHousehold
from grenier.core.views import territory_page
from grenier.fund import access, forms, referrals
from grenier.fund.models import FundReferral, ReferralStatus

referrals_page = territory_page(nav="fund", check=access.require_referrals)
"""404 without a role here; 403 for a role that neither refers nor coordinates."""


def _render(request: HttpRequest, territory: Territory, template: str, **context: Any) -> HttpResponse:
    user = request.user
    context.update(
        territory=territory,
        page="referrals",
        may_manage=permissions.can(user, territory, Action.FUND_MANAGE),
        may_figures=permissions.can(user, territory, Action.FUND_VIEW_FIGURES),
        may_refer=permissions.can(user, territory, Action.FUND_REFER),
    )
    return render(request, f"fund/{template}", context)


@referrals_page
def referral_list(request: HttpRequest, territory: Territory) -> HttpResponse:
    rows = (
        access.referrals_of(request.user, territory)
        .select_related("household", "social_worker")
        .annotate(
            waiting=Case(
                When(status=ReferralStatus.PENDING, then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            )
        )
        .order_by("waiting", "-created_at", "-id")
    )
    page_obj = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return _render(
        request,
        territory,
        "referrals.html",
        referrals=list(page_obj),
        page_obj=page_obj,
        waiting=rows.filter(status=ReferralStatus.PENDING).count(),
    )


@territory_page(Action.FUND_REFER, nav="fund")
@require_http_methods(["GET", "POST"])
def referral_new(request: HttpRequest, territory: Territory) -> HttpResponse:
    form = forms.ReferralForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        new = (
            None
            if data["card"].strip()
            else NewHousehold(
                name=data["name"],
                first_name=data["first_name"],
                persons=data["persons"] or 1,
                phone=data["phone"],
                email=data["email"],
            )
        )
        try:
            referral = referrals.referral_create(
                territory=territory,
                social_worker=user_of(request),
                consent=data["consent"],
                idempotency_key=idempotency_key(request),
                card=data["card"],
                new_household=new,
                note=data["note"],
            )
        except GrenierError as exc:
            form_errors(form, exc)
        else:
            messages.success(
                request, _("Referral recorded: a coordinator of the common fund will take the household in.")
            )
            return redirect("fund_referral", territory.slug, referral.pk)
    return _render(
        request, territory, "referral_new.html", form=form, idempotency_key=idempotency_key(request)
    )


@referrals_page
@require_http_methods(["GET", "POST"])
def referral_detail(request: HttpRequest, territory: Territory, referral_id: int) -> HttpResponse:
    found = access.referral_for(request.user, territory, referral_id)
    manage = permissions.can(request.user, territory, Action.FUND_MANAGE)
    decline_form = forms.DeclineForm(request.POST if request.POST.get("action") == "decline" else None)
    if request.method == "POST":
        done = _decide(request, territory, found, decline_form)
        if done is not None:
            return done
    return _render(
        request,
        territory,
        "referral.html",
        referral=found,
        mine=found.social_worker_id == request.user.pk,
        manage=manage,
        decline_form=decline_form,
    )


def _decide(
    request: HttpRequest,
    territory: Territory,
    referral: FundReferral,
    decline_form: forms.DeclineForm,
) -> HttpResponse | None:
    """Confirm, decline or withdraw from the referral's page: a redirect once done, ``None`` to show the page again
    with the refusal on the decline form."""
    action = request.POST.get("action")
    actor = user_of(request)
    if action in {"confirm", "decline"}:
        permissions.require(request.user, territory, Action.FUND_MANAGE)
    if action == "confirm":
        referrals.referral_confirm(referral=referral, actor=actor)
        messages.success(
            request, _("The household is in the common fund: its credit comes with the next month.")
        )
    elif action == "decline":
        if not decline_form.is_valid():
            return None
        try:
            referrals.referral_decline(
                referral=referral, actor=actor, reason=decline_form.cleaned_data["reason"]
            )
        except GrenierError as exc:
            form_errors(decline_form, exc)
            return None
        messages.success(request, _("Referral declined: the social worker will read why."))
    elif action == "withdraw":
        referrals.referral_withdraw(referral=referral, actor=actor)
        messages.success(request, _("Referral withdrawn."))
    else:
        return redirect("fund_referral", territory.slug, referral.pk)
    return redirect("fund_referral", territory.slug, referral.pk)
