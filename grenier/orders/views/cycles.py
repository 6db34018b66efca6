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
