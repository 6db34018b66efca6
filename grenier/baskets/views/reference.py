"""The coordinator's reference data: gardens and their offers."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from grenier.baskets import access, forms, services
from grenier.baskets.models import (
    BasketOffer,
    BasketSize,
    Garden,
)
from grenier.baskets.views.common import _form_page, _garden_url
from grenier.core.auth import user_of
from grenier.core.errors import GrenierError
from grenier.core.models import Territory
from grenier.core.pages import form_errors, idempotency_key
from grenier.core.permissions import Action
from grenier.core.views import territory_page
from grenier.fund.models import Store


def _stores(territory: Territory) -> list[tuple[int, str]]:
    return [(s.pk, s.name) for s in Store.objects.filter(territory=territory).order_by("name")]


@territory_page(Action.BASKETS_MANAGE, nav="baskets")
@require_http_methods(["GET", "POST"])
def garden_new(request: HttpRequest, territory: Territory) -> HttpResponse:
    form = forms.GardenForm(request.POST or None, stores=_stores(territory))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            created = services.garden_create(
                territory=territory,
                name=data["name"],
                address=data["address"],
                store=Store.objects.filter(territory=territory, pk=data["store"]).first()
                if data["store"]
                else None,
                actor=user_of(request),
                idempotency_key=idempotency_key(request),
            )
        except GrenierError as exc:
            form_errors(form, exc)
        else:
            messages.success(request, _("Garden recorded."))
            return redirect("baskets_garden", territory.slug, created.pk)
    return _form_page(
        request,
        territory,
        form,
        title=_("New garden"),
        submit=_("Record the garden"),
        back=(reverse("baskets_home", args=[territory.slug]), _("Solidarity baskets")),
    )


@territory_page(Action.BASKETS_MANAGE, nav="baskets")
@require_http_methods(["GET", "POST"])
def garden_edit(request: HttpRequest, territory: Territory, garden_id: int) -> HttpResponse:
    found: Garden = access.garden_for(request.user, territory, garden_id)
    form = forms.GardenForm(
        request.POST or None,
        stores=_stores(territory),
        initial={"name": found.name, "address": found.address, "store": found.store_id},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.garden_update(
                garden=found,
                name=data["name"],
                address=data["address"],
                store=Store.objects.filter(territory=territory, pk=data["store"]).first()
                if data["store"]
                else None,
                actor=user_of(request),
            )
        except GrenierError as exc:
            form_errors(form, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("baskets_garden", territory.slug, found.pk)
    return _form_page(
        request,
        territory,
        form,
        title=_("Edit the garden"),
        submit=_("Save"),
        back=(_garden_url(territory, found), found.name),
        key=False,
    )


def _offer_input(data: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": data["name"],
        "size": BasketSize(data["size"]),
        "price_cents": data["price"],
        "season_start": data["season_start"],
        "season_end": data["season_end"],
        "weekday": data["weekday"],
    }


@territory_page(Action.BASKETS_MANAGE, nav="baskets")
@require_http_methods(["GET", "POST"])
def offer_new(request: HttpRequest, territory: Territory, garden_id: int) -> HttpResponse:
    found: Garden = access.garden_for(request.user, territory, garden_id)
    form = forms.OfferForm(request.POST or None, initial={"weekday": 3})
    form.fields.pop("active")
    if request.method == "POST" and form.is_valid():
        try:
            services.offer_create(
                garden=found,
                **_offer_input(form.cleaned_data),
                actor=user_of(request),
                idempotency_key=idempotency_key(request),
            )
        except GrenierError as exc:
            form_errors(form, exc, {"price_cents": "price"})
        else:
            messages.success(request, _("Offer recorded."))
            return redirect("baskets_garden", territory.slug, found.pk)
    return _form_page(
        request,
        territory,
        form,
        title=_("New basket offer"),
        submit=_("Record the offer"),
        back=(_garden_url(territory, found), found.name),
    )


@territory_page(Action.BASKETS_MANAGE, nav="baskets")
@require_http_methods(["GET", "POST"])
def offer_edit(request: HttpRequest, territory: Territory, garden_id: int, offer_id: int) -> HttpResponse:
    found: Garden = access.garden_for(request.user, territory, garden_id)
    offer: BasketOffer = access.offer_for(request.user, territory, found, offer_id)
    form = forms.OfferForm(
        request.POST or None,
        initial={
            "name": offer.name,
            "size": offer.size,
            "price": forms.euros_text(offer.price_cents),
            "season_start": offer.season_start,
            "season_end": offer.season_end,
            "weekday": offer.weekday,
            "active": offer.active,
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.offer_update(
                offer=offer,
                **_offer_input(form.cleaned_data),
                active=form.cleaned_data["active"],
                actor=user_of(request),
            )
        except GrenierError as exc:
            form_errors(form, exc, {"price_cents": "price"})
        else:
            messages.success(request, _("Saved."))
            return redirect("baskets_garden", territory.slug, found.pk)
    return _form_page(
        request,
        territory,
        form,
        title=offer.name,
        submit=_("Save"),
        back=(_garden_url(territory, found), found.name),
        key=False,
    )
