"""A funder's payments against its agreements (coordinators)."""

from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from grenier.baskets import access, forms, selectors, services
from grenier.baskets.models import (
    Agreement,
    FunderPayment,
)
from grenier.baskets.views.common import _parse_day, _render
from grenier.core.auth import user_of
from grenier.core.errors import GrenierError
from grenier.core.models import Territory
from grenier.core.pages import form_errors, idempotency_key
from grenier.core.permissions import Action
from grenier.core.views import territory_page
from grenier.fund.models import Funder


@territory_page(Action.BASKETS_MANAGE, nav="baskets")
@require_http_methods(["GET", "POST"])
def funder_payments(request: HttpRequest, territory: Territory, funder_id: int) -> HttpResponse:
    """Record what a funder paid for a period; what its agreements owe, were paid and have left for it."""
    funder: Funder = access.funder_for(request.user, territory, funder_id)
    today = timezone.localdate()
    start = _parse_day(request.GET.get("start"), date(today.year, 1, 1))
    end = _parse_day(request.GET.get("end"), today)
    agreements = list(
        Agreement.objects.filter(funder=funder).select_related("garden").order_by("garden__name", "priority")
    )
    form = forms.FunderPaymentForm(
        request.POST or None,
        agreements=[(a.pk, f"{a.name} ({a.garden.name})") for a in agreements],
        initial={"start": start, "end": end},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        start, end = data["start"], data["end"]
        try:
            services.funder_payment_record(
                funder=funder,
                start=start,
                end=end,
                amount_cents=data["amount"],
                received_on=data["received_on"],
                reference=data["reference"],
                agreement=next((a for a in agreements if a.pk == data["agreement"]), None),
                idempotency_key=idempotency_key(request),
                actor=user_of(request),
            )
        except GrenierError as exc:
            form_errors(form, exc, {"amount_cents": "amount"})
        else:
            messages.success(request, _("Payment recorded."))
            return redirect(
                reverse("baskets_funder_payments", args=[territory.slug, funder.pk])
                + f"?start={start.isoformat()}&end={end.isoformat()}"
            )
    dues = selectors.funder_dues(funder, start, end) if start <= end else []
    return _render(
        request,
        territory,
        "funder_payments.html",
        "statements",
        funder=funder,
        form=form,
        start=start,
        end=end,
        dues=dues,
        due_cents=sum(d.due_cents for d in dues),
        paid_cents=sum(d.paid_cents for d in dues),
        left_cents=sum(d.left_cents for d in dues),
        payments=list(FunderPayment.objects.filter(funder=funder).prefetch_related("parts__agreement")[:20]),
        idempotency_key=idempotency_key(request),
    )
