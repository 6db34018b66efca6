"""The coordinator's pages: months and rules (run a month), stores, settlements (PDF, CSV, paid), funders and
grants."""

from __future__ import annotations

import csv

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Sum
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from grenier.core import permissions
from grenier.core.auth import user_of
from grenier.core.errors import GrenierError
from grenier.core.models import Territory
from grenier.core.money import format_cents
from grenier.core.months import month_name, parse_month, shift_month
from grenier.core.pages import PAGE_SIZE, error_text, form_errors, idempotency_key
from grenier.core.permissions import Action
from grenier.core.views import territory_page
from grenier.fund import forms, selectors, services
from grenier.fund.models import (
    CarryOver,
    Funder,
    Settlement,
    SettlementStatus,
    Store,
)


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
            "due_total": rows.filter(status=SettlementStatus.DUE).aggregate(t=Sum("amount_cents"))["t"] or 0,
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
