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

Solved to proven optimality within ``mip_rel_gap`` (default 1e-5, relative, on the weighted objective) and a time
limit; the plan reports its status, gap and whether optimality is proven. Large weeks are solved by column
generation (exact; see :func:`_build_and_solve`). Quantities are then made integers (multiples of the product's
``step``): every ``x`` is boxed between the floor and the ceiling of its value, the lots fixed, and the transport
part alone (pair and line rows) re-solved by the simplex with the unmet and distance (and change) costs. That
matrix is the incidence matrix of a bipartite graph, totally unimodular, so the vertex is integral and no worse on unmet demand and
distance than the continuous plan; a producer's volume moves by less than one unit per line it serves, and the
reported gaps are computed from the integer plan. A final check verifies availability, lots and demand.
"""

from __future__ import annotations

import math
import os
import time
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction

import highspy
import numpy as np

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
    "report",
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
    step: int = (
        1  # the plan's quantities of this product are multiples of it (1000 for whole kg when unit is g)
    )


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
    gaps: Mapping[str, float] = field(
        default_factory=dict
    )  # producer -> carried gap (volume units), default 0
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
    reason_code: (
        str  # "" when met; "not_declared", "not_enough_declared", "minimum_lots", "solver_limit", "other"
    )
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
    objective: (
        float  # weighted penalties (unmet + share deviation + distance [+ change]), of the optimised plan
    )
    mip_gap: float  # relative gap between that objective and the proven lower bound
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
        if isinstance(g.step, bool) or not isinstance(g.step, int) or g.step < 1:
            raise ValueError(f"product {g.id!r}: step must be a positive integer")

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
    for p, share in week.shares.items():
        if p not in producers:
            raise ValueError(f"shares: unknown producer {p!r}")
        if not math.isfinite(float(share)) or float(share) < 0:
            raise ValueError(f"shares: the share of {p!r} must be a number >= 0, got {share!r}")
        shares[p] = float(share)
    missing = sorted(producers - set(shares))
    if producers and missing:
        raise ValueError(f"shares: no agreed share for {', '.join(missing)}")
    total = sum((Fraction(x) for x in week.shares.values()), Fraction(0))
    if producers and abs(total - 1) > Fraction(1, 10**6):
        raise ValueError(f"shares: agreed shares must sum to 1, they sum to {float(total):.6g}")

    gaps: dict[str, float] = {}
    for p in producers:
        gap = float(week.gaps.get(p, 0.0))
        if not math.isfinite(gap):
            raise ValueError(f"gaps: the carried gap of {p!r} is not a finite number")
        gaps[p] = gap
    for p in week.gaps:
        if p not in producers:
            raise ValueError(f"gaps: unknown producer {p!r}")

    km: dict[tuple[str, str], float] = {}
    kitchen_loc = {k.id: k.location for k in week.kitchens}
    producer_loc = {p.id: p.location for p in week.producers}
    ordered: dict[str, set[str]] = defaultdict(set)
    for kitchen, product in demand:
        ordered[product].add(kitchen)
    needed = {(p, k) for (p, product) in supply for k in ordered.get(product, ())}
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
    mip_gap: float  # relative gap between that objective and the proven lower bound


_INF = highspy.kHighsInf
_RC_TOL = 1e-7  # a column prices out when its reduced cost is below -_RC_TOL
NEAREST = 12  # producers per (kitchen, product) in the first restricted model
DENSE_UP_TO = 20_000  # candidate columns below which every column is in the model from the start


def _highs(time_limit: float, mip_rel_gap: float) -> highspy.Highs:
    h = highspy.Highs()
    h.setOptionValue("output_flag", os.environ.get("GRENIER_SUPPLY_SOLVER_LOG") == "1")
    h.setOptionValue("time_limit", max(0.1, time_limit))
    h.setOptionValue("mip_rel_gap", mip_rel_gap)
    h.setOptionValue("threads", 1)
    h.setOptionValue("random_seed", 0)
    return h


def _pass(
    h: highspy.Highs,
    cost: Sequence[float],
    lower: Sequence[float],
    upper: Sequence[float],
    row_lo: Sequence[float],
    row_up: Sequence[float],
    starts: list[int],
    index: list[int],
    value: list[float],
    offset: float = 0.0,
) -> None:
    lp = highspy.HighsLp()
    lp.num_col_ = len(cost)
    lp.num_row_ = len(row_lo)
    lp.col_cost_ = np.asarray(cost, dtype=np.float64)
    lp.col_lower_ = np.asarray(lower, dtype=np.float64)
    lp.col_upper_ = np.asarray(upper, dtype=np.float64)
    lp.row_lower_ = np.asarray(row_lo, dtype=np.float64)
    lp.row_upper_ = np.asarray(row_up, dtype=np.float64)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = np.asarray([*starts, len(index)], dtype=np.int32)
    lp.a_matrix_.index_ = np.asarray(index, dtype=np.int32)
    lp.a_matrix_.value_ = np.asarray(value, dtype=np.float64)
    lp.offset_ = offset
    h.passModel(lp)


def _build_and_solve(
    data: _Data,
    weights: Weights,
    time_limit: float,
    mip_rel_gap: float,
    previous: Mapping[tuple[str, str, str], int] | None,
) -> _Solved:
    """Solve the model of the module docstring; return integer weekly quantities.

    Whole steps: each product is modelled in units of its ``step``, so every quantity planned is a multiple of
    it: each day's demand and each declaration count rounded down to the step (what is left below it stays unmet,
    reason ``below_step``), a minimum lot rounded up, a previous plan's line rounded down. Volume is modelled in
    units of the gcd of the steps' volumes: with a step of 1000 g, the product is modelled in kg.

    Large instances are solved by column generation, exactly: the model starts with the nearest producers of each
    (kitchen, product) and every other x column is priced with the duals (numpy) and added while its reduced cost is
    negative, so the LP relaxation's value is a valid lower bound for the whole model. The lots are then rounded
    from the relaxation (y = 1 where it already supplies its lot), the LP re-solved (and re-priced) with y fixed: a
    feasible plan. If it is within ``mip_rel_gap`` of the bound it is proven optimal. Otherwise HiGHS's branch and
    bound continues from it on the model's columns (all of them on a small instance: its bound then holds; on a
    large one the lots it finds are re-solved with every column priced again, and the relaxation stays the bound).
    Whatever is left of the gap is reported, with ``proven_optimal`` false when it exceeds ``mip_rel_gap``.
    """
    began = time.perf_counter()
    products = data.products
    # product -> model unit, in base units: its step, so that every quantity planned is a multiple of it
    unit: dict[str, int] = {g: p.step for g, p in products.items()}
    V = 0  # volume model unit
    for g, m in unit.items():
        V = math.gcd(V, products[g].share_factor * m)
    V = V or 1
    vol = {g: products[g].share_factor * m / V for g, m in unit.items()}  # volume of one model unit

    # a line's demand: each day's in whole steps (the days split the week's quantity in whole steps)
    sorted_lines = [kg for kg in sorted(data.demand) if _days_cap(data, kg) > 0]
    line_demand = [_days_cap(data, kg) // unit[kg[1]] for kg in sorted_lines]
    by_product_lines: dict[str, list[int]] = defaultdict(list)
    for i, (_, g) in enumerate(sorted_lines):
        by_product_lines[g].append(i)
    producers = sorted(data.shares)
    prod_row = {p: i for i, p in enumerate(producers)}

    pairs: list[tuple[str, str, int, int]] = []  # (producer, product, available, lot) in model units
    for (p, g), s in sorted(data.supply.items()):
        avail, lot = s.available // unit[g], -(-s.minimum_lot // unit[g])
        if by_product_lines.get(g) and avail > 0 and lot <= avail:
            pairs.append((p, g, avail, lot))
    # candidate x columns
    xkeys: list[tuple[str, str, str]] = []
    c_pair: list[int] = []
    c_line: list[int] = []
    for pi, (p, g, _, _) in enumerate(pairs):
        for li in by_product_lines[g]:
            xkeys.append((p, sorted_lines[li][0], g))
            c_pair.append(pi)
            c_line.append(li)
    n_x = len(xkeys)
    if not n_x:
        return _Solved({}, "empty", True, 0.0, 0.0)
    offset = weights.unmet * sum(d * vol[kg[1]] for kg, d in zip(sorted_lines, line_demand, strict=True))

    lot_pairs = [i for i, pr in enumerate(pairs) if pr[3] > 0]
    y_of_pair = {pi: j for j, pi in enumerate(lot_pairs)}
    n_y, n_pairs, n_lines, n_p = len(lot_pairs), len(pairs), len(line_demand), len(producers)
    prev_units = {}
    if previous is not None:
        prev_units = {
            j: previous[key] // unit[key[2]] for j, key in enumerate(xkeys) if previous.get(key, 0) > 0
        }
    changed = sorted(prev_units)
    change_of = {j: i for i, j in enumerate(changed)}
    n_c = len(changed)
    # rows: [pair upper] [pair lower (lots)] [lines] [T] [fairness] [change, 2 each]
    r_pair_lo = n_pairs
    r_line = r_pair_lo + n_y
    r_T = r_line + n_lines
    r_fair = r_T + 1
    r_change = r_fair + n_p
    n_rows = r_change + 2 * n_c

    # numpy view of every candidate column, for pricing
    a_pair = np.asarray(c_pair, dtype=np.int64)
    a_line = np.asarray(c_line, dtype=np.int64)
    a_lo = np.asarray([r_pair_lo + y_of_pair[pi] if pi in y_of_pair else -1 for pi in c_pair], dtype=np.int64)
    a_fair = np.asarray([r_fair + prod_row[k[0]] for k in xkeys], dtype=np.int64)
    a_vol = np.asarray([vol[k[2]] for k in xkeys])
    km = np.asarray([data.km[k[0], k[1]] for k in xkeys])
    a_cost = (weights.distance * km - weights.unmet) * a_vol
    if previous is not None:
        not_prev = np.ones(n_x, dtype=bool)
        not_prev[changed] = False
        a_cost = a_cost + np.where(not_prev, weights.change * a_vol, 0.0)  # |x - 0|
    a_up = np.minimum(
        np.asarray([pairs[pi][2] for pi in c_pair], dtype=np.float64),
        np.asarray(line_demand, dtype=np.float64)[a_line],
    )

    def x_column(j: int, index: list[int], value: list[float]) -> None:
        index.extend((int(a_pair[j]), r_line + int(a_line[j]), r_T, int(a_fair[j])))
        value.extend((1.0, 1.0, float(a_vol[j]), float(a_vol[j])))
        if a_lo[j] >= 0:
            index.append(int(a_lo[j]))
            value.append(1.0)
        if j in change_of:
            i = change_of[j]
            index.extend((r_change + 2 * i, r_change + 2 * i + 1))
            value.extend((1.0, 1.0))

    # the first model: fixed columns (y, T, d+, d-, c), then the active x columns
    cost: list[float] = []
    lower: list[float] = []
    upper: list[float] = []
    starts: list[int] = []
    index: list[int] = []
    value: list[float] = []
    row_lo = [-_INF] * n_rows
    row_up = [_INF] * n_rows
    for pi, (_, _, avail, lot) in enumerate(pairs):
        if pi in y_of_pair:
            j = y_of_pair[pi]
            starts.append(len(index))
            index.extend((pi, r_pair_lo + j))
            value.extend((-float(avail), -float(lot)))
            cost.append(0.0)
            lower.append(0.0)
            upper.append(1.0)
            row_up[pi] = 0.0
            row_lo[r_pair_lo + j] = 0.0
        else:
            row_up[pi] = float(avail)
    starts.append(len(index))
    index.extend((r_T, *(r_fair + i for i in range(n_p))))
    value.extend((-1.0, *(-data.shares[p] for p in producers)))
    cost.append(0.0)
    lower.append(-_INF)
    upper.append(_INF)
    row_lo[r_T] = row_up[r_T] = 0.0
    for sign in (-1.0, 1.0):  # d+, d-
        for i in range(n_p):
            starts.append(len(index))
            index.append(r_fair + i)
            value.append(sign)
            cost.append(weights.share)
            lower.append(0.0)
            upper.append(_INF)
    for p in producers:
        row_lo[r_fair + prod_row[p]] = row_up[r_fair + prod_row[p]] = data.gaps[p] / V
    for li, d in enumerate(line_demand):
        row_up[r_line + li] = float(d)
    for i, j in enumerate(changed):  # c >= x - prev and c >= prev - x
        starts.append(len(index))
        index.extend((r_change + 2 * i, r_change + 2 * i + 1))
        value.extend((-1.0, 1.0))
        cost.append(weights.change * float(a_vol[j]))
        lower.append(0.0)
        upper.append(_INF)
        row_up[r_change + 2 * i] = float(prev_units[j])  # x - c <= prev
        row_lo[r_change + 2 * i + 1] = float(prev_units[j])  # x + c >= prev
    first_x = len(cost)

    if n_x <= DENSE_UP_TO:
        active = list(range(n_x))
    else:
        chosen: set[int] = set(changed)
        by_line: dict[int, list[int]] = defaultdict(list)
        for j in range(n_x):
            by_line[c_line[j]].append(j)
        for js in by_line.values():
            js.sort(key=lambda j: km[j])
            chosen.update(js[:NEAREST])
        active = sorted(chosen)
    in_model = np.zeros(n_x, dtype=bool)
    in_model[active] = True
    for j in active:
        starts.append(len(index))
        x_column(j, index, value)
        cost.append(float(a_cost[j]))
        lower.append(0.0)
        upper.append(float(a_up[j]))
    h = _highs(time_limit, mip_rel_gap)
    _pass(h, cost, lower, upper, row_lo, row_up, starts, index, value, offset)

    def left() -> float:
        return time_limit - (time.perf_counter() - began)

    def solve_lp_and_price() -> None:
        """Re-solve the LP and add priced-out columns until none is left."""
        while True:
            h.setOptionValue("time_limit", max(0.1, left()))
            h.run()
            if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
                raise RuntimeError(f"the solver stopped: {h.modelStatusToString(h.getModelStatus())}")
            if in_model.all():
                return
            dual = np.asarray(h.getSolution().row_dual)
            dual_ext = np.append(dual, 0.0)  # index -1 (no lot row) reads 0
            rc = a_cost - (
                dual[a_pair] + dual_ext[a_lo] + dual[r_line + a_line] + a_vol * (dual[r_T] + dual[a_fair])
            )
            # self-check of the pricing formula: HiGHS's reduced costs of the columns already in the model
            col_dual = np.asarray(h.getSolution().col_dual)[first_x:]
            mine = rc[np.asarray(active, dtype=np.int64)]
            if np.abs(mine - col_dual).max(initial=0.0) > 1e-6 * max(1.0, weights.unmet):
                raise RuntimeError("internal: the pricing disagrees with the solver's reduced costs")
            rc[in_model] = 0.0
            new = np.flatnonzero(rc < -_RC_TOL)
            if not len(new):
                return
            add_starts: list[int] = []
            add_index: list[int] = []
            add_value: list[float] = []
            for j in new:
                add_starts.append(len(add_index))
                x_column(int(j), add_index, add_value)
            h.addCols(
                len(new),
                a_cost[new],
                np.zeros(len(new)),
                a_up[new],
                len(add_index),
                np.asarray(add_starts, dtype=np.int32),
                np.asarray(add_index, dtype=np.int32),
                np.asarray(add_value, dtype=np.float64),
            )
            in_model[new] = True
            active.extend(int(j) for j in new)

    # 1. LP relaxation over all columns: a lower bound
    solve_lp_and_price()
    bound = float(h.getInfo().objective_function_value)
    sol = np.asarray(h.getSolution().col_value)
    # 2. lots rounded from the relaxation, LP re-solved: a feasible plan
    status = "Optimal"
    if n_y:
        model_col = np.full(n_x, -1, dtype=np.int64)
        model_col[active] = np.arange(first_x, first_x + len(active))
        supplied = np.zeros(n_pairs)
        np.add.at(supplied, a_pair[active], sol[first_x : first_x + len(active)])
        y_round = np.asarray(
            [1.0 if supplied[pi] >= pairs[pi][3] - 1e-6 else 0.0 for pi in lot_pairs], dtype=np.float64
        )
        y_cols = np.arange(n_y, dtype=np.int32)
        h.changeColsBounds(n_y, y_cols, y_round, y_round)
        solve_lp_and_price()
        best = float(h.getInfo().objective_function_value)
        sol = np.asarray(h.getSolution().col_value)
        if best - bound > mip_rel_gap * max(1.0, abs(best)) and left() > 0.1:
            # 3. branch and bound on the model's columns, from that plan
            dense = bool(in_model.all())
            h.changeColsBounds(n_y, y_cols, np.zeros(n_y), np.ones(n_y))
            h.changeColsIntegrality(n_y, y_cols, np.ones(n_y, dtype=np.uint8))
            start = highspy.HighsSolution()
            start.col_value = list(sol)
            start.value_valid = True
            h.setSolution(start)
            h.setOptionValue("time_limit", max(0.1, left()))
            h.run()
            info = h.getInfo()
            status = h.modelStatusToString(h.getModelStatus())
            mip_y = None
            if info.primal_solution_status == highspy.SolutionStatus.kSolutionStatusFeasible:
                mip_value = float(info.objective_function_value)
                if mip_value < best:
                    best = mip_value
                    sol = np.asarray(h.getSolution().col_value)
                    mip_y = np.round(sol[:n_y])
            if dense:  # the branch and bound's bound holds for the whole model
                bound = max(bound, float(info.mip_dual_bound))
            h.changeColsIntegrality(n_y, y_cols, np.zeros(n_y, dtype=np.uint8))
            if not dense and mip_y is not None and left() > 0.1:
                # its lots, with every column priced again
                h.changeColsBounds(n_y, y_cols, mip_y, mip_y)
                solve_lp_and_price()
                repriced = float(h.getInfo().objective_function_value)
                if repriced < best:
                    best = repriced
                    sol = np.asarray(h.getSolution().col_value)
        gap = max(0.0, best - bound) / max(1.0, abs(best))
    else:
        best, gap = bound, 0.0
    proven = gap <= mip_rel_gap * (1 + 1e-9)
    if proven:
        status = "Optimal"
    elif status == "Optimal":
        status = f"Feasible, within {gap:.1e} of the bound"

    # 4. integer quantities: x within [floor, ceil] of the plan, lots fixed, totally unimodular LP
    xs = np.zeros(n_x)
    xs[active] = sol[first_x : first_x + len(active)]
    floor = np.floor(xs + 1e-6)
    ceil = np.minimum(np.ceil(xs - 1e-6), a_up)
    ceil = np.maximum(ceil, floor)
    y_val = {pi: round(float(sol[y_of_pair[pi]])) for pi in lot_pairs}
    free = np.flatnonzero(ceil > floor)
    result = floor.copy()
    if len(free):
        pair_used = np.zeros(n_pairs)
        np.add.at(pair_used, a_pair, floor)
        line_used = np.zeros(n_lines)
        np.add.at(line_used, a_line, floor)
        row_of_pair = {pi: i for i, pi in enumerate(sorted({int(a_pair[j]) for j in free}))}
        row_of_line = {
            li: len(row_of_pair) + i for i, li in enumerate(sorted({int(a_line[j]) for j in free}))
        }
        lo2 = [0.0] * (len(row_of_pair) + len(row_of_line))
        up2 = [0.0] * len(lo2)
        for pi, r in row_of_pair.items():
            avail, lot = pairs[pi][2], pairs[pi][3]
            on = y_val.get(pi, 1)
            lo2[r] = (lot * on if pi in y_of_pair else 0.0) - pair_used[pi]
            up2[r] = avail * on - pair_used[pi]
        for li, r in row_of_line.items():
            lo2[r] = -_INF
            up2[r] = line_demand[li] - line_used[li]
        cost2: list[float] = []
        starts2: list[int] = []
        index2: list[int] = []
        value2: list[float] = []
        for j in map(int, free):
            c = float(a_cost[j])
            if j in change_of:  # |x - prev| is linear on [floor, ceil]
                c += weights.change * float(a_vol[j]) * (1 if floor[j] >= prev_units[j] else -1)
            cost2.append(c)
            starts2.append(len(index2))
            index2.extend((row_of_pair[int(a_pair[j])], row_of_line[int(a_line[j])]))
            value2.extend((1.0, 1.0))
        h2 = _highs(max(1.0, left()), mip_rel_gap)
        h2.setOptionValue("presolve", "off")  # a vertex from the simplex: integral
        h2.setOptionValue("solver", "simplex")
        _pass(h2, cost2, [0.0] * len(free), list(ceil[free] - floor[free]), lo2, up2, starts2, index2, value2)
        h2.run()
        if h2.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            raise RuntimeError("the solver found no integer plan near the optimum")
        result[free] += np.asarray(h2.getSolution().col_value)
    quantities = np.rint(result).astype(np.int64)
    if np.abs(result - quantities).max(initial=0.0) > 1e-6:
        raise RuntimeError("internal: the rounding step returned a fractional plan")
    _check(pairs, y_of_pair, line_demand, a_pair, a_line, quantities)
    x = {xkeys[j]: int(quantities[j]) * unit[xkeys[j][2]] for j in np.flatnonzero(quantities)}
    # the integer plan's objective, from the plan itself
    return _Solved(x, status, proven, best * V, gap)


def _check(
    pairs: Sequence[tuple[str, str, int, int]],
    y_of_pair: Mapping[int, int],
    line_demand: Sequence[int],
    a_pair: np.ndarray,
    a_line: np.ndarray,
    quantities: np.ndarray,
) -> None:
    pair_total = np.zeros(len(pairs), dtype=np.int64)
    np.add.at(pair_total, a_pair, quantities)
    line_total = np.zeros(len(line_demand), dtype=np.int64)
    np.add.at(line_total, a_line, quantities)
    for pi, (p, g, avail, lot) in enumerate(pairs):
        t = int(pair_total[pi])
        if t > avail or (pi in y_of_pair and 0 < t < lot):
            raise RuntimeError(f"internal: the plan breaks the declaration of {p!r} for {g!r}")
    if (line_total > np.asarray(line_demand)).any() or (quantities < 0).any():
        raise RuntimeError("internal: the plan sends more than asked")


# ----------------------------------------------------------------------------------------------- days and reports


def _days_cap(data: _Data, line: tuple[str, str]) -> int:
    """What a (kitchen, product) line may receive in the week: each day's demand rounded down to the step."""
    step = data.products[line[1]].step
    return sum(q // step * step for q in data.demand[line].values())


def _split_days(
    data: _Data,
    weekly: Mapping[tuple[str, str, str], int],
    previous: Mapping[tuple[str, str, str, str], int] | None = None,
) -> list[PlanLine]:
    """Split each producer's weekly quantity for (kitchen, product) over the delivery days.

    Keeps a previous plan's day lines where it can: a producer whose weekly quantity did not grow keeps at most its
    previous quantity on each day; one that grew keeps its previous days and adds the rest where demand is left.
    Otherwise days are filled in order, nearest producer first. Every day line is a multiple of the product's
    ``step`` (the weekly quantities are, and each day takes at most its demand rounded down to the step).
    """
    by_line: dict[tuple[str, str], list[tuple[str, int]]] = defaultdict(list)
    for (p, k, g), q in weekly.items():
        if q > 0:
            by_line[k, g].append((p, q))
    lines: list[PlanLine] = []
    for (k, g), givers in sorted(by_line.items()):
        days = data.demand[k, g]
        step = data.products[g].step
        left = {d: q // step * step for d, q in days.items()}  # every day line a multiple of the step
        todo: dict[str, int] = {}
        out: dict[tuple[str, str], int] = defaultdict(int)
        givers.sort(key=lambda pq: (data.km[pq[0], k], pq[0]))
        for p, q in givers:
            rest = q
            if previous:
                for d in sorted(days):
                    keep = min(previous.get((p, k, g, d), 0), rest, left[d]) // step * step
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
        distance += data.km.get((line.producer, line.kitchen), 0.0) * line.quantity * f

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
        step = data.products[g].step
        for d, q in sorted(days.items()):
            got = supplied[k, g, d]
            if q <= got:
                code, text = "", ""
            elif q - got < step:
                unit = data.products[g].unit
                code, text = "below_step", f"the rest is less than the planning step of {_fmt(step, unit)}"
            else:
                code, text = why(g)
            reports.append(LineReport(k, g, d, q, got, q - got, code, text))

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
    mip_rel_gap: float = 1e-5,
) -> Plan:
    """The week's optimised plan.

    Raises ValueError on bad input (with what is wrong), RuntimeError if the time limit ends before the relaxation
    is solved (a plan found later within the limit is returned with ``proven_optimal`` false when not proven).
    """
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
    mip_rel_gap: float = 1e-5,
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


def report(
    week: Week,
    lines: Sequence[PlanLine],
    *,
    status: str,
    proven_optimal: bool,
    objective: float = 0.0,
    mip_gap: float = 0.0,
    seconds: float = 0.0,
) -> Plan:
    """The plan ``lines`` read against ``week``: every demand line's supply and the reason of what is unmet, each
    producer's volume and new gap, as :func:`solve` reports them. For a plan put together from parts (the lines a
    re-plan kept plus those it re-planned), so that its figures are those of the whole week."""
    return _reports(_prepare(week), lines, status, proven_optimal, objective, mip_gap, seconds)


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
        step = data.products[g].step
        need = q // step * step
        for p in sorted(by_product[g], key=lambda p: (data.km[p, k], p)):
            if not need:
                break
            give = min(need, stock[p, g]) // step * step
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
