"""Pages of the solidarity baskets, under ``/t/<territory>/baskets/``.

A coordinator runs the gardens (forecast, agreements, subscriptions, the week's sheets, payments, workshops); a
social worker refers households and follows their own referrals; a member household manages its basket (absences,
pause, stop); a volunteer checks a pickup point's sheet off on a phone; funders and the committee read statements
and the yearly report. Every page resolves the territory through ``territory_page``; what a person acts for is
answered by ``baskets.access`` (404 for what is not theirs, 403 for a role that may not); services decide.
"""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from grenier.baskets import access, documents, forms, selectors, services
from grenier.baskets.models import (
    Agreement,
    BasketOffer,
    BasketSize,
    DistributionLine,
    DistributionSheet,
    Frequency,
    FunderPayment,
    Garden,
    GardenMembership,
    LineStatus,
    PaymentMethod,
    PickupPoint,
    Referral,
    ReferralStatus,
    Subscription,
    WorkshopKind,
)
from grenier.baskets.wording import in_sentence
from grenier.core import permissions
from grenier.core.auth import user_of
from grenier.core.errors import GrenierError, InvalidInput
from grenier.core.models import Household, Role, Territory, User
from grenier.core.pages import PAGE_SIZE, error_text, form_errors, idempotency_key
from grenier.core.permissions import Action
from grenier.core.views import territory_page
from grenier.fund.models import Funder, Store

BASKET_ACTIONS = (
    Action.BASKETS_MANAGE,
    Action.BASKETS_FIGURES,
    Action.BASKETS_REFER,
    Action.BASKETS_DISTRIBUTE,
    Action.BASKETS_OWN,
)


# --- helpers -------------------------------------------------------------------------------------------------------


# The garden's page holds its budget, its week and its offers above and below its subscriptions: a shorter page of
# them keeps it readable on a phone (issue 13, item 11); the search finds the others.
GARDEN_PAGE_SIZE = 10


def _can(request: HttpRequest, territory: Territory) -> dict[str, bool]:
    user = request.user
    return {
        "manage": permissions.can(user, territory, Action.BASKETS_MANAGE),
        "figures": permissions.can(user, territory, Action.BASKETS_FIGURES),
        "refer": permissions.can(user, territory, Action.BASKETS_REFER),
        "distribute": permissions.can(user, territory, Action.BASKETS_DISTRIBUTE),
        "own": permissions.can(user, territory, Action.BASKETS_OWN),
    }


def _require(request: HttpRequest, territory: Territory, *actions: Action) -> None:
    """403 unless one of the person's roles allows one of ``actions`` (``territory_page`` already gave 404)."""
    if not any(permissions.can(request.user, territory, action) for action in actions):
        raise PermissionDenied(_("Your role in this territory does not allow this."))


def _render(
    request: HttpRequest, territory: Territory, template: str, page: str, **context: Any
) -> HttpResponse:
    return render(
        request,
        f"baskets/{template}",
        {"territory": territory, "page": page, "can": _can(request, territory), **context},
    )


def _parse_day(raw: str | None, default: date) -> date:
    try:
        return date.fromisoformat(raw) if raw else default
    except ValueError:
        return default


# --- home ----------------------------------------------------------------------------------------------------------


@territory_page(Action.VIEW_TERRITORY, nav="baskets")
def home(request: HttpRequest, territory: Territory) -> HttpResponse:
    _require(request, territory, *BASKET_ACTIONS)
    user = user_of(request)
    today = timezone.localdate()
    gardens = []
    for garden in access.gardens_of(user, territory).order_by("name"):
        forecast = selectors.budget_forecast(garden, today)
        gardens.append(
            {
                "garden": garden,
                "first_short": forecast.first_short,
                "subscriptions": Subscription.objects.filter(
                    offer__garden=garden, stopped_on__isnull=True
                ).count(),
            }
        )
    points = access.pickup_points_of(user, territory)
    sheets = (
        list(selectors.sheets_for_points(points, today)) if _can(request, territory)["distribute"] else []
    )
    referrals = list(access.referrals_of(user, territory).select_related("household", "garden")[:5])
    own = list(
        access.subscriptions_of(user, territory).filter(stopped_on__isnull=True).select_related("offer")
        if permissions.can(user, territory, Action.BASKETS_OWN) and not access.manages(user, territory)
        else []
    )
    return _render(
        request,
        territory,
        "home.html",
        "home",
        gardens=gardens,
        sheets=sheets,
        referrals=referrals,
        own=own,
    )


# --- a garden (coordinators) ---------------------------------------------------------------------------------------


@territory_page(Action.BASKETS_MANAGE, nav="baskets")
def garden(request: HttpRequest, territory: Territory, garden_id: int) -> HttpResponse:
    found: Garden = access.garden_for(request.user, territory, garden_id)
    today = timezone.localdate()
    forecast = selectors.budget_forecast(found, today)
    agreements = list(
        Agreement.objects.filter(garden=found).select_related("funder").order_by("priority", "id")
    )
    for agreement in agreements:
        agreement.left_at_end = forecast.left_at_end.get(agreement.pk, agreement.left_cents)  # type: ignore[attr-defined]
        agreement.runs_out = forecast.runs_out.get(agreement.pk)  # type: ignore[attr-defined]
    all_subscriptions = Subscription.objects.filter(offer__garden=found)
    q = request.GET.get("q", "").strip()[:100]
    page_obj = Paginator(
        all_subscriptions.filter(household__in=selectors.households_matching(Household.objects.all(), q))
        .select_related("household", "offer", "pickup_point")
        .order_by("stopped_on", "household__name", "pk"),
        GARDEN_PAGE_SIZE,
    ).get_page(request.GET.get("page"))
    return _render(
        request,
        territory,
        "garden.html",
        "garden",
        garden=found,
        forecast=forecast,
        agreements=agreements,
        offers=list(found.offers.all()),
        points=list(found.pickup_points.prefetch_related("volunteers")),
        subscriptions=list(page_obj),
        page_obj=page_obj,
        q=q,
        keep=[],
        active_count=all_subscriptions.filter(stopped_on__isnull=True, paused_from__isnull=True).count(),
        generate_form=forms.GenerateForm(initial={"day": today}),
        workshop_form=forms.WorkshopForm(),
        workshops=list(found.workshops.all()[:10]),
        settings=selectors.settings_of(territory),
        cap_percent=f"{selectors.settings_of(territory).member_cap_bp / 100:g}",
    )


@territory_page(Action.BASKETS_MANAGE, nav="baskets")
@require_POST
def generate(request: HttpRequest, territory: Territory, garden_id: int) -> HttpResponse:
    found: Garden = access.garden_for(request.user, territory, garden_id)
    form = forms.GenerateForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give a date."))
        return redirect("baskets_garden", territory.slug, found.pk)
    result = services.distribution_generate(
        garden=found, day=form.cleaned_data["day"], actor=user_of(request)
    )
    messages.success(
        request,
        _("%(sheets)s sheets ready, %(lines)s new baskets.")
        % {"sheets": len(result.sheets), "lines": result.lines_created},
    )
    if result.warned:
        messages.warning(request, _("The budgets will run short soon: the coordinators were told by e-mail."))
    return redirect("baskets_garden", territory.slug, found.pk)


@territory_page(Action.BASKETS_MANAGE, nav="baskets")
@require_POST
def workshop(request: HttpRequest, territory: Territory, garden_id: int) -> HttpResponse:
    found: Garden = access.garden_for(request.user, territory, garden_id)
    form = forms.WorkshopForm(request.POST)
    if form.is_valid():
        try:
            services.workshop_record(
                garden=found,
                on=form.cleaned_data["on"],
                title=form.cleaned_data["title"],
                kind=WorkshopKind(form.cleaned_data["kind"]),
                participants=form.cleaned_data["participants"],
                actor=user_of(request),
            )
        except GrenierError as exc:
            messages.error(request, error_text(exc))
        else:
            messages.success(request, _("Workshop recorded."))
    else:
        messages.error(request, _("The workshop could not be recorded."))
    return redirect("baskets_garden", territory.slug, found.pk)


def _offer_choices(found: Garden) -> list[tuple[int, str]]:
    from grenier.core.money import format_cents

    return [
        (o.pk, f"{o.name} — {format_cents(o.price_cents)} ({o.get_weekday_display()})")
        for o in found.offers.filter(active=True)
    ]


def _member_offer_choices(found: Garden, household: Household) -> list[tuple[int, str]]:
    """The offers as a member sees them: its own part first (the cap, or its referral's lower share)."""
    from grenier.baskets.split import member_part
    from grenier.core.money import format_cents

    share = selectors.settings_of(found.territory).member_cap_bp
    referral = (
        Referral.objects.filter(
            garden=found, household=household, member_share_bp__isnull=False, status=ReferralStatus.OPEN
        )
        .order_by("-created_at", "-id")
        .first()
    )
    if referral is not None and referral.member_share_bp is not None:
        share = min(share, referral.member_share_bp)
    return [
        (
            o.pk,
            _("%(name)s — you pay %(part)s (price %(price)s) · %(day)s")
            % {
                "name": o.name,
                "part": format_cents(member_part(o.price_cents, share)),
                "price": format_cents(o.price_cents),
                "day": in_sentence(o.get_weekday_display()),
            },
        )
        for o in found.offers.filter(active=True)
    ]


def _point_choices(found: Garden) -> list[tuple[int, str]]:
    return [
        (p.pk, f"{p.name} — {p.get_weekday_display()} {p.opens_at:%H:%M}")
        for p in found.pickup_points.filter(active=True)
    ]


@territory_page(Action.BASKETS_MANAGE, nav="baskets")
@require_http_methods(["GET", "POST"])
def subscribe(request: HttpRequest, territory: Territory, garden_id: int) -> HttpResponse:
    """A coordinator subscribes a household of the garden (a referred one, usually)."""
    found: Garden = access.garden_for(request.user, territory, garden_id)
    members = Household.objects.filter(
        garden_memberships__garden=found, garden_memberships__left_on__isnull=True, left_on__isnull=True
    ).order_by("name", "pk")
    q = request.GET.get("q", "").strip()[:100]
    chosen = request.POST.get("household") or request.GET.get("household")
    shown = selectors.households_matching(members, q)
    if chosen and str(chosen).isdigit():
        shown = shown | members.filter(pk=int(chosen))
    form = forms.SubscribeForm(
        request.POST or None,
        offers=_offer_choices(found),
        points=_point_choices(found),
        households=[(h.pk, selectors.household_label(h)) for h in shown.distinct()],
        initial={"household": request.GET.get("household")},
    )
    if request.method == "POST" and form.is_valid():
        household = members.filter(pk=form.cleaned_data["household"]).first()
        try:
            subscription = services.subscription_create(
                household=household,  # type: ignore[arg-type]
                offer=BasketOffer.objects.get(garden=found, pk=form.cleaned_data["offer"]),
                pickup_point=PickupPoint.objects.get(garden=found, pk=form.cleaned_data["pickup_point"]),
                frequency=Frequency(form.cleaned_data["frequency"]),
                start_on=form.cleaned_data["start_on"],
                actor=user_of(request),
                idempotency_key=idempotency_key(request),
            )
        except GrenierError as exc:
            form_errors(form, exc)
        else:
            messages.success(request, _("Subscription recorded."))
            return redirect("baskets_subscription", territory.slug, subscription.pk)
    return _render(
        request,
        territory,
        "subscribe.html",
        "garden",
        garden=found,
        form=form,
        idempotency_key=idempotency_key(request),
        q=q,
        keep=[],
    )


# --- a subscription (its household or a coordinator) ---------------------------------------------------------------


@territory_page(Action.VIEW_TERRITORY, nav="baskets")
@require_http_methods(["GET", "POST"])
def subscription(request: HttpRequest, territory: Territory, subscription_id: int) -> HttpResponse:
    _require(request, territory, Action.BASKETS_MANAGE, Action.BASKETS_OWN)
    found: Subscription = access.subscription_for(request.user, territory, subscription_id)
    actor = user_of(request)
    form = forms.DayForm(request.POST or None)
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            if action == "pause":
                until = _parse_day(request.POST.get("until"), date.min)
                services.subscription_pause(
                    subscription=found, actor=actor, until=None if until == date.min else until
                )
            elif action == "resume":
                services.subscription_resume(subscription=found, actor=actor)
            elif action == "stop":
                if request.POST.get("confirm") != "1":
                    raise InvalidInput(
                        _("Tick the box to confirm: a stopped basket cannot be restarted."),
                        errors={"confirm": [_("This field is required.")]},
                    )
                services.subscription_stop(subscription=found, actor=actor)
            elif action in ("absent", "present") and form.is_valid():
                if action == "absent":
                    services.absence_add(subscription=found, on=form.cleaned_data["on"], actor=actor)
                else:
                    services.absence_remove(subscription=found, on=form.cleaned_data["on"], actor=actor)
            else:
                raise Http404(_("Unknown action."))
        except GrenierError as exc:
            messages.error(request, error_text(exc))
        else:
            messages.success(request, _("Saved."))
        return redirect("baskets_subscription", territory.slug, found.pk)
    today = timezone.localdate()
    garden_ = found.offer.garden
    balance = selectors.member_balance(garden_, found.household)
    return _render(
        request,
        territory,
        "subscription.html",
        "mine" if not access.manages(request.user, territory) else "garden",
        subscription=found,
        upcoming=selectors.next_baskets(found, today, count=6),
        on_sheet=set(found.lines.filter(on__gte=today).values_list("on", flat=True)),
        lines=list(found.lines.order_by("-on")[:8]),
        balance=balance,
        balance_abs=abs(balance),
        form=forms.DayForm(),
        today=today,
        own=access.own_households(request.user, territory).filter(pk=found.household_id).exists(),
    )


@territory_page(Action.BASKETS_OWN, nav="baskets")
@require_http_methods(["GET", "POST"])
def mine(request: HttpRequest, territory: Territory) -> HttpResponse:
    """A member household's baskets: its subscriptions, what it owes, and taking a basket at its gardens."""
    user = user_of(request)
    households = list(access.own_households(user, territory))
    memberships = list(
        GardenMembership.objects.filter(household__in=households, left_on__isnull=True).select_related(
            "garden", "household"
        )
    )
    running = set(
        Subscription.objects.filter(household__in=households, stopped_on__isnull=True).values_list(
            "offer__garden_id", flat=True
        )
    )
    # a household takes a basket at a garden where it has none running (one basket per garden)
    gardens = {m.garden_id: m.garden for m in memberships if m.garden_id not in running}
    subscribe_form = None
    chosen: Garden | None = next(iter(gardens.values()), None)
    if chosen is not None and households:
        household_ = next(m.household for m in memberships if m.garden_id == chosen.pk)
        subscribe_form = forms.SubscribeForm(
            request.POST or None,
            offers=_member_offer_choices(chosen, household_),
            points=_point_choices(chosen),
        )
        if request.method == "POST" and subscribe_form.is_valid():
            household = next(m.household for m in memberships if m.garden_id == chosen.pk)
            try:
                services.subscription_create(
                    household=household,
                    offer=BasketOffer.objects.get(garden=chosen, pk=subscribe_form.cleaned_data["offer"]),
                    pickup_point=PickupPoint.objects.get(
                        garden=chosen, pk=subscribe_form.cleaned_data["pickup_point"]
                    ),
                    frequency=Frequency(subscribe_form.cleaned_data["frequency"]),
                    start_on=subscribe_form.cleaned_data["start_on"],
                    actor=user,
                    idempotency_key=idempotency_key(request),
                )
            except GrenierError as exc:
                form_errors(subscribe_form, exc)
            else:
                messages.success(request, _("Subscription recorded."))
                return redirect("baskets_mine", territory.slug)
    elif request.method == "POST":
        raise PermissionDenied(_("Your household has no garden to take a basket at."))
    subscriptions = list(
        Subscription.objects.filter(household__in=households)
        .select_related("offer__garden", "pickup_point", "household")
        .order_by("stopped_on", "-start_on")
    )
    balances = [
        (m.garden, b, abs(b)) for m in memberships for b in [selectors.member_balance(m.garden, m.household)]
    ]
    return _render(
        request,
        territory,
        "mine.html",
        "mine",
        subscriptions=subscriptions,
        balances=balances,
        garden=chosen,
        form=subscribe_form,
        idempotency_key=idempotency_key(request),
    )


# --- referrals -----------------------------------------------------------------------------------------------------


@territory_page(Action.VIEW_TERRITORY, nav="baskets")
def referrals(request: HttpRequest, territory: Territory) -> HttpResponse:
    _require(request, territory, Action.BASKETS_REFER, Action.BASKETS_MANAGE)
    q = request.GET.get("q", "").strip()[:100]
    page_obj = Paginator(
        access.referrals_of(request.user, territory)
        .filter(household__in=selectors.households_matching(Household.objects.all(), q))
        .select_related("household", "garden", "social_worker"),
        PAGE_SIZE,
    ).get_page(request.GET.get("page"))
    rows = list(page_obj)
    for referral in rows:
        referral.status = selectors.referral_status(referral)
    return _render(
        request, territory, "referrals.html", "referrals", referrals=rows, page_obj=page_obj, q=q, keep=[]
    )


@territory_page(Action.BASKETS_REFER, nav="baskets")
@require_http_methods(["GET", "POST"])
def referral_new(request: HttpRequest, territory: Territory) -> HttpResponse:
    gardens = list(Garden.objects.filter(territory=territory).order_by("name"))
    form = forms.ReferralForm(request.POST or None, gardens=[(g.pk, g.name) for g in gardens])
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        new = (
            services.NewHousehold(
                name=data["name"],
                first_name=data["first_name"],
                persons=data["persons"] or 1,
                phone=data["phone"],
            )
            if not data["card"].strip()
            else None
        )
        share = data["member_share_percent"]
        try:
            referral = services.referral_create(
                garden=next(g for g in gardens if g.pk == data["garden"]),
                social_worker=user_of(request),
                consent=data["consent"],
                idempotency_key=idempotency_key(request),
                card=data["card"],
                new_household=new,
                member_share_bp=share * 100 if share is not None else None,
                note=data["note"],
            )
        except GrenierError as exc:
            form_errors(form, exc, {"member_share_bp": "member_share_percent"})
        else:
            messages.success(request, _("Referral recorded: the household is now a member of the garden."))
            return redirect("baskets_referral", territory.slug, referral.pk)
    return _render(
        request,
        territory,
        "referral_new.html",
        "referrals",
        form=form,
        idempotency_key=idempotency_key(request),
    )


@territory_page(Action.VIEW_TERRITORY, nav="baskets")
@require_http_methods(["GET", "POST"])
def referral(request: HttpRequest, territory: Territory, referral_id: int) -> HttpResponse:
    _require(request, territory, Action.BASKETS_REFER, Action.BASKETS_MANAGE)
    found = access.referral_for(request.user, territory, referral_id)
    subscriptions = list(
        Subscription.objects.filter(household=found.household, offer__garden=found.garden).select_related(
            "offer", "pickup_point"
        )
    )
    if request.method == "POST":
        if request.POST.get("action") != "withdraw" or found.social_worker_id != request.user.pk:
            raise PermissionDenied(_("Only the social worker who made a referral may withdraw it."))
        services.referral_withdraw(referral=found, actor=user_of(request))
        messages.success(request, _("Referral withdrawn."))
        return redirect("baskets_referral", territory.slug, found.pk)
    return _render(
        request,
        territory,
        "referral.html",
        "referrals",
        referral=found,
        persons=found.household.persons.count(),
        mine=found.social_worker_id == request.user.pk,
        status=selectors.referral_status(found),
        subscriptions=subscriptions,
        manage=access.manages(request.user, territory),
    )


# --- distribution sheets (volunteers at their pickup points, coordinators) -----------------------------------------


@territory_page(Action.BASKETS_DISTRIBUTE, nav="baskets")
def sheets(request: HttpRequest, territory: Territory) -> HttpResponse:
    today = timezone.localdate()
    points = access.pickup_points_of(request.user, territory)
    return _render(
        request,
        territory,
        "sheets.html",
        "sheets",
        sheets=list(selectors.sheets_for_points(points, today)),
        points=list(points.select_related("garden")),
        today=today,
    )


def _sheet_lines(sheet: DistributionSheet) -> list[DistributionLine]:
    return list(
        sheet.lines.select_related("household", "offer", "subscription").order_by("household__name", "pk")
    )


@territory_page(Action.BASKETS_DISTRIBUTE, nav="baskets")
def sheet(request: HttpRequest, territory: Territory, sheet_id: int) -> HttpResponse:
    found: DistributionSheet = access.sheet_for(request.user, territory, sheet_id)
    lines = _sheet_lines(found)
    return _render(
        request,
        territory,
        "sheet.html",
        "sheets",
        sheet=found,
        lines=lines,
        early=found.on > timezone.localdate(),
        can_reopen=found.closed_at is not None
        and access.manages(request.user, territory)
        and timezone.now() - found.closed_at <= timedelta(days=services.REOPEN_DAYS),
        collected=sum(1 for line in lines if line.status == LineStatus.COLLECTED),
        unclaimed=sum(1 for line in lines if line.status == LineStatus.UNCLAIMED),
    )


@territory_page(Action.BASKETS_DISTRIBUTE, nav="baskets")
@require_POST
def sheet_line(request: HttpRequest, territory: Territory, sheet_id: int, line_id: int) -> HttpResponse:
    found: DistributionSheet = access.sheet_for(request.user, territory, sheet_id)
    line = found.lines.filter(pk=line_id).first()
    if line is None:
        raise Http404(_("No such line on this sheet."))
    try:
        services.line_check(line=line, collected=request.POST.get("collected") == "1", actor=user_of(request))
    except GrenierError as exc:
        messages.error(request, error_text(exc))
    return redirect(f"{_sheet_url(territory, found)}#line-{line.pk}")


def _sheet_url(territory: Territory, found: DistributionSheet) -> str:
    return reverse("baskets_sheet", args=[territory.slug, found.pk])


@territory_page(Action.BASKETS_DISTRIBUTE, nav="baskets")
@require_POST
def sheet_close(request: HttpRequest, territory: Territory, sheet_id: int) -> HttpResponse:
    found: DistributionSheet = access.sheet_for(request.user, territory, sheet_id)
    try:
        services.sheet_close(sheet=found, actor=user_of(request))
    except GrenierError as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(request, _("Sheet closed: the baskets not collected are recorded unclaimed."))
    return redirect("baskets_sheet", territory.slug, found.pk)


@territory_page(Action.BASKETS_MANAGE, nav="baskets")
@require_POST
def sheet_reopen(request: HttpRequest, territory: Territory, sheet_id: int) -> HttpResponse:
    found: DistributionSheet = access.sheet_for(request.user, territory, sheet_id)
    access.garden_for(request.user, territory, found.pickup_point.garden_id)
    try:
        services.sheet_reopen(sheet=found, actor=user_of(request))
    except GrenierError as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(request, _("Sheet reopened: the baskets recorded unclaimed are to collect again."))
    return redirect("baskets_sheet", territory.slug, found.pk)


@territory_page(Action.BASKETS_DISTRIBUTE, nav="baskets")
def sheet_pdf(request: HttpRequest, territory: Territory, sheet_id: int) -> HttpResponse:
    found: DistributionSheet = access.sheet_for(request.user, territory, sheet_id)
    response = HttpResponse(documents.sheet_pdf(found, _sheet_lines(found)), content_type="application/pdf")
    response["Content-Disposition"] = (
        f'inline; filename="feuille-{found.pickup_point_id}-{found.on:%Y-%m-%d}.pdf"'
    )
    return response


# --- members' payments (coordinators) ------------------------------------------------------------------------------


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


# --- statements and the yearly report ------------------------------------------------------------------------------


def _statement_from(
    request: HttpRequest, territory: Territory
) -> tuple[forms.PeriodForm, selectors.Statement | None]:
    funders = list(access.funders_of(request.user, territory).order_by("name"))
    # the first funder with an agreement is shown by default, not one with nothing to show
    with_agreements = set(Agreement.objects.filter(funder__in=funders).values_list("funder_id", flat=True))
    default = next((f for f in funders if f.pk in with_agreements), funders[0] if funders else None)
    today = timezone.localdate()
    data: Any = None
    if "funder" in request.GET:
        # a download or a link without dates: the current year so far
        data = request.GET.copy()
        for name, value in (("start", date(today.year, 1, 1)), ("end", today)):
            if not data.get(name):
                data[name] = value.isoformat()
    form = forms.PeriodForm(
        data,
        funders=[(f.pk, f.name) for f in funders],
        initial={
            "funder": default.pk if default else None,
            "start": date(today.year, 1, 1),
            "end": today,
        },
    )
    if data is None and default is not None:
        return form, selectors.statement(default, date(today.year, 1, 1), today)
    if form.is_valid():
        funder = access.funder_for(request.user, territory, form.cleaned_data["funder"])
        return form, selectors.statement(funder, form.cleaned_data["start"], form.cleaned_data["end"])
    if data is not None and "funder" in form.errors:
        raise Http404(_("This funder does not exist or you may not read its statements."))
    return form, None


@territory_page(Action.BASKETS_FIGURES, nav="baskets")
def statements(request: HttpRequest, territory: Territory) -> HttpResponse:
    form, statement = _statement_from(request, territory)
    return _render(
        request,
        territory,
        "statements.html",
        "statements",
        form=form,
        statement=statement,
        query=request.GET.urlencode()
        or (
            f"funder={statement.funder.pk}&start={statement.start.isoformat()}&end={statement.end.isoformat()}"
            if statement
            else ""
        ),
    )


@territory_page(Action.BASKETS_FIGURES, nav="baskets")
def statement_csv(request: HttpRequest, territory: Territory) -> HttpResponse:
    _form, statement = _statement_from(request, territory)
    if statement is None:
        raise Http404(_("Choose a funder and a period."))
    part = request.GET.get("part") or "baskets"
    if part not in documents.STATEMENT_CSV_PARTS:
        raise Http404(_("No such table."))
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=";").writerows(documents.statement_csv_rows(statement, part))
    response = HttpResponse(buffer.getvalue().encode("utf-8-sig"), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="releve-{part}-{statement.funder.pk}-{statement.start:%Y%m%d}-{statement.end:%Y%m%d}.csv"'
    )
    return response


@territory_page(Action.BASKETS_FIGURES, nav="baskets")
def statement_pdf(request: HttpRequest, territory: Territory) -> HttpResponse:
    _form, statement = _statement_from(request, territory)
    if statement is None:
        raise Http404(_("Choose a funder and a period."))
    response = HttpResponse(documents.statement_pdf(statement), content_type="application/pdf")
    response["Content-Disposition"] = (
        f'inline; filename="releve-{statement.funder.pk}-{statement.start:%Y%m%d}-{statement.end:%Y%m%d}.pdf"'
    )
    return response


@territory_page(Action.BASKETS_FIGURES, nav="baskets")
def report(request: HttpRequest, territory: Territory) -> HttpResponse:
    today = timezone.localdate()
    try:
        year = int(request.GET.get("year") or today.year)
    except ValueError:
        year = today.year
    year = min(max(year, 2000), today.year + 1)
    restricted = not (
        access.manages(request.user, territory)
        or "committee" in permissions.roles_of(request.user, territory)
    )
    figures = selectors.year_report(
        territory, year, funders=access.funders_of(request.user, territory) if restricted else None
    )
    kinds = dict(WorkshopKind.choices)
    return _render(
        request,
        territory,
        "report.html",
        "report",
        report=figures,
        year=year,
        years=list(range(today.year, today.year - 5, -1)),
        kinds=[(kinds.get(kind, kind), count) for kind, count in figures.workshops_by_kind],
        restricted=restricted,
    )


# --- the coordinator's reference data: gardens, offers, pickup points, agreements, settings ------------------------


def _form_page(
    request: HttpRequest,
    territory: Territory,
    form: Any,
    *,
    title: str,
    submit: str,
    back: tuple[str, str],
    page: str = "garden",
    key: bool = True,
    **context: Any,
) -> HttpResponse:
    return _render(
        request,
        territory,
        "form_page.html",
        page,
        form=form,
        title=title,
        submit=submit,
        back_url=back[0],
        back_label=back[1],
        idempotency_key=idempotency_key(request) if key else "",
        **context,
    )


def _garden_url(territory: Territory, found: Garden) -> str:
    return reverse("baskets_garden", args=[territory.slug, found.pk])


def _stores(territory: Territory) -> list[tuple[int, str]]:
    return [(s.pk, s.name) for s in Store.objects.filter(territory=territory).order_by("name")]


@territory_page(Action.BASKETS_MANAGE, nav="baskets")
@require_http_methods(["GET", "POST"])
def garden_new(request: HttpRequest, territory: Territory) -> HttpResponse:
    form = forms.GardenForm(request.POST or None, stores=_stores(territory))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            created = services.garden_create(
                territory=territory,
                name=data["name"],
                address=data["address"],
                store=Store.objects.filter(territory=territory, pk=data["store"]).first()
                if data["store"]
                else None,
                actor=user_of(request),
                idempotency_key=idempotency_key(request),
            )
        except GrenierError as exc:
            form_errors(form, exc)
        else:
            messages.success(request, _("Garden recorded."))
            return redirect("baskets_garden", territory.slug, created.pk)
    return _form_page(
        request,
        territory,
        form,
        title=_("New garden"),
        submit=_("Record the garden"),
        back=(reverse("baskets_home", args=[territory.slug]), _("Solidarity baskets")),
    )


@territory_page(Action.BASKETS_MANAGE, nav="baskets")
@require_http_methods(["GET", "POST"])
def garden_edit(request: HttpRequest, territory: Territory, garden_id: int) -> HttpResponse:
    found: Garden = access.garden_for(request.user, territory, garden_id)
    form = forms.GardenForm(
        request.POST or None,
        stores=_stores(territory),
        initial={"name": found.name, "address": found.address, "store": found.store_id},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.garden_update(
                garden=found,
                name=data["name"],
                address=data["address"],
                store=Store.objects.filter(territory=territory, pk=data["store"]).first()
                if data["store"]
                else None,
                actor=user_of(request),
            )
        except GrenierError as exc:
            form_errors(form, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("baskets_garden", territory.slug, found.pk)
    return _form_page(
        request,
        territory,
        form,
        title=_("Edit the garden"),
        submit=_("Save"),
        back=(_garden_url(territory, found), found.name),
        key=False,
    )


def _offer_input(data: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": data["name"],
        "size": BasketSize(data["size"]),
        "price_cents": data["price"],
        "season_start": data["season_start"],
        "season_end": data["season_end"],
        "weekday": data["weekday"],
    }


@territory_page(Action.BASKETS_MANAGE, nav="baskets")
@require_http_methods(["GET", "POST"])
def offer_new(request: HttpRequest, territory: Territory, garden_id: int) -> HttpResponse:
    found: Garden = access.garden_for(request.user, territory, garden_id)
    form = forms.OfferForm(request.POST or None, initial={"weekday": 3})
    form.fields.pop("active")
    if request.method == "POST" and form.is_valid():
        try:
            services.offer_create(
                garden=found,
                **_offer_input(form.cleaned_data),
                actor=user_of(request),
                idempotency_key=idempotency_key(request),
            )
        except GrenierError as exc:
            form_errors(form, exc, {"price_cents": "price"})
        else:
            messages.success(request, _("Offer recorded."))
            return redirect("baskets_garden", territory.slug, found.pk)
    return _form_page(
        request,
        territory,
        form,
        title=_("New basket offer"),
        submit=_("Record the offer"),
        back=(_garden_url(territory, found), found.name),
    )


@territory_page(Action.BASKETS_MANAGE, nav="baskets")
@require_http_methods(["GET", "POST"])
def offer_edit(request: HttpRequest, territory: Territory, garden_id: int, offer_id: int) -> HttpResponse:
    found: Garden = access.garden_for(request.user, territory, garden_id)
    offer: BasketOffer = access.offer_for(request.user, territory, found, offer_id)
    form = forms.OfferForm(
        request.POST or None,
        initial={
            "name": offer.name,
            "size": offer.size,
            "price": forms.euros_text(offer.price_cents),
            "season_start": offer.season_start,
            "season_end": offer.season_end,
            "weekday": offer.weekday,
            "active": offer.active,
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.offer_update(
                offer=offer,
                **_offer_input(form.cleaned_data),
                active=form.cleaned_data["active"],
                actor=user_of(request),
            )
        except GrenierError as exc:
            form_errors(form, exc, {"price_cents": "price"})
        else:
            messages.success(request, _("Saved."))
            return redirect("baskets_garden", territory.slug, found.pk)
    return _form_page(
        request,
        territory,
        form,
        title=offer.name,
        submit=_("Save"),
        back=(_garden_url(territory, found), found.name),
        key=False,
    )


def _cashiers(territory: Territory) -> list[tuple[int, str]]:
    people = (
        User.objects.filter(
            territory_roles__territory=territory, territory_roles__role=Role.CASHIER, is_active=True
        )
        .distinct()
        .order_by("display_name", "email")
    )
    return [(u.pk, str(u)) for u in people]


def _volunteers(territory: Territory, ids: list[int]) -> list[User]:
    return list(User.objects.filter(pk__in=ids)) if ids else []


@territory_page(Action.BASKETS_MANAGE, nav="baskets")
@require_http_methods(["GET", "POST"])
def point_new(request: HttpRequest, territory: Territory, garden_id: int) -> HttpResponse:
    found: Garden = access.garden_for(request.user, territory, garden_id)
    form = forms.PickupPointForm(request.POST or None, cashiers=_cashiers(territory), initial={"weekday": 3})
    form.fields.pop("active")
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.pickup_point_create(
                garden=found,
                name=data["name"],
                address=data["address"],
                weekday=data["weekday"],
                opens_at=data["opens_at"],
                volunteers=_volunteers(territory, data["volunteers"]),
                actor=user_of(request),
                idempotency_key=idempotency_key(request),
            )
        except GrenierError as exc:
            form_errors(form, exc)
        else:
            messages.success(request, _("Pickup point recorded."))
            return redirect("baskets_garden", territory.slug, found.pk)
    return _form_page(
        request,
        territory,
        form,
        title=_("New pickup point"),
        submit=_("Record the pickup point"),
        back=(_garden_url(territory, found), found.name),
    )


@territory_page(Action.BASKETS_MANAGE, nav="baskets")
@require_http_methods(["GET", "POST"])
def point_edit(request: HttpRequest, territory: Territory, garden_id: int, point_id: int) -> HttpResponse:
    found: Garden = access.garden_for(request.user, territory, garden_id)
    point: PickupPoint = access.pickup_point_for(request.user, territory, found, point_id)
    form = forms.PickupPointForm(
        request.POST or None,
        cashiers=_cashiers(territory),
        initial={
            "name": point.name,
            "address": point.address,
            "weekday": point.weekday,
            "opens_at": point.opens_at,
            "volunteers": list(point.volunteers.values_list("pk", flat=True)),
            "active": point.active,
        },
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.pickup_point_update(
                pickup_point=point,
                name=data["name"],
                address=data["address"],
                weekday=data["weekday"],
                opens_at=data["opens_at"],
                volunteers=_volunteers(territory, data["volunteers"]),
                active=data["active"],
                actor=user_of(request),
            )
        except GrenierError as exc:
            form_errors(form, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("baskets_garden", territory.slug, found.pk)
    return _form_page(
        request,
        territory,
        form,
        title=point.name,
        submit=_("Save"),
        back=(_garden_url(territory, found), found.name),
        key=False,
    )


def _funders(territory: Territory) -> list[Funder]:
    return list(Funder.objects.filter(territory=territory).order_by("name"))


def _agreement_input(data: dict[str, Any], funders: list[Funder]) -> dict[str, Any]:
    share = data["share_percent"]
    return {
        "funder": next(f for f in funders if f.pk == data["funder"]),
        "name": data["name"],
        "share_bp": int(share * 100) if share is not None else None,
        "amount_per_basket_cents": data["amount_per_basket"],
        "budget_cents": data["budget"],
        "starts_on": data["starts_on"],
        "ends_on": data["ends_on"],
        "priority": data["priority"],
    }


AGREEMENT_FIELDS = {
    "share_bp": "share_percent",
    "amount_per_basket_cents": "amount_per_basket",
    "budget_cents": "budget",
}


@territory_page(Action.BASKETS_MANAGE, nav="baskets")
@require_http_methods(["GET", "POST"])
def agreement_new(request: HttpRequest, territory: Territory, garden_id: int) -> HttpResponse:
    found: Garden = access.garden_for(request.user, territory, garden_id)
    funders = _funders(territory)
    form = forms.AgreementForm(
        request.POST or None,
        funders=[(f.pk, f.name) for f in funders],
        initial={"priority": (found.agreements.count() or 0) + 1},
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.agreement_create(
                garden=found,
                **_agreement_input(form.cleaned_data, funders),
                actor=user_of(request),
                idempotency_key=idempotency_key(request),
            )
        except GrenierError as exc:
            form_errors(form, exc, AGREEMENT_FIELDS)
        else:
            messages.success(request, _("Agreement recorded."))
            return redirect("baskets_garden", territory.slug, found.pk)
    return _form_page(
        request,
        territory,
        form,
        title=_("New co-financing agreement"),
        submit=_("Record the agreement"),
        back=(_garden_url(territory, found), found.name),
    )


@territory_page(Action.BASKETS_MANAGE, nav="baskets")
@require_http_methods(["GET", "POST"])
def agreement_edit(
    request: HttpRequest, territory: Territory, garden_id: int, agreement_id: int
) -> HttpResponse:
    found: Garden = access.garden_for(request.user, territory, garden_id)
    agreement: Agreement = access.agreement_for(request.user, territory, found, agreement_id)
    funders = _funders(territory)
    form = forms.AgreementForm(
        request.POST or None,
        funders=[(f.pk, f.name) for f in funders],
        initial={
            "funder": agreement.funder_id,
            "name": agreement.name,
            "share_percent": Decimal(agreement.share_bp) / 100 if agreement.share_bp is not None else None,
            "amount_per_basket": forms.euros_text(agreement.amount_per_basket_cents),
            "budget": forms.euros_text(agreement.budget_cents),
            "starts_on": agreement.starts_on,
            "ends_on": agreement.ends_on,
            "priority": agreement.priority,
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.agreement_update(
                agreement=agreement, **_agreement_input(form.cleaned_data, funders), actor=user_of(request)
            )
        except GrenierError as exc:
            form_errors(form, exc, AGREEMENT_FIELDS)
        else:
            messages.success(request, _("Saved."))
            return redirect("baskets_garden", territory.slug, found.pk)
    return _form_page(
        request,
        territory,
        form,
        title=agreement.name,
        submit=_("Save"),
        back=(_garden_url(territory, found), found.name),
        key=False,
        used_cents=agreement.spent_cents,
    )


@territory_page(Action.BASKETS_MANAGE, nav="baskets")
@require_http_methods(["GET", "POST"])
def basket_settings(request: HttpRequest, territory: Territory) -> HttpResponse:
    current = selectors.settings_of(territory)
    form = forms.SettingsForm(
        request.POST or None,
        initial={
            "member_cap_percent": Decimal(current.member_cap_bp) / 100,
            "warn_weeks": current.warn_weeks,
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.settings_set(
                territory=territory,
                member_cap_bp=int(form.cleaned_data["member_cap_percent"] * 100),
                warn_weeks=form.cleaned_data["warn_weeks"],
                actor=user_of(request),
            )
        except GrenierError as exc:
            form_errors(form, exc, {"member_cap_bp": "member_cap_percent"})
        else:
            messages.success(request, _("Saved."))
            return redirect("baskets_home", territory.slug)
    return _form_page(
        request,
        territory,
        form,
        title=_("Basket settings"),
        submit=_("Save"),
        back=(reverse("baskets_home", args=[territory.slug]), _("Solidarity baskets")),
        page="home",
        key=False,
    )


# --- a funder's payments (coordinators) ----------------------------------------------------------------------------


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
