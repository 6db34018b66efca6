"""The week's page and its actions: the plan computed, adjusted line by line, published, and its coordinator."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.formats import date_format, number_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST

from grenier.core import permissions
from grenier.core.auth import user_of
from grenier.core.errors import GrenierError
from grenier.core.models import Role, Territory, User
from grenier.core.pages import error_text, form_errors
from grenier.core.permissions import Action
from grenier.core.views import territory_page
from grenier.supply import forms, selectors, services
from grenier.supply.models import (
    Availability,
    Contract,
    ContractStatus,
    Demand,
    Kitchen,
    PlanLine,
    Producer,
    Product,
    SupplyWeek,
    WeekStatus,
)
from grenier.supply.reasons import reason_words
from grenier.supply.views.common import (
    _day_label,
    _ensure_week,
    _kg,
    _qty,
    _require,
    _week,
    _week_status_label,
    _week_url_arg,
    parse_monday,
)
from grenier.supply.views.home import week_to_coordinate


def _plan_context(week: SupplyWeek) -> dict[str, Any]:
    """The week as the coordinator reads it: demand vs declared per product, the plan per kitchen and product with
    its lines, each farm's volume against its share, the solver's figures."""
    farms = {p.pk: p for p in Producer.objects.filter(territory=week.territory)}
    balance = [
        {
            "product": row.product,
            "asked": _qty(row.asked, row.product) if row.asked else "",
            "declared": _qty(row.declared, row.product) if row.declared else "",
            "farms": row.farms,
            "short": row.short > 0,
            "planned": _qty(row.planned, row.product),
        }
        for row in selectors.product_balance(week)
    ]

    table = selectors.week_table(week, farms=farms)
    items = _plan_items(table, farms, _line_action_prefix(week))
    plan_rows = [
        {
            **item,
            "demand": _qty(item["demand"], item["product"]),
            "supplied": _qty(item["supplied"], item["product"]),
            "unmet": _qty(item["unmet"], item["product"]) if item["unmet"] else "",
        }
        for item in items.values()
    ]
    lines = [x["line"] for item in items.values() for x in item["lines"]]
    plan_groups: dict[int, dict[str, Any]] = {}
    for shown in plan_rows:  # the table is ordered by kitchen: one group each, in that order
        group = plan_groups.setdefault(
            shown["kitchen"].pk, {"kitchen": shown["kitchen"], "rows": [], "unmet": 0, "line_ids": set()}
        )
        group["rows"].append(shown)
        group["unmet"] += bool(shown["unmet"])
        group["line_ids"].update(x["line"].pk for x in shown["lines"])

    farm_rows = _farm_rows(week, farms, lines)

    solver = week.solver or {}
    return {
        "balance": balance,
        "plan_rows": plan_rows,
        "plan_groups": list(plan_groups.values()),
        "farm_rows": farm_rows,
        "has_plan": bool(lines) or week.status != WeekStatus.OPEN,
        "solver": solver,
        "seconds": number_format(float(solver.get("seconds", 0) or 0), decimal_pos=2),
        "replans": solver.get("replans", []),
        "stages": _stage_rows(solver.get("stages", [])),
        "replan_stages": _stage_rows((solver.get("replans") or [{}])[-1].get("stages", [])),
        "demand_total": sum(1 for row in table if row.demand),
        "declared_total": Availability.objects.filter(week=week, quantity__gt=0).count(),
    }


def _line_action_prefix(week: SupplyWeek) -> str:
    """Where a line of the week's plan is changed, but the line's id and the final slash: reversed once for the
    week's hundreds of lines (``supply_plan_line`` ends with ``<int:line_id>/``)."""
    url = reverse("supply_plan_line", args=[week.territory.slug, _week_url_arg(week.monday), 0])
    return url.removesuffix("0/")


def _plan_items(
    table: list[selectors.TableRow], farms: dict[int, Producer], action_prefix: str
) -> dict[tuple[int, int], dict[str, Any]]:
    """Per kitchen and product (the table's day rows added up): demand, supplied, unmet, why, and the lines (each
    with its day in words and its form's action, the day worded once for the week's lines)."""
    days: dict[date, str] = {}
    items: dict[tuple[int, int], dict[str, Any]] = {}
    for row in table:
        item = items.setdefault(
            (row.kitchen.pk, row.product.pk),
            {
                "kitchen": row.kitchen,
                "product": row.product,
                "demand": 0,
                "supplied": 0,
                "unmet": 0,
                "reasons": [],
                "lines": [],
            },
        )
        item["demand"] += row.demand
        item["supplied"] += row.supplied
        item["unmet"] += row.unmet
        if row.unmet:
            text = reason_words(row.reason_code, row.product, row.numbers, farms)
            if text and text not in item["reasons"]:
                item["reasons"].append(text)
        for line in row.lines:
            if line.day not in days:
                days[line.day] = date_format(line.day, "l j")  # as the ``date:"l j"`` filter
            changed = line.adjusted or line.quantity != line.solver_quantity
            item["lines"].append(
                {
                    "line": line,
                    "day": days[line.day],
                    "action": f"{action_prefix}{line.pk}/",
                    "quantity": forms.shown(line.quantity, row.product),
                    # shown only beside a changed line: worded for those only
                    "solver": _qty(line.solver_quantity, row.product) if changed else "",
                    "changed": changed,
                }
            )
    return items


def _farm_rows(week: SupplyWeek, farms: dict[int, Producer], lines: list[PlanLine]) -> list[dict[str, Any]]:
    """Each farm: this week's volume against its share of the group's volume plus the gap it carries."""
    in_force, gaps = services.week_shares(week)  # what the planner uses
    shares = {pk: float(s) for pk, s in in_force.items()}
    volume: dict[int, int] = defaultdict(int)
    for line in lines:
        volume[line.producer_id] += int(line.quantity) * line.product.share_factor
    total = sum(volume.values())
    farm_rows = []
    for pk in sorted(set(shares) | set(volume), key=lambda pk: farms[pk].farm_name):
        share, gap = shares.get(pk, 0.0), gaps.get(pk, 0.0)
        after = gap + share * total - volume[pk]
        farm_rows.append(
            {
                "producer": farms[pk],
                "share": round(share * 100, 1),
                "volume": _kg(volume[pk]),
                "target": _kg(max(0.0, share * total + gap)),
                "gap_before": _kg(abs(gap)),
                "gap_before_owed": gap > 0,
                "gap_before_zero": abs(gap) < 50,
                "gap_after": _kg(abs(after)),
                "gap_after_owed": after > 0,
                "gap_after_zero": abs(after) < 50,
            }
        )
    return farm_rows


def _stage_rows(stages: list[dict[str, Any]]) -> list[dict[str, str]]:
    """The solve's stages in words, in the order they come first (``optimiser.Stage``): each one's own figure on
    the delivered plan and whether it is proven the best, else how close to the best it is proven to be."""
    labels = {
        "demand": _("Demand met, first"),
        "lines": _("Delivery lines changed, then"),
        "volume": _("Volume moved, then"),
        "shares_distance": _("Fair shares, then distance"),
    }
    rows = []
    for stage in stages:
        name = str(stage.get("name", ""))
        if name not in labels:
            continue
        gap = float(stage.get("gap") or 0.0)
        proven = bool(stage.get("proven"))
        if name == "lines":
            n = int(stage.get("objective") or 0)
            text = (
                ngettext("%(n)s line: the fewest possible", "%(n)s lines: the fewest possible", n)
                if proven
                else ngettext("%(n)s line: the fewest found", "%(n)s lines: the fewest found", n)
            ) % {"n": n}
        elif proven:
            text = {
                "demand": _("the most the declarations allow, proven"),
                "volume": _("the least possible, proven"),
                "shares_distance": _("the best plan, proven"),
            }[name]
        else:
            text = _("within %(gap)s %% of the best possible") % {
                "gap": number_format(100 * gap, decimal_pos=2)
            }
        rows.append({"name": name, "label": labels[name], "text": text})
    return rows


def _coordinator_choices(territory: Territory) -> list[tuple[int, str]]:
    people = (
        User.objects.filter(
            territory_roles__territory=territory,
            territory_roles__role__in=[Role.PRODUCER, Role.COORDINATOR],
            is_active=True,
        )
        .distinct()
        .order_by("display_name", "pk")
    )
    return [(person.pk, person.get_full_name() or person.email) for person in people]


def _delivery_days(week: SupplyWeek) -> list[date]:
    """The week's delivery days: those of the kitchens' active contracts that cover them, and any day already
    asked for (a line by hand goes on a day some kitchen is delivered)."""
    days: set[date] = set(Demand.objects.filter(week=week, quantity__gt=0).values_list("day", flat=True))
    for contract in Contract.objects.filter(
        territory=week.territory,
        status=ContractStatus.ACTIVE,
        starts_on__lte=week.monday + timedelta(days=6),
        ends_on__gte=week.monday,
    ):
        for weekday in {int(wd) for wd in contract.delivery_weekdays or [] if 0 <= int(wd) <= 6}:
            day = week.monday + timedelta(days=weekday)
            if contract.covers(day):
                days.add(day)
    return sorted(days)


def _week_events(week: SupplyWeek, *, farm: Producer | None = None) -> dict[str, Any]:
    """The published plan's shortfalls and changed lines, latest first, as the week page shows them (``farm``:
    only that farm's)."""
    shortfalls = selectors.week_shortfalls(week).order_by("-reported_at", "-pk")
    changes = (
        selectors.week_changes(week)
        .select_related("shortfall__producer", "shortfall__product")
        .order_by("-at", "-pk")
    )
    if farm is not None:
        shortfalls, changes = shortfalls.filter(producer=farm), changes.filter(producer=farm)
    return {
        "shortfalls": [
            {
                "row": row,
                "before": _qty(row.declared_before, row.product),
                "after": _qty(row.available, row.product),
                "by": (row.reported_by.get_full_name() or row.reported_by.email) if row.reported_by else "",
            }
            for row in shortfalls
        ],
        "changes": [
            {
                "row": change,
                "before": _qty(change.before, change.product),
                "after": _qty(change.after, change.product),
                "less": change.after < change.before,
                "reason": change.get_reason_display(),
                "by": (change.actor.get_full_name() or change.actor.email) if change.actor else "",
            }
            for change in changes
        ],
    }


def _add_line_form(week: SupplyWeek, data: Any = None) -> forms.PlanLineAddForm:
    territory = week.territory
    return forms.PlanLineAddForm(
        data,
        prefix="add",
        producers=[
            (p.pk, p.farm_name)
            for p in Producer.objects.filter(territory=territory, on_platform=True, left_on__isnull=True)
        ],
        kitchens=[(k.pk, k.name) for k in Kitchen.objects.filter(territory=territory, is_active=True)],
        products={p.pk: p for p in Product.objects.filter(territory=territory, is_active=True)},
        days=[(day.isoformat(), _day_label(day)) for day in _delivery_days(week) or week.days[:5]],
    )


def _render_week(
    request: HttpRequest,
    territory: Territory,
    week: SupplyWeek,
    *,
    line_errors: dict[int, list[str]] | None = None,
    add_form: forms.PlanLineAddForm | None = None,
    status: int = 200,
) -> HttpResponse:
    may_manage = permissions.can(request.user, territory, Action.SUPPLY_MANAGE)
    plan = _plan_context(week)
    for group in plan[
        "plan_groups"
    ]:  # a kitchen's lines show folded (its unmet count on the fold) unless alone
        group["open"] = len(plan["plan_groups"]) == 1 or bool(group["line_ids"] & set(line_errors or {}))
    context = {
        "territory": territory,
        "page": "week",
        "week": week,
        "status_label": _week_status_label(week),
        "may_manage": may_manage,
        "line_errors": line_errors or {},
        "add_form": add_form or _add_line_form(week),
        "coordinator_form": forms.WeekCoordinatorForm(
            initial={"coordinator": week.coordinator_id}, people=_coordinator_choices(territory)
        )
        if may_manage
        else None,
        "previous_monday": week.monday - timedelta(days=7),
        "next_monday": week.monday + timedelta(days=7),
        **plan,
        **_week_events(week),
    }
    return render(request, "supply/week.html", context, status=status)


@territory_page(Action.VIEW_TERRITORY, nav="supply")
@require_http_methods(["GET", "POST"])
def week(request: HttpRequest, territory: Territory, monday: str) -> HttpResponse:
    day = parse_monday(monday)
    if request.method == "POST":  # open the week: a coordinator of the territory only
        _require(request, territory, Action.SUPPLY_MANAGE)
        services.week_ensure(territory=territory, monday=day, actor=user_of(request))
        return redirect("supply_week", territory.slug, _week_url_arg(day))
    if _week(territory, day) is None and permissions.can(request.user, territory, Action.SUPPLY_MANAGE):
        return render(
            request,
            "supply/week_closed.html",
            {"territory": territory, "page": "week", "monday": day},
        )
    current = week_to_coordinate(request, territory, day)
    return _render_week(request, territory, current)


@territory_page(Action.VIEW_TERRITORY, nav="supply")
@require_POST
def plan_compute(request: HttpRequest, territory: Territory, monday: str) -> HttpResponse:
    current = week_to_coordinate(request, territory, parse_monday(monday))
    try:
        plan = services.plan_compute(week=current, actor=user_of(request))
    except GrenierError as exc:
        messages.error(request, error_text(exc))
    else:
        if plan.proven_optimal:
            messages.success(request, _("The plan is computed: the best plan is proven."))
        else:
            messages.warning(
                request, _("The plan is computed, but the solver could not prove it is the best.")
            )
    return redirect("supply_week", territory.slug, monday)


@territory_page(Action.VIEW_TERRITORY, nav="supply")
@require_POST
def plan_line(request: HttpRequest, territory: Territory, monday: str, line_id: int) -> HttpResponse:
    current = week_to_coordinate(request, territory, parse_monday(monday))
    line = (
        PlanLine.objects.filter(week=current, pk=line_id)
        .select_related("producer", "kitchen", "product")
        .first()
    )
    if line is None:
        raise Http404(_("This line is not in the week's plan."))
    form = forms.PlanLineForm(request.POST, product=line.product)
    errors: list[str] = []
    if form.is_valid():
        try:
            services.plan_line_set(
                week=current,
                producer=line.producer,
                kitchen=line.kitchen,
                product=line.product,
                day=line.day,
                quantity=form.cleaned_data["quantity"],
                actor=user_of(request),
            )
        except GrenierError as exc:
            errors = [error_text(exc)]
        else:
            messages.success(
                request,
                _("%(farm)s → %(kitchen)s, %(product)s: %(quantity)s.")
                % {
                    "farm": line.producer.farm_name,
                    "kitchen": line.kitchen.name,
                    "product": line.product.name,
                    "quantity": _qty(form.cleaned_data["quantity"], line.product),
                },
            )
            return redirect(f"{_week_path(territory, current)}#line-{line.pk}")
    else:
        errors = [str(error) for field_errors in form.errors.values() for error in field_errors]
    current.refresh_from_db()
    return _render_week(request, territory, current, line_errors={line.pk: errors}, status=422)


def _week_path(territory: Territory, week: SupplyWeek) -> str:
    return reverse("supply_week", args=[territory.slug, _week_url_arg(week.monday)])


@territory_page(Action.VIEW_TERRITORY, nav="supply")
@require_POST
def plan_line_add(request: HttpRequest, territory: Territory, monday: str) -> HttpResponse:
    current = week_to_coordinate(request, territory, parse_monday(monday))
    form = _add_line_form(current, request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.plan_line_set(
                week=current,
                producer=Producer.objects.get(territory=territory, pk=data["producer"]),
                kitchen=Kitchen.objects.get(territory=territory, pk=data["kitchen"]),
                product=form.products[data["product"]],
                day=data["day"],
                quantity=data["quantity"],
                actor=user_of(request),
            )
        except GrenierError as exc:
            form_errors(form, exc)
        else:
            messages.success(request, _("The line is added to the plan."))
            return redirect("supply_week", territory.slug, monday)
    return _render_week(request, territory, current, add_form=form, status=422)


@territory_page(Action.VIEW_TERRITORY, nav="supply")
@require_POST
def plan_publish(request: HttpRequest, territory: Territory, monday: str) -> HttpResponse:
    current = week_to_coordinate(request, territory, parse_monday(monday))
    try:
        services.plan_publish(week=current, actor=user_of(request))
    except GrenierError as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(request, _("The plan is published: the farms and kitchens see their lines."))
    return redirect("supply_week", territory.slug, monday)


@territory_page(Action.SUPPLY_MANAGE, nav="supply")
@require_POST
def week_coordinator(request: HttpRequest, territory: Territory, monday: str) -> HttpResponse:
    """Name the coordinator of the week (the growers' rotation): coordinators of the territory only."""
    day = parse_monday(monday)
    current = _ensure_week(request, territory, day)
    form = forms.WeekCoordinatorForm(request.POST, people=_coordinator_choices(territory))
    if not form.is_valid():
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
        return redirect("supply_week", territory.slug, monday)
    person = (
        User.objects.filter(pk=form.cleaned_data["coordinator"]).first()
        if form.cleaned_data["coordinator"]
        else None
    )
    try:
        services.week_coordinator_set(week=current, coordinator=person, actor=user_of(request))
    except GrenierError as exc:
        messages.error(request, error_text(exc))
    else:
        if person is None:
            messages.success(request, _("This week has no coordinator of the week."))
        else:
            messages.success(
                request,
                _("%(name)s coordinates this week.") % {"name": person.get_full_name() or person.email},
            )
    return redirect("supply_week", territory.slug, monday)
