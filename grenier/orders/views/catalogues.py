"""A producer's catalogue, and the tiers a social worker sets for the households they referred."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from grenier.core.auth import user_of
from grenier.core.errors import GrenierError, InvalidInput
from grenier.core.models import Territory
from grenier.core.pages import form_errors
from grenier.core.views import territory_page
from grenier.orders import access, forms, services
from grenier.orders.models import (
    BuyingGroup,
    CatalogueProduct,
    GroupMembership,
)
from grenier.orders.views.common import orders_page
from grenier.orders.views.groups import _tier_choices

# --- catalogues ---------------------------------------------------------------------------------------------------


@orders_page
@require_http_methods(["GET", "POST"])
def catalogue(request: HttpRequest, territory: Territory, producer_id: int) -> HttpResponse:
    user = user_of(request)
    producer = access.producer_for(user, territory, producer_id)
    editing = None
    if request.GET.get("product") or request.POST.get("product"):
        editing = CatalogueProduct.objects.filter(
            producer=producer, pk=int(request.GET.get("product") or request.POST.get("product") or 0)
        ).first()
    initial = {}
    if editing is not None:
        initial = {
            "name": editing.name,
            "unit": editing.unit,
            "price": f"{editing.price_cents / 100:.2f}".replace(".", ","),
            "case_size": editing.case_size,
            "stock": editing.stock,
            "is_active": editing.is_active,
        }
    form = forms.ProductForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.product_save(
                producer=producer,
                product=editing,
                name=data["name"],
                unit=data["unit"],
                price_cents=data["price"],
                case_size=data["case_size"],
                stock=data["stock"],
                is_active=data["is_active"],
                actor=user,
            )
        except GrenierError as exc:
            form_errors(form, exc, {"price_cents": "price"})
        else:
            messages.success(request, _("Catalogue saved. Open cycles keep the prices they started with."))
            return redirect("orders_catalogue", territory.slug, producer.pk)
    return render(
        request,
        "orders/catalogue.html",
        {
            "territory": territory,
            "producer": producer,
            "products": list(CatalogueProduct.objects.filter(producer=producer)),
            "form": form,
            "editing": editing,
        },
    )


# --- social workers: tiers of the households they referred ----------------------------------------------------------


referrer_page = territory_page(nav="orders", check=access.require_referrer)
"""A social worker's pages: 404 without a role here, 403 for a role that refers nobody; a household they did not
refer themselves is "not found"."""


@referrer_page
def referred(request: HttpRequest, territory: Territory) -> HttpResponse:
    user = user_of(request)
    households = list(access.referred_households(user, territory))
    memberships = GroupMembership.objects.filter(
        household__in=households, left_on__isnull=True, group__territory=territory
    ).select_related("group", "tier")
    by_household: dict[int, list[GroupMembership]] = {}
    for membership in memberships:
        by_household.setdefault(membership.household_id, []).append(membership)
    return render(
        request,
        "orders/referred.html",
        {
            "territory": territory,
            "rows": [(h, by_household.get(h.pk, [])) for h in households],
        },
    )


@referrer_page
@require_http_methods(["GET", "POST"])
def referred_household(request: HttpRequest, territory: Territory, household_id: int) -> HttpResponse:
    user = user_of(request)
    referral = access.referral_for_household(user, territory, household_id)
    household = referral.household
    groups = list(BuyingGroup.objects.filter(territory=territory).prefetch_related("tiers").order_by("name"))
    memberships = {
        m.group_id: m
        for m in GroupMembership.objects.filter(household=household, group__in=groups).select_related(
            "tier", "tier_set_by"
        )
    }
    posted_group = request.POST.get("group") if request.method == "POST" else None
    rows = []
    for group in groups:
        membership = memberships.get(group.pk)
        active = membership if membership is not None and membership.left_on is None else None
        form = forms.ReferredTierForm(
            request.POST if posted_group == str(group.pk) else None,
            tiers=_tier_choices(group),
            initial={
                "group": group.pk,
                "tier": active.tier_id
                if active
                else next((t.pk for t in group.tiers.all() if t.is_default), None),
            },
            auto_id=f"id_g{group.pk}_%s",
        )
        rows.append((group, active, form))
    if request.method == "POST":
        chosen = next((g for g in groups if str(g.pk) == posted_group), None)
        if chosen is None:
            raise Http404(_("This buying group does not exist."))
        form = next(f for g, _m, f in rows if g.pk == chosen.pk)
        if form.is_valid():
            tier = next((t for t in chosen.tiers.all() if t.pk == form.cleaned_data["tier"]), None)
            try:
                if tier is None:
                    raise InvalidInput(
                        _("This tier is not one of the group's."),
                        errors={"tier": [_("This tier is not one of the group's.")]},
                    )
                services.tier_set_by_referral(group=chosen, tier=tier, referral=referral, actor=user)
            except GrenierError as exc:
                form_errors(form, exc)
            else:
                messages.success(
                    request,
                    _("Tier set for %(household)s in %(group)s.")
                    % {"household": household.display_name, "group": chosen.name},
                )
                return redirect("orders_referred_household", territory.slug, household.pk)
    return render(
        request,
        "orders/referred_household.html",
        {"territory": territory, "household": household, "referral": referral, "rows": rows},
    )
