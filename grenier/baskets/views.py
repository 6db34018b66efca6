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
import secrets
from datetime import date
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from grenier.baskets import access, documents, forms, selectors, services
from grenier.baskets.models import (
    Agreement,
    BasketOffer,
    DistributionLine,
    DistributionSheet,
    Frequency,
    Garden,
    LineStatus,
    Membership,
    PaymentMethod,
    PickupPoint,
    Subscription,
    WorkshopKind,
)
from grenier.core import permissions
from grenier.core.auth import user_of
from grenier.core.errors import GrenierError, NotFound
from grenier.core.models import Household, Territory
from grenier.core.permissions import Action
from grenier.core.views import territory_page

BASKET_ACTIONS = (
    Action.BASKETS_MANAGE,
    Action.BASKETS_FIGURES,
    Action.BASKETS_REFER,
    Action.BASKETS_DISTRIBUTE,
    Action.BASKETS_OWN,
)


# --- helpers -------------------------------------------------------------------------------------------------------


def _key(request: HttpRequest) -> str:
    """One idempotency key per form shown: a double tap or a resent form records once."""
    return request.POST.get("idempotency_key") or secrets.token_urlsafe(16)


def _error_text(exc: GrenierError) -> str:
    details = [error for errors in exc.errors.values() for error in errors if error != exc.detail]
    return " ".join([exc.detail, *details])


def _form_errors(form: Any, exc: GrenierError, fields: dict[str, str] | None = None) -> None:
    """Put a service's errors on the form's fields; the reason on top."""
    fields = fields or {}
    for name, errors in exc.errors.items():
        target = fields.get(name, name if name in form.fields else None)
        for error in errors:
            form.add_error(target, error)
    form.add_error(None, exc.detail)


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


def _found(call: Any, *args: Any) -> Any:
    try:
        return call(*args)
    except NotFound as exc:
        raise Http404(exc.detail) from exc


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
    found: Garden = _found(access.garden_for, request.user, territory, garden_id)
    today = timezone.localdate()
    forecast = selectors.budget_forecast(found, today)
    agreements = list(
        Agreement.objects.filter(garden=found).select_related("funder").order_by("priority", "id")
    )
    for agreement in agreements:
        agreement.left_at_end = forecast.left_at_end.get(agreement.pk, agreement.left_cents)  # type: ignore[attr-defined]
        agreement.runs_out = forecast.runs_out.get(agreement.pk)  # type: ignore[attr-defined]
    subscriptions = list(
        Subscription.objects.filter(offer__garden=found)
        .select_related("household", "offer", "pickup_point")
        .order_by("stopped_on", "household__name", "pk")
    )
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
        subscriptions=subscriptions,
        active_count=sum(1 for s in subscriptions if s.stopped_on is None and s.paused_from is None),
        generate_form=forms.GenerateForm(initial={"day": today}),
        workshop_form=forms.WorkshopForm(),
        workshops=list(found.workshops.all()[:10]),
        settings=selectors.settings_of(territory),
    )


@territory_page(Action.BASKETS_MANAGE, nav="baskets")
@require_POST
def generate(request: HttpRequest, territory: Territory, garden_id: int) -> HttpResponse:
    found: Garden = _found(access.garden_for, request.user, territory, garden_id)
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
    found: Garden = _found(access.garden_for, request.user, territory, garden_id)
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
            messages.error(request, _error_text(exc))
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


def _point_choices(found: Garden) -> list[tuple[int, str]]:
    return [
        (p.pk, f"{p.name} — {p.get_weekday_display()} {p.opens_at:%H:%M}")
        for p in found.pickup_points.filter(active=True)
    ]


@territory_page(Action.BASKETS_MANAGE, nav="baskets")
@require_http_methods(["GET", "POST"])
def subscribe(request: HttpRequest, territory: Territory, garden_id: int) -> HttpResponse:
    """A coordinator subscribes a household of the garden (a referred one, usually)."""
    found: Garden = _found(access.garden_for, request.user, territory, garden_id)
    members = Household.objects.filter(
        garden_memberships__garden=found, garden_memberships__left_on__isnull=True, left_on__isnull=True
    ).order_by("name")
    form = forms.SubscribeForm(
        request.POST or None,
        offers=_offer_choices(found),
        points=_point_choices(found),
        households=[(h.pk, h.name) for h in members],
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
                idempotency_key=_key(request),
            )
        except GrenierError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, _("Subscription recorded."))
            return redirect("baskets_subscription", territory.slug, subscription.pk)
    return _render(
        request, territory, "subscribe.html", "garden", garden=found, form=form, idempotency_key=_key(request)
    )


# --- a subscription (its household or a coordinator) ---------------------------------------------------------------


@territory_page(Action.VIEW_TERRITORY, nav="baskets")
@require_http_methods(["GET", "POST"])
def subscription(request: HttpRequest, territory: Territory, subscription_id: int) -> HttpResponse:
    _require(request, territory, Action.BASKETS_MANAGE, Action.BASKETS_OWN)
    found: Subscription = _found(access.subscription_for, request.user, territory, subscription_id)
    actor = user_of(request)
    form = forms.DayForm(request.POST or None)
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            if action == "pause":
                services.subscription_pause(subscription=found, actor=actor)
            elif action == "resume":
                services.subscription_resume(subscription=found, actor=actor)
            elif action == "stop":
                services.subscription_stop(subscription=found, actor=actor)
            elif action in ("absent", "present") and form.is_valid():
                if action == "absent":
                    services.absence_add(subscription=found, on=form.cleaned_data["on"], actor=actor)
                else:
                    services.absence_remove(subscription=found, on=form.cleaned_data["on"], actor=actor)
            else:
                raise Http404(_("Unknown action."))
        except GrenierError as exc:
            messages.error(request, _error_text(exc))
        else:
            messages.success(request, _("Saved."))
        return redirect("baskets_subscription", territory.slug, found.pk)
    today = timezone.localdate()
    garden_ = found.offer.garden
    return _render(
        request,
        territory,
        "subscription.html",
        "mine" if not access.manages(request.user, territory) else "garden",
        subscription=found,
        upcoming=selectors.next_baskets(found, today, count=6),
        lines=list(found.lines.order_by("-on")[:8]),
        balance=selectors.member_balance(garden_, found.household),
        form=forms.DayForm(),
    )


@territory_page(Action.BASKETS_OWN, nav="baskets")
@require_http_methods(["GET", "POST"])
def mine(request: HttpRequest, territory: Territory) -> HttpResponse:
    """A member household's baskets: its subscriptions, what it owes, and taking a basket at its gardens."""
    user = user_of(request)
    households = list(access.own_households(user, territory))
    memberships = list(
        Membership.objects.filter(household__in=households, left_on__isnull=True).select_related(
            "garden", "household"
        )
    )
    gardens = {m.garden_id: m.garden for m in memberships}
    subscribe_form = None
    chosen: Garden | None = next(iter(gardens.values()), None)
    if chosen is not None and households:
        subscribe_form = forms.SubscribeForm(
            request.POST or None, offers=_offer_choices(chosen), points=_point_choices(chosen)
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
                    idempotency_key=_key(request),
                )
            except GrenierError as exc:
                _form_errors(subscribe_form, exc)
            else:
                messages.success(request, _("Subscription recorded."))
                return redirect("baskets_mine", territory.slug)
    elif request.method == "POST":
        raise PermissionDenied(_("Your household is not a member of a garden yet: ask a social worker."))
    subscriptions = list(
        Subscription.objects.filter(household__in=households)
        .select_related("offer__garden", "pickup_point", "household")
        .order_by("stopped_on", "-start_on")
    )
    balances = [(m.garden, selectors.member_balance(m.garden, m.household)) for m in memberships]
    return _render(
        request,
        territory,
        "mine.html",
        "mine",
        subscriptions=subscriptions,
        balances=balances,
        garden=chosen,
        form=subscribe_form,
        idempotency_key=_key(request),
    )


# --- referrals -----------------------------------------------------------------------------------------------------


@territory_page(Action.VIEW_TERRITORY, nav="baskets")
def referrals(request: HttpRequest, territory: Territory) -> HttpResponse:
    _require(request, territory, Action.BASKETS_REFER, Action.BASKETS_MANAGE)
    rows = list(
        access.referrals_of(request.user, territory).select_related("household", "garden", "social_worker")
    )
    for referral in rows:
        referral.status = selectors.referral_status(referral)  # type: ignore[attr-defined]
    return _render(request, territory, "referrals.html", "referrals", referrals=rows)


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
                idempotency_key=_key(request),
                card=data["card"],
                new_household=new,
                member_share_bp=share * 100 if share is not None else None,
                note=data["note"],
            )
        except GrenierError as exc:
            _form_errors(form, exc, {"member_share_bp": "member_share_percent"})
        else:
            messages.success(request, _("Referral recorded: the household is now a member of the garden."))
            return redirect("baskets_referral", territory.slug, referral.pk)
    return _render(
        request, territory, "referral_new.html", "referrals", form=form, idempotency_key=_key(request)
    )


@territory_page(Action.VIEW_TERRITORY, nav="baskets")
def referral(request: HttpRequest, territory: Territory, referral_id: int) -> HttpResponse:
    _require(request, territory, Action.BASKETS_REFER, Action.BASKETS_MANAGE)
    found = _found(access.referral_for, request.user, territory, referral_id)
    subscriptions = list(
        Subscription.objects.filter(household=found.household, offer__garden=found.garden).select_related(
            "offer", "pickup_point"
        )
    )
    return _render(
        request,
        territory,
        "referral.html",
        "referrals",
        referral=found,
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
    found: DistributionSheet = _found(access.sheet_for, request.user, territory, sheet_id)
    lines = _sheet_lines(found)
    return _render(
        request,
        territory,
        "sheet.html",
        "sheets",
        sheet=found,
        lines=lines,
        collected=sum(1 for line in lines if line.status == LineStatus.COLLECTED),
        unclaimed=sum(1 for line in lines if line.status == LineStatus.UNCLAIMED),
    )


@territory_page(Action.BASKETS_DISTRIBUTE, nav="baskets")
@require_POST
def sheet_line(request: HttpRequest, territory: Territory, sheet_id: int, line_id: int) -> HttpResponse:
    found: DistributionSheet = _found(access.sheet_for, request.user, territory, sheet_id)
    line = found.lines.filter(pk=line_id).first()
    if line is None:
        raise Http404(_("No such line on this sheet."))
    try:
        services.line_check(line=line, collected=request.POST.get("collected") == "1", actor=user_of(request))
    except GrenierError as exc:
        messages.error(request, _error_text(exc))
    return redirect(f"{_sheet_url(territory, found)}#line-{line.pk}")


def _sheet_url(territory: Territory, found: DistributionSheet) -> str:
    from django.urls import reverse

    return reverse("baskets_sheet", args=[territory.slug, found.pk])


@territory_page(Action.BASKETS_DISTRIBUTE, nav="baskets")
@require_POST
def sheet_close(request: HttpRequest, territory: Territory, sheet_id: int) -> HttpResponse:
    found: DistributionSheet = _found(access.sheet_for, request.user, territory, sheet_id)
    services.sheet_close(sheet=found, actor=user_of(request))
    messages.success(request, _("Sheet closed: the baskets not collected are recorded unclaimed."))
    return redirect("baskets_sheet", territory.slug, found.pk)


@territory_page(Action.BASKETS_DISTRIBUTE, nav="baskets")
def sheet_pdf(request: HttpRequest, territory: Territory, sheet_id: int) -> HttpResponse:
    found: DistributionSheet = _found(access.sheet_for, request.user, territory, sheet_id)
    response = HttpResponse(documents.sheet_pdf(found, _sheet_lines(found)), content_type="application/pdf")
    response["Content-Disposition"] = (
        f'inline; filename="feuille-{found.pickup_point_id}-{found.on:%Y-%m-%d}.pdf"'
    )
    return response


# --- members' payments (coordinators) ------------------------------------------------------------------------------


@territory_page(Action.BASKETS_MANAGE, nav="baskets")
@require_http_methods(["GET", "POST"])
def payments(request: HttpRequest, territory: Territory, garden_id: int) -> HttpResponse:
    found: Garden = _found(access.garden_for, request.user, territory, garden_id)
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
                idempotency_key=_key(request),
                actor=user_of(request),
            )
        except GrenierError as exc:
            _form_errors(form, exc, {"amount_cents": "amount"})
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
        rows=selectors.member_rows(found),
        recent=list(found.member_payments.select_related("household")[:10]),
        idempotency_key=_key(request),
    )


# --- statements and the yearly report ------------------------------------------------------------------------------


def _statement_from(
    request: HttpRequest, territory: Territory
) -> tuple[forms.PeriodForm, selectors.Statement | None]:
    funders = list(access.funders_of(request.user, territory).order_by("name"))
    today = timezone.localdate()
    data = request.GET if "funder" in request.GET else None
    form = forms.PeriodForm(
        data,
        funders=[(f.pk, f.name) for f in funders],
        initial={
            "funder": funders[0].pk if funders else None,
            "start": date(today.year, 1, 1),
            "end": today,
        },
    )
    if data is None and funders:
        return form, selectors.statement(funders[0], date(today.year, 1, 1), today)
    if form.is_valid():
        funder = _found(access.funder_for, request.user, territory, form.cleaned_data["funder"])
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
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";")
    writer.writerow(["convention", "jardin", "date", "point de retrait", "paniers", "montant_centimes"])
    for row in statement.agreements:
        for day, point, count, cents in row.by_day:
            writer.writerow(
                [row.agreement.name, row.agreement.garden.name, day.isoformat(), point, count, cents]
            )
    writer.writerow([])
    writer.writerow(
        ["convention", "budget_centimes", "utilise_centimes", "reste_centimes", "paniers", "periode_centimes"]
    )
    for row in statement.agreements:
        a = row.agreement
        writer.writerow([a.name, a.budget_cents, a.spent_cents, a.left_cents, row.baskets, row.funded_cents])
    response = HttpResponse(buffer.getvalue().encode("utf-8-sig"), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="releve-{statement.funder.pk}-{statement.start:%Y%m%d}-{statement.end:%Y%m%d}.csv"'
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
