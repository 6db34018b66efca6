"""Pages of the platform's money: invoices and statements (each person sees their own), issuing a month, an
invoice with its credit notes and payment, advances, the development fund, and the PDFs (documents and delivery
notes). Services in ``billing`` decide; pages parse, check who may, call, render.

Who sees what: a coordinator everything; a kitchen manager its kitchens' invoices; a grower its farms' statements
and advances; the committee and funders the development fund's figures. Not acting for the farm or kitchen of a
document answers 404; a role that does not allow the page answers 403.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from grenier.core import permissions
from grenier.core.auth import user_of
from grenier.core.errors import GrenierError, InvalidInput
from grenier.core.forms import DateWidget, EurosField
from grenier.core.models import Territory
from grenier.core.money import format_cents
from grenier.core.pages import PAGE_SIZE, error_text, form_errors, idempotency_key
from grenier.core.permissions import Action
from grenier.core.views import territory_page
from grenier.supply import access, billing, documents, quantities, views
from grenier.supply.models import (
    Invoice,
    InvoiceKind,
    InvoiceLine,
    Kitchen,
    PlanLine,
    Producer,
    Product,
    SupplyWeek,
    WeekStatus,
)

DOCUMENTS_PER_PAGE = 50

# --- forms --------------------------------------------------------------------------------------------------------


def parse_month(raw: str | None) -> date | None:
    """``2026-10`` → the first of that month; ``None`` for anything else."""
    try:
        year, month = (raw or "").split("-")
        return date(int(year), int(month), 1)
    except ValueError:
        return None


class MonthForm(forms.Form):
    month = forms.CharField(
        label=gettext_lazy("Month of the deliveries"),
        max_length=7,
        widget=forms.TextInput(attrs={"type": "month", "placeholder": "2026-10", "pattern": r"\d{4}-\d{2}"}),
    )

    def clean_month(self) -> date:
        month = parse_month(self.cleaned_data["month"])
        if month is None:
            raise forms.ValidationError(_("Enter a month as YYYY-MM, for example 2026-10."))
        return month


class PaidForm(forms.Form):
    reference = forms.CharField(
        label=gettext_lazy("Transfer reference (optional)"), max_length=100, required=False
    )


class CreditNoteForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("Why the invoice is corrected"), max_length=300)
    everything = forms.BooleanField(label=gettext_lazy("Credit everything still uncredited"), required=False)


class AdvanceForm(forms.Form):
    producer = forms.TypedChoiceField(label=gettext_lazy("Farm"), coerce=int)
    amount = EurosField(label=gettext_lazy("Amount advanced, in euros"), max_length=20)
    monthly_deduction = EurosField(label=gettext_lazy("Deducted at most each month, in euros"), max_length=20)
    granted_on = forms.DateField(
        label=gettext_lazy("Paid on"), initial=timezone.localdate, widget=DateWidget()
    )
    purpose = forms.CharField(label=gettext_lazy("Purpose (optional)"), max_length=300, required=False)

    def __init__(self, *args: Any, producers: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["producer"].choices = producers  # type: ignore[attr-defined]


class ContributionForm(forms.Form):
    amount = EurosField(label=gettext_lazy("Amount received, in euros"), max_length=20)
    source = forms.CharField(label=gettext_lazy("From (the group's contributions, a grant…)"), max_length=300)


# --- helpers ------------------------------------------------------------------------------------------------------


def _can(request: HttpRequest, territory: Territory, action: Action) -> bool:
    return permissions.can(request.user, territory, action)


def _require_party(request: HttpRequest, territory: Territory) -> None:
    """403 unless the person coordinates, manages a kitchen or grows for a farm here."""
    if not any(
        _can(request, territory, action)
        for action in (Action.SUPPLY_MANAGE, Action.SUPPLY_KITCHEN, Action.SUPPLY_PRODUCE)
    ):
        raise PermissionDenied(_("Your role in this territory does not allow this."))


def _document(request: HttpRequest, territory: Territory, invoice_id: int) -> Invoice:
    _require_party(request, territory)
    return billing.document_for(request.user, territory, invoice_id)


def _last_month() -> date:
    first = timezone.localdate().replace(day=1)
    return date(first.year - (first.month == 1), (first.month - 2) % 12 + 1, 1)


def _party_name(invoice: Invoice) -> str:
    if invoice.kitchen_id is not None and invoice.kitchen is not None:
        return invoice.kitchen.name
    return invoice.producer.farm_name if invoice.producer else ""


def _kind_label(invoice: Invoice) -> str:
    if invoice.kind == InvoiceKind.CREDIT_NOTE:
        return _("Credit note")
    return _("Statement") if invoice.producer_id else _("Invoice")


def _row(invoice: Invoice) -> dict[str, Any]:
    return {
        "invoice": invoice,
        "kind": _kind_label(invoice),
        "party": _party_name(invoice),
        "due": billing.amount_due(invoice) if invoice.kind == InvoiceKind.INVOICE else None,
    }


# --- invoices -----------------------------------------------------------------------------------------------------


@territory_page(Action.VIEW_TERRITORY, nav="supply")
def invoices(request: HttpRequest, territory: Territory) -> HttpResponse:
    """The documents a person may read, latest first; a grower also sees its farms' advances."""
    _require_party(request, territory)
    rows = billing.documents_for(request.user, territory)
    # one month at a time (the latest by default), or every month a page at a time
    months = sorted(set(rows.values_list("month", flat=True)), reverse=True)
    every_month = request.GET.get("month") == "all"
    month = None if every_month else parse_month(request.GET.get("month"))
    if month is None and not every_month and months:
        month = months[0]
    if month is not None:
        rows = rows.filter(month=month)
    rows = billing.with_unpaid_notes(rows)  # each row's amount still due, without a query a row
    page = Paginator(rows, DOCUMENTS_PER_PAGE).get_page(request.GET.get("page"))
    manage = _can(request, territory, Action.SUPPLY_MANAGE)
    farms = [] if manage else list(access.producers_of(request.user, territory))
    advances = []
    for farm in farms:
        advances += list(billing.advances_of(territory, farm))
    return render(
        request,
        "supply/money_invoices.html",
        {
            "territory": territory,
            "page": "money",
            "rows": [_row(invoice) for invoice in page.object_list],
            "page_obj": page,
            "month": month,
            "months": months,
            "every_month": every_month,
            "manage": manage,
            "advances": advances,
        },
    )


@territory_page(Action.SUPPLY_MANAGE, nav="supply")
@require_http_methods(["GET", "POST"])
def issue(request: HttpRequest, territory: Territory) -> HttpResponse:
    """Issue a month: first what would be billed, then (the same preview confirmed) the documents."""
    data = request.POST if request.method == "POST" else (request.GET if "month" in request.GET else None)
    form = MonthForm(data, initial={"month": f"{_last_month():%Y-%m}"})
    preview = None
    if data is not None and form.is_valid():
        month = form.cleaned_data["month"]
        preview = billing.billing_preview(territory=territory, month=month)
        if request.method == "POST":
            shown_total = request.POST.get("shown_total", "")
            if shown_total != str(preview.total_cents):
                # something was received or published since the preview was shown: show it again first
                messages.warning(
                    request, _("What is to be billed changed since it was shown: check it again.")
                )
            else:
                try:
                    issued = billing.invoices_issue(territory=territory, month=month, actor=user_of(request))
                except GrenierError as exc:
                    form_errors(form, exc, {"month": "month"})
                else:
                    if issued:
                        messages.success(
                            request,
                            _("%(count)s documents issued for %(month)s.")
                            % {"count": len(issued), "month": f"{month:%m/%Y}"},
                        )
                    else:
                        messages.info(request, _("Nothing was left to bill for this month."))
                    return redirect(f"{_url('supply_money_invoices', territory)}?month={month:%Y-%m}")
    return render(
        request,
        "supply/money_issue.html",
        {
            "territory": territory,
            "page": "money",
            "form": form,
            "preview": preview,
            "idempotency_key": idempotency_key(request),
        },
        status=422 if request.method == "POST" else 200,
    )


def _url(name: str, territory: Territory, *args: Any) -> str:
    from django.urls import reverse

    return reverse(name, args=[territory.slug, *args])


def _lines(invoice: Invoice) -> list[InvoiceLine]:
    """The document's lines, in its order, sharing one instance of each product, farm and kitchen (a monthly
    invoice has hundreds of lines and a handful of each: read once, not built again on every line)."""
    lines = list(invoice.lines.all())
    products = Product.objects.in_bulk({x.product_id for x in lines})
    farms = Producer.objects.in_bulk({x.producer_id for x in lines})
    kitchens = Kitchen.objects.in_bulk({x.kitchen_id for x in lines})
    for line in lines:
        line.product = products[line.product_id]
        line.producer = farms[line.producer_id]
        line.kitchen = kitchens[line.kitchen_id]
    return lines


def _credit_rows(
    invoice: Invoice, data: Any = None, lines: list[InvoiceLine] | None = None
) -> list[dict[str, Any]]:
    """The credit note form's rows, a line each (``lines``: the invoice's, when already read by :func:`_lines`)."""
    lines = _lines(invoice) if lines is None else lines
    left = billing.uncredited(invoice, lines)
    receipts = dict(
        PlanLine.objects.filter(
            pk__in={x.plan_line_id for x in lines if x.plan_line_id is not None}
        ).values_list("pk", "received_quantity")
    )  # what the kitchen recorded of each line's delivery, in one query
    rows = []
    for line in lines:
        rest = left[line.pk]
        field = f"q{line.pk}"
        # The kitchen recorded, after this invoice, less than it was billed: its request fills the form in.
        received = receipts.get(line.plan_line_id) if line.plan_line_id is not None else None
        asked = rest.quantity - received if received is not None and invoice.producer_id is None else 0
        requested = max(asked, 0)
        rows.append(
            {
                "line": line,
                "field": field,
                "value": (data or {}).get(field, "")
                if data is not None
                else (
                    quantities.format_quantity(requested, line.product, with_unit=False) if requested else ""
                ),
                "requested": quantities.format_quantity(requested, line.product) if requested else "",
                "quantity": quantities.format_quantity(line.quantity, line.product),
                "left": quantities.format_quantity(rest.quantity, line.product),
                "left_amount": rest.total,
                "unit": quantities.unit_label(line.product),
                "open": rest.quantity > 0,
            }
        )
    return rows


def _detail(
    request: HttpRequest,
    territory: Territory,
    invoice: Invoice,
    *,
    credit_form: CreditNoteForm | None = None,
    credit_rows: list[dict[str, Any]] | None = None,
    status: int = 200,
) -> HttpResponse:
    manage = _can(request, territory, Action.SUPPLY_MANAGE)
    may_credit = manage and invoice.kind == InvoiceKind.INVOICE
    lines = _lines(invoice)  # read once, for the table and the credit note's form
    if credit_rows is None:  # the credit note's form, on every line: only for those who may issue one
        credit_rows = _credit_rows(invoice, lines=lines) if may_credit else []
    notes = list(invoice.credit_notes.order_by("number"))
    return render(
        request,
        "supply/money_invoice.html",
        {
            "territory": territory,
            "page": "money",
            "invoice": invoice,
            "kind": _kind_label(invoice),
            "party": _party_name(invoice),
            "lines": [
                {"line": line, "quantity": quantities.format_quantity(line.quantity, line.product)}
                for line in lines
            ],
            "notes": notes,
            "due": billing.amount_due(invoice) if invoice.kind == InvoiceKind.INVOICE else None,
            "repayments": list(invoice.advance_repayments.select_related("advance")),
            "manage": manage,
            "may_credit": may_credit,
            "may_pay": manage and invoice.paid_at is None,
            "credit_form": credit_form or CreditNoteForm(),
            "credit_rows": credit_rows,
            "paid_form": PaidForm(),
            "idempotency_key": idempotency_key(request),
        },
        status=status,
    )


@territory_page(Action.VIEW_TERRITORY, nav="supply")
def invoice(request: HttpRequest, territory: Territory, invoice_id: int) -> HttpResponse:
    return _detail(request, territory, _document(request, territory, invoice_id))


@territory_page(Action.SUPPLY_MANAGE, nav="supply")
@require_POST
def credit_note(request: HttpRequest, territory: Territory, invoice_id: int) -> HttpResponse:
    """A credit note on the invoice: every line for what is left (``everything``) or the quantities typed."""
    invoice = _document(request, territory, invoice_id)
    form = CreditNoteForm(request.POST)
    rows = _credit_rows(invoice, request.POST)
    chosen: list[tuple[Any, int]] | None = None
    if form.is_valid():
        if form.cleaned_data["everything"]:
            chosen = None
        else:
            chosen = []
            for row in rows:
                raw = row["value"]
                if not str(raw).strip():
                    continue
                try:
                    quantity = quantities.parse_quantity(raw, row["line"].product, field=row["field"])
                except InvalidInput as exc:
                    row["error"] = " ".join(e for errors in exc.errors.values() for e in errors)
                    continue
                if quantity:
                    chosen.append((row["line"], quantity))
            if any("error" in row for row in rows):
                form.add_error(None, _("Some quantities could not be read: see the lines marked below."))
            elif not chosen:
                form.add_error(None, _("Type the quantity to credit on at least one line."))
    if form.is_valid():
        try:
            note = billing.credit_note_issue(
                invoice=invoice,
                lines=chosen,
                reason=form.cleaned_data["reason"],
                idempotency_key=idempotency_key(request),
                actor=user_of(request),
            )
        except GrenierError as exc:
            form_errors(form, exc, {"reason": "reason"})
        else:
            messages.success(
                request,
                _("Credit note %(reference)s issued: %(amount)s.")
                % {"reference": note.reference, "amount": format_cents(note.total_cents)},
            )
            return redirect("supply_money_invoice", territory.slug, note.pk)
    return _detail(request, territory, invoice, credit_form=form, credit_rows=rows, status=422)


@territory_page(Action.SUPPLY_MANAGE, nav="supply")
@require_POST
def invoice_paid(request: HttpRequest, territory: Territory, invoice_id: int) -> HttpResponse:
    invoice = _document(request, territory, invoice_id)
    form = PaidForm(request.POST)
    reference = form.cleaned_data["reference"] if form.is_valid() else ""
    try:
        billing.invoice_mark_paid(invoice=invoice, reference=reference, actor=user_of(request))
    except GrenierError as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(request, _("%(reference)s is recorded as paid.") % {"reference": invoice.reference})
    return redirect("supply_money_invoice", territory.slug, invoice.pk)


@territory_page(Action.VIEW_TERRITORY)
def invoice_pdf(request: HttpRequest, territory: Territory, invoice_id: int) -> HttpResponse:
    invoice = _document(request, territory, invoice_id)
    response = HttpResponse(documents.invoice_pdf(invoice), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{invoice.reference}.pdf"'
    return response


# --- delivery notes -----------------------------------------------------------------------------------------------


@territory_page(Action.VIEW_TERRITORY)
def delivery_note(
    request: HttpRequest, territory: Territory, monday: str, producer_id: int, kitchen_id: int, day: str
) -> HttpResponse:
    """The delivery note of a farm to a kitchen on a day: for the coordinators (and the week's), the farm's people
    and the kitchen's managers, once the plan is published (the coordinators see it before)."""
    week_monday = views.parse_monday(monday)
    try:
        delivery_day = date.fromisoformat(day)
    except ValueError:
        raise Http404(_("No such delivery.")) from None
    week = SupplyWeek.objects.filter(territory=territory, monday=week_monday).first()
    if week is None or delivery_day not in week.days:
        raise Http404(_("No such delivery."))
    producer = Producer.objects.filter(territory=territory, pk=producer_id).first()
    kitchen = Kitchen.objects.filter(territory=territory, pk=kitchen_id).first()
    if producer is None or kitchen is None:
        raise Http404(_("No such delivery."))
    user = user_of(request)
    coordinates = access.may_coordinate(request.user, week)
    grows = producer.users.filter(pk=user.pk).exists()
    manages = kitchen.managers.filter(pk=user.pk).exists()
    if not (coordinates or grows or manages):
        if not any(
            _can(request, territory, action) for action in (Action.SUPPLY_PRODUCE, Action.SUPPLY_KITCHEN)
        ):
            raise PermissionDenied(_("Your role in this territory does not allow this."))
        raise Http404(_("No such delivery."))
    if not coordinates and week.status != WeekStatus.PUBLISHED:
        raise Http404(_("This week's plan is not published."))
    if not documents.delivery_lines(week=week, producer=producer, kitchen=kitchen, day=delivery_day):
        raise Http404(_("Nothing is planned for this delivery."))
    pdf = documents.delivery_note_pdf(week=week, producer=producer, kitchen=kitchen, day=delivery_day)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = (
        f'attachment; filename="delivery-{delivery_day:%Y-%m-%d}-farm-{producer.pk}-kitchen-{kitchen.pk}.pdf"'
    )
    return response


# --- advances and the development fund ----------------------------------------------------------------------------


@territory_page(Action.SUPPLY_MANAGE, nav="supply")
@require_http_methods(["GET", "POST"])
def advances(request: HttpRequest, territory: Territory) -> HttpResponse:
    producers = list(
        Producer.objects.filter(territory=territory, on_platform=True, left_on__isnull=True).order_by(
            "farm_name"
        )
    )
    form = AdvanceForm(request.POST or None, producers=[(p.pk, p.farm_name) for p in producers])
    if request.method == "POST" and form.is_valid():
        producer = next(p for p in producers if p.pk == form.cleaned_data["producer"])
        try:
            advance = billing.advance_grant(
                producer=producer,
                amount_cents=form.cleaned_data["amount"],
                monthly_deduction_cents=form.cleaned_data["monthly_deduction"],
                granted_on=form.cleaned_data["granted_on"],
                purpose=form.cleaned_data["purpose"],
                idempotency_key=idempotency_key(request),
                actor=user_of(request),
            )
        except GrenierError as exc:
            form_errors(
                form,
                exc,
                {"amount_cents": "amount", "monthly_deduction_cents": "monthly_deduction"},
            )
        else:
            messages.success(
                request,
                _("Advance of %(amount)s to %(farm)s recorded.")
                % {"amount": format_cents(advance.amount_cents), "farm": producer.farm_name},
            )
            return redirect("supply_money_advances", territory.slug)
    outstanding: dict[int, dict[str, Any]] = {}
    for advance in billing.outstanding_advances(territory):
        row = outstanding.setdefault(
            advance.producer_id, {"producer": advance.producer, "outstanding": 0, "monthly": 0}
        )
        row["outstanding"] += advance.outstanding_cents
        row["monthly"] += min(advance.monthly_deduction_cents, advance.outstanding_cents)
    return render(
        request,
        "supply/money_advances.html",
        {
            "territory": territory,
            "page": "money_advances",
            "form": form,
            "balance": billing.devfund_balance(territory),
            "outstanding": sorted(outstanding.values(), key=lambda r: r["producer"].farm_name),
            "advances": list(billing.advances_of(territory)[:200]),
            "idempotency_key": idempotency_key(request),
        },
        status=422 if request.method == "POST" else 200,
    )


@territory_page(Action.SUPPLY_FIGURES, nav="supply")
@require_http_methods(["GET", "POST"])
def devfund(request: HttpRequest, territory: Territory) -> HttpResponse:
    """The development fund: its balance and movements, what the invoices retained each month; coordinators
    record the group's contributions and grants into it."""
    manage = _can(request, territory, Action.SUPPLY_MANAGE)
    form = ContributionForm(request.POST or None)
    if request.method == "POST":
        if not manage:
            raise PermissionDenied(_("Only a coordinator records money into the fund."))
        if form.is_valid():
            try:
                billing.devfund_contribute(
                    territory=territory,
                    amount_cents=form.cleaned_data["amount"],
                    source=form.cleaned_data["source"],
                    idempotency_key=idempotency_key(request),
                    actor=user_of(request),
                )
            except GrenierError as exc:
                form_errors(form, exc, {"amount_cents": "amount"})
            else:
                messages.success(request, _("The contribution is recorded in the development fund."))
                return redirect("supply_money_devfund", territory.slug)
    kinds = {
        "supply.invoice": _("Levies on invoices"),
        "supply.credit_note": _("Credit note"),
        "supply.statement": _("Advance repaid"),
        "supply.advance": _("Advance paid"),
        "supply.devfund.contribution": _("Contribution"),
    }
    movements_page = Paginator(billing.devfund_movements(territory), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    movements = [{"movement": m, "label": kinds.get(m.kind, m.kind)} for m in movements_page]
    return render(
        request,
        "supply/money_devfund.html",
        {
            "territory": territory,
            "page": "money_devfund",
            "manage": manage,
            "balance": billing.devfund_balance(territory),
            "movements": movements,
            "movements_page": movements_page,
            "retained": billing.retained_by_month(territory),
            "outstanding": sum(a.outstanding_cents for a in billing.outstanding_advances(territory)),
            "form": form,
            "idempotency_key": idempotency_key(request),
        },
        status=422 if request.method == "POST" else 200,
    )
