"""The optimiser's problem read from a week's rows (shares in force, carried gaps, distances, the farms a contract
names), the solve and the figures kept from it."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from fractions import Fraction
from typing import Any

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from grenier.core.errors import Conflict, InvalidInput
from grenier.core.models import Territory
from grenier.supply import optimiser
from grenier.supply.models import (
    Availability,
    Contract,
    Demand,
    Distance,
    Kitchen,
    Producer,
    ProducerShare,
    ProducerWeek,
    Product,
    SupplyWeek,
    WeekStatus,
)

SOLVER_TIME_LIMIT = 30.0  # seconds for one week's solve (the group's week takes well under a second)
DEFAULT_KM = 50.0  # a farm or kitchen without coordinates nor a recorded distance: a valley's typical trip


def shares_in_force(territory: Territory, monday: date, also: Iterable[int] = ()) -> dict[int, Fraction]:
    """Each farm's agreed share on ``monday``, normalised to sum to 1: the latest ``ProducerShare`` from that day
    or before, of the farms still in the group with a share above zero. Farms in ``also`` (those that declared
    something) get 0 if they have no share. Without any share at all, the farms in ``also`` share equally."""
    latest: dict[int, int] = {}
    rows = (
        ProducerShare.objects.filter(producer__territory=territory, valid_from__lte=monday)
        .filter(Q(producer__left_on__isnull=True) | Q(producer__left_on__gt=monday))
        .order_by("producer_id", "-valid_from")
        .values_list("producer_id", "share_bp")
    )
    for producer_id, share_bp in rows:
        latest.setdefault(producer_id, share_bp)
    positive = {p: bp for p, bp in latest.items() if bp > 0}
    total = sum(positive.values())
    shares: dict[int, Fraction] = {p: Fraction(bp, total) for p, bp in positive.items()}
    extra = [p for p in also if p not in shares]
    if not shares and extra:
        return {p: Fraction(1, len(set(extra))) for p in set(extra)}
    for p in extra:
        shares[p] = Fraction(0)
    return shares


def _carried_gaps(territory: Territory, monday: date, producer_ids: Iterable[int]) -> dict[int, float]:
    """Each farm's gap after its latest published week before ``monday`` (0 if none)."""
    gaps: dict[int, float] = {}
    rows = (
        ProducerWeek.objects.filter(
            week__territory=territory,
            week__status=WeekStatus.PUBLISHED,
            week__monday__lt=monday,
            producer_id__in=list(producer_ids),
        )
        .order_by("producer_id", "-week__monday")
        .values_list("producer_id", "gap_after")
    )
    for producer_id, gap in rows:
        gaps.setdefault(producer_id, gap)
    return gaps


def week_shares(
    week: SupplyWeek, declared: Iterable[int] | None = None
) -> tuple[dict[int, Fraction], dict[int, float]]:
    """The shares and carried gaps the planner uses for ``week``: each farm's share in force on its Monday
    (``shares_in_force``, the farms that ``declared`` something this week included, by default those with a
    declaration above zero) and the gap each of them carries from its latest published week before."""
    if declared is None:
        declared = Availability.objects.filter(week=week, quantity__gt=0).values_list(
            "producer_id", flat=True
        )
    shares = shares_in_force(week.territory, week.monday, set(declared))
    return shares, _carried_gaps(week.territory, week.monday, shares)


def _location_of(obj: Producer | Kitchen) -> optimiser.Location | None:
    if obj.latitude is None or obj.longitude is None:
        return None
    return optimiser.Location(float(obj.latitude), float(obj.longitude))


def km_between(
    producer: Producer, kitchen: Kitchen, recorded: dict[tuple[int, int], float] | None = None
) -> float:
    """The distance the planner uses: the recorded road distance, else the great circle between the coordinates,
    else ``DEFAULT_KM``."""
    if recorded is not None and (producer.pk, kitchen.pk) in recorded:
        return recorded[producer.pk, kitchen.pk]
    if recorded is None:
        row = Distance.objects.filter(producer=producer, kitchen=kitchen).first()
        if row is not None:
            return float(row.km)
    a, b = _location_of(producer), _location_of(kitchen)
    if a is None or b is None:
        return DEFAULT_KM
    return a.km_to(b)


@dataclass
class Problem:
    """A week read from the database as the optimiser's input, with the rows behind its string ids."""

    week: optimiser.Week
    producers: dict[str, Producer]
    kitchens: dict[str, Kitchen]
    products: dict[str, Product]
    shares: dict[int, Fraction]
    gaps: dict[int, float]


def named_farms(contract_ids: Iterable[int]) -> dict[int, set[int]]:
    """The farms each contract names (a contract that names none is absent: the whole group serves it)."""
    out: dict[int, set[int]] = defaultdict(set)
    for contract_id, producer_id in Contract.producers.through.objects.filter(
        contract_id__in=list(contract_ids)
    ).values_list("contract_id", "producer_id"):
        out[contract_id].add(producer_id)
    return dict(out)


def week_problem(week: SupplyWeek) -> Problem:
    """The optimiser's ``Week`` for ``week``: its demand and availability, the farms with a share in force or a
    declaration, their carried gaps and the distances to the kitchens. Ids are the rows' primary keys as strings,
    days ISO dates."""
    demand = list(
        Demand.objects.filter(week=week, quantity__gt=0).select_related("kitchen", "product", "contract_line")
    )
    supply = list(
        Availability.objects.filter(week=week, quantity__gt=0).select_related("producer", "product")
    )
    shares, gaps = week_shares(week, {a.producer_id for a in supply})
    producer_rows = {p.pk: p for p in Producer.objects.filter(pk__in=list(shares))}
    named = named_farms({d.contract_line.contract_id for d in demand if d.contract_line is not None})

    def allowed(d: Demand) -> frozenset[str] | None:
        """The farms that may serve ``d``: those its contract names (that take part this week), or any."""
        farms = named.get(d.contract_line.contract_id) if d.contract_line is not None else None
        return None if not farms else frozenset(str(p) for p in farms if p in producer_rows)

    kitchen_rows = {d.kitchen_id: d.kitchen for d in demand}
    product_rows = {d.product_id: d.product for d in demand} | {a.product_id: a.product for a in supply}
    recorded = {
        (producer_id, kitchen_id): float(km)
        for producer_id, kitchen_id, km in Distance.objects.filter(
            producer_id__in=list(producer_rows), kitchen_id__in=list(kitchen_rows)
        ).values_list("producer_id", "kitchen_id", "km")
    }
    distances = {
        (str(p.pk), str(k.pk)): km_between(p, k, recorded)
        for p in producer_rows.values()
        for k in kitchen_rows.values()
    }
    problem = optimiser.Week(
        kitchens=[optimiser.Kitchen(str(k.pk), _location_of(k)) for k in kitchen_rows.values()],
        producers=[optimiser.Producer(str(p.pk), _location_of(p)) for p in producer_rows.values()],
        products=[
            optimiser.Product(str(g.pk), g.unit, share_factor=g.share_factor, step=g.step)
            for g in product_rows.values()
        ],
        demand=[
            optimiser.DemandLine(
                str(d.kitchen_id), str(d.product_id), d.day.isoformat(), int(d.quantity), allowed(d)
            )
            for d in demand
        ],
        supply=[
            optimiser.Supply(str(a.producer_id), str(a.product_id), int(a.quantity), int(a.minimum_lot))
            for a in supply
        ],
        shares={str(p): s for p, s in shares.items()},
        gaps={str(p): g for p, g in gaps.items() if p in producer_rows},
        distances=distances,
    )
    return Problem(
        week=problem,
        producers={str(k): v for k, v in producer_rows.items()},
        kitchens={str(k): v for k, v in kitchen_rows.items()},
        products={str(k): v for k, v in product_rows.items()},
        shares=shares,
        gaps=gaps,
    )


def _explanations(problem: Problem, plan: optimiser.Plan) -> list[dict[str, Any]]:
    """Each demand line left short, with its reason code and the numbers to word it: the product's total declared
    and asked (all kitchens and days), what was declared but not planned, and the minimum lots of farms left out."""
    declared: dict[str, int] = defaultdict(int)
    lots: dict[str, list[dict[str, int]]] = defaultdict(list)
    used: dict[tuple[str, str], int] = defaultdict(int)
    for line in plan.lines:
        used[line.producer, line.product] += line.quantity
    for s in problem.week.supply:
        declared[s.product] += s.available
        if s.minimum_lot and not used[s.producer, s.product]:
            lots[s.product].append({"producer": int(s.producer), "minimum_lot": s.minimum_lot})
    asked: dict[str, int] = defaultdict(int)
    for d in problem.week.demand:
        asked[d.product] += d.quantity
    planned: dict[str, int] = defaultdict(int)
    for (_p, g), q in used.items():
        planned[g] += q
    named = {(d.kitchen, d.product, d.day): d.producers for d in problem.week.demand}
    return [
        {
            "kitchen": int(r.kitchen),
            "product": int(r.product),
            "day": r.day,
            "demand": r.demand,
            "supplied": r.supplied,
            "unmet": r.unmet,
            "reason_code": r.reason_code,
            "numbers": {
                "declared": declared[r.product],
                "asked": asked[r.product],
                "left": declared[r.product] - planned[r.product],
                "lots": lots[r.product],
                "farms": sorted(int(p) for p in named.get((r.kitchen, r.product, r.day)) or ()),
            },
        }
        for r in plan.demand_lines
        if r.unmet > 0
    ]


def _figures(problem: Problem, plan: optimiser.Plan, kind: str) -> dict[str, Any]:
    return {
        "kind": kind,
        "status": plan.status,
        "proven_optimal": plan.proven_optimal,
        "mip_gap": plan.mip_gap,
        "seconds": round(plan.seconds, 3),
        "objective": plan.objective,
        "demand_total": plan.demand_total,
        "supplied_total": plan.supplied_total,
        "total_distance": plan.total_distance,
        "explanations": _explanations(problem, plan),
        "stages": [
            {
                "name": st.name,
                "objective": st.objective,
                "bound": st.bound if math.isfinite(st.bound) else None,
                "gap": st.gap,
                "proven": st.proven,
                "seconds": round(st.seconds, 3),
            }
            for st in plan.stages
        ],
        "producers": [
            {
                "producer": int(r.producer),
                "share": r.share,
                "supplied": r.supplied,
                "target": r.target,
                "new_gap": r.new_gap,
            }
            for r in plan.producers
        ],
        "at": timezone.now().isoformat(),
    }


def _solve(problem: Problem, run: Any) -> Any:
    try:
        return run()
    except RuntimeError as exc:
        raise Conflict(_("The solver could not find a plan in time: %(why)s") % {"why": exc}) from exc
    except ValueError as exc:  # the database let through something the optimiser refuses
        raise InvalidInput(_("The week cannot be planned: %(why)s") % {"why": exc}) from exc
