"""Co-financing agreements and the baskets' settings."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from grenier.baskets import access, forms, selectors, services
from grenier.baskets.models import (
    Agreement,
    Garden,
)
from grenier.baskets.views.common import _form_page, _garden_url
from grenier.core.auth import user_of
from grenier.core.errors import GrenierError
from grenier.core.models import Territory
from grenier.core.pages import form_errors, idempotency_key
from grenier.core.permissions import Action
from grenier.core.views import territory_page
from grenier.fund.models import Funder


def _funders(territory: Territory) -> list[Funder]:
    return list(Funder.objects.filter(territory=territory).order_by("name"))


def _agreement_input(data: dict[str, Any], funders: list[Funder]) -> dict[str, Any]:
    share = data["share_percent"]
    return {
        "funder": next(f for f in funders if f.pk == data["funder"]),
        "name": data["name"],
        "share_bp": int(share * 100) if share is not None else None,
        "amount_per_basket_cents": data["amount_per_basket"],
        "budget_cents": data["budget"],
        "starts_on": data["starts_on"],
        "ends_on": data["ends_on"],
        "priority": data["priority"],
    }


AGREEMENT_FIELDS = {
    "share_bp": "share_percent",
    "amount_per_basket_cents": "amount_per_basket",
    "budget_cents": "budget",
}


@territory_page(Action.BASKETS_MANAGE, nav="baskets")
@require_http_methods(["GET", "POST"])
def agreement_new(request: HttpRequest, territory: Territory, garden_id: int) -> HttpResponse:
    found: Garden = access.garden_for(request.user, territory, garden_id)
    funders = _funders(territory)
    form = forms.AgreementForm(
        request.POST or None,
        funders=[(f.pk, f.name) for f in funders],
        initial={"priority": (found.agreements.count() or 0) + 1},
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.agreement_create(
                garden=found,
                **_agreement_input(form.cleaned_data, funders),
                actor=user_of(request),
                idempotency_key=idempotency_key(request),
            )
        except GrenierError as exc:
            form_errors(form, exc, AGREEMENT_FIELDS)
        else:
            messages.success(request, _("Agreement recorded."))
            return redirect("baskets_garden", territory.slug, found.pk)
    return _form_page(
        request,
        territory,
        form,
        title=_("New co-financing agreement"),
        submit=_("Record the agreement"),
        back=(_garden_url(territory, found), found.name),
    )


@territory_page(Action.BASKETS_MANAGE, nav="baskets")
@require_http_methods(["GET", "POST"])
def agreement_edit(
    request: HttpRequest, territory: Territory, garden_id: int, agreement_id: int
) -> HttpResponse:
    found: Garden = access.garden_for(request.user, territory, garden_id)
    agreement: Agreement = access.agreement_for(request.user, territory, found, agreement_id)
    funders = _funders(territory)
    form = forms.AgreementForm(
        request.POST or None,
        funders=[(f.pk, f.name) for f in funders],
        initial={
            "funder": agreement.funder_id,
            "name": agreement.name,
            "share_percent": Decimal(agreement.share_bp) / 100 if agreement.share_bp is not None else None,
            "amount_per_basket": forms.euros_text(agreement.amount_per_basket_cents),
            "budget": forms.euros_text(agreement.budget_cents),
            "starts_on": agreement.starts_on,
            "ends_on": agreement.ends_on,
            "priority": agreement.priority,
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.agreement_update(
                agreement=agreement, **_agreement_input(form.cleaned_data, funders), actor=user_of(request)
            )
        except GrenierError as exc:
            form_errors(form, exc, AGREEMENT_FIELDS)
        else:
            messages.success(request, _("Saved."))
            return redirect("baskets_garden", territory.slug, found.pk)
    return _form_page(
        request,
        territory,
        form,
        title=agreement.name,
        submit=_("Save"),
        back=(_garden_url(territory, found), found.name),
        key=False,
        used_cents=agreement.spent_cents,
    )


@territory_page(Action.BASKETS_MANAGE, nav="baskets")
@require_http_methods(["GET", "POST"])
def basket_settings(request: HttpRequest, territory: Territory) -> HttpResponse:
    current = selectors.settings_of(territory)
    form = forms.SettingsForm(
        request.POST or None,
        initial={
            "member_cap_percent": Decimal(current.member_cap_bp) / 100,
            "warn_weeks": current.warn_weeks,
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.settings_set(
                territory=territory,
                member_cap_bp=int(form.cleaned_data["member_cap_percent"] * 100),
                warn_weeks=form.cleaned_data["warn_weeks"],
                actor=user_of(request),
            )
        except GrenierError as exc:
            form_errors(form, exc, {"member_cap_bp": "member_cap_percent"})
        else:
            messages.success(request, _("Saved."))
            return redirect("baskets_home", territory.slug)
    return _form_page(
        request,
        territory,
        form,
        title=_("Basket settings"),
        submit=_("Save"),
        back=(reverse("baskets_home", args=[territory.slug]), _("Solidarity baskets")),
        page="home",
        key=False,
    )
