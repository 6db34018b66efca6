"""A member household's own pages: its credit and monthly statement, its card as a QR code, its personal code,
its chosen contribution."""

from __future__ import annotations

import io
from datetime import date

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from grenier.core import permissions
from grenier.core.auth import user_of
from grenier.core.errors import GrenierError
from grenier.core.models import Household, Territory
from grenier.core.months import month_name, parse_month, shift_month
from grenier.core.pages import error_text
from grenier.core.permissions import Action
from grenier.core.views import territory_page
from grenier.fund import forms, selectors, services
from grenier.fund.models import (
    PaymentCode,
)


def _my_household(request: HttpRequest, territory: Territory) -> Household:
    mine = list(
        permissions.visible_households(request.user, territory)
        .filter(persons__user_id=user_of(request).pk, left_on__isnull=True)
        .distinct()
        .order_by("pk")
    )
    if not mine:
        raise Http404(_("You are not a person of any member household in this territory."))
    return mine[0]


def _month_from(request: HttpRequest) -> date:
    today = timezone.localdate().replace(day=1)
    month = parse_month(request.GET.get("month"))
    if month is None or month > today:
        return today
    return month


@territory_page(Action.FUND_OWN_CREDIT, nav="my_credit")
def my_credit(request: HttpRequest, territory: Territory) -> HttpResponse:
    household = _my_household(request, territory)
    month = _month_from(request)
    statement = selectors.household_statement(household, month)
    scale = services.scale_for(territory, timezone.localdate())
    suggested = services.suggested_for(household, timezone.localdate(), scale) if scale else None
    this_month = timezone.localdate().replace(day=1)
    return render(
        request,
        "fund/my_credit.html",
        {
            "territory": territory,
            "household": household,
            "statement": statement,
            "month": month,
            "previous_month": shift_month(month, -1)
            if month > (household.fund_joined_on or household.joined_on).replace(day=1)
            else None,
            "next_month": shift_month(month, 1) if month < this_month else None,
            "card_qr": _card_qr(household.card_number),
            "has_code": PaymentCode.objects.filter(household=household).exists(),
            "code_form": forms.PaymentCodeForm(),
            "scale": scale,
            "suggested": suggested,
            "chosen": household.contribution_choices.order_by("-effective_month").first(),
            "contribution_form": forms.ContributionForm(),
        },
    )


def _card_qr(card_number: str) -> SafeString:
    """The card number as an inline SVG QR code: the till scans it from the member's phone."""
    import segno

    buffer = io.BytesIO()
    segno.make(card_number, error="m").save(
        buffer,
        kind="svg",
        scale=6,
        border=2,
        xmldecl=False,
        svgns=True,
        svgclass="card-qr",
        title=card_number,
    )
    return mark_safe(buffer.getvalue().decode())  # noqa: S308 - produced by segno from 12 digits


@territory_page(Action.FUND_OWN_CREDIT, nav="my_credit")
@require_POST
def my_code(request: HttpRequest, territory: Territory) -> HttpResponse:
    household = _my_household(request, territory)
    form = forms.PaymentCodeForm(request.POST)
    if form.is_valid():
        services.payment_code_set(household=household, code=form.cleaned_data["code"], actor=user_of(request))
        messages.success(request, _("Your personal code is set. The till will ask for it at each payment."))
    else:
        messages.error(
            request, " ".join(str(e) for e in form.errors.get("code", [_("The code is 4 to 6 digits.")]))
        )
    return redirect("fund_my_credit", territory.slug)


@territory_page(Action.FUND_OWN_CREDIT, nav="my_credit")
@require_POST
def my_contribution(request: HttpRequest, territory: Territory) -> HttpResponse:
    household = _my_household(request, territory)
    form = forms.ContributionForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(str(e) for e in form.errors.get("amount", [])))
        return redirect("fund_my_credit", territory.slug)
    next_month = shift_month(timezone.localdate().replace(day=1), 1)
    try:
        services.contribution_choose(
            household=household,
            amount_cents=form.cleaned_data["amount"],
            effective_month=next_month,
            actor=user_of(request),
        )
    except GrenierError as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(
            request,
            _("Your contribution is recorded from %(month)s.") % {"month": month_name(next_month)},
        )
    return redirect("fund_my_credit", territory.slug)
