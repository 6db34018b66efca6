"""A cycle's page: ordering, cancelling, closing, covers by funders, paying producers."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from grenier.core.auth import user_of
from grenier.core.errors import GrenierError, NotFound
from grenier.core.models import Household, Territory
from grenier.core.pages import error_text, form_errors, idempotency_key
from grenier.fund.models import Funder
from grenier.orders import access, forms, selectors, services
from grenier.orders.models import (
    GroupMembership,
    Order,
    OrderStatus,
)
from grenier.orders.views.common import _error_summary, orders_page

# --- a cycle ------------------------------------------------------------------------------------------------------


@orders_page
@require_http_methods(["GET", "POST"])
def cycle_detail(request: HttpRequest, territory: Territory, cycle_id: int) -> HttpResponse:
    user = user_of(request)
    cycle = access.cycle_for(user, territory, cycle_id)
    group = cycle.group
    manager = access.may_manage(user, group)
    household = _household_in(user, group)
    order = Order.objects.filter(cycle=cycle, household=household).first() if household else None
    products = list(cycle.products.select_related("producer"))
    order_form = None
    if household is not None and cycle.state == "open":
        current = {line.cycle_product_id: line.quantity for line in order.lines.all()} if order else {}
        order_form = forms.OrderForm(request.POST or None, products=products, initial_quantities=current)
        if (
            request.method == "POST"
            and order_form.is_valid()
            and _order_placed(request, cycle, household, order_form)
        ):
            # A pot short after this order is the coordinators' matter (a funder covers it, the cycle page tells
            # them): the member ordered at their tier and is not told it as if it were their doing.
            messages.success(request, _("Order saved. You can change it until the cycle closes."))
            return redirect("orders_cycle", territory.slug, cycle.pk)
    elif request.method == "POST":
        raise PermissionDenied(_("This cycle does not take orders from you now."))
    funders = list(Funder.objects.filter(territory=territory))
    plan = services.close_preview(cycle) if not cycle.is_closed else None
    figures = selectors.cycle_figures(cycle, plan)
    plans = {p.product.pk: p for p in plan.products} if plan else {}
    context = {
        "territory": territory,
        "cycle": cycle,
        "group": group,
        "manager": manager,
        "household": household,
        "membership": _membership(group, household),
        "sold_by_cases": cycle.round_to_cases and any(product.case_size > 1 for product in products),
        "order": order,
        "receipt": _receipt(order),
        "order_form": order_form,
        "by_producer": _by_producer(products, order_form, plans),
        "figures": figures,
        "early": not cycle.is_closed and timezone.now() < cycle.closes_at,
        "error_summary": _error_summary(order_form) if request.method == "POST" else [],
        "idempotency_key": idempotency_key(request),
    }
    context.update(_manager_context(cycle, funders, plan, plans) if manager else _NOT_MANAGER)
    return render(request, "orders/cycle.html", context)


def _household_in(user: Any, group: Any) -> Household | None:
    """The household the person orders for in this group, if any."""
    try:
        return access.household_in(user, group)
    except NotFound:
        return None


def _membership(group: Any, household: Household | None) -> GroupMembership | None:
    """The household's membership of the group (its tier), if it has one."""
    if household is None:
        return None
    return GroupMembership.objects.select_related("tier").filter(group=group, household=household).first()


def _receipt(order: Order | None) -> Any:
    """What a placed order comes to, for the member's receipt."""
    return selectors.receipt(order) if order is not None and order.status == OrderStatus.PLACED else None


def _order_placed(
    request: HttpRequest, cycle: Any, household: Household, order_form: forms.OrderForm
) -> bool:
    """Place the member's order; a refusal goes on the form (and the page is shown again)."""
    try:
        services.order_place(
            cycle=cycle,
            household=household,
            quantities=order_form.quantities(),
            idempotency_key=idempotency_key(request),
            actor=user_of(request),
        )
    except GrenierError as exc:
        form_errors(order_form, exc)
        return False
    return True


def _by_producer(
    products: list[Any], order_form: forms.OrderForm | None, plans: dict[int, Any]
) -> dict[str, list[Any]]:
    """The order form's fields grouped by farm, each with its product and what the close would deliver now."""
    by_producer: dict[str, list[Any]] = {}
    if order_form is not None:
        for product in products:
            by_producer.setdefault(product.producer.farm_name, []).append(
                (product, order_form[f"quantity_{product.pk}"], plans.get(product.pk))
            )
    return by_producer


# What a person who does not manage the group is shown of the managers' part of the page: nothing.
_NOT_MANAGER: dict[str, Any] = {
    "totals": [],
    "orders": [],
    "producers": [],
    "payouts": [],
    "cover_form": None,
    "plan": None,
}


def _manager_context(cycle: Any, funders: list[Funder], plan: Any, plans: dict[int, Any]) -> dict[str, Any]:
    """The managers' part of a cycle's page: totals by product, every order, producers, payouts, covers, the plan."""
    return {
        "totals": _with_planned(selectors.product_totals(cycle), plans),
        "orders": list(cycle.orders.select_related("household").order_by("household__name")),
        "producers": selectors.cycle_producers(cycle),
        "payouts": selectors.cycle_payouts(cycle) if cycle.is_closed else [],
        "cover_form": forms.CoverForm(funders=[(f.pk, f.name) for f in funders]) if funders else None,
        "plan": plan,
    }


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
            "figures": selectors.cycle_figures(cycle, plan),
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
