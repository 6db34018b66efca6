"""Subscribing a household to a garden, a subscription's page (its household or a coordinator), a member's own basket."""

from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from grenier.baskets import access, forms, selectors, services
from grenier.baskets.models import (
    BasketOffer,
    Frequency,
    Garden,
    GardenMembership,
    PickupPoint,
    Referral,
    ReferralStatus,
    Subscription,
)
from grenier.baskets.views.common import _parse_day, _render, _require
from grenier.baskets.wording import in_sentence
from grenier.core.auth import user_of
from grenier.core.errors import GrenierError, InvalidInput
from grenier.core.models import Household, Territory
from grenier.core.pages import error_text, form_errors, idempotency_key
from grenier.core.permissions import Action
from grenier.core.views import territory_page


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
