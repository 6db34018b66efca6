"""Pickup points and the volunteers who serve them."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from grenier.baskets import access, forms, services
from grenier.baskets.models import (
    Garden,
    PickupPoint,
)
from grenier.baskets.views.common import _form_page, _garden_url
from grenier.core.auth import user_of
from grenier.core.errors import GrenierError
from grenier.core.models import Role, Territory, User
from grenier.core.pages import form_errors, idempotency_key
from grenier.core.permissions import Action
from grenier.core.views import territory_page


def _cashiers(territory: Territory) -> list[tuple[int, str]]:
    people = (
        User.objects.filter(
            territory_roles__territory=territory, territory_roles__role=Role.CASHIER, is_active=True
        )
        .distinct()
        .order_by("display_name", "email")
    )
    return [(u.pk, str(u)) for u in people]


def _volunteers(territory: Territory, ids: list[int]) -> list[User]:
    return list(User.objects.filter(pk__in=ids)) if ids else []


@territory_page(Action.BASKETS_MANAGE, nav="baskets")
@require_http_methods(["GET", "POST"])
def point_new(request: HttpRequest, territory: Territory, garden_id: int) -> HttpResponse:
    found: Garden = access.garden_for(request.user, territory, garden_id)
    form = forms.PickupPointForm(request.POST or None, cashiers=_cashiers(territory), initial={"weekday": 3})
    form.fields.pop("active")
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.pickup_point_create(
                garden=found,
                name=data["name"],
                address=data["address"],
                weekday=data["weekday"],
                opens_at=data["opens_at"],
                volunteers=_volunteers(territory, data["volunteers"]),
                actor=user_of(request),
                idempotency_key=idempotency_key(request),
            )
        except GrenierError as exc:
            form_errors(form, exc)
        else:
            messages.success(request, _("Pickup point recorded."))
            return redirect("baskets_garden", territory.slug, found.pk)
    return _form_page(
        request,
        territory,
        form,
        title=_("New pickup point"),
        submit=_("Record the pickup point"),
        back=(_garden_url(territory, found), found.name),
    )


@territory_page(Action.BASKETS_MANAGE, nav="baskets")
@require_http_methods(["GET", "POST"])
def point_edit(request: HttpRequest, territory: Territory, garden_id: int, point_id: int) -> HttpResponse:
    found: Garden = access.garden_for(request.user, territory, garden_id)
    point: PickupPoint = access.pickup_point_for(request.user, territory, found, point_id)
    form = forms.PickupPointForm(
        request.POST or None,
        cashiers=_cashiers(territory),
        initial={
            "name": point.name,
            "address": point.address,
            "weekday": point.weekday,
            "opens_at": point.opens_at,
            "volunteers": list(point.volunteers.values_list("pk", flat=True)),
            "active": point.active,
        },
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.pickup_point_update(
                pickup_point=point,
                name=data["name"],
                address=data["address"],
                weekday=data["weekday"],
                opens_at=data["opens_at"],
                volunteers=_volunteers(territory, data["volunteers"]),
                active=data["active"],
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
        title=point.name,
        submit=_("Save"),
        back=(_garden_url(territory, found), found.name),
        key=False,
    )
