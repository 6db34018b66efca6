"""The weekly supply plan of a group of growers: who supplies what to which kitchen, solved as a MILP with HiGHS.

Pure Python, no Django: dataclasses in, dataclasses out, no money. The app wraps it (models, pages, API).

Inputs for one week (:class:`Week`): kitchens, producers (a location each, or a distance matrix producer x kitchen in
km), products (a base unit such as ``g`` or ``piece``), demand lines (kitchen, product, delivery day, quantity),
availability (producer, product, quantity this week, minimum lot), the agreed shares of the group's volume (summing
to 1) and each producer's gap carried from previous weeks (positive = it has supplied less than its share so far).
Every quantity is an integer in the product's base unit; the plan's quantities are integers too.

Volume. Shares are shares of the group's *volume*. A product's ``share_factor`` (an integer, default 1) says how many
volume units one base unit counts for, so that grams and pieces can be added (a lettuce "piece" may count as 400 g).
Unmet demand and distance are counted in the same volume units.

The model (HiGHS through ``highspy``; continuous quantities, binary lots):

* ``x[p,k,g] >= 0``: quantity of product ``g`` producer ``p`` sends to kitchen ``k`` this week, created only where
  ``p`` declared ``g`` and ``k`` ordered ``g`` (sparse). Delivery days are aggregated in the model, exactly: no cost or
  constraint depends on the day, so any weekly quantity splits over the days afterwards (:func:`_split_days`);
  the split keeps a previous plan's day lines where it can.
* ``y[p,g]`` binary for a pair with a minimum lot ``L > 0``: ``L*y <= sum_k x[p,k,g] <= A*y`` (``A`` = declared);
  without a lot, ``sum_k x[p,k,g] <= A``. So a producer never supplies more than it declared, and a product it
  supplies at all reaches its minimum lot.
* Demand: ``sum_p x[p,k,g] + u[k,g] = D[k,g]`` with ``u >= 0`` unmet; ``u`` is substituted out
  (``sum_p x <= D``, unmet = ``D - sum_p x``).
* Fairness, with the week's group volume as a variable ``T = sum f_g x``: for each producer with a share ``s_p``,
  ``sum_{k,g} f_g x[p,k,g] - s_p T - d+_p + d-_p = gap_p``. Its cumulative supply including this week minus its share
  of the cumulative group volume including this week is ``S_p - s_p T - gap_p``; ``d+``/``d-`` are that deviation's
  positive and negative parts. The new carried gap is ``gap_p + s_p T - S_p``.
* Objective, minimised: ``w_unmet * sum f u + w_share * sum (d+ + d-) + w_distance * sum km * f * x``
  with ``w_unmet >> w_share >> w_distance * max km`` (lexicographic in practice).
* Re-planning (:func:`replan`) adds ``w_change * sum f |x - x_prev|`` (``c >= x - x_prev``, ``c >= x_prev - x``),
  with ``w_unmet > w_change > w_share``: covering a shortfall beats keeping the plan, keeping the plan beats fairness.

Solved to proven optimality (``mip_rel_gap``, default 1e-6, and a time limit). Quantities are then made integers by
a second, small MILP: the same model with every ``x`` boxed between the floor and the ceiling of its first-phase
value, integer, and the lots fixed. The transport part of that box is totally unimodular, so an integer plan exists
whose unmet demand and distance are no worse than the first phase's; fairness moves by at most a few units.
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction

import highspy

__all__ = [
    "DemandLine",
    "Kitchen",
    "LineChange",
    "LineReport",
    "Location",
    "Plan",
    "PlanLine",
    "Producer",
    "ProducerReport",
    "Product",
    "ReplanResult",
    "Shortfall",
    "Supply",
    "Week",
    "Weights",
    "greedy_nearest_first",
    "replan",
    "solve",
]


# ---------------------------------------------------------------------------------------------------------- inputs


@dataclass(frozen=True)
class Location:
    """A point in degrees (WGS84)."""

    lat: float
    lon: float

    def km_to(self, other: Location) -> float:
        """Great-circle distance (haversine), in km."""
        la1, lo1, la2, lo2 = map(math.radians, (self.lat, self.lon, other.lat, other.lon))
        h = math.sin((la2 - la1) / 2) ** 2 + math.cos(la1) * math.cos(la2) * math.sin((lo2 - lo1) / 2) ** 2
        return 2 * 6371.0 * math.asin(min(1.0, math.sqrt(h)))


@dataclass(frozen=True)
class Kitchen:
    id: str
    location: Location | None = None


@dataclass(frozen=True)
class Producer:
    id: str
    location: Location | None = None


@dataclass(frozen=True)
class Product:
    id: str
    unit: str = "g"  # the base unit every quantity of this product is counted in
    share_factor: int = 1  # volume units one base unit counts for in shares, unmet demand and distance


@dataclass(frozen=True)
class DemandLine:
    kitchen: str
    product: str
    day: str  # a delivery day, e.g. an ISO date; days sort as strings
    quantity: int


@dataclass(frozen=True)
class Supply:
    """What a producer declared for the week: at most ``available``; if anything, at least ``minimum_lot``."""

    producer: str
    product: str
    available: int
    minimum_lot: int = 0


@dataclass(frozen=True)
class Weights:
    unmet: float = 1000.0  # per volume unit of demand not met
    share: float = 10.0  # per volume unit away from a producer's share (cumulative)
    distance: float = 0.01  # per volume unit per km
    change: float = 100.0  # re-planning: per volume unit changed on a published line

    def check(self) -> None:
        if not (self.unmet > 0 and self.share > 0 and self.distance >= 0 and self.change > 0):
            raise ValueError("weights: unmet, share and change must be positive, distance not negative")
        if not self.unmet > self.change > self.share:
            raise ValueError("weights: expected unmet > change > share (unmet demand first, then stability)")


@dataclass(frozen=True)
class Week:
    kitchens: Sequence[Kitchen]
    producers: Sequence[Producer]
    products: Sequence[Product]
    demand: Sequence[DemandLine]
    supply: Sequence[Supply]
    shares: Mapping[str, float | Fraction]  # producer -> agreed share of the group's volume; sums to 1
    gaps: Mapping[str, float] = field(default_factory=dict)  # producer -> carried gap (volume units), default 0
    distances: Mapping[tuple[str, str], float] | None = None  # (producer, kitchen) -> km; else from locations


# --------------------------------------------------------------------------------------------------------- outputs


@dataclass(frozen=True)
class PlanLine:
    producer: str
    kitchen: str
    product: str
    day: str
    quantity: int


@dataclass(frozen=True)
class LineReport:
    """One demand line explained: demand, supply, unmet quantity and why."""

    kitchen: str
    product: str
    day: str
    demand: int
    supplied: int
    unmet: int
    reason_code: str  # "" when met; "not_declared", "not_enough_declared", "minimum_lots", "solver_limit", "other"
    reason: str


@dataclass(frozen=True)
class ProducerReport:
    producer: str
    supplied: int  # volume units this week
    share: float
    target: float  # share of this week's group volume plus the carried gap
    new_gap: float  # carried to next week (positive = still owed supply)


@dataclass(frozen=True)
class Plan:
    lines: tuple[PlanLine, ...]
    demand_lines: tuple[LineReport, ...]
    producers: tuple[ProducerReport, ...]
    status: str  # HiGHS's model status, "greedy", or "empty"
    proven_optimal: bool
    objective: float  # of the integer plan, in the model's terms (weights x volume), without the constant
    mip_gap: float
    seconds: float
    total_distance: float = 0.0  # sum km x volume over the plan lines

    @property
    def demand_total(self) -> int:
        return sum(r.demand for r in self.demand_lines)

    @property
    def supplied_total(self) -> int:
        return sum(r.supplied for r in self.demand_lines)


@dataclass(frozen=True)
class Shortfall:
    """A producer now has only ``available`` of ``product`` for the week (a crop failure)."""

    producer: str
    product: str
    available: int


@dataclass(frozen=True)
class LineChange:
    producer: str
    kitchen: str
    product: str
    day: str
    before: int
    after: int


@dataclass(frozen=True)
class ReplanResult:
    plan: Plan
    changes: tuple[LineChange, ...]

    @property
    def affected_producers(self) -> set[str]:
        return {c.producer for c in self.changes}

    @property
    def affected_kitchens(self) -> set[str]:
        return {c.kitchen for c in self.changes}


# ------------------------------------------------------------------------------------------------------ validation


@dataclass
class _Data:
    week: Week
    products: dict[str, Product]
    demand: dict[tuple[str, str], dict[str, int]]  # (kitchen, product) -> day -> quantity
    supply: dict[tuple[str, str], Supply]  # (producer, product) -> declaration
    km: dict[tuple[str, str], float]
    shares: dict[str, float]
    gaps: dict[str, float]


def _unique(kind: str, ids: Iterable[str]) -> set[str]:
    seen: set[str] = set()
    for i in ids:
        if not isinstance(i, str) or not i:
            raise ValueError(f"{kind}: every id must be a non-empty string, got {i!r}")
        if i in seen:
            raise ValueError(f"{kind}: duplicate id {i!r}")
        seen.add(i)
    return seen


def _integer(what: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{what}: quantities are integers in the product's base unit, got {value!r}")
    if value < 0:
        raise ValueError(f"{what}: negative quantity {value}")
    return value


def _prepare(week: Week) -> _Data:
    kitchens = _unique("kitchens", (k.id for k in week.kitchens))
    producers = _unique("producers", (p.id for p in week.producers))
    _unique("products", (g.id for g in week.products))
    products = {g.id: g for g in week.products}
    for g in week.products:
        if isinstance(g.share_factor, bool) or not isinstance(g.share_factor, int) or g.share_factor < 1:
            raise ValueError(f"product {g.id!r}: share_factor must be a positive integer")

    demand: dict[tuple[str, str], dict[str, int]] = defaultdict(dict)
    for line in week.demand:
        if line.kitchen not in kitchens:
            raise ValueError(f"demand: unknown kitchen {line.kitchen!r}")
        if line.product not in products:
            raise ValueError(f"demand: unknown product {line.product!r}")
        q = _integer(f"demand of {line.kitchen!r} for {line.product!r} on {line.day!r}", line.quantity)
        days = demand[line.kitchen, line.product]
        if line.day in days:
            raise ValueError(f"demand: two lines for {line.kitchen!r}, {line.product!r} on {line.day!r}")
        days[line.day] = q

    supply: dict[tuple[str, str], Supply] = {}
    for s in week.supply:
        if s.producer not in producers:
            raise ValueError(f"availability: unknown producer {s.producer!r}")
        if s.product not in products:
            raise ValueError(f"availability: unknown product {s.product!r}")
        _integer(f"availability of {s.producer!r} for {s.product!r}", s.available)
        _integer(f"minimum lot of {s.producer!r} for {s.product!r}", s.minimum_lot)
        if (s.producer, s.product) in supply:
            raise ValueError(f"availability: two declarations by {s.producer!r} for {s.product!r}")
        supply[s.producer, s.product] = s

    shares: dict[str, float] = {}
    for p, s in week.shares.items():
        if p not in producers:
            raise ValueError(f"shares: unknown producer {p!r}")
        if not math.isfinite(float(s)) or s < 0:
            raise ValueError(f"shares: the share of {p!r} must be a number >= 0, got {s!r}")
        shares[p] = float(s)
    missing = sorted(producers - set(shares))
    if producers and missing:
        raise ValueError(f"shares: no agreed share for {', '.join(missing)}")
    total = sum(Fraction(s) if isinstance(s, Fraction) else Fraction(float(s)) for s in week.shares.values())
    if producers and abs(total - 1) > Fraction(1, 10**6):
        raise ValueError(f"shares: agreed shares must sum to 1, they sum to {float(total):.6g}")

    gaps: dict[str, float] = {}
    for p in producers:
        g = float(week.gaps.get(p, 0.0))
        if not math.isfinite(g):
            raise ValueError(f"gaps: the carried gap of {p!r} is not a finite number")
        gaps[p] = g
    for p in week.gaps:
        if p not in producers:
            raise ValueError(f"gaps: unknown producer {p!r}")

    km: dict[tuple[str, str], float] = {}
    kitchen_loc = {k.id: k.location for k in week.kitchens}
    producer_loc = {p.id: p.location for p in week.producers}
    ordered: dict[str, set[str]] = defaultdict(set)
    for k, g in demand:
        ordered[g].add(k)
    needed = {(p, k) for (p, g) in supply for k in ordered.get(g, ())}
    for p, k in sorted(needed):
        if week.distances is not None and (p, k) in week.distances:
            d = float(week.distances[p, k])
        else:
            ploc, kloc = producer_loc[p], kitchen_loc[k]
            if ploc is None or kloc is None:
                raise ValueError(f"distance: no distance from {p!r} to {k!r} and no locations to compute it")
            d = ploc.km_to(kloc)
        if not math.isfinite(d) or d < 0:
            raise ValueError(f"distance from {p!r} to {k!r} must be >= 0 km, got {d!r}")
        km[p, k] = d
    return _Data(week, products, dict(demand), supply, km, shares, gaps)


# ------------------------------------------------------------------------------------------------------- the model


@dataclass
class _Solved:
    x: dict[tuple[str, str, str], int]  # (producer, kitchen, product) -> weekly quantity
    status: str
    proven_optimal: bool
    objective: float
    mip_gap: float


def _build_and_solve(
    data: _Data,
    weights: Weights,
    time_limit: float,
    mip_rel_gap: float,
    previous: Mapping[tuple[str, str, str], int] | None,
) -> _Solved:
    """Phase 1 (continuous quantities, binary lots), then phase 2 (integer quantities within 1 of phase 1).

    Scaling, exact: each product is modelled in units of the gcd of all its quantities (demand, declarations, lots,
    the previous plan), and volume in units of the gcd of those, so quantities entered in kg are modelled in kg.
    """
    products = data.products
    unit: dict[str, int] = defaultdict(int)  # product -> model unit, in base units
    for (_, g), days in data.demand.items():
        for q in days.values():
            unit[g] = math.gcd(unit[g], q)
    for (_, g), s in data.supply.items():
        unit[g] = math.gcd(unit[g], s.available, s.minimum_lot)
    for (_, _, g), q in (previous or {}).items():
        unit[g] = math.gcd(unit[g], q)
    for g in list(unit):
        unit[g] = unit[g] or 1
    V = 0  # volume model unit
    for g, m in unit.items():
        V = math.gcd(V, products[g].share_factor * m)
    V = V or 1
    vol = {g: products[g].share_factor * m / V for g, m in unit.items()}  # volume of one model unit

    by_product_lines: dict[str, list[tuple[str, int]]] = defaultdict(list)  # product -> [(kitchen, D)]
    for (k, g), days in sorted(data.demand.items()):
        total = sum(days.values())
        if total > 0:
            by_product_lines[g].append((k, total))

    # Columns: x vars first, then y, then T, d+, d-, then change vars.
    xkeys: list[tuple[str, str, str]] = []
    pairs: list[tuple[str, str, int, int]] = []  # (producer, product, available, lot) in model units
    pair_x: list[tuple[int, int]] = []  # x index range of each pair
    for (p, g), s in sorted(data.supply.items()):
        lines = by_product_lines.get(g)
        if not lines or s.available <= 0 or s.minimum_lot > s.available:
            continue
        start = len(xkeys)
        xkeys.extend((p, k, g) for k, _ in lines)
        pairs.append((p, g, s.available // unit[g], s.minimum_lot // unit[g]))
        pair_x.append((start, len(xkeys)))
    if not xkeys:
        return _Solved({}, "empty", True, 0.0, 0.0)

    sorted_lines = sorted(data.demand)
    line_index = {kg: i for i, kg in enumerate(sorted_lines)}
    line_demand = [sum(data.demand[kg].values()) // unit[kg[1]] for kg in sorted_lines]
    offset = weights.unmet * sum(d * vol[kg[1]] for kg, d in zip(sorted_lines, line_demand, strict=True))
    producers = sorted(data.shares)
    prod_row = {p: i for i, p in enumerate(producers)}

    n_x = len(xkeys)
    lot_pairs = [i for i, (_, _, _, lot) in enumerate(pairs) if lot > 0]
    n_y = len(lot_pairs)
    n_pairs = len(pairs)
    n_lines = len(line_demand)
    n_p = len(producers)
    changed = [i for i, key in enumerate(xkeys) if previous and previous.get(key, 0) > 0]
    n_c = len(changed)
    # rows: [pair upper (n_pairs)] [pair lower (n_y)] [lines] [T row] [fairness n_p] [change 2*n_c]
    r_pair_up, r_pair_lo = 0, n_pairs
    r_line = r_pair_lo + n_y
    r_T = r_line + n_lines
    r_fair = r_T + 1
    r_change = r_fair + n_p
    n_rows = r_change + 2 * n_c

    col_T = n_x + n_y
    col_dp = col_T + 1
    col_dm = col_dp + n_p
    col_c = col_dm + n_p
    n_cols = col_c + n_c

    cost = [0.0] * n_cols
    lower = [0.0] * n_cols
    upper = [highspy.kHighsInf] * n_cols
    integrality = [0] * n_cols
    starts: list[int] = []
    index: list[int] = []
    value: list[float] = []
    row_lo = [-highspy.kHighsInf] * n_rows
    row_up = [highspy.kHighsInf] * n_rows

    change_of = {xi: j for j, xi in enumerate(changed)}
    y_of_pair = {pi: j for j, pi in enumerate(lot_pairs)}
    for pi, (p, g, avail, _) in enumerate(pairs):
        f = vol[g]
        start, end = pair_x[pi]
        for xi in range(start, end):
            k = xkeys[xi][1]
            li = line_index[k, g]
            starts.append(len(index))
            index.append(r_pair_up + pi)
            value.append(1.0)
            if pi in y_of_pair:
                index.append(r_pair_lo + y_of_pair[pi])
                value.append(1.0)
            index.append(r_line + li)
            value.append(1.0)
            index.append(r_T)
            value.append(f)
            index.append(r_fair + prod_row[p])
            value.append(f)
            upper[xi] = float(min(avail, line_demand[li]))
            c = weights.distance * data.km[p, k] * f - weights.unmet * f
            if previous is not None:
                if xi in change_of:
                    j = change_of[xi]
                    index.extend((r_change + 2 * j, r_change + 2 * j + 1))
                    value.extend((1.0, 1.0))
                else:
                    c += weights.change * f  # |x - 0|
            cost[xi] = c
    for pi, (_, _, avail, lot) in enumerate(pairs):
        if pi in y_of_pair:
            j = y_of_pair[pi]
            col = n_x + j
            starts.append(len(index))
            index.extend((r_pair_up + pi, r_pair_lo + j))
            value.extend((-float(avail), -float(lot)))
            upper[col] = 1.0
            integrality[col] = 1
            row_up[r_pair_up + pi] = 0.0
            row_lo[r_pair_lo + j] = 0.0
        else:
            row_up[r_pair_up + pi] = float(avail)
    # T
    starts.append(len(index))
    index.append(r_T)
    value.append(-1.0)
    for p in producers:
        index.append(r_fair + prod_row[p])
        value.append(-data.shares[p])
    row_lo[r_T] = row_up[r_T] = 0.0
    for i in range(n_p):  # d+
        starts.append(len(index))
        index.append(r_fair + i)
        value.append(-1.0)
        cost[col_dp + i] = weights.share
    for i in range(n_p):  # d-
        starts.append(len(index))
        index.append(r_fair + i)
        value.append(1.0)
        cost[col_dm + i] = weights.share
    for p in producers:
        row_lo[r_fair + prod_row[p]] = row_up[r_fair + prod_row[p]] = data.gaps[p] / V
    for li, d in enumerate(line_demand):
        row_up[r_line + li] = float(d)
    for j, xi in enumerate(changed):  # c_j >= x - prev and c_j >= prev - x
        assert previous is not None  # noqa: S101
        g = xkeys[xi][2]
        prev = float(previous[xkeys[xi]] // unit[g])
        starts.append(len(index))
        index.extend((r_change + 2 * j, r_change + 2 * j + 1))
        value.extend((-1.0, 1.0))
        cost[col_c + j] = weights.change * vol[g]
        row_up[r_change + 2 * j] = prev  # x - c <= prev
        row_lo[r_change + 2 * j + 1] = prev  # x + c >= prev
    starts.append(len(index))

    def run(lo: list[float], up: list[float], integ: list[int], limit: float) -> tuple[highspy.Highs, float]:
        h = highspy.Highs()
        h.setOptionValue("output_flag", __import__("os").environ.get("SUPPLY_LOG") == "1")
        h.setOptionValue("time_limit", max(0.1, limit))
        h.setOptionValue("mip_rel_gap", mip_rel_gap)
        h.setOptionValue("threads", 1)
        lp = highspy.HighsLp()
        lp.num_col_ = n_cols
        lp.num_row_ = n_rows
        lp.col_cost_ = cost
        lp.col_lower_ = lo
        lp.col_upper_ = up
        lp.row_lower_ = row_lo
        lp.row_upper_ = row_up
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = starts
        lp.a_matrix_.index_ = index
        lp.a_matrix_.value_ = value
        lp.integrality_ = [highspy.HighsVarType(i) for i in integ]
        lp.offset_ = offset
        h.passModel(lp)
        began = time.perf_counter()
        h.run()
        return h, time.perf_counter() - began

    began = time.perf_counter()
    h1, _ = run(lower, upper, integrality, time_limit)
    status1 = h1.getModelStatus()
    info1 = h1.getInfo()
    if info1.primal_solution_status != highspy.SolutionStatus.kSolutionStatusFeasible:
        raise RuntimeError(f"the solver found no plan: {h1.modelStatusToString(status1)}")
    sol = list(h1.getSolution().col_value)
    proven = status1 == highspy.HighsModelStatus.kOptimal
    gap1 = float(info1.mip_gap) if n_y else 0.0
    if not math.isfinite(gap1):
        gap1 = 0.0

    # Phase 2: integer quantities, each within [floor, ceil] of phase 1; lots fixed.
    lo2, up2, integ2 = list(lower), list(upper), list(integrality)
    fractional = 0
    for xi in range(n_x):
        v = sol[xi]
        lo2[xi] = float(math.floor(v + 1e-6))
        up2[xi] = float(min(upper[xi], math.ceil(v - 1e-6)))
        if up2[xi] > lo2[xi]:
            integ2[xi] = 1
            fractional += 1
    for j in range(n_y):
        lo2[n_x + j] = up2[n_x + j] = float(round(sol[n_x + j]))
    if fractional:
        remaining = time_limit - (time.perf_counter() - began)
        h2, _ = run(lo2, up2, integ2, max(remaining, 1.0))
        if h2.getInfo().primal_solution_status != highspy.SolutionStatus.kSolutionStatusFeasible:
            raise RuntimeError("the solver found no integer plan near the optimum")
        sol2 = list(h2.getSolution().col_value)
        objective = float(h2.getInfo().objective_function_value) * V
    else:
        sol2 = sol
        objective = float(info1.objective_function_value) * V
    x = {xkeys[xi]: round(sol2[xi]) * unit[xkeys[xi][2]] for xi in range(n_x) if round(sol2[xi]) > 0}
    return _Solved(x, h1.modelStatusToString(status1), proven, objective, gap1)


# ----------------------------------------------------------------------------------------------- days and reports


def _split_days(
    data: _Data,
    weekly: Mapping[tuple[str, str, str], int],
    previous: Mapping[tuple[str, str, str, str], int] | None = None,
) -> list[PlanLine]:
    """Split each producer's weekly quantity for (kitchen, product) over the delivery days.

    Keeps a previous plan's day lines where it can: a producer whose weekly quantity did not grow keeps at most its
    previous quantity on each day; one that grew keeps its previous days and adds the rest where demand is left.
    Otherwise days are filled in order, nearest producer first.
    """
    by_line: dict[tuple[str, str], list[tuple[str, int]]] = defaultdict(list)
    for (p, k, g), q in weekly.items():
        if q > 0:
            by_line[k, g].append((p, q))
    lines: list[PlanLine] = []
    for (k, g), givers in sorted(by_line.items()):
        days = data.demand[k, g]
        left = dict(days)
        todo: dict[str, int] = {}
        out: dict[tuple[str, str], int] = defaultdict(int)
        givers.sort(key=lambda pq: (data.km[pq[0], k], pq[0]))
        for p, q in givers:
            rest = q
            if previous:
                for d in sorted(days):
                    keep = min(previous.get((p, k, g, d), 0), rest, left[d])
                    if keep:
                        out[p, d] += keep
                        left[d] -= keep
                        rest -= keep
            todo[p] = rest
        for p, _ in givers:
            rest = todo[p]
            for d in sorted(days):
                if not rest:
                    break
                give = min(rest, left[d])
                if give:
                    out[p, d] += give
                    left[d] -= give
                    rest -= give
            if rest:  # cannot happen: the model never sends more than the week's demand
                raise RuntimeError(f"internal: {rest} of {g!r} for {k!r} left over")
        lines.extend(PlanLine(p, k, g, d, q) for (p, d), q in sorted(out.items()) if q)
    return lines


def _fmt(q: int | float, unit: str) -> str:
    if unit == "g" and q >= 1000:
        return f"{q / 1000:g} kg"
    if unit == "ml" and q >= 1000:
        return f"{q / 1000:g} l"
    return f"{q:g} {unit}" if isinstance(q, float) else f"{q} {unit}"


def _reports(
    data: _Data,
    lines: Sequence[PlanLine],
    status: str,
    proven_optimal: bool,
    objective: float,
    mip_gap: float,
    seconds: float,
) -> Plan:
    supplied: dict[tuple[str, str, str], int] = defaultdict(int)
    used: dict[tuple[str, str], int] = defaultdict(int)
    volume: dict[str, int] = defaultdict(int)
    distance = 0.0
    for line in lines:
        supplied[line.kitchen, line.product, line.day] += line.quantity
        used[line.producer, line.product] += line.quantity
        f = data.products[line.product].share_factor
        volume[line.producer] += line.quantity * f
        distance += data.km[line.producer, line.kitchen] * line.quantity * f

    declared: dict[str, int] = defaultdict(int)
    for (_, g), s in data.supply.items():
        declared[g] += s.available
    asked: dict[str, int] = defaultdict(int)
    for (_, g), days in data.demand.items():
        asked[g] += sum(days.values())
    unmet_of: dict[str, int] = defaultdict(int)
    for (k, g), days in data.demand.items():
        for d, q in days.items():
            unmet_of[g] += q - supplied[k, g, d]

    def why(g: str) -> tuple[str, str]:
        unit = data.products[g].unit
        if declared[g] == 0:
            return "not_declared", f"no producer declared any {g} this week"
        if declared[g] < asked[g]:
            return (
                "not_enough_declared",
                f"not enough declared: {_fmt(declared[g], unit)} available for {_fmt(asked[g], unit)} asked "
                "(all kitchens and days)",
            )
        blocked = []
        for (p, g2), s in sorted(data.supply.items()):
            if g2 == g and used[p, g] == 0 and s.available > 0 and s.minimum_lot > 0:
                blocked.append(f"{p} (lot {_fmt(s.minimum_lot, unit)})")
        left = sum(s.available - used[p, g2] for (p, g2), s in data.supply.items() if g2 == g)
        if blocked and all(
            s.minimum_lot > unmet_of[g] or s.minimum_lot > s.available
            for (p, g2), s in data.supply.items()
            if g2 == g and used[p, g] == 0 and s.available > 0
        ):
            return (
                "minimum_lots",
                f"minimum lots: {_fmt(left, unit)} left unused, but {unmet_of[g] and _fmt(unmet_of[g], unit)} "
                f"still asked is below the minimum lot of {', '.join(blocked)}",
            )
        if not proven_optimal and status not in ("greedy",):
            return "solver_limit", f"the solver stopped before proving the best plan ({status})"
        if status == "greedy":
            return "other", "the nearest-first allocation ran out of stock nearby"
        return "other", "fairness and minimum lots together left this unmet"

    reports: list[LineReport] = []
    for (k, g), days in sorted(data.demand.items()):
        for d, q in sorted(days.items()):
            s = supplied[k, g, d]
            code, text = why(g) if q > s else ("", "")
            reports.append(LineReport(k, g, d, q, s, q - s, code, text))

    total = sum(volume.values())
    producers = tuple(
        ProducerReport(
            producer=p,
            supplied=volume[p],
            share=data.shares[p],
            target=data.shares[p] * total + data.gaps[p],
            new_gap=data.gaps[p] + data.shares[p] * total - volume[p],
        )
        for p in sorted(data.shares)
    )
    return Plan(
        lines=tuple(lines),
        demand_lines=tuple(reports),
        producers=producers,
        status=status,
        proven_optimal=proven_optimal,
        objective=objective,
        mip_gap=mip_gap,
        seconds=seconds,
        total_distance=distance,
    )


# ------------------------------------------------------------------------------------------------- entry points


def solve(
    week: Week,
    weights: Weights | None = None,
    *,
    time_limit: float = 60.0,
    mip_rel_gap: float = 1e-6,
) -> Plan:
    """The week's optimised plan. Raises ValueError on bad input."""
    weights = weights or Weights()
    weights.check()
    began = time.perf_counter()
    data = _prepare(week)
    solved = _build_and_solve(data, weights, time_limit, mip_rel_gap, None)
    lines = _split_days(data, solved.x)
    return _reports(
        data,
        lines,
        solved.status,
        solved.proven_optimal,
        solved.objective,
        solved.mip_gap,
        time.perf_counter() - began,
    )


def replan(
    week: Week,
    previous: Plan,
    shortfall: Shortfall,
    weights: Weights | None = None,
    *,
    time_limit: float = 60.0,
    mip_rel_gap: float = 1e-6,
) -> ReplanResult:
    """Re-plan ``week`` after a shortfall, changing as few lines of ``previous`` as possible.

    The producer's declaration for the product becomes ``shortfall.available`` (its minimum lot shrinks to that if
    larger: it still delivers what it has). Returns the new plan and every line that changed.
    """
    weights = weights or Weights()
    weights.check()
    _integer(f"shortfall of {shortfall.producer!r} for {shortfall.product!r}", shortfall.available)
    old = next(
        (s for s in week.supply if (s.producer, s.product) == (shortfall.producer, shortfall.product)), None
    )
    if old is None:
        raise ValueError(f"shortfall: {shortfall.producer!r} declared no {shortfall.product!r} this week")
    new_supply = [
        Supply(s.producer, s.product, shortfall.available, min(s.minimum_lot, shortfall.available))
        if s is old
        else s
        for s in week.supply
    ]
    new_week = Week(
        kitchens=week.kitchens,
        producers=week.producers,
        products=week.products,
        demand=week.demand,
        supply=new_supply,
        shares=week.shares,
        gaps=week.gaps,
        distances=week.distances,
    )
    began = time.perf_counter()
    data = _prepare(new_week)
    prev_days = {(x.producer, x.kitchen, x.product, x.day): x.quantity for x in previous.lines}
    prev_weekly: dict[tuple[str, str, str], int] = defaultdict(int)
    for (p, k, g, _), q in prev_days.items():
        prev_weekly[p, k, g] += q
    solved = _build_and_solve(data, weights, time_limit, mip_rel_gap, prev_weekly)
    lines = _split_days(data, solved.x, prev_days)
    plan = _reports(
        data,
        lines,
        solved.status,
        solved.proven_optimal,
        solved.objective,
        solved.mip_gap,
        time.perf_counter() - began,
    )
    after = {(x.producer, x.kitchen, x.product, x.day): x.quantity for x in plan.lines}
    changes = tuple(
        LineChange(p, k, g, d, prev_days.get((p, k, g, d), 0), after.get((p, k, g, d), 0))
        for (p, k, g, d) in sorted(set(prev_days) | set(after))
        if prev_days.get((p, k, g, d), 0) != after.get((p, k, g, d), 0)
    )
    return ReplanResult(plan, changes)


def greedy_nearest_first(week: Week) -> Plan:
    """A reference allocation: each demand line (day, kitchen, product order) served by the nearest producers that
    have stock left. A producer starts on a product only with at least its minimum lot at once. No fairness."""
    began = time.perf_counter()
    data = _prepare(week)
    stock = {pg: s.available for pg, s in data.supply.items()}
    opened: set[tuple[str, str]] = set()
    by_product: dict[str, list[str]] = defaultdict(list)
    for p, g in sorted(data.supply):
        by_product[g].append(p)
    out: dict[tuple[str, str, str, str], int] = defaultdict(int)
    todo = sorted(((d, k, g, q) for (k, g), days in data.demand.items() for d, q in days.items()))
    for d, k, g, q in todo:
        need = q
        for p in sorted(by_product[g], key=lambda p: (data.km[p, k], p)):
            if not need:
                break
            give = min(need, stock[p, g])
            if give <= 0:
                continue
            if (p, g) not in opened:
                if give < data.supply[p, g].minimum_lot:
                    continue
                opened.add((p, g))
            stock[p, g] -= give
            need -= give
            out[p, k, g, d] += give
    lines = [PlanLine(p, k, g, d, q) for (p, k, g, d), q in sorted(out.items())]
    return _reports(data, lines, "greedy", False, 0.0, 0.0, time.perf_counter() - began)
