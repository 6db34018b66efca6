"""The till, on a cashier's phone: take a payment in food credit, its receipt, a refund."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from grenier.core.auth import user_of
from grenier.core.errors import GrenierError, NotFound
from grenier.core.models import Territory
from grenier.core.pages import form_errors, idempotency_key
from grenier.core.permissions import Action
from grenier.core.views import territory_page
from grenier.fund import access, forms, selectors, services


@territory_page(Action.FUND_TAKE_PAYMENTS, nav="till")
@require_http_methods(["GET", "POST"])
def till(request: HttpRequest, territory: Territory) -> HttpResponse:
    stores = access.cashier_stores(request.user, territory)
    form = forms.PaymentForm(request.POST or None, stores=[(s.pk, s.name) for s in stores])
    if request.method == "POST" and form.is_valid():
        store = next(s for s in stores if s.pk == form.cleaned_data["store"])
        try:
            result = services.pay(
                store=store,
                card=form.cleaned_data["card"],
                total_cents=form.cleaned_data["amount"],
                idempotency_key=idempotency_key(request),
                code=form.cleaned_data["code"] or None,
                actor=user_of(request),
            )
        except GrenierError as exc:
            if isinstance(exc, NotFound):  # no household has this card number
                form.add_error("card", exc.detail)
            else:
                form_errors(form, exc, {"amount_cents": "amount", "card": "card", "code": "code"})
        else:
            return redirect("fund_receipt", territory.slug, result.payment.pk)
    recent = []
    if len(stores) == 1:
        recent = list(selectors.store_payments(stores[0], limit=10).select_related("store"))
    return render(
        request,
        "fund/till.html",
        {
            "territory": territory,
            "form": form,
            "stores": stores,
            "recent": recent,
            "idempotency_key": idempotency_key(request),
        },
    )


@territory_page(Action.FUND_TAKE_PAYMENTS, nav="till")
def receipt(request: HttpRequest, territory: Territory, payment_id: int) -> HttpResponse:
    payment = access.store_payment(request.user, territory, payment_id)
    return render(
        request,
        "fund/receipt.html",
        {
            "territory": territory,
            "payment": payment,
            "remaining": services.credit_balance(payment.household),
            "refunds": list(payment.refunds.order_by("created_at")),
            "room": payment.credit_cents - payment.refunded_credit_cents,
        },
    )


@territory_page(Action.FUND_TAKE_PAYMENTS, nav="till")
@require_http_methods(["GET", "POST"])
def refund(request: HttpRequest, territory: Territory, payment_id: int) -> HttpResponse:
    payment = access.store_payment(request.user, territory, payment_id)
    room = payment.credit_cents - payment.refunded_credit_cents
    form = forms.RefundForm(request.POST or None, initial={"amount": f"{room / 100:.2f}".replace(".", ",")})
    if request.method == "POST" and form.is_valid():
        try:
            services.refund(
                payment=payment,
                credit_cents=form.cleaned_data["amount"],
                idempotency_key=idempotency_key(request),
                actor=user_of(request),
            )
        except GrenierError as exc:
            form_errors(form, exc, {"amount_cents": "amount"})
        else:
            messages.success(request, _("Refund recorded: the credit is back on the household's card."))
            return redirect("fund_receipt", territory.slug, payment.pk)
    return render(
        request,
        "fund/refund.html",
        {
            "territory": territory,
            "payment": payment,
            "room": room,
            "form": form,
            "idempotency_key": idempotency_key(request),
        },
    )
