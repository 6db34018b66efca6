"""A kitchen's deliveries of the week: what each farm brings, and what arrived recorded line by line."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib import messages
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from grenier.core.auth import user_of
from grenier.core.errors import GrenierError
from grenier.core.models import Territory
from grenier.core.pages import error_text
from grenier.core.permissions import Action
from grenier.core.views import territory_page
from grenier.supply import forms, quantities, selectors, services
from grenier.supply.models import (
    PlanLine,
    WeekStatus,
)
from grenier.supply.views.common import (
    _day_words,
    _kitchen,
    _qty,
    _receipt_words,
    _require,
    _week,
    _week_status_label,
    parse_monday,
)


@territory_page(Action.VIEW_TERRITORY, nav="supply")
@require_http_methods(["GET", "POST"])
def deliveries(request: HttpRequest, territory: Territory, monday: str, kitchen_id: int) -> HttpResponse:
    """The kitchen's deliveries by day and farm; it records what arrived, one delivery (day and farm) at a time."""
    _require(request, territory, Action.SUPPLY_KITCHEN, Action.SUPPLY_MANAGE)
    day = parse_monday(monday)
    kitchen = _kitchen(request, territory, kitchen_id)
    current = _week(territory, day)
    published = current is not None and current.status == WeekStatus.PUBLISHED
    lines: list[PlanLine] = []
    if published:
        lines = list(
            PlanLine.objects.filter(week=current, kitchen=kitchen)
            .filter(Q(quantity__gt=0) | Q(received_quantity__isnull=False))
            .order_by("day", "producer__farm_name", "product__name")
        )
        selectors.share_instances(
            lines, kitchens={kitchen.pk: kitchen}
        )  # a farm and a product built once each
    posted_group = request.POST.get("delivery", "") if request.method == "POST" else ""

    groups = _delivery_groups(request, lines, posted_group)

    if request.method == "POST":
        if not published:
            messages.error(request, _("This week's plan is not published: there is nothing to receive yet."))
            return redirect("supply_deliveries", territory.slug, monday, kitchen.pk)
        posted = next((g for g in groups.values() if g["id"] == posted_group), None)
        if posted is None:
            raise Http404(_("No such delivery."))
        if all(row["form"].is_valid() for row in posted["rows"]):
            if _receipts_record(request, posted):
                return redirect(f"{_deliveries_path(territory, monday, kitchen.pk)}#delivery-{posted['id']}")
        else:
            messages.error(request, _("Some quantities could not be read: see the rows marked below."))

    return render(
        request,
        "supply/deliveries.html",
        {
            "territory": territory,
            "page": "deliveries",
            "kitchen": kitchen,
            "monday": day,
            "week": current,
            "published": published,
            "groups": sorted(groups.values(), key=lambda g: (g["day"], g["farm"].farm_name)),
            "volunteers": selectors.delivery_volunteers(territory, kitchen, current)
            if published and current is not None
            else [],
            "status_label": _week_status_label(current),
        },
        status=422 if request.method == "POST" else 200,
    )


def _delivery_groups(
    request: HttpRequest, lines: list[PlanLine], posted_group: str
) -> dict[tuple[date, int], dict[str, Any]]:
    """The kitchen's lines by delivery (day and farm), each row with its receipt form (bound for the delivery
    posted) and its difference from the plan."""
    groups: dict[tuple[date, int], dict[str, Any]] = {}
    for line in lines:
        key = (line.day, line.producer_id)
        group_id = f"{line.day.isoformat()}-{line.producer_id}"
        group = groups.setdefault(
            key,
            {
                "id": group_id,
                "day": line.day,
                "farm": line.producer,
                "rows": [],
                "discrepancies": 0,
                "recorded": True,
            },
        )
        bound = request.POST if posted_group == group_id else None
        form = forms.ReceiptForm(
            bound,
            prefix=f"l{line.pk}",
            product=line.product,
            initial={
                "received": forms.shown(
                    line.quantity if line.received_quantity is None else line.received_quantity, line.product
                )
                or "0",
                "note": line.receipt_note,
            },
        )
        difference = line.discrepancy
        group["rows"].append(
            {
                "line": line,
                "form": form,
                "planned": _qty(line.quantity, line.product),
                "received": _qty(line.received_quantity, line.product),
                "difference": _qty(abs(difference), line.product) if difference else "",
                "receipt": _receipt_words(line),
                "short": difference is not None and difference < 0,
                "over": difference is not None and difference > 0,
            }
        )
        if difference:
            group["discrepancies"] += 1
        if line.received_quantity is None:
            group["recorded"] = False
    return groups


def _receipts_record(request: HttpRequest, group: dict[str, Any]) -> bool:
    """Record what arrived on a delivery's lines (those changed), in one transaction; the kitchen is told which lines
    were already invoiced and wait for a credit note. False, with the error shown, if a service refused."""
    items = [
        services.ReceiptItem(
            line=row["line"],
            received_quantity=row["form"].cleaned_data["received"] or 0,
            note=row["form"].cleaned_data["note"],
        )
        for row in group["rows"]
    ]
    try:
        services.receipt_record_many(
            items=[
                item
                for item in items
                if (item.received_quantity, item.note)
                != (item.line.received_quantity, item.line.receipt_note)
            ],
            actor=user_of(request),
        )
    except GrenierError as exc:
        messages.error(request, error_text(exc))
        return False
    messages.success(
        request,
        _("Recorded what arrived from %(farm)s on %(day)s.")
        % {"farm": group["farm"].farm_name, "day": _day_words(group["day"])},
    )
    from grenier.supply import billing

    for row in group["rows"]:
        row["line"].refresh_from_db()
        asked = billing.credit_requested(row["line"])
        if asked is not None:
            messages.info(
                request,
                _(
                    "%(product)s was already invoiced (%(reference)s): the coordinator is asked for a "
                    "credit note of %(quantity)s."
                )
                % {
                    "product": row["line"].product.name,
                    "reference": asked[0].invoice.reference,
                    "quantity": quantities.format_quantity(asked[1], row["line"].product),
                },
            )
    return True


def _deliveries_path(territory: Territory, monday: str, kitchen_id: int) -> str:
    return reverse("supply_deliveries", args=[territory.slug, monday, kitchen_id])
