"""What a cycle prints and exports: purchase orders, pickup lists, a household's receipt and its payments."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from grenier.core.auth import user_of
from grenier.core.errors import GrenierError
from grenier.core.models import Territory
from grenier.core.pages import error_text, form_errors, idempotency_key
from grenier.orders import access, documents, forms, selectors, services
from grenier.orders.views.common import orders_page

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


# The pickup list shows the households by pages of this size, in the order of their names, and finds one by name or
# card number: at 100,000 households the biggest group's cycle has about 200 orders, each a panel with its lines and
# a check-off form, read at the pickup on a phone. The PDF and CSV keep the whole list for the printed sheet.
PICKUP_PAGE_SIZE = 25


def _pickup_query(q: str, page: int) -> str:
    """The pickup list's query string, to come back to the same page and search after a check-off."""
    query = {key: value for key, value in (("q", q), ("page", str(page) if page > 1 else "")) if value}
    return urlencode(query)


@orders_page
def pickup_list(request: HttpRequest, territory: Territory, cycle_id: int) -> HttpResponse:
    cycle = access.cycle_for(user_of(request), territory, cycle_id, manage=True)
    receipts = selectors.pickup_list(cycle)
    q = request.GET.get("q", "").strip()
    shown = receipts
    if q:
        digits = "".join(char for char in q if char.isdigit())
        shown = [
            r
            for r in receipts
            if q.casefold() in r.order.household.display_name.casefold()
            or (len(digits) >= 4 and digits in r.order.household.card_number)
        ]
    page = Paginator(shown, PICKUP_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "orders/pickup.html",
        {
            "territory": territory,
            "cycle": cycle,
            "receipts": receipts,
            "page": page,
            "q": q,
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
    page = request.POST.get("page", "")
    back = _pickup_query(request.POST.get("q", "").strip()[:100], int(page) if page.isdigit() else 1)
    return redirect(f"{_url_pickup(territory, order.cycle_id)}{'?' if back else ''}{back}#order-{order.pk}")


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
