"""A grower's shortfall: the rest of the week re-planned around what is already delivered, invoiced or past."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from grenier.core.errors import Conflict
from grenier.core.idempotency import fingerprint, replayed
from grenier.core.models import User
from grenier.core.services import audit
from grenier.supply import notifications, optimiser
from grenier.supply.models import (
    Availability,
    Demand,
    InvoiceLine,
    PlanChange,
    PlanChangeReason,
    PlanLine,
    Producer,
    Product,
    Shortfall,
    SupplyWeek,
    WeekStatus,
)
from grenier.supply.quantities import format_quantity
from grenier.supply.services.checks import _invalid, _locked_week, _quantity, _same_territory, _subject
from grenier.supply.services.plan import (
    _contract_line_map,
    _copy_week,
    _producer_weeks_recompute,
    _write_line,
)
from grenier.supply.services.problem import SOLVER_TIME_LIMIT, Problem, _figures, _solve, week_problem


def shortfall_report(
    *,
    week: SupplyWeek,
    producer: Producer,
    product: Product,
    available: int,
    cause: str = "",
    idempotency_key: str,
    actor: User | None,
    reported_on: date | None = None,
) -> Shortfall:
    """A farm will have only ``available`` of ``product`` this published week (a crop failure). Its declaration
    is lowered and the week re-planned: the group covers as much of the demand as it can, changing as few
    delivery lines as it can (each is a delivery a farm and a kitchen must re-arrange), and among those moving as
    little volume as it can; shares and distance only then. Lines of
    days before the report's day (today; ``reported_on`` when recording history, as the demo does) stay as they
    are, like delivered and invoiced ones; a week whose delivery days are all past is refused (Conflict). Every
    changed line is recorded (PlanChange) and every farm and kitchen affected is told, with the coordinator of
    the week. The same ``idempotency_key`` again returns the first report and changes nothing."""
    today = reported_on or timezone.localdate()
    at = (
        timezone.now() if reported_on is None else timezone.make_aware(datetime.combine(reported_on, time(7)))
    )
    if not idempotency_key or len(idempotency_key) > 100:
        raise _invalid("idempotency_key", _("A key of 1 to 100 characters is required."))
    request = {"producer": producer, "product": product, "available": available, "cause": cause.strip()}
    existing = Shortfall.objects.filter(week=week, idempotency_key=idempotency_key).first()
    if existing is not None:
        return replayed(existing, key=idempotency_key, **request)
    _quantity(available, "available", planned=True)
    _same_territory(week.territory_id, producer=producer, product=product)
    try:
        with transaction.atomic():
            locked = _locked_week(week)
            existing = Shortfall.objects.filter(week=locked, idempotency_key=idempotency_key).first()
            if existing is not None:
                return replayed(existing, key=idempotency_key, **request)
            if locked.status != WeekStatus.PUBLISHED:
                raise Conflict(_("The plan is not published yet: lower the declared availability instead."))
            declared = (
                Availability.objects.select_for_update()
                .filter(week=locked, producer=producer, product=product)
                .first()
            )
            if declared is None or declared.quantity == 0:
                raise _invalid("product", _("This farm declared none of this product this week."))
            if available >= declared.quantity:
                raise _invalid(
                    "available",
                    _("You declared %(declared)s; a shortfall is less than that.")
                    % {"declared": format_quantity(int(declared.quantity), product)},
                )
            if not _days_left(locked, today):
                raise Conflict(
                    _("Every delivery day of this week is past: a shortfall can no longer change its plan.")
                )
            shortfall = _replan(
                locked, declared, available, cause, idempotency_key, actor, today, at, fingerprint(**request)
            )
    except IntegrityError:
        # the same report raced in from another request (double submit): answer with the one that won
        won = Shortfall.objects.filter(week=week, idempotency_key=idempotency_key).first()
        if won is None:
            raise
        return replayed(won, key=idempotency_key, **request)
    _copy_week(locked, week)
    return shortfall


def _days_left(week: SupplyWeek, today: date) -> bool:
    """Whether the week has a delivery day (a day with demand or a plan line) from ``today`` on."""
    return (
        Demand.objects.filter(week=week, day__gte=today).exists()
        or PlanLine.objects.filter(week=week, day__gte=today).exists()
    )


def _fixed_lines(week: SupplyWeek, lines: Sequence[PlanLine], today: date) -> list[PlanLine]:
    """The lines a re-plan must leave exactly as they are: delivered (a receipt is recorded), invoiced, or of a
    day already past (before ``today``: the delivery happened, or not, whatever a re-plan says now)."""
    invoiced = set(
        InvoiceLine.objects.filter(plan_line__week=week, plan_line__isnull=False).values_list(
            "plan_line_id", flat=True
        )
    )
    return [x for x in lines if x.received_quantity is not None or x.pk in invoiced or x.day < today]


@dataclass
class _Held:
    """What the fixed lines hold, by the optimiser's string ids: per kitchen x product x day, per farm x product,
    per farm in volume (grams-equivalent) and in all."""

    day: dict[tuple[str, str, str], int]
    supply: dict[tuple[str, str], int]
    volume: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.volume.values())


def _held(fixed: Sequence[PlanLine]) -> _Held:
    held = _Held(defaultdict(int), defaultdict(int), defaultdict(int))
    for x in fixed:
        p, k, g, d = str(x.producer_id), str(x.kitchen_id), str(x.product_id), x.day.isoformat()
        held.day[k, g, d] += int(x.quantity)
        held.supply[p, g] += int(x.quantity)
        held.volume[p] += int(x.quantity) * x.product.share_factor
    return held


def _without_held(week: optimiser.Week, held: _Held, today: date) -> optimiser.Week:
    """The week left to plan once the fixed lines are taken out: each kitchen's demand that day and each farm's
    declaration lowered by what those lines hold (a farm's minimum lot by what it already sends of the product),
    and each farm's carried gap moved by what they count for fairness, so that fairness over the rest adds up
    to fairness over the whole week. Days before ``today`` are gone: nothing more can be sent on them."""
    demand = [
        optimiser.DemandLine(d.kitchen, d.product, d.day, rest, d.producers)
        for d in week.demand
        if d.day >= today.isoformat()
        and (rest := max(0, d.quantity - held.day.get((d.kitchen, d.product, d.day), 0))) > 0
    ]
    supply = [
        optimiser.Supply(
            s.producer,
            s.product,
            max(0, s.available - (h := held.supply.get((s.producer, s.product), 0))),
            max(0, s.minimum_lot - h) if h else s.minimum_lot,
        )
        for s in week.supply
    ]
    gaps = {
        p: float(week.gaps.get(p, 0.0)) + float(share) * held.total - held.volume.get(p, 0)
        for p, share in week.shares.items()
    }
    return optimiser.Week(
        kitchens=week.kitchens,
        producers=week.producers,
        products=week.products,
        demand=demand,
        supply=supply,
        shares=week.shares,
        gaps=gaps,
        distances=week.distances,
    )


def _with_held(
    week: optimiser.Week, plan: optimiser.Plan, fixed: Sequence[PlanLine], held: _Held
) -> optimiser.Plan:
    """The re-plan of the rest read over the whole week again (``week`` as it stands after the shortfall): the
    fixed lines back in, and every figure of the whole week — each demand line's supply and the reason of what is
    unmet, each farm's volume and target (its new gap is the same as over the rest)."""
    lines = (
        *plan.lines,
        *(
            optimiser.PlanLine(
                str(x.producer_id), str(x.kitchen_id), str(x.product_id), x.day.isoformat(), int(x.quantity)
            )
            for x in fixed
            if x.quantity > 0
        ),
    )
    return optimiser.report(
        week,
        lines,
        status=plan.status,
        proven_optimal=plan.proven_optimal,
        objective=plan.objective,
        mip_gap=plan.mip_gap,
        seconds=plan.seconds,
        stages=plan.stages,
    )


def _after_shortfall(week: optimiser.Week, producer: str, product: str, available: int) -> optimiser.Week:
    """``week`` with the farm's declaration of the product lowered to ``available`` (its lot at most that)."""
    return replace(
        week,
        supply=[
            optimiser.Supply(s.producer, s.product, available, min(s.minimum_lot, available))
            if (s.producer, s.product) == (producer, product)
            else s
            for s in week.supply
        ],
    )


def _replan(
    week: SupplyWeek,
    declared: Availability,
    available: int,
    cause: str,
    key: str,
    actor: User | None,
    today: date,
    at: datetime,
    request_fingerprint: str,
) -> Shortfall:
    """Re-plan the week after a shortfall. Lines already delivered or invoiced stay exactly as they are: they are
    taken out of the problem (``_without_held``), the rest is re-planned (the most demand met, then the fewest
    lines changed, then the least volume moved: ``optimiser.replan``), and only the rest is written back. The
    stages' figures describe that rest, the part of the week the re-plan could still change."""
    producer, product = declared.producer, declared.product
    problem = week_problem(week)
    current = list(PlanLine.objects.filter(week=week).select_related("producer", "kitchen", "product"))
    fixed = _fixed_lines(week, current, today)
    fixed_pks = {x.pk for x in fixed}
    held = _held(fixed)
    already = held.supply.get((str(producer.pk), str(product.pk)), 0)
    if available < already:
        raise _invalid(
            "available",
            _("The farm has already delivered %(already)s of this product this week.")
            % {"already": format_quantity(already, product)},
        )
    previous = _published(current, fixed_pks)
    rest = _without_held(problem.week, held, today)
    result: optimiser.ReplanResult = _solve(
        problem,
        lambda: optimiser.replan(
            rest,
            previous,
            optimiser.Shortfall(str(producer.pk), str(product.pk), available - already),
            time_limit=SOLVER_TIME_LIMIT,
        ),
    )
    by_key = {
        (str(x.producer_id), str(x.kitchen_id), str(x.product_id), x.day.isoformat()): x for x in current
    }
    _refuse_changing_held(result, by_key, fixed_pks)
    shortfall = Shortfall.objects.create(
        week=week,
        producer=producer,
        product=product,
        declared_before=declared.quantity,
        available=available,
        cause=cause.strip()[:300],
        reported_by=actor,
        reported_at=at,
        idempotency_key=key,
        request_fingerprint=request_fingerprint,
    )
    declared.quantity = available
    declared.minimum_lot = min(int(declared.minimum_lot), available)
    declared.save(update_fields=["quantity", "minimum_lot"])

    changes = _write_changes(week, problem, result, by_key, shortfall, actor, at)
    after = replace(
        problem, week=_after_shortfall(problem.week, str(producer.pk), str(product.pk), available)
    )
    figures = _figures(after, _with_held(after.week, result.plan, fixed, held), "replan")
    _record_replan(week, figures, shortfall, changes, result.volume_moved)
    _producer_weeks_recompute(week.territory, week.monday)
    notifications.lines_changed(week, changes, shortfall=shortfall)
    audit(
        territory=week.territory,
        actor=actor,
        action="supply.shortfall",
        subject=_subject(week),
        producer=producer.pk,
        product=product.pk,
        declared_before=shortfall.declared_before,
        available=available,
        changes=len(changes),
    )
    return shortfall


def _published(current: Sequence[PlanLine], fixed_pks: set[int]) -> optimiser.Plan:
    """The published plan the re-plan starts from: the week's lines but those held."""
    return optimiser.Plan(
        lines=tuple(
            optimiser.PlanLine(
                str(x.producer_id), str(x.kitchen_id), str(x.product_id), x.day.isoformat(), int(x.quantity)
            )
            for x in current
            if x.quantity > 0 and x.pk not in fixed_pks
        ),
        demand_lines=(),
        producers=(),
        status="published",
        proven_optimal=True,
        objective=0.0,
        mip_gap=0.0,
        seconds=0.0,
    )


_LineKey = tuple[
    str, str, str, str
]  # producer, kitchen, product ids and the day, as the optimiser names a line


def _refuse_changing_held(
    result: optimiser.ReplanResult, by_key: dict[_LineKey, PlanLine], fixed_pks: set[int]
) -> None:
    if any(
        by_key[c.producer, c.kitchen, c.product, c.day].pk in fixed_pks
        for c in result.changes
        if (c.producer, c.kitchen, c.product, c.day) in by_key
    ):
        # the rest of that day's demand went to the very farm whose line there is delivered or invoiced
        raise Conflict(
            _("This shortfall would change a line already delivered or invoiced: adjust the plan by hand.")
        )


def _write_changes(
    week: SupplyWeek,
    problem: Problem,
    result: optimiser.ReplanResult,
    by_key: dict[_LineKey, PlanLine],
    shortfall: Shortfall,
    actor: User | None,
    at: datetime,
) -> list[PlanChange]:
    """The re-plan's changes written on the plan's lines, each a ``PlanChange`` row."""
    known = _contract_line_map(week)
    changes: list[PlanChange] = []
    for c in result.changes:
        p, k, g = problem.producers[c.producer], problem.kitchens[c.kitchen], problem.products[c.product]
        day = date.fromisoformat(c.day)
        _write_line(
            week,
            by_key.get((c.producer, c.kitchen, c.product, c.day)),
            producer=p,
            kitchen=k,
            product=g,
            day=day,
            quantity=c.after,
            known=known,
            solver_quantity=c.after,
        )
        changes.append(
            PlanChange(
                week=week,
                producer=p,
                kitchen=k,
                product=g,
                day=day,
                before=c.before,
                after=c.after,
                reason=PlanChangeReason.SHORTFALL,
                shortfall=shortfall,
                actor=actor,
                at=at,
            )
        )
    PlanChange.objects.bulk_create(changes)
    return changes


def _record_replan(
    week: SupplyWeek,
    figures: dict[str, Any],
    shortfall: Shortfall,
    changes: list[PlanChange],
    volume_moved: int,
) -> None:
    """The re-plan's figures kept on the week (its history of re-plans, the explanations and totals now)."""
    solver = dict(week.solver or {})
    history = [
        *solver.get("replans", []),
        {
            "shortfall": shortfall.pk,
            **{k: figures[k] for k in ("status", "proven_optimal", "mip_gap", "seconds", "at", "stages")},
            "changes": len(changes),
            "volume_moved": volume_moved,
            "farms_told": len({c.producer_id for c in changes}),
            "kitchens_told": len({c.kitchen_id for c in changes}),
        },
    ]
    solver.update(
        {
            "explanations": figures["explanations"],
            "demand_total": figures["demand_total"],
            "supplied_total": figures["supplied_total"],
            "replans": history,
        }
    )
    week.solver = solver
    week.version += 1
    week.save(update_fields=["solver", "version"])
