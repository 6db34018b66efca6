"""The buying groups' home and a group's page, with one view for each of its forms."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from grenier.core import permissions
from grenier.core.auth import user_of
from grenier.core.errors import GrenierError, NotFound
from grenier.core.models import Household, Territory, User
from grenier.core.pages import error_text, form_errors
from grenier.core.permissions import Action
from grenier.core.selectors import household_match
from grenier.orders import access, forms, selectors, services
from grenier.orders.models import (
    BuyingGroup,
    CatalogueProduct,
    GroupMembership,
    GroupPickupPoint,
    OrderCycle,
)
from grenier.orders.views.common import _error_summary, orders_page

# --- home ---------------------------------------------------------------------------------------------------------


@orders_page
@require_http_methods(["GET", "POST"])
def home(request: HttpRequest, territory: Territory) -> HttpResponse:
    user = user_of(request)
    may_create = permissions.can(user, territory, Action.ORDERS_MANAGE)
    form = forms.GroupForm(request.POST or None)
    if request.method == "POST":
        if not may_create:
            raise PermissionDenied(_("Only a coordinator creates buying groups."))
        if form.is_valid():
            data = form.cleaned_data
            try:
                group = services.group_create(
                    territory=territory,
                    name=data["name"],
                    description=data["description"],
                    tiers=[(f"{p} %", p) for p in data["tiers"]],
                    default_percent=100 if 100 in data["tiers"] else data["tiers"][0],
                    actor=user,
                )
                services.pickup_point_create(group=group, name=data["pickup_point"], actor=user)
            except GrenierError as exc:
                form_errors(form, exc)
            else:
                messages.success(request, _("Buying group created."))
                return redirect("orders_group", territory.slug, group.pk)
    households = list(access.my_households(user, territory))
    mine = access.member_groups(user, territory)
    joinable = (
        BuyingGroup.objects.filter(territory=territory).exclude(pk__in=mine.values("pk"))
        if households
        else []
    )
    managed = list(access.managed_groups(user, territory).prefetch_related("pickup_points"))
    farms = list(access.producers_of(user, territory))
    farm_cycles = []
    if farms and permissions.can(user, territory, Action.ORDERS_SUPPLY):
        farm_cycles = list(
            OrderCycle.objects.filter(group__territory=territory, products__producer__in=farms)
            .distinct()
            .select_related("group")
            .order_by("-closes_at")[:20]
        )
    farm_paid = {key: row for key, row in selectors.payout_rows(farm_cycles, farms).items() if row.owed_cents}
    pots = services.pot_balances(managed)
    return render(
        request,
        "orders/home.html",
        {
            "territory": territory,
            "open_cycles": list(selectors.open_cycles(mine)),
            "my_groups": list(mine),
            "joinable": list(joinable),
            "my_orders": [o for h in households for o in selectors.household_orders(h, limit=12)],
            "managed": [(g, pots[g.pk]) for g in managed],
            "may_create": may_create,
            "form": form,
            "farms": farms,
            "all_farms": may_create,
            "farm_cycles": [(c, [(f, farm_paid.get((c.pk, f.pk))) for f in farms]) for c in farm_cycles],
        },
    )


# --- a group ------------------------------------------------------------------------------------------------------


def _tier_choices(group: BuyingGroup) -> list[tuple[int, str]]:
    return [(t.pk, f"{t.name} — {t.percent} %") for t in group.tiers.all()]


@orders_page
@require_POST
def group_join(request: HttpRequest, territory: Territory, group_id: int) -> HttpResponse:
    group = BuyingGroup.objects.filter(pk=group_id, territory=territory).first()
    household = access.my_households(user_of(request), territory).order_by("pk").first()
    if group is None or household is None:
        raise Http404(_("This buying group does not exist or you may not join it."))
    services.membership_join(group=group, household=household, actor=user_of(request))
    messages.success(request, _("Welcome to the group: choose your tier below."))
    return redirect("orders_group", territory.slug, group.pk)


@dataclass
class _Group:
    """A group's page as the person sees it: their membership, whether they coordinate it, the catalogue's products."""

    territory: Territory
    group: BuyingGroup
    user: User
    manager: bool
    membership: GroupMembership | None
    products: QuerySet[CatalogueProduct]


def _group(request: HttpRequest, territory: Territory, group_id: int) -> _Group:
    user = user_of(request)
    group = access.group_for(user, territory, group_id)
    membership = None
    try:
        household = access.household_in(user, group)
        membership = GroupMembership.objects.select_related("tier").get(group=group, household=household)
    except NotFound:
        pass
    products = CatalogueProduct.objects.filter(producer__territory=territory, is_active=True).select_related(
        "producer"
    )
    return _Group(territory, group, user, access.may_manage(user, group), membership, products)


def _managed(request: HttpRequest, territory: Territory, group_id: int) -> _Group:
    page = _group(request, territory, group_id)
    if not page.manager:
        raise PermissionDenied(_("Only this group's coordinators may do this."))
    return page


def _group_forms(page: _Group, request: HttpRequest, bound: str = "") -> dict[str, Any]:
    """The page's forms, the one named ``bound`` filled with what was sent."""
    data = request.POST if bound else None
    tiers = _tier_choices(page.group)
    now = timezone.localtime()
    found: dict[str, Any] = {
        "tier": forms.TierForm(
            data if bound == "tier" else None,
            tiers=tiers,
            initial={"tier": page.membership.tier_id if page.membership else None},
        ),
        "point": forms.PickupPointForm(data if bound == "point" else None),
        "cycle": forms.CycleForm(
            data if bound == "cycle" else None,
            points=[(p.pk, p.name) for p in page.group.pickup_points.all()],
            products=[(p.pk, f"{p.producer.farm_name} — {p.name}") for p in page.products],
            initial={
                "opens_at": now.replace(second=0, microsecond=0),
                "closes_at": (now + timedelta(days=7)).replace(hour=20, minute=0, second=0, microsecond=0),
                "delivery_date": (now + timedelta(days=10)).date(),
                "name": f"{(now + timedelta(days=10)):%m/%Y}",  # named by its delivery month
            },
        ),
        "card": forms.MemberCardForm(data if bound == "card" else None, tiers=tiers)
        if page.manager
        else None,
        "member": None,
    }
    if page.manager and permissions.can(page.user, page.territory, Action.LIST_HOUSEHOLDS):
        found["member"] = forms.MemberAddForm(
            data if bound == "member" else None,
            households=_addable(page, request, bound),
            tiers=[(t.pk, f"{t.name} — {t.percent} %") for t in page.group.tiers.all()],
        )
    return found


# A group's page lists its members by pages of this size, and offers the households one may add only once searched:
# at 100,000 households its biggest group has 320 members, each row a form, and the territory far more households
# than a list can show (the first 500 by name left most of them out of reach). A coordinator finds any of them by
# name or card number instead, on a phone too.
MEMBERS_PAGE_SIZE = 25
FOUND_HOUSEHOLDS = 20


def _matching(rows: QuerySet[Any], q: str, prefix: str = "") -> QuerySet[Any]:
    """``rows`` whose household's name holds ``q``, or whose card number holds its digits (4 or more)."""
    match = household_match(q, prefix)
    return rows if match is None else rows.filter(match)


def _addable(page: _Group, request: HttpRequest, bound: str) -> list[tuple[int, str]]:
    """The households the add form offers: the one sent (checked to be an active non-member of the territory), or
    the first few matching the search ``find``; none before a search."""
    members_ids = page.group.memberships.filter(left_on__isnull=True).values("household_id")
    candidates = Household.objects.filter(territory=page.territory, left_on__isnull=True).exclude(
        pk__in=members_ids
    )
    if bound == "member":
        sent = request.POST.get("household", "")
        candidates = candidates.filter(pk=int(sent)) if sent.isdigit() else candidates.none()
    else:
        find = request.GET.get("find", "").strip()
        if not find:
            return []
        candidates = _matching(candidates, find)
    return [(h.pk, h.display_name) for h in candidates.order_by("name", "pk")[:FOUND_HOUSEHOLDS]]


def _members(page: _Group, request: HttpRequest) -> Page[GroupMembership] | None:
    """The page of the group's own members its coordinators see (pickups, payments), no other household's; searched
    by name or card number (``q``)."""
    if not page.manager:
        return None
    rows = page.group.memberships.filter(left_on__isnull=True).select_related("household", "tier")
    rows = _matching(rows, request.GET.get("q", ""), "household__").order_by("household__name", "pk")
    return Paginator(rows, MEMBERS_PAGE_SIZE).get_page(request.GET.get("page"))


def _group_page(request: HttpRequest, page: _Group, found: dict[str, Any], bound: str = "") -> HttpResponse:
    group = page.group
    members = _members(page, request)
    cycles = list(group.cycles.select_related("pickup_point").order_by("-closes_at")[:24])
    return render(
        request,
        "orders/group.html",
        {
            "territory": page.territory,
            "group": group,
            "manager": page.manager,
            "membership": page.membership,
            **{f"{name}_form": form for name, form in found.items()},
            "members": members,
            "q": request.GET.get("q", "").strip(),
            "find": request.GET.get("find", "").strip(),
            "member_count": group.memberships.filter(left_on__isnull=True).count(),
            "tiers": list(group.tiers.all()),
            "cycles": cycles,
            "pot_cents": services.pot_balance(group),
            "points": group.pickup_points.all(),
            "error_summary": _error_summary(found.get(bound), {"products": "id_products_0"}) if bound else [],
        },
    )


def _refused(
    request: HttpRequest, page: _Group, found: dict[str, Any], bound: str, exc: GrenierError
) -> HttpResponse:
    form_errors(found[bound], exc)
    return _group_page(request, page, found, bound)


@orders_page
@require_GET
def group_detail(request: HttpRequest, territory: Territory, group_id: int) -> HttpResponse:
    page = _group(request, territory, group_id)
    return _group_page(request, page, _group_forms(page, request))


@orders_page
@require_POST
def group_tier(request: HttpRequest, territory: Territory, group_id: int) -> HttpResponse:
    """A member household chooses its own tier."""
    page = _group(request, territory, group_id)
    found = _group_forms(page, request, "tier")
    if page.membership is None:
        raise NotFound(_("Your household is not a member of this group."))
    form = found["tier"]
    if not form.is_valid():
        return _group_page(request, page, found, "tier")
    try:
        services.tier_set(
            membership=page.membership,
            tier=page.group.tiers.get(pk=form.cleaned_data["tier"]),
            actor=page.user,
            by_household=True,
        )
    except GrenierError as exc:
        return _refused(request, page, found, "tier", exc)
    messages.success(
        request,
        _("Your tier is saved: your orders in open cycles are re-priced at it, and so are your next ones."),
    )
    return redirect("orders_group", territory.slug, page.group.pk)


@orders_page
@require_POST
def group_leave(request: HttpRequest, territory: Territory, group_id: int) -> HttpResponse:
    page = _group(request, territory, group_id)
    if page.membership is None:
        raise NotFound(_("Your household is not a member of this group."))
    if request.POST.get("confirm") != "1":  # the button says "Yes, leave the group": nothing else leaves
        return _group_page(request, page, _group_forms(page, request))
    services.membership_leave(membership=page.membership, actor=page.user)
    messages.success(request, _("You left the group. Your past orders stay on record."))
    return redirect("orders_home", territory.slug)


@orders_page
@require_POST
def group_point(request: HttpRequest, territory: Territory, group_id: int) -> HttpResponse:
    page = _managed(request, territory, group_id)
    found = _group_forms(page, request, "point")
    if not found["point"].is_valid():
        return _group_page(request, page, found, "point")
    try:
        services.pickup_point_create(group=page.group, actor=page.user, **found["point"].cleaned_data)
    except GrenierError as exc:
        return _refused(request, page, found, "point", exc)
    return redirect("orders_group", territory.slug, page.group.pk)


@orders_page
@require_POST
def group_cycle(request: HttpRequest, territory: Territory, group_id: int) -> HttpResponse:
    page = _managed(request, territory, group_id)
    found = _group_forms(page, request, "cycle")
    form = found["cycle"]
    if not form.is_valid():
        return _group_page(request, page, found, "cycle")
    data = form.cleaned_data
    try:
        cycle = services.cycle_open(
            group=page.group,
            name=data["name"],
            opens_at=data["opens_at"],
            closes_at=data["closes_at"],
            delivery_date=data["delivery_date"],
            pickup_point=GroupPickupPoint.objects.get(group=page.group, pk=data["pickup_point"]),
            products=list(page.products.filter(pk__in=data["products"])),
            round_to_cases=data["round_to_cases"],
            actor=page.user,
        )
    except GrenierError as exc:
        return _refused(request, page, found, "cycle", exc)
    messages.success(request, _("Cycle opened: members can order until it closes."))
    return redirect("orders_cycle", territory.slug, cycle.pk)


@orders_page
@require_POST
def group_card(request: HttpRequest, territory: Territory, group_id: int) -> HttpResponse:
    page = _managed(request, territory, group_id)
    found = _group_forms(page, request, "card")
    form = found["card"]
    if not form.is_valid():
        return _group_page(request, page, found, "card")
    try:
        added = services.member_add_by_card(
            group=page.group,
            card=form.cleaned_data["card"],
            tier=page.group.tiers.get(pk=form.cleaned_data["tier"]),
            actor=page.user,
        )
    except GrenierError as exc:
        return _refused(request, page, found, "card", exc)
    messages.success(
        request, _("%(household)s is a member of the group.") % {"household": added.household.display_name}
    )
    return redirect("orders_group", territory.slug, page.group.pk)


@orders_page
@require_POST
def group_member(request: HttpRequest, territory: Territory, group_id: int) -> HttpResponse:
    page = _managed(request, territory, group_id)
    found = _group_forms(page, request, "member")
    form = found["member"]
    if form is None:
        raise PermissionDenied(_("Only a coordinator of the territory picks a household from the list."))
    if not form.is_valid():
        return _group_page(request, page, found, "member")
    try:
        services.membership_join(
            group=page.group,
            household=Household.objects.get(territory=territory, pk=form.cleaned_data["household"]),
            tier=page.group.tiers.get(pk=form.cleaned_data["tier"]),
            actor=page.user,
        )
    except GrenierError as exc:
        return _refused(request, page, found, "member", exc)
    return redirect("orders_group", territory.slug, page.group.pk)


@orders_page
@require_POST
def member_tier(
    request: HttpRequest, territory: Territory, group_id: int, membership_id: int
) -> HttpResponse:
    user = user_of(request)
    group = access.group_for(user, territory, group_id, manage=True)
    membership = GroupMembership.objects.filter(group=group, pk=membership_id).first()
    if membership is None:
        raise Http404(_("This household is not a member of the group."))
    form = forms.ReferralTierForm(request.POST, tiers=_tier_choices(group))
    if form.is_valid():
        try:
            services.tier_set(
                membership=membership,
                tier=group.tiers.get(pk=form.cleaned_data["tier"]),
                actor=user,
                by_household=False,
                referral=form.cleaned_data["referral"],
            )
            messages.success(request, _("Tier saved."))
        except GrenierError as exc:
            messages.error(request, error_text(exc))
    return redirect("orders_group", territory.slug, group.pk)
