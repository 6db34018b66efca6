"""Pages of the supply platform (PIAL): the weekly cycle for growers, kitchen managers and the coordinators.

A grower declares what its farm will have and reads what to deliver; a kitchen manager enters its demand and records
what arrived; the coordinator of the week computes the plan, adjusts it and publishes it. Every page resolves the
territory through ``territory_page``; which farm or kitchen a person acts for, and who may coordinate a week, is
answered by ``supply.access`` (not acting for a farm or kitchen answers 404, like another territory; a role that
does not allow the page answers 403). Services decide and refuse; the pages show their refusals.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format, number_format
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST

from grenier.core import permissions
from grenier.core.auth import user_of
from grenier.core.errors import Forbidden, GrenierError, NotFound
from grenier.core.models import Role, Territory, User
from grenier.core.pages import error_text, idempotency_key
from grenier.core.permissions import Action
from grenier.core.text import sort_key
from grenier.core.views import territory_page
from grenier.supply import access, forms, quantities, selectors, services
from grenier.supply.models import (
    Availability,
    Contract,
    ContractLine,
    ContractStatus,
    Demand,
    EgalimLabel,
    Kitchen,
    PlanChange,
    PlanLine,
    Producer,
    ProducerShare,
    ProducerWeek,
    Product,
    Shortfall,
    SupplyWeek,
    WeekStatus,
)
from grenier.supply.reasons import reason_words

SUPPLY_ACTIONS = (Action.SUPPLY_MANAGE, Action.SUPPLY_FIGURES, Action.SUPPLY_PRODUCE, Action.SUPPLY_KITCHEN)


# --- helpers -------------------------------------------------------------------------------------------------------


def _can(request: HttpRequest, territory: Territory, *actions: Action) -> bool:
    return any(permissions.can(request.user, territory, action) for action in actions)


def _require(request: HttpRequest, territory: Territory, *actions: Action) -> None:
    """403 unless one of the person's roles allows one of ``actions`` (``territory_page`` already gave 404)."""
    if not _can(request, territory, *actions):
        raise PermissionDenied(_("Your role in this territory does not allow this."))


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _this_monday() -> date:
    return _monday(timezone.localdate())


def parse_monday(text: str) -> date:
    """The Monday naming a week in a URL (``2026-10-05``); 404 for anything else. Shared by the supply pages."""
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise Http404(_("No such week.")) from None
    if day.weekday() != 0:
        raise Http404(_("A week is named by its Monday."))
    return day


_week = selectors.week_of


def _producer(request: HttpRequest, territory: Territory, producer_id: int) -> Producer:
    try:
        return access.producer_for(request.user, territory, producer_id)
    except NotFound as exc:
        raise Http404(exc.detail) from exc


def _kitchen(request: HttpRequest, territory: Territory, kitchen_id: int) -> Kitchen:
    try:
        return access.kitchen_for(request.user, territory, kitchen_id)
    except NotFound as exc:
        raise Http404(exc.detail) from exc


def _day_label(day: date) -> str:
    """A day at the start of a label: « Lundi 23 novembre »."""
    return capfirst(date_format(day, "l j F"))


def _day_words(day: date) -> str:
    """A day inside a sentence: « lundi 23 novembre » (the catalogue names weekdays with a capital)."""
    return date_format(day, "l j F").lower()


def _receipt_words(line: PlanLine) -> str:
    """What the kitchen recorded of a line, in words: « 2 kg missing », « 1 piece more than planned », « as
    planned » (empty until recorded)."""
    difference = line.discrepancy
    if difference is None:
        return ""
    if difference == 0:
        return _("as planned")
    count = quantities.plural_count(difference, line.product)
    amount = _qty(abs(difference), line.product)
    if difference < 0:
        return ngettext("%(q)s missing", "%(q)s missing", count) % {"q": amount}
    return ngettext("%(q)s more than planned", "%(q)s more than planned", count) % {"q": amount}


def _qty(quantity: int | None, product: Product) -> str:
    return quantities.format_quantity(quantity, product) if quantity is not None else ""


def _kg(volume: float) -> str:
    """A volume in grams, read in kg."""
    return quantities.format_quantity(round(volume / 100) * 100, _KG_PRODUCT)


_KG_PRODUCT = Product(name="kg", unit="kg")


def _week_url_arg(monday: date) -> str:
    return monday.isoformat()


def _ensure_week(request: HttpRequest, territory: Territory, monday: date) -> SupplyWeek:
    week = _week(territory, monday)
    if week is None:
        week = services.week_ensure(territory=territory, monday=monday, actor=user_of(request))
    return week


def _my_farms(request: HttpRequest, territory: Territory) -> list[Producer]:
    """The farms the person is one of the people of (a coordinator acts for every farm but is not a grower)."""
    if not permissions.can(request.user, territory, Action.SUPPLY_PRODUCE):
        return []
    return list(
        Producer.objects.filter(territory=territory, on_platform=True, users=user_of(request)).distinct()
    )


def _my_kitchens(request: HttpRequest, territory: Territory) -> list[Kitchen]:
    if not permissions.can(request.user, territory, Action.SUPPLY_KITCHEN):
        return []
    return list(Kitchen.objects.filter(territory=territory, managers=user_of(request)).distinct())


def _week_status_label(week: SupplyWeek | None) -> str:
    if week is None:
        return _("Not opened yet")
    return {
        WeekStatus.OPEN: _("Open: demand and availability being entered"),
        WeekStatus.PLANNED: _("Planned, not yet published"),
        WeekStatus.PUBLISHED: _("Published"),
    }.get(WeekStatus(week.status), week.status)


# --- home ----------------------------------------------------------------------------------------------------------


@dataclass
class FarmWeek:
    week_monday: date
    week: SupplyWeek | None
    declared: int = 0
    lines: list[dict[str, Any]] = field(default_factory=list)
    notes: list[dict[str, Any]] = field(default_factory=list)  # one delivery note a day and kitchen


def _farm_line(line: PlanLine) -> dict[str, Any]:
    """A farm's delivery line as its home shows it, with what the kitchen recorded once it has."""
    difference = line.discrepancy
    return {
        "pk": line.pk,
        "day": line.day,
        "kitchen": line.kitchen.name,
        "kitchen_id": line.kitchen_id,
        "product": line.product.name,
        "quantity": _qty(line.quantity, line.product),
        "received": _qty(line.received_quantity, line.product),
        "receipt": _receipt_words(line),
        "short": difference is not None and difference < 0,
        "over": difference is not None and difference > 0,
        "note": line.receipt_note,
    }


def _farm_lines(week: SupplyWeek, farm: Producer) -> QuerySet[PlanLine]:
    """The farm's lines of a published week: what it delivers, and what it no longer does but was received."""
    return (
        PlanLine.objects.filter(week=week, producer=farm)
        .filter(Q(quantity__gt=0) | Q(received_quantity__isnull=False))
        .select_related("kitchen", "product")
        .order_by("day", "kitchen__name", "product__name", "pk")
    )


def _figures(request: HttpRequest, territory: Territory) -> dict[str, Any]:
    """The platform's figures for those who read them (the committee, funders): the development fund's balance,
    each kitchen's EGalim shares this year and the group's volumes this year, farm by farm."""
    from grenier.supply import billing, egalim

    year = timezone.localdate().year
    start, end = egalim.year_period(year)
    kitchens = egalim.kitchens_visible(request.user, territory).order_by("name", "id")
    volumes: dict[int, int] = defaultdict(int)
    for row in ProducerWeek.objects.filter(
        week__territory=territory,
        week__status=WeekStatus.PUBLISHED,
        week__monday__gte=start,
        week__monday__lte=end,
    ):
        volumes[row.producer_id] += int(row.volume)
    farms = Producer.objects.in_bulk(list(volumes))
    return {
        "year": year,
        "balance": billing.devfund_balance(territory),
        "egalim": list(egalim.territory_shares(kitchens, start, end)),
        "volume_total": _kg(sum(volumes.values())),
        "volumes": [
            {"farm": farms[pk], "volume": _kg(v)}
            for pk, v in sorted(volumes.items(), key=lambda kv: farms[kv[0]].farm_name)
        ],
    }


@territory_page(Action.VIEW_TERRITORY, nav="supply")
def home(request: HttpRequest, territory: Territory) -> HttpResponse:
    """What the person has to do this week and next: by farm, by kitchen, and the weeks to coordinate."""
    _require(request, territory, *SUPPLY_ACTIONS)
    this_monday = _this_monday()
    mondays = [this_monday, this_monday + timedelta(days=7)]
    weeks = {w.monday: w for w in SupplyWeek.objects.filter(territory=territory, monday__in=mondays)}

    last_week = selectors.week_of(territory, this_monday - timedelta(days=7))
    farms = []
    for farm in _my_farms(request, territory):
        rows = []
        for monday in mondays:
            week = weeks.get(monday)
            row = FarmWeek(monday, week)
            if week is not None:
                row.declared = Availability.objects.filter(week=week, producer=farm, quantity__gt=0).count()
                if week.status == WeekStatus.PUBLISHED:
                    row.lines = [_farm_line(line) for line in _farm_lines(week, farm)]
                    row.notes = list(
                        {(x["day"], x["kitchen_id"]): x for x in row.lines}.values()
                    )  # lines are ordered by day then kitchen: the first of each pair stands for it
            rows.append(row)
        # last week's deliveries the kitchens recorded with a difference or a note: what the farm should know
        received = []
        if last_week is not None and last_week.status == WeekStatus.PUBLISHED:
            received = [
                _farm_line(line)
                for line in _farm_lines(last_week, farm).filter(received_quantity__isnull=False)
                if line.discrepancy or line.receipt_note
            ]
        farms.append({"farm": farm, "weeks": rows, "last_week": received})

    kitchens = []
    for kitchen in _my_kitchens(request, territory):
        this_week = weeks.get(mondays[0])
        next_week = weeks.get(mondays[1])
        deliveries = 0
        if this_week is not None and this_week.status == WeekStatus.PUBLISHED:
            deliveries = PlanLine.objects.filter(week=this_week, kitchen=kitchen, quantity__gt=0).count()
        kitchens.append(
            {
                "kitchen": kitchen,
                "this_week": this_week,
                "next_week": next_week,
                "deliveries": deliveries,
                "next_published": next_week is not None and next_week.status == WeekStatus.PUBLISHED,
                "next_demand_lines": Demand.objects.filter(
                    week=next_week, kitchen=kitchen, quantity__gt=0
                ).count()
                if next_week
                else 0,
            }
        )

    coordinated: list[dict[str, Any]] = []
    may_manage = permissions.can(request.user, territory, Action.SUPPLY_MANAGE)
    if may_manage:
        known = {w.monday: w for w in SupplyWeek.objects.filter(territory=territory).order_by("-monday")[:12]}
        for monday in mondays:
            known.setdefault(monday, weeks.get(monday))  # type: ignore[arg-type]
        coordinated = [
            {"monday": monday, "week": known[monday], "status": _week_status_label(known[monday])}
            for monday in sorted(known, reverse=True)
        ]
    else:
        mine = SupplyWeek.objects.filter(
            territory=territory, coordinator=user_of(request), monday__gte=this_monday - timedelta(days=28)
        ).order_by("-monday")
        coordinated = [{"monday": w.monday, "week": w, "status": _week_status_label(w)} for w in mine]

    figures_only = not (farms or kitchens or coordinated or may_manage)
    return render(
        request,
        "supply/home.html",
        {
            "territory": territory,
            "page": "home",
            "mondays": mondays,
            "farms": farms,
            "kitchens": kitchens,
            "coordinated": coordinated,
            "may_manage": may_manage,
            "figures_only": figures_only,
            "figures": _figures(request, territory)
            if figures_only and permissions.can(request.user, territory, Action.SUPPLY_FIGURES)
            else None,
            "last_monday": this_monday - timedelta(days=7),
        },
    )


# --- the week (coordinator of the week) --------------------------------------------------------------------------


def week_to_coordinate(request: HttpRequest, territory: Territory, monday: date) -> SupplyWeek:
    """The week a person coordinates (the pages of the plan and its table): 404 when it is not open (to a
    coordinator of the territory) or not acting in the territory, 403 for anyone else."""
    week = _week(territory, monday)
    if week is None:
        if permissions.can(request.user, territory, Action.SUPPLY_MANAGE):
            raise Http404(_("This week is not open yet."))
        raise PermissionDenied(
            _("Only this week's coordinator or a coordinator of the territory may do this.")
        )
    try:
        access.require_coordinate(request.user, week)
    except Forbidden as exc:
        raise PermissionDenied(exc.detail) from exc
    except NotFound as exc:
        raise Http404(exc.detail) from exc
    return week


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

    # per kitchen and product (the table's day rows added up): demand, supplied, unmet, why, and the lines
    table = selectors.week_table(week)
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
            item["lines"].append(
                {
                    "line": line,
                    "quantity": forms.shown(line.quantity, row.product),
                    "solver": _qty(line.solver_quantity, row.product),
                    "changed": line.adjusted or line.quantity != line.solver_quantity,
                }
            )
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

    # each farm: this week's volume against its share of the group's volume plus the gap it carries
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
            for name, errors in exc.errors.items():
                for error in errors:
                    form.add_error(name if name in form.fields else None, error)
            if not exc.errors or exc.detail not in [e for errs in exc.errors.values() for e in errs]:
                form.add_error(None, exc.detail)
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


# --- a grower's availability ---------------------------------------------------------------------------------------


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
            refused = 0
            try:
                with transaction.atomic():
                    week_row = _ensure_week(request, territory, day)
                    changed = 0
                    for row in rows:
                        data, before = row["form"].cleaned_data, row["before"]
                        same = (before.quantity, before.minimum_lot) if before else (0, 0)
                        if (data["quantity"], data["minimum_lot"]) == same:
                            continue
                        try:
                            with transaction.atomic():
                                services.availability_declare(
                                    week=week_row,
                                    producer=farm,
                                    product=row["product"],
                                    quantity=data["quantity"],
                                    minimum_lot=data["minimum_lot"],
                                    actor=user_of(request),
                                )
                        except GrenierError as exc:  # marked on its row; every row is checked, none is saved
                            _refusal_on_row(row["form"], exc)
                            refused += 1
                        changed += 1
                    if refused:
                        transaction.set_rollback(True)
            except GrenierError as exc:
                messages.error(request, error_text(exc))
            else:
                if refused:  # the summary at the top of the form links each refused row
                    return _render_availability(request, territory, farm, day, current, rows, published)

                messages.success(
                    request,
                    _("Your availability is saved (%(n)s products changed).") % {"n": changed},
                )
                return redirect("supply_availability", territory.slug, monday, farm.pk)
    return _render_availability(request, territory, farm, day, current, rows, published)


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


# --- a kitchen's demand --------------------------------------------------------------------------------------------


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
            try:
                with transaction.atomic():
                    week_row = _ensure_week(request, territory, day)
                    stored = {
                        (r.product_id, r.day): r.quantity
                        for r in Demand.objects.filter(week=week_row, kitchen=kitchen)
                    }
                    for row in rows:
                        for d, quantity in row["form"].quantities().items():
                            if stored.get((row["product"].pk, d), 0) == quantity and (
                                (row["product"].pk, d) in stored or quantity == 0
                            ):
                                continue
                            services.demand_set(
                                week=week_row,
                                kitchen=kitchen,
                                product=row["product"],
                                day=d,
                                quantity=quantity,
                                actor=user_of(request),
                            )
            except GrenierError as exc:
                messages.error(request, error_text(exc))
            else:
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


# --- a shortfall ---------------------------------------------------------------------------------------------------


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
                for name, errors in exc.errors.items():
                    for error in errors:
                        form.add_error(name if name in form.fields else None, error)
                form.add_error(None, exc.detail)
            else:
                messages.success(request, _("Your shortfall is recorded and the week is re-planned."))
                return redirect(
                    f"{_shortfall_path(territory, monday, farm.pk)}?reported={reported.pk}#changes"
                )

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
    earlier = (
        list(
            Shortfall.objects.filter(week=current, producer=farm)
            .select_related("product")
            .order_by("-reported_at")
        )
        if current
        else []
    )
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
            "earlier": [
                {
                    "row": s,
                    "before": _qty(s.declared_before, s.product),
                    "after": _qty(s.available, s.product),
                }
                for s in earlier
            ],
            "idempotency_key": idempotency_key(request),
        },
        status=422 if request.method == "POST" else 200,
    )


def _shortfall_path(territory: Territory, monday: str, producer_id: int) -> str:
    return reverse("supply_shortfall", args=[territory.slug, monday, producer_id])


# --- a kitchen's deliveries ----------------------------------------------------------------------------------------


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
            .select_related("producer", "product")
            .order_by("day", "producer__farm_name", "product__name")
        )
    posted_group = request.POST.get("delivery", "") if request.method == "POST" else ""

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

    if request.method == "POST":
        if not published:
            messages.error(request, _("This week's plan is not published: there is nothing to receive yet."))
            return redirect("supply_deliveries", territory.slug, monday, kitchen.pk)
        posted = next((g for g in groups.values() if g["id"] == posted_group), None)
        if posted is None:
            raise Http404(_("No such delivery."))
        group = posted
        if all(row["form"].is_valid() for row in group["rows"]):
            try:
                with transaction.atomic():
                    for row in group["rows"]:
                        received = row["form"].cleaned_data["received"]
                        note = row["form"].cleaned_data["note"]
                        line = row["line"]
                        if received is None:
                            received = 0
                        if received == line.received_quantity and note == line.receipt_note:
                            continue
                        services.receipt_record(
                            line=line, received_quantity=received, note=note, actor=user_of(request)
                        )
            except GrenierError as exc:
                messages.error(request, error_text(exc))
            else:
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
                return redirect(f"{_deliveries_path(territory, monday, kitchen.pk)}#delivery-{group['id']}")
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
            "status_label": _week_status_label(current),
        },
        status=422 if request.method == "POST" else 200,
    )


def _deliveries_path(territory: Territory, monday: str, kitchen_id: int) -> str:
    return reverse("supply_deliveries", args=[territory.slug, monday, kitchen_id])


# --- reference data (read-only; coordinators edit in /admin/) --------------------------------------------------


def _reference(request: HttpRequest, territory: Territory) -> dict[str, Any]:
    _require(request, territory, *SUPPLY_ACTIONS)
    return {
        "territory": territory,
        "may_manage": permissions.can(request.user, territory, Action.SUPPLY_MANAGE),
    }


def _labels(codes: list[str]) -> list[str]:
    return [str(EgalimLabel(code).label) if code in EgalimLabel.values else code for code in codes or []]


@territory_page(Action.VIEW_TERRITORY, nav="supply")
def kitchens(request: HttpRequest, territory: Territory) -> HttpResponse:
    context = _reference(request, territory)
    rows = Kitchen.objects.filter(territory=territory).prefetch_related("managers")
    return render(request, "supply/kitchens.html", {**context, "page": "kitchens", "kitchens": rows})


@territory_page(Action.VIEW_TERRITORY, nav="supply")
def producers(request: HttpRequest, territory: Territory) -> HttpResponse:
    context = _reference(request, territory)
    shares = {pk: float(s) for pk, s in services.shares_in_force(territory, timezone.localdate()).items()}
    raw: dict[int, int] = {}
    for share in ProducerShare.objects.filter(
        producer__territory=territory, valid_from__lte=timezone.localdate()
    ).order_by("producer_id", "-valid_from"):
        raw.setdefault(share.producer_id, share.share_bp)
    # the people of a farm are shown to the group and its coordinators, not to committee members or funders
    show_people = _can(request, territory, Action.SUPPLY_MANAGE, Action.SUPPLY_PRODUCE)
    rows = [
        {
            "producer": producer,
            "labels": _labels(producer.certifications),
            "share": round(shares.get(producer.pk, 0.0) * 100, 1),
            "agreed": raw.get(producer.pk, 0) / 100,
            "people": [p.get_full_name() or p.email for p in producer.users.all()] if show_people else [],
        }
        for producer in Producer.objects.filter(territory=territory, on_platform=True).prefetch_related(
            "users"
        )
    ]
    return render(
        request,
        "supply/producers.html",
        {**context, "page": "producers", "rows": rows, "show_people": show_people},
    )


@territory_page(Action.VIEW_TERRITORY, nav="supply")
def products(request: HttpRequest, territory: Territory) -> HttpResponse:
    context = _reference(request, territory)
    rows = [
        {"product": product, "labels": _labels(product.egalim_labels)}
        for product in Product.objects.filter(territory=territory)
    ]
    return render(request, "supply/products.html", {**context, "page": "products", "rows": rows})


def _visible_contracts(request: HttpRequest, territory: Territory) -> QuerySet[Contract]:
    """Every contract to the coordinators, the figures' readers and the growers; a kitchen its own."""
    contracts = Contract.objects.filter(territory=territory)
    if _can(request, territory, Action.SUPPLY_MANAGE, Action.SUPPLY_FIGURES, Action.SUPPLY_PRODUCE):
        return contracts
    return contracts.filter(kitchen__in=access.kitchens_of(request.user, territory))


@territory_page(Action.VIEW_TERRITORY, nav="supply")
def contracts(request: HttpRequest, territory: Territory) -> HttpResponse:
    context = _reference(request, territory)
    weekdays = [
        _("Monday"),
        _("Tuesday"),
        _("Wednesday"),
        _("Thursday"),
        _("Friday"),
        _("Saturday"),
        _("Sunday"),
    ]
    rows = []
    for contract in (
        _visible_contracts(request, territory)
        .select_related("kitchen")
        .prefetch_related(
            Prefetch("lines", queryset=ContractLine.objects.select_related("product")), "producers"
        )
    ):
        rows.append(
            {
                "contract": contract,
                "days": [weekdays[int(d)] for d in contract.delivery_weekdays if 0 <= int(d) <= 6],
                "producers": [p.farm_name for p in contract.producers.all()],
                "lines": [
                    {
                        "line": line,
                        "unit": quantities.unit_label(line.product),
                        "weekly": _qty(line.weekly_quantity, line.product),
                        "minimum": _qty(line.minimum_quantity, line.product),
                        "maximum": _qty(line.maximum_quantity, line.product)
                        if line.maximum_quantity is not None
                        else "",
                    }
                    for line in contract.lines.all()
                ],
            }
        )
    return render(request, "supply/contracts.html", {**context, "page": "contracts", "rows": rows})


__all__ = [
    "availability",
    "contracts",
    "deliveries",
    "demand",
    "home",
    "kitchens",
    "plan_compute",
    "plan_line",
    "plan_line_add",
    "plan_publish",
    "producers",
    "products",
    "shortfall",
    "week",
    "week_coordinator",
]
