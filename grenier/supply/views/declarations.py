"""What growers and kitchens declare for a week: a farm's availability, a kitchen's demand, a grower's shortfall."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.contrib import messages
from django.db import transaction
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from grenier.core import permissions
from grenier.core.auth import user_of
from grenier.core.errors import GrenierError, ItemsRefused
from grenier.core.models import Territory
from grenier.core.pages import error_text, form_errors, idempotency_key
from grenier.core.permissions import Action
from grenier.core.text import sort_key
from grenier.core.views import territory_page
from grenier.supply import forms, quantities, services
from grenier.supply.models import (
    Availability,
    Contract,
    ContractLine,
    ContractStatus,
    Demand,
    Kitchen,
    PlanChange,
    Producer,
    Product,
    Shortfall,
    SupplyWeek,
    WeekStatus,
)
from grenier.supply.views.common import (
    _day_label,
    _ensure_week,
    _kitchen,
    _producer,
    _qty,
    _require,
    _week,
    _week_status_label,
    parse_monday,
)


@territory_page(Action.VIEW_TERRITORY, nav="supply")
@require_http_methods(["GET", "POST"])
def availability(request: HttpRequest, territory: Territory, monday: str, producer_id: int) -> HttpResponse:
    """The grower's phone form: one row per active product, a quantity and a minimum lot; saves every row at once."""
    _require(request, territory, Action.SUPPLY_PRODUCE, Action.SUPPLY_MANAGE)
    day = parse_monday(monday)
    farm = _producer(request, territory, producer_id)
    current = _week(territory, day)
    products = sorted(
        Product.objects.filter(territory=territory, is_active=True), key=lambda p: sort_key(p.name)
    )
    existing = (
        {a.product_id: a for a in Availability.objects.filter(week=current, producer=farm)} if current else {}
    )
    published = current is not None and current.status == WeekStatus.PUBLISHED

    rows: list[dict[str, Any]] = []
    for product in products:
        before = existing.get(product.pk)
        initial = {
            "quantity": forms.shown(before.quantity if before else 0, product),
            "minimum_lot": forms.shown(before.minimum_lot if before else 0, product),
        }
        form = forms.AvailabilityRowForm(
            request.POST if request.method == "POST" else None,
            prefix=f"p{product.pk}",
            product=product,
            initial=initial,
        )
        rows.append({"product": product, "form": form, "before": before})

    if request.method == "POST":
        if published:
            messages.error(request, _("This week's plan is published: report a shortfall instead."))
            return redirect("supply_shortfall", territory.slug, monday, farm.pk)
        if all(row["form"].is_valid() for row in rows):
            changed = [row for row in rows if _availability_changed(row)]
            try:
                with transaction.atomic():
                    services.availability_declare_many(
                        week=_ensure_week(request, territory, day),
                        items=[
                            services.AvailabilityItem(
                                producer=farm,
                                product=row["product"],
                                quantity=row["form"].cleaned_data["quantity"],
                                minimum_lot=row["form"].cleaned_data["minimum_lot"],
                            )
                            for row in changed
                        ],
                        actor=user_of(request),
                    )
            except ItemsRefused as exc:  # each refusal on its row; the summary at the top links them
                for index, refusal in exc.refusals.items():
                    _refusal_on_row(changed[index]["form"], refusal)
                return _render_availability(request, territory, farm, day, current, rows, published)
            except GrenierError as exc:
                messages.error(request, error_text(exc))
            else:
                messages.success(
                    request,
                    _("Your availability is saved (%(n)s products changed).") % {"n": len(changed)},
                )
                return redirect("supply_availability", territory.slug, monday, farm.pk)
    return _render_availability(request, territory, farm, day, current, rows, published)


def _availability_changed(row: dict[str, Any]) -> bool:
    data, before = row["form"].cleaned_data, row["before"]
    same = (before.quantity, before.minimum_lot) if before else (0, 0)
    return (data["quantity"], data["minimum_lot"]) != same


def _refusal_on_row(form: forms.AvailabilityRowForm, exc: GrenierError) -> None:
    """A service's refusal of one product's row, on the field it names (else on the row)."""
    placed = False
    for name, errors in exc.errors.items():
        if name in form.fields:
            for error in errors:
                form.add_error(name, error)
            placed = True
    if not placed:
        form.add_error(None, exc.detail)


def _render_availability(
    request: HttpRequest,
    territory: Territory,
    farm: Producer,
    day: date,
    current: SupplyWeek | None,
    rows: list[dict[str, Any]],
    published: bool,
) -> HttpResponse:
    return render(
        request,
        "supply/availability.html",
        {
            "territory": territory,
            "page": "availability",
            "farm": farm,
            "monday": day,
            "week": current,
            "published": published,
            "rows": rows,
            "refused": [row for row in rows if row["form"].errors],
            "status_label": _week_status_label(current),
        },
        status=422 if request.method == "POST" else 200,
    )


def _contract_schedule(
    kitchen: Kitchen, monday: date
) -> tuple[list[Product], list[date], dict[tuple[int, date], int]]:
    """The kitchen's contract products and delivery days in the week, and the schedule's quantities: what
    ``week_ensure`` would fill in (each line's weekly quantity split over the contract's delivery days)."""
    sunday = monday + timedelta(days=6)
    contracts = (
        Contract.objects.filter(
            kitchen=kitchen, status=ContractStatus.ACTIVE, starts_on__lte=sunday, ends_on__gte=monday
        )
        .prefetch_related(Prefetch("lines", queryset=ContractLine.objects.select_related("product")))
        .order_by("starts_on", "pk")
    )
    products: dict[int, Product] = {}
    days: set[date] = set()
    schedule: dict[tuple[int, date], int] = {}
    for contract in contracts:
        weekdays = sorted({int(wd) for wd in contract.delivery_weekdays or [] if 0 <= int(wd) <= 6})
        covered = [
            monday + timedelta(days=wd) for wd in weekdays if contract.covers(monday + timedelta(days=wd))
        ]
        if not covered:
            continue
        days.update(covered)
        for line in contract.lines.all():
            products.setdefault(line.product_id, line.product)
            parts = services.schedule_split(int(line.weekly_quantity), len(weekdays), line.product.step)
            for weekday, quantity in zip(weekdays, parts, strict=True):
                day = monday + timedelta(days=weekday)
                if quantity > 0 and contract.covers(day):
                    schedule[line.product_id, day] = schedule.get((line.product_id, day), 0) + quantity
    return sorted(products.values(), key=lambda p: sort_key(p.name)), sorted(days), schedule


@territory_page(Action.VIEW_TERRITORY, nav="supply")
@require_http_methods(["GET", "POST"])
def demand(request: HttpRequest, territory: Territory, monday: str, kitchen_id: int) -> HttpResponse:
    """The kitchen's demand for its contract products on its delivery days, prefilled from the contract schedule."""
    _require(request, territory, Action.SUPPLY_KITCHEN, Action.SUPPLY_MANAGE)
    day = parse_monday(monday)
    kitchen = _kitchen(request, territory, kitchen_id)
    current = _week(territory, day)
    products, days, schedule = _contract_schedule(kitchen, day)
    existing: dict[tuple[int, date], int] = {}
    if current is not None:
        for asked in Demand.objects.filter(week=current, kitchen=kitchen).select_related("product"):
            existing[asked.product_id, asked.day] = asked.quantity
            if asked.product_id not in {p.pk for p in products}:
                products.append(asked.product)
            if asked.day not in days:
                days.append(asked.day)
        days.sort()
    known = existing if current is not None and existing else schedule
    labels = {d: _day_label(d) for d in days}
    rows: list[dict[str, Any]] = []
    for product in products:
        initial = {
            forms.DemandRowForm.field_name(d): forms.shown(known.get((product.pk, d), 0), product)
            for d in days
        }
        form = forms.DemandRowForm(
            request.POST if request.method == "POST" else None,
            prefix=f"p{product.pk}",
            product=product,
            days=days,
            day_labels=labels,
            initial=initial,
        )
        rows.append({"product": product, "form": form, "unit": quantities.unit_label(product)})
    published = current is not None and current.status == WeekStatus.PUBLISHED

    if request.method == "POST":
        if all(row["form"].is_valid() for row in rows):
            if _demand_save(request, territory, day, kitchen, rows):
                messages.success(request, _("Your demand for the week is saved."))
                return redirect("supply_demand", territory.slug, monday, kitchen.pk)
        else:
            messages.error(request, _("Some quantities could not be read: see the rows marked below."))

    return render(
        request,
        "supply/demand.html",
        {
            "territory": territory,
            "page": "demand",
            "kitchen": kitchen,
            "monday": day,
            "week": current,
            "rows": rows,
            "days": days,
            "published": published,
            "from_schedule": not existing,
            "status_label": _week_status_label(current),
        },
        status=422 if request.method == "POST" else 200,
    )


def _demand_save(
    request: HttpRequest, territory: Territory, monday: date, kitchen: Kitchen, rows: list[dict[str, Any]]
) -> bool:
    """The demand rows saved whole (what changed), the week created if need be; False, the error shown, if a service
    refused one."""
    try:
        with transaction.atomic():
            week_row = _ensure_week(request, territory, monday)
            stored = {
                (r.product_id, r.day): r.quantity
                for r in Demand.objects.filter(week=week_row, kitchen=kitchen)
            }
            items = [
                services.DemandItem(kitchen=kitchen, product=row["product"], day=d, quantity=quantity)
                for row in rows
                for d, quantity in row["form"].quantities().items()
                if stored.get((row["product"].pk, d), 0) != quantity  # what changed (no row is 0)
            ]
            services.demand_set_many(week=week_row, items=items, actor=user_of(request))
    except GrenierError as exc:
        messages.error(request, error_text(exc))
        return False
    return True


@territory_page(Action.VIEW_TERRITORY, nav="supply")
@require_http_methods(["GET", "POST"])
def shortfall(request: HttpRequest, territory: Territory, monday: str, producer_id: int) -> HttpResponse:
    """A grower reports a crop failure on a published week; the week is re-planned and the changes are shown."""
    _require(request, territory, Action.SUPPLY_PRODUCE, Action.SUPPLY_MANAGE)
    day = parse_monday(monday)
    farm = _producer(request, territory, producer_id)
    current = _week(territory, day)
    published = current is not None and current.status == WeekStatus.PUBLISHED
    declared = (
        {
            a.product_id: a
            for a in Availability.objects.filter(week=current, producer=farm, quantity__gt=0).select_related(
                "product"
            )
        }
        if current
        else {}
    )
    products = {pk: a.product for pk, a in sorted(declared.items(), key=lambda kv: kv[1].product.name)}
    form = forms.ShortfallForm(request.POST if request.method == "POST" else None, products=products)

    if request.method == "POST":
        if current is None:
            raise Http404(_("This week is not open yet."))
        if form.is_valid():
            try:
                reported = services.shortfall_report(
                    week=current,
                    producer=farm,
                    product=products[form.cleaned_data["product"]],
                    available=form.cleaned_data["available"],
                    cause=form.cleaned_data["cause"],
                    idempotency_key=idempotency_key(request),
                    actor=user_of(request),
                )
            except GrenierError as exc:
                form_errors(form, exc)
            else:
                messages.success(request, _("Your shortfall is recorded and the week is re-planned."))
                return redirect(
                    f"{_shortfall_path(territory, monday, farm.pk)}?reported={reported.pk}#changes"
                )

    reported_row, changes = _reported(request, territory, current, farm)
    return render(
        request,
        "supply/shortfall.html",
        {
            "territory": territory,
            "page": "shortfall",
            "farm": farm,
            "monday": day,
            "week": current,
            "published": published,
            "form": form,
            "declared": [
                {"product": a.product, "quantity": _qty(a.quantity, a.product)}
                for a in sorted(declared.values(), key=lambda a: a.product.name)
            ],
            "reported": reported_row,
            "reported_available": _qty(reported_row.available, reported_row.product) if reported_row else "",
            "changes": changes,
            "own_changes_only": not permissions.can(request.user, territory, Action.SUPPLY_MANAGE),
            "earlier": _earlier(current, farm),
            "idempotency_key": idempotency_key(request),
        },
        status=422 if request.method == "POST" else 200,
    )


def _reported(
    request: HttpRequest, territory: Territory, current: SupplyWeek | None, farm: Producer
) -> tuple[Shortfall | None, list[dict[str, Any]]]:
    """The shortfall just reported (``?reported=``), if the person may read it, and the lines it changed."""
    reported_row = None
    changes: list[dict[str, Any]] = []
    reported_id = request.GET.get("reported", "")
    if current is not None and reported_id.isdigit():
        reported_row = (
            Shortfall.objects.filter(week=current, pk=int(reported_id)).select_related("product").first()
        )
        if reported_row is not None and not (
            reported_row.producer_id == farm.pk
            or permissions.can(request.user, territory, Action.SUPPLY_MANAGE)
        ):
            reported_row = None
        if reported_row is not None:
            # a grower sees its own farm's lines that changed (as the API shows them); coordinators every line
            its_changes = PlanChange.objects.filter(shortfall=reported_row)
            if not permissions.can(request.user, territory, Action.SUPPLY_MANAGE):
                its_changes = its_changes.filter(producer=farm)
            changes = [
                {
                    "farm": change.producer.farm_name,
                    "kitchen": change.kitchen.name,
                    "product": change.product.name,
                    "day": change.day,
                    "before": _qty(change.before, change.product),
                    "after": _qty(change.after, change.product),
                    "less": change.after < change.before,
                }
                for change in its_changes.select_related("producer", "kitchen", "product").order_by(
                    "day", "kitchen__name", "producer__farm_name"
                )
            ]
    return reported_row, changes


def _earlier(current: SupplyWeek | None, farm: Producer) -> list[dict[str, Any]]:
    """The farm's shortfalls of the week, latest first."""
    earlier = (
        list(
            Shortfall.objects.filter(week=current, producer=farm)
            .select_related("product")
            .order_by("-reported_at")
        )
        if current
        else []
    )
    return [
        {
            "row": s,
            "before": _qty(s.declared_before, s.product),
            "after": _qty(s.available, s.product),
        }
        for s in earlier
    ]


def _shortfall_path(territory: Territory, monday: str, producer_id: int) -> str:
    return reverse("supply_shortfall", args=[territory.slug, monday, producer_id])
