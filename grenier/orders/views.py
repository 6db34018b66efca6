"""Pages of the buying groups: a member orders at its tier and sees the pot; coordinators run groups and cycles,
print purchase orders and pickup lists, record payments; producers keep their catalogue and read their purchase
orders. Each page resolves the territory, asks ``access``, calls one service, renders."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from grenier.core import permissions
from grenier.core.auth import user_of
from grenier.core.errors import GrenierError, InvalidInput, NotFound
from grenier.core.models import Household, Territory
from grenier.core.pages import error_text, form_errors, idempotency_key
from grenier.core.permissions import Action
from grenier.core.views import territory_page
from grenier.fund.models import Funder
from grenier.orders import access, documents, forms, selectors, services
from grenier.orders.models import (
    BuyingGroup,
    CatalogueProduct,
    GroupMembership,
    GroupPickupPoint,
    Order,
    OrderCycle,
    OrderStatus,
)

View = Callable[..., HttpResponse]


orders_page = territory_page(nav="orders", check=access.require_any)
"""Someone with no role in the territory gets 404, a role with no part in buying groups 403. Objects are then
resolved through ``access`` (404 for what one is not part of)."""


def _error_summary(form: Any, anchors: dict[str, str] | None = None) -> list[tuple[str, str, str]]:
    """The errors of a bound form as (anchor, label, message), shown at the top of the page with a link to each
    field: a long form's error is then seen without scrolling to it."""
    if form is None or not form.is_bound or not form.errors:
        return []
    rows: list[tuple[str, str, str]] = []
    for name, errors in form.errors.items():
        if name == "__all__":
            rows.extend(("", "", str(error)) for error in errors)
            continue
        field = form[name] if name in form.fields else None
        anchor = (anchors or {}).get(name) or (field.id_for_label if field is not None else "")
        label = str(field.label) if field is not None else ""
        rows.extend((anchor, label, str(error)) for error in errors)
    return rows


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
    farm_paid = {
        (row.cycle.pk, row.producer.pk): row
        for c in farm_cycles
        if c.closed_at is not None
        for f in farms
        for row in [selectors.producer_payouts(c, f)]
        if row.owed_cents
    }
    return render(
        request,
        "orders/home.html",
        {
            "territory": territory,
            "open_cycles": list(selectors.open_cycles(mine)),
            "my_groups": list(mine),
            "joinable": list(joinable),
            "my_orders": [o for h in households for o in selectors.household_orders(h, limit=12)],
            "managed": [(g, services.pot_balance(g)) for g in managed],
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


@orders_page
@require_http_methods(["GET", "POST"])
def group_detail(request: HttpRequest, territory: Territory, group_id: int) -> HttpResponse:
    user = user_of(request)
    group = access.group_for(user, territory, group_id)
    manager = access.may_manage(user, group)
    membership = None
    try:
        household = access.household_in(user, group)
        membership = GroupMembership.objects.select_related("tier").get(group=group, household=household)
    except NotFound:
        household = None
    tiers = _tier_choices(group)
    form_name = request.POST.get("form", "")
    tier_form = forms.TierForm(
        request.POST if form_name == "tier" else None,
        tiers=tiers,
        initial={"tier": membership.tier_id if membership else None},
    )
    point_form = forms.PickupPointForm(request.POST if form_name == "point" else None)
    points = [(p.pk, p.name) for p in group.pickup_points.all()]
    products = CatalogueProduct.objects.filter(producer__territory=territory, is_active=True).select_related(
        "producer"
    )
    now = timezone.localtime()
    cycle_form = forms.CycleForm(
        request.POST if form_name == "cycle" else None,
        points=points,
        products=[(p.pk, f"{p.producer.farm_name} — {p.name}") for p in products],
        initial={
            "opens_at": now.replace(second=0, microsecond=0),
            "closes_at": (now + timedelta(days=7)).replace(hour=20, minute=0, second=0, microsecond=0),
            "delivery_date": (now + timedelta(days=10)).date(),
            "name": f"{(now + timedelta(days=10)):%m/%Y}",  # named by its delivery month
        },
    )
    all_households = permissions.can(user, territory, Action.LIST_HOUSEHOLDS)
    member_form = None
    card_form = (
        forms.MemberCardForm(request.POST if form_name == "card" else None, tiers=tiers) if manager else None
    )
    if manager and all_households:
        members_ids = group.memberships.filter(left_on__isnull=True).values("household_id")
        candidates = Household.objects.filter(territory=territory, left_on__isnull=True).exclude(
            pk__in=members_ids
        )
        member_form = forms.MemberAddForm(
            request.POST if form_name == "member" else None,
            households=[(h.pk, h.display_name) for h in candidates.order_by("name")[:500]],
            tiers=[(t.pk, f"{t.name} — {t.percent} %") for t in group.tiers.all()],
        )
    if request.method == "POST":
        try:
            if form_name == "tier" and membership is not None and tier_form.is_valid():
                services.tier_set(
                    membership=membership,
                    tier=group.tiers.get(pk=tier_form.cleaned_data["tier"]),
                    actor=user,
                    by_household=True,
                )
                messages.success(
                    request,
                    _(
                        "Your tier is saved: your orders in open cycles are re-priced at it, and so are your next ones."
                    ),
                )
                return redirect("orders_group", territory.slug, group.pk)
            if form_name == "leave" and membership is not None and request.POST.get("confirm") == "1":
                services.membership_leave(membership=membership, actor=user)
                messages.success(request, _("You left the group. Your past orders stay on record."))
                return redirect("orders_home", territory.slug)
            if form_name in ("point", "cycle", "member", "card") and not manager:
                raise PermissionDenied(_("Only this group's coordinators may do this."))
            if form_name == "point" and point_form.is_valid():
                services.pickup_point_create(group=group, actor=user, **point_form.cleaned_data)
                return redirect("orders_group", territory.slug, group.pk)
            if form_name == "cycle" and cycle_form.is_valid():
                data = cycle_form.cleaned_data
                cycle = services.cycle_open(
                    group=group,
                    name=data["name"],
                    opens_at=data["opens_at"],
                    closes_at=data["closes_at"],
                    delivery_date=data["delivery_date"],
                    pickup_point=GroupPickupPoint.objects.get(group=group, pk=data["pickup_point"]),
                    products=list(products.filter(pk__in=data["products"])),
                    round_to_cases=data["round_to_cases"],
                    actor=user,
                )
                messages.success(request, _("Cycle opened: members can order until it closes."))
                return redirect("orders_cycle", territory.slug, cycle.pk)
            if form_name == "card" and card_form is not None and card_form.is_valid():
                added = services.member_add_by_card(
                    group=group,
                    card=card_form.cleaned_data["card"],
                    tier=group.tiers.get(pk=card_form.cleaned_data["tier"]),
                    actor=user,
                )
                messages.success(
                    request,
                    _("%(household)s is a member of the group.")
                    % {"household": added.household.display_name},
                )
                return redirect("orders_group", territory.slug, group.pk)
            if form_name == "member" and member_form is not None and member_form.is_valid():
                services.membership_join(
                    group=group,
                    household=Household.objects.get(
                        territory=territory, pk=member_form.cleaned_data["household"]
                    ),
                    tier=group.tiers.get(pk=member_form.cleaned_data["tier"]),
                    actor=user,
                )
                return redirect("orders_group", territory.slug, group.pk)
        except GrenierError as exc:
            target = {
                "tier": tier_form,
                "point": point_form,
                "cycle": cycle_form,
                "member": member_form,
                "card": card_form,
            }.get(form_name)
            if target is not None:
                form_errors(target, exc)
            else:
                messages.error(request, error_text(exc))
    members = (  # the group's own members: its coordinators see them (pickups, payments), no other household
        list(
            group.memberships.filter(left_on__isnull=True).select_related("household", "tier", "tier_set_by")
        )
        if manager
        else []
    )
    cycles = list(group.cycles.select_related("pickup_point").order_by("-closes_at")[:24])
    return render(
        request,
        "orders/group.html",
        {
            "territory": territory,
            "group": group,
            "manager": manager,
            "membership": membership,
            "tier_form": tier_form,
            "point_form": point_form,
            "cycle_form": cycle_form,
            "member_form": member_form,
            "card_form": card_form,
            "members": members,
            "member_count": group.memberships.filter(left_on__isnull=True).count(),
            "tiers": list(group.tiers.all()),
            "cycles": cycles,
            "pot_cents": services.pot_balance(group),
            "points": group.pickup_points.all(),
            "error_summary": _error_summary(
                {
                    "tier": tier_form,
                    "point": point_form,
                    "cycle": cycle_form,
                    "member": member_form,
                    "card": card_form,
                }.get(form_name),
                {"products": "id_products_0"},
            )
            if request.method == "POST"
            else [],
        },
    )


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


# --- a cycle ------------------------------------------------------------------------------------------------------


@orders_page
@require_http_methods(["GET", "POST"])
def cycle_detail(request: HttpRequest, territory: Territory, cycle_id: int) -> HttpResponse:
    user = user_of(request)
    cycle = access.cycle_for(user, territory, cycle_id)
    group = cycle.group
    manager = access.may_manage(user, group)
    try:
        household: Household | None = access.household_in(user, group)
    except NotFound:
        household = None
    order = Order.objects.filter(cycle=cycle, household=household).first() if household else None
    products = list(cycle.products.select_related("producer"))
    current = {line.cycle_product_id: line.quantity for line in order.lines.all()} if order else {}
    order_form = None
    if household is not None and cycle.state == "open":
        order_form = forms.OrderForm(request.POST or None, products=products, initial_quantities=current)
        if request.method == "POST" and order_form.is_valid():
            try:
                services.order_place(
                    cycle=cycle,
                    household=household,
                    quantities=order_form.quantities(),
                    idempotency_key=idempotency_key(request),
                    actor=user,
                )
            except GrenierError as exc:
                form_errors(order_form, exc)
            else:
                # A pot short after this order is the coordinators' matter (a funder covers it, the cycle page
                # tells them): the member ordered at their tier and is not told it as if it were their doing.
                messages.success(request, _("Order saved. You can change it until the cycle closes."))
                return redirect("orders_cycle", territory.slug, cycle.pk)
    elif request.method == "POST":
        raise PermissionDenied(_("This cycle does not take orders from you now."))
    membership = (
        GroupMembership.objects.select_related("tier").filter(group=group, household=household).first()
        if household
        else None
    )
    funders = list(Funder.objects.filter(territory=territory))
    figures = selectors.cycle_figures(cycle)
    plan = services.close_plan(cycle) if not cycle.is_closed else None
    plans = {p.product.pk: p for p in plan.products} if plan else {}
    by_producer: dict[str, list[Any]] = {}
    if order_form is not None:
        for product in products:
            by_producer.setdefault(product.producer.farm_name, []).append(
                (product, order_form[f"quantity_{product.pk}"], plans.get(product.pk))
            )
    return render(
        request,
        "orders/cycle.html",
        {
            "territory": territory,
            "cycle": cycle,
            "group": group,
            "manager": manager,
            "household": household,
            "membership": membership,
            "sold_by_cases": cycle.round_to_cases and any(product.case_size > 1 for product in products),
            "order": order,
            "receipt": selectors.receipt(order) if order and order.status == OrderStatus.PLACED else None,
            "order_form": order_form,
            "by_producer": by_producer,
            "figures": figures,
            "totals": _with_planned(selectors.product_totals(cycle), plans) if manager else [],
            "orders": list(cycle.orders.select_related("household").order_by("household__name"))
            if manager
            else [],
            "producers": selectors.cycle_producers(cycle) if manager else [],
            "payouts": selectors.cycle_payouts(cycle) if manager and cycle.is_closed else [],
            "cover_form": forms.CoverForm(funders=[(f.pk, f.name) for f in funders])
            if manager and funders
            else None,
            "plan": plan if manager else None,
            "early": not cycle.is_closed and timezone.now() < cycle.closes_at,
            "error_summary": _error_summary(order_form) if request.method == "POST" else [],
            "idempotency_key": idempotency_key(request),
        },
    )


def _with_planned(
    totals: list[selectors.ProductTotal], plans: dict[int, Any]
) -> list[selectors.ProductTotal]:
    """Each open cycle's product with what the close would deliver now (after rounding to cases)."""
    for total in totals:
        plan = plans.get(total.product.pk)
        total.planned = plan.final if plan is not None and total.final is None else None
    return totals


@orders_page
@require_POST
def order_cancel(request: HttpRequest, territory: Territory, cycle_id: int) -> HttpResponse:
    user = user_of(request)
    cycle = access.cycle_for(user, territory, cycle_id)
    household = access.household_in(user, cycle.group)
    order = Order.objects.filter(cycle=cycle, household=household).first()
    if order is None:
        raise Http404(_("You have no order in this cycle."))
    try:
        services.order_cancel(order=order, idempotency_key=idempotency_key(request), actor=user)
        messages.success(request, _("Order cancelled."))
    except GrenierError as exc:
        messages.error(request, error_text(exc))
    return redirect("orders_cycle", territory.slug, cycle.pk)


@orders_page
@require_http_methods(["GET", "POST"])
def cycle_close(request: HttpRequest, territory: Territory, cycle_id: int) -> HttpResponse:
    """The close, in two steps: this page shows what it will do (per product: ordered, cases, delivered, who gets
    fewer or more units; the pot), then a confirmed form closes. Before the announced time, an early close must be
    confirmed too: members can no longer order from then on."""
    user = user_of(request)
    cycle = access.cycle_for(user, territory, cycle_id, manage=True)
    if cycle.is_closed:
        return redirect("orders_cycle", territory.slug, cycle.pk)
    early = timezone.now() < cycle.closes_at
    form = forms.CloseForm(request.POST if request.method == "POST" else None, early=early)
    if request.method == "POST" and form.is_valid():
        try:
            result = services.cycle_close(cycle=cycle, actor=user, early=bool(form.cleaned_data.get("early")))
        except GrenierError as exc:
            form_errors(form, exc)
        else:
            if result.closed_now:
                messages.success(request, _("Cycle closed: purchase orders and pickup lists are ready."))
            return redirect("orders_cycle", territory.slug, cycle.pk)
    plan = services.close_plan(cycle)
    return render(
        request,
        "orders/close.html",
        {
            "territory": territory,
            "cycle": cycle,
            "group": cycle.group,
            "plan": plan,
            "products": [p for p in plan.products if p.ordered],
            "figures": selectors.cycle_figures(cycle),
            "early": early,
            "form": form,
            "error_summary": _error_summary(form) if request.method == "POST" else [],
        },
    )


@orders_page
@require_POST
def cycle_cover(request: HttpRequest, territory: Territory, cycle_id: int) -> HttpResponse:
    user = user_of(request)
    cycle = access.cycle_for(user, territory, cycle_id, manage=True)
    funders = list(Funder.objects.filter(territory=territory))
    form = forms.CoverForm(request.POST, funders=[(f.pk, f.name) for f in funders])
    if form.is_valid():
        try:
            services.cover_record(
                cycle=cycle,
                funder=next(f for f in funders if f.pk == form.cleaned_data["funder"]),
                amount_cents=form.cleaned_data["amount"],
                idempotency_key=idempotency_key(request),
                actor=user,
            )
            messages.success(request, _("Cover recorded in the solidarity pot."))
        except GrenierError as exc:
            messages.error(request, error_text(exc))
    else:
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
    return redirect("orders_cycle", territory.slug, cycle.pk)


@orders_page
@require_POST
def producer_pay(request: HttpRequest, territory: Territory, cycle_id: int, producer_id: int) -> HttpResponse:
    user = user_of(request)
    cycle, producer = access.supplier_cycle_for(user, territory, cycle_id, producer_id)
    if not access.may_manage(user, cycle.group):
        raise PermissionDenied(_("Only this group's coordinators record what producers are paid."))
    form = forms.PayoutForm(request.POST)
    if form.is_valid():
        try:
            services.producer_pay(
                cycle=cycle,
                producer=producer,
                amount_cents=form.cleaned_data["amount"],
                method=form.cleaned_data["method"],
                reference=form.cleaned_data["reference"],
                idempotency_key=idempotency_key(request),
                actor=user,
            )
            messages.success(request, _("Payment to the producer recorded."))
        except GrenierError as exc:
            messages.error(request, error_text(exc))
    else:
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
    return redirect(f"{reverse('orders_cycle', args=[territory.slug, cycle.pk])}#payouts")


# --- documents ----------------------------------------------------------------------------------------------------


def _attachment(content: bytes, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@orders_page
def purchase_order_pdf(
    request: HttpRequest, territory: Territory, cycle_id: int, producer_id: int
) -> HttpResponse:
    cycle, producer = access.supplier_cycle_for(user_of(request), territory, cycle_id, producer_id)
    po = selectors.purchase_order(cycle, producer)
    return _attachment(
        documents.purchase_order_pdf(po, selectors.producer_payouts(cycle, producer)),
        "application/pdf",
        documents.purchase_order_filename(po, "pdf"),
    )


@orders_page
def purchase_order_csv(
    request: HttpRequest, territory: Territory, cycle_id: int, producer_id: int
) -> HttpResponse:
    cycle, producer = access.supplier_cycle_for(user_of(request), territory, cycle_id, producer_id)
    po = selectors.purchase_order(cycle, producer)
    return _attachment(
        documents.purchase_order_csv(po).encode("utf-8-sig"),
        "text/csv; charset=utf-8",
        documents.purchase_order_filename(po, "csv"),
    )


@orders_page
def pickup_list(request: HttpRequest, territory: Territory, cycle_id: int) -> HttpResponse:
    cycle = access.cycle_for(user_of(request), territory, cycle_id, manage=True)
    receipts = selectors.pickup_list(cycle)
    return render(
        request,
        "orders/pickup.html",
        {
            "territory": territory,
            "cycle": cycle,
            "receipts": receipts,
            "collected": sum(1 for r in receipts if r.collected),
            "empty_orders": selectors.empty_orders(cycle),
        },
    )


@orders_page
def pickup_list_pdf(request: HttpRequest, territory: Territory, cycle_id: int) -> HttpResponse:
    cycle = access.cycle_for(user_of(request), territory, cycle_id, manage=True)
    return _attachment(
        documents.pickup_list_pdf(cycle, selectors.pickup_list(cycle)),
        "application/pdf",
        f"retrait-{cycle.pk}.pdf",
    )


@orders_page
def pickup_list_csv(request: HttpRequest, territory: Territory, cycle_id: int) -> HttpResponse:
    cycle = access.cycle_for(user_of(request), territory, cycle_id, manage=True)
    return _attachment(
        documents.pickup_list_csv(selectors.pickup_list(cycle)).encode("utf-8-sig"),
        "text/csv; charset=utf-8",
        f"retrait-{cycle.pk}.csv",
    )


@orders_page
@require_POST
def pickup_check(request: HttpRequest, territory: Territory, order_id: int) -> HttpResponse:
    user = user_of(request)
    order = access.order_for(user, territory, order_id)
    if not access.may_manage(user, order.cycle.group):
        raise PermissionDenied(_("Only this group's coordinators check off the pickup list."))
    try:
        services.pickup_set(order=order, collected=request.POST.get("collected") == "1", actor=user)
    except GrenierError as exc:
        messages.error(request, error_text(exc))
    return redirect(f"{_url_pickup(territory, order.cycle_id)}#order-{order.pk}")


def _url_pickup(territory: Territory, cycle_id: int) -> str:
    return reverse("orders_pickup", args=[territory.slug, cycle_id])


# --- a household's receipt ----------------------------------------------------------------------------------------


@orders_page
@require_http_methods(["GET", "POST"])
def order_receipt(request: HttpRequest, territory: Territory, order_id: int) -> HttpResponse:
    user = user_of(request)
    order = access.order_for(user, territory, order_id)
    manager = access.may_manage(user, order.cycle.group)
    form = forms.PaymentForm(request.POST or None) if manager and order.cycle.is_closed else None
    if request.method == "POST":
        if form is None:
            raise PermissionDenied(_("Only this group's coordinators record payments."))
        if form.is_valid():
            try:
                services.payment_record(
                    order=order,
                    method=form.cleaned_data["method"],
                    amount_cents=form.cleaned_data["amount"],
                    idempotency_key=idempotency_key(request),
                    code=form.cleaned_data["code"] or None,
                    actor=user,
                )
            except GrenierError as exc:
                form_errors(form, exc, {"amount_cents": "amount"})
            else:
                messages.success(request, _("Payment recorded."))
                return redirect("orders_receipt", territory.slug, order.pk)
    return render(
        request,
        "orders/receipt.html",
        {
            "territory": territory,
            "order": order,
            "receipt": selectors.receipt(order),
            "manager": manager,
            "form": form,
            "idempotency_key": idempotency_key(request),
            "credit_possible": bool(order.cycle.group.store and order.cycle.group.store.is_approved),
        },
    )


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
