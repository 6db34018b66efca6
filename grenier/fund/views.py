"""Pages of the common fund: the till (cashier, on a phone), a household's credit and statement, and the
coordinator's pages (figures, runs and rules, stores, settlements, grants, projection).

Every page resolves the territory and checks the permission through ``territory_page``; services decide.
"""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from grenier.core import permissions
from grenier.core.auth import user_of
from grenier.core.errors import Conflict, GrenierError, NotFound
from grenier.core.models import Household, Territory
from grenier.core.money import format_cents
from grenier.core.months import month_name, parse_month, shift_month
from grenier.core.pages import PAGE_SIZE, error_text, form_errors, idempotency_key
from grenier.core.permissions import Action
from grenier.core.views import territory_page
from grenier.fund import access, charts, forms, selectors, services
from grenier.fund.models import (
    CarryOver,
    Funder,
    PaymentCode,
    Settlement,
    SettlementStatus,
    Store,
)

# --- the till ------------------------------------------------------------------------------------------------------


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


# --- a household's credit ------------------------------------------------------------------------------------------


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


# --- the coordinator's pages ---------------------------------------------------------------------------------------


@territory_page(Action.FUND_VIEW_FIGURES, nav="fund")
def dashboard(request: HttpRequest, territory: Territory) -> HttpResponse:
    figures = selectors.fund_figures(territory)
    labels = [f"{row.month:%m/%y}" for row in figures.monthly]
    series = [
        charts.Series(_("Credit issued"), [row.allocation for row in figures.monthly], "s-credit"),
        charts.Series(_("Credit spent"), [row.spent for row in figures.monthly], "s-spent"),
        charts.Series(_("Contributions"), [row.contributions for row in figures.monthly], "s-contrib"),
        charts.Series(_("Grants"), [row.grants for row in figures.monthly], "s-grants"),
    ]
    income = figures.contributions_total_cents + figures.grants_total_cents
    spending_top = max((total for _name, total in figures.spending_by_store), default=0)
    return render(
        request,
        "fund/dashboard.html",
        {
            "territory": territory,
            "figures": figures,
            "chart": charts.grouped_bars(labels, series, title=_("The fund month by month")),
            "legend": charts.legend(series),
            "contribution_share": round(100 * figures.contributions_total_cents / income) if income else None,
            "spending": [
                (name, total, round(100 * total / spending_top) if spending_top else 0)
                for name, total in figures.spending_by_store
            ],
            "may_manage": permissions.can(request.user, territory, Action.FUND_MANAGE),
        },
    )


@territory_page(Action.FUND_VIEW_FIGURES, nav="fund")
def projection(request: HttpRequest, territory: Territory) -> HttpResponse:
    from grenier.fund import planning

    form = forms.ProjectionForm(request.GET or None)
    context: dict[str, Any] = {
        "territory": territory,
        "form": form,
        "may_manage": permissions.can(request.user, territory, Action.FUND_MANAGE),
    }
    if not request.GET or form.is_valid():
        data = form.cleaned_data if request.GET else {}
        try:
            result = planning.project_territory(
                territory,
                months=data.get("months") or 12,
                scenarios=500,
                base_cents=data.get("base"),
                per_additional_person_cents=data.get("per_additional_person"),
                monthly_grants_cents=data.get("monthly_grants"),
            )
        except Conflict as exc:
            context["problem"] = exc.detail
        else:
            projected = result.projection
            start = timezone.localdate().replace(day=1)
            labels = [f"{shift_month(start, i + 1):%m/%y}" for i in range(projected.months)]
            context.update(
                {
                    "result": result,
                    "projected": projected,
                    "rows": list(
                        zip(
                            labels,
                            projected.balance_p05_cents,
                            projected.balance_p50_cents,
                            projected.balance_p95_cents,
                            strict=True,
                        )
                    ),
                    "depletion_percent": round(100 * projected.depletion_probability),
                    "chart": charts.band(
                        labels,
                        [int(v) for v in projected.balance_p05_cents],
                        [int(v) for v in projected.balance_p50_cents],
                        [int(v) for v in projected.balance_p95_cents],
                        title=_("The fund's euro balance, month by month: median and 90 % band"),
                    ),
                }
            )
    return render(request, "fund/projection.html", context)


@territory_page(Action.FUND_MANAGE, nav="fund")
@require_http_methods(["GET", "POST"])
def runs(request: HttpRequest, territory: Territory) -> HttpResponse:
    """Running a month takes two steps, as closing a buying cycle: the month typed shows what the run will do
    (households, credit, contributions, credit returned), then the confirmed form runs it."""
    form = forms.RunForm(request.POST or None)
    preview = None
    if request.method == "POST" and form.is_valid():
        month = form.cleaned_data["month"]
        try:
            if request.POST.get("confirm") != "1":
                preview = services.run_preview(territory=territory, month=month)
            else:
                summary = services.monthly_run(territory=territory, month=month, actor=user_of(request))
        except GrenierError as exc:
            form_errors(form, exc, {})
        else:
            if preview is None:
                messages.success(
                    request,
                    _(
                        "%(month)s run: %(households)s households, %(credit)s of food credit issued, "
                        "%(contributions)s of contributions (%(now)s processed now)."
                    )
                    % {
                        "month": month_name(summary.month),
                        "households": summary.households,
                        "credit": format_cents(summary.credit_issued_cents),
                        "contributions": format_cents(summary.contributions_paid_cents),
                        "now": summary.processed_now,
                    },
                )
                return redirect("fund_runs", territory.slug)
    today = timezone.localdate()
    return render(
        request,
        "fund/runs.html",
        {
            "territory": territory,
            "may_manage": True,
            "form": form,
            "preview": preview,
            "runs": selectors.runs_of(territory),
            "scale": services.scale_for(territory, today),
            "rule": services.rule_for(territory, today),
            "rule_form": forms.AllocationRuleForm(
                initial={
                    "effective_month": f"{shift_month(today.replace(day=1), 1):%Y-%m}",
                    "child_age_limit": 14,
                }
            ),
        },
    )


@territory_page(Action.FUND_MANAGE, nav="fund")
@require_POST
def rule_set(request: HttpRequest, territory: Territory) -> HttpResponse:
    form = forms.AllocationRuleForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.allocation_rule_set(
                territory=territory,
                effective_month=data["effective_month"],
                base_cents=data["base"],
                per_additional_person_cents=data["per_additional_person"] or 0,
                per_child_cents=data["per_child"] or 0,
                child_age_limit=data["child_age_limit"],
                carry_over=CarryOver(data["carry_over"]),
                carry_over_cap_cents=data["carry_over_cap"] or 0,
                actor=user_of(request),
                decided_by=_("set by a coordinator"),
            )
        except GrenierError as exc:
            messages.error(request, error_text(exc))
        else:
            messages.success(request, _("The new allocation rule is recorded."))
    else:
        messages.error(
            request,
            " ".join(
                f"{form.fields[name].label}: {' '.join(str(e) for e in errs)}"
                for name, errs in form.errors.items()
            ),
        )
    return redirect("fund_runs", territory.slug)


@territory_page(Action.FUND_MANAGE, nav="fund")
@require_http_methods(["GET", "POST"])
def stores(request: HttpRequest, territory: Territory) -> HttpResponse:
    form = forms.StoreForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            store = services.store_create(territory=territory, actor=user_of(request), **form.cleaned_data)
        except GrenierError as exc:
            form_errors(form, exc, {})
        else:
            messages.success(request, _("%(name)s is recorded, pending approval.") % {"name": store.name})
            return redirect("fund_stores", territory.slug)
    return render(
        request,
        "fund/stores.html",
        {
            "territory": territory,
            "may_manage": True,
            "form": form,
            "stores": selectors.stores_with_activity(territory).order_by("status", "name"),
            "approve_form": forms.ApproveForm(),
        },
    )


def _store(territory: Territory, store_id: int) -> Store:
    store = Store.objects.filter(territory=territory, pk=store_id).first()
    if store is None:
        raise Http404(_("No store has this number here."))
    return store


@territory_page(Action.FUND_MANAGE, nav="fund")
@require_POST
def store_approve(request: HttpRequest, territory: Territory, store_id: int) -> HttpResponse:
    store = _store(territory, store_id)
    form = forms.ApproveForm(request.POST)
    if form.is_valid():
        services.store_approve(
            store=store, coverage_percent=form.cleaned_data["coverage_percent"], actor=user_of(request)
        )
        messages.success(
            request, _("%(name)s is approved: it takes food-credit payments.") % {"name": store.name}
        )
    else:
        messages.error(request, _("Coverage is between 1 and 100 %."))
    return redirect("fund_stores", territory.slug)


@territory_page(Action.FUND_MANAGE, nav="fund")
@require_POST
def store_suspend(request: HttpRequest, territory: Territory, store_id: int) -> HttpResponse:
    store = _store(territory, store_id)
    services.store_suspend(store=store, actor=user_of(request))
    messages.success(request, _("%(name)s is suspended: it no longer takes payments.") % {"name": store.name})
    return redirect("fund_stores", territory.slug)


@territory_page(Action.FUND_MANAGE, nav="fund")
@require_http_methods(["GET", "POST"])
def settlements(request: HttpRequest, territory: Territory) -> HttpResponse:
    form = forms.SettleForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            done = services.settle(
                territory=territory, month=form.cleaned_data["month"], actor=user_of(request)
            )
        except GrenierError as exc:
            form_errors(form, exc, {})
        else:
            messages.success(
                request,
                _("%(count)s stores settled for %(month)s.")
                % {"count": len(done), "month": month_name(form.cleaned_data["month"])},
            )
            return redirect("fund_settlements", territory.slug)
    month = parse_month(request.GET.get("month"))
    rows = selectors.settlements_of(territory, month)
    settlements_page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    last_month = shift_month(timezone.localdate().replace(day=1), -1)
    if request.method == "GET":
        form = forms.SettleForm(initial={"month": f"{last_month:%Y-%m}"})
    return render(
        request,
        "fund/settlements.html",
        {
            "territory": territory,
            "may_manage": True,
            "form": form,
            "month": month,
            "rows": list(settlements_page),
            "settlements_page": settlements_page,
            "due_total": sum(s.amount_cents for s in rows if s.status == SettlementStatus.DUE),
            "paid_form": forms.MarkPaidForm(),
        },
    )


def _settlement(request: HttpRequest, territory: Territory, settlement_id: int) -> Settlement:
    """A settlement the person may read: a coordinator's territory, or a cashier's own store."""
    settlement = (
        Settlement.objects.filter(pk=settlement_id, store__territory=territory)
        .select_related("store")
        .first()
    )
    if settlement is None:
        raise Http404(_("No settlement has this number here."))
    if (
        not permissions.can(request.user, territory, Action.FUND_MANAGE)
        and not settlement.store.cashiers.filter(pk=user_of(request).pk).exists()
    ):
        raise Http404(_("No settlement has this number here."))
    return settlement


@territory_page(Action.FUND_MANAGE, nav="fund")
@require_POST
def settlement_paid(request: HttpRequest, territory: Territory, settlement_id: int) -> HttpResponse:
    settlement = _settlement(request, territory, settlement_id)
    form = forms.MarkPaidForm(request.POST)
    reference = form.cleaned_data["reference"] if form.is_valid() else ""
    try:
        services.settlement_mark_paid(settlement=settlement, reference=reference, actor=user_of(request))
    except GrenierError as exc:
        messages.error(request, exc.detail)
    else:
        messages.success(
            request, _("The transfer to %(store)s is recorded.") % {"store": settlement.store.name}
        )
    return redirect("fund_settlements", territory.slug)


@territory_page(Action.VIEW_TERRITORY)
def settlement_pdf(request: HttpRequest, territory: Territory, settlement_id: int) -> HttpResponse:
    from grenier.fund import statements

    settlement = _settlement(request, territory, settlement_id)
    response = HttpResponse(statements.settlement_pdf(settlement), content_type="application/pdf")
    response["Content-Disposition"] = (
        f'attachment; filename="settlement-{settlement.month:%Y-%m}-store-{settlement.store_id}.pdf"'
    )
    return response


@territory_page(Action.FUND_MANAGE, nav="fund")
def settlements_csv(request: HttpRequest, territory: Territory) -> HttpResponse:
    month = parse_month(request.GET.get("month"))
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="settlements-{month:%Y-%m}.csv"'
        if month
        else 'attachment; filename="settlements.csv"'
    )
    response.write("\ufeff")  # so that a spreadsheet opens the accents right
    writer = csv.writer(response, delimiter=";")
    writer.writerow(
        [
            _("month"),
            _("store"),
            _("payments"),
            _("credit received (cents)"),
            _("credit refunded (cents)"),
            _("owed in euros (cents)"),
            _("status"),
            _("paid on"),
            _("transfer reference"),
        ]
    )
    for row in selectors.settlements_of(territory, month).iterator():
        writer.writerow(
            [
                f"{row.month:%Y-%m}",
                row.store.name,
                row.payments_count,
                row.credit_received_cents,
                row.credit_refunded_cents,
                row.amount_cents,
                row.status,
                f"{timezone.localtime(row.paid_at):%Y-%m-%d}" if row.paid_at else "",
                row.paid_reference,
            ]
        )
    return response


@territory_page(Action.FUND_MANAGE, nav="fund")
@require_http_methods(["GET", "POST"])
def grants(request: HttpRequest, territory: Territory) -> HttpResponse:
    funders = list(Funder.objects.filter(territory=territory).order_by("name"))
    form = forms.GrantForm(request.POST or None, funders=[(f.pk, f.name) for f in funders])
    funder_form = forms.FunderForm()
    if request.method == "POST" and request.POST.get("form") == "funder":
        funder_form = forms.FunderForm(request.POST)
        form = forms.GrantForm(funders=[(f.pk, f.name) for f in funders])
        if funder_form.is_valid():
            services.funder_create(territory=territory, actor=user_of(request), **funder_form.cleaned_data)
            messages.success(request, _("The funder is recorded."))
            return redirect("fund_grants", territory.slug)
    elif request.method == "POST" and form.is_valid():
        funder = next(f for f in funders if f.pk == form.cleaned_data["funder"])
        try:
            services.grant_record(
                funder=funder,
                amount_cents=form.cleaned_data["amount"],
                received_on=form.cleaned_data["received_on"],
                purpose=form.cleaned_data["purpose"],
                idempotency_key=idempotency_key(request),
                actor=user_of(request),
            )
        except GrenierError as exc:
            form_errors(form, exc, {"amount_cents": "amount"})
        else:
            messages.success(request, _("The grant is recorded in the fund."))
            return redirect("fund_grants", territory.slug)
    return render(
        request,
        "fund/grants.html",
        {
            "territory": territory,
            "may_manage": True,
            "form": form,
            "funder_form": funder_form,
            "funders": selectors.funders_with_totals(territory),
            "grants": selectors.recent_grants(territory),
            "idempotency_key": idempotency_key(request),
        },
    )
