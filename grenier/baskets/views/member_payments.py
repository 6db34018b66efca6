"""Members' payments of their baskets' part (coordinators)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from grenier.baskets import access, forms, selectors, services
from grenier.baskets.models import (
    Garden,
    PaymentMethod,
)
from grenier.baskets.views.common import _render
from grenier.core.auth import user_of
from grenier.core.errors import GrenierError
from grenier.core.models import Territory
from grenier.core.pages import PAGE_SIZE, form_errors, idempotency_key
from grenier.core.permissions import Action
from grenier.core.views import territory_page


@territory_page(Action.BASKETS_MANAGE, nav="baskets")
@require_http_methods(["GET", "POST"])
def payments(request: HttpRequest, territory: Territory, garden_id: int) -> HttpResponse:
    found: Garden = access.garden_for(request.user, territory, garden_id)
    q = request.GET.get("q", "").strip()[:100]
    page_obj = Paginator(selectors.member_rows(found, q), PAGE_SIZE).get_page(request.GET.get("page"))
    form = forms.PaymentForm(request.POST or None, initial={"card": request.GET.get("card", "")})
    if not (found.store and found.store.is_approved):
        method: Any = form.fields["method"]
        method.choices = [c for c in PaymentMethod.choices if c[0] != PaymentMethod.CREDIT]
    if request.method == "POST" and form.is_valid():
        try:
            household = services.household_by_card(territory, form.cleaned_data["card"])
            services.member_payment_record(
                garden=found,
                household=household,
                amount_cents=form.cleaned_data["amount"],
                method=PaymentMethod(form.cleaned_data["method"]),
                reference=form.cleaned_data["reference"],
                code=form.cleaned_data["code"] or None,
                idempotency_key=idempotency_key(request),
                actor=user_of(request),
            )
        except GrenierError as exc:
            form_errors(form, exc, {"amount_cents": "amount"})
        else:
            messages.success(request, _("Payment recorded."))
            return redirect("baskets_payments", territory.slug, found.pk)
    return _render(
        request,
        territory,
        "payments.html",
        "garden",
        garden=found,
        form=form,
        page_obj=page_obj,
        rows=page_obj.object_list,
        q=q,
        keep=[],
        recent=list(found.member_payments.select_related("household")[:10]),
        idempotency_key=idempotency_key(request),
    )
