"""The stages of a plan and of a re-plan: demand first, then shares and distance; or lines, then volume."""

from __future__ import annotations

import math
import time
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import highspy
import numpy as np

import grenier.supply.optimiser as tunables
from grenier.supply.optimiser.highs import (
    _A,
    _B,
    _INF,
    _Q,
    _TINY,
    _cost_scale,
    _highs,
    _Model,
    _run,
    _scale,
    _whole,
)
from grenier.supply.optimiser.inputs import Stage, Weights, _Data

# ------------------------------------------------------------------------------------------------- the week's sets

_EXACT_UP_TO = 20_000  # columns up to which whole quantities are proven by a branch and bound (step 5)
_Allowed = frozenset[str] | None
_LineKey = tuple[str, str, _Allowed, tuple[str, ...]]  # kitchen, product, farms allowed, delivery days


def _allowed_order(a: _Allowed) -> tuple[bool, list[str]]:
    return (a is not None, sorted(a) if a is not None else [])


@dataclass
class _Shape:
    """The week in model units: each product counted in its step, volume in units of ``V`` (the gcd of the steps'
    volumes). ``lines``: the kitchen lines — per day, or (``by_day`` false) a kitchen's days of a product that allow
    the same farms, aggregated; ``pairs``: (producer, product, available, lot) that can supply something;
    candidate columns: a pair and a line of its product that allows the farm."""

    unit: dict[str, int]
    V: int
    vol: dict[str, int]
    lines: list[_LineKey]
    cap: np.ndarray
    pairs: list[tuple[str, str, int, int]]
    col_pair: np.ndarray
    col_line: np.ndarray
    products: list[str]  # those with a candidate column

    @property
    def lot_pairs(self) -> list[int]:
        return [i for i, pr in enumerate(self.pairs) if pr[3] > 0]

    def col_of(self) -> dict[tuple[int, int], int]:
        return {
            (int(a), int(b)): j for j, (a, b) in enumerate(zip(self.col_pair, self.col_line, strict=True))
        }


def _units(data: _Data) -> tuple[dict[str, int], int, dict[str, int]]:
    unit = {g: p.step for g, p in data.products.items()}
    V = 0
    for g, m in unit.items():
        V = math.gcd(V, data.products[g].share_factor * m)
    V = V or 1
    return unit, V, {g: data.products[g].share_factor * m // V for g, m in unit.items()}


def _shape(data: _Data, *, by_day: bool, products: set[str] | None = None) -> _Shape:
    unit, V, vol = _units(data)
    lines: list[_LineKey] = []
    caps: list[int] = []
    for k, g in sorted(data.demand):
        if products is not None and g not in products:
            continue
        groups: dict[_Allowed, list[tuple[str, int]]] = defaultdict(list)
        for d, q in sorted(data.demand[k, g].items()):
            if q // unit[g] > 0:
                groups[data.allowed[k, g, d]].append((d, q // unit[g]))
        for a in sorted(groups, key=_allowed_order):
            if by_day:
                for d, c in groups[a]:
                    lines.append((k, g, a, (d,)))
                    caps.append(c)
            else:
                lines.append((k, g, a, tuple(d for d, _ in groups[a])))
                caps.append(sum(c for _, c in groups[a]))
    lines_of: dict[str, list[int]] = defaultdict(list)
    for li, line in enumerate(lines):
        lines_of[line[1]].append(li)
    pairs: list[tuple[str, str, int, int]] = []
    for (p, g), s in sorted(data.supply.items()):
        avail, lot = s.available // unit[g], -(-s.minimum_lot // unit[g])
        if lines_of.get(g) and avail > 0 and lot <= avail:
            pairs.append((p, g, avail, lot))
    col_pair: list[int] = []
    col_line: list[int] = []
    for pi, (p, g, _, _) in enumerate(pairs):
        for li in lines_of[g]:
            a = lines[li][2]
            if a is None or p in a:
                col_pair.append(pi)
                col_line.append(li)
    return _Shape(
        unit,
        V,
        vol,
        lines,
        np.asarray(caps, dtype=np.int64),
        pairs,
        np.asarray(col_pair, dtype=np.int64),
        np.asarray(col_line, dtype=np.int64),
        sorted({pairs[pi][1] for pi in col_pair}),
    )


# ------------------------------------------------------------------------------------------ stage 1: demand first


@dataclass
class _Met:
    met: dict[str, int]  # product -> most demand that can be met, model units
    y: dict[int, int]  # lot pair -> open (1) or not
    flow: dict[tuple[int, int], int]  # (pair, class) -> model units
    line_class: list[int]
    objective: float  # volume met, volume units
    bound: float  # the most proven possible, volume units
    optimal: bool
    status: str
    seconds: float


def _classes(shape: _Shape) -> tuple[list[tuple[str, _Allowed]], list[int]]:
    index: dict[tuple[str, _Allowed], int] = {}
    line_class: list[int] = []
    for k, g, a, _ in shape.lines:
        del k
        line_class.append(index.setdefault((g, a), len(index)))
    return list(index), line_class


def _demand_stage(shape: _Shape, deadline: float, fixed_y: Mapping[int, int] | None = None) -> _Met | None:
    """The most demand the week can meet, per product (a MILP on farm x class flows: a class is a product's
    kitchen lines that allow the same farms; within one any farm may serve any line, so the flow aggregates
    exactly). ``fixed_y``: with those lots open or closed; None if they cannot all be kept."""
    began = time.perf_counter()
    classes, line_class = _classes(shape)
    class_cap = np.zeros(len(classes), dtype=np.int64)
    np.add.at(class_cap, np.asarray(line_class, dtype=np.int64), shape.cap)
    flows = sorted(
        {(int(pi), line_class[int(li)]) for pi, li in zip(shape.col_pair, shape.col_line, strict=True)}
    )
    if not flows:
        return _Met({}, {}, {}, line_class, 0.0, 0.0, True, "empty", 0.0)
    Q = _scale(max(max(pr[2] for pr in shape.pairs), int(class_cap.max())))
    model = _Model()
    pair_up = [model.row() for _ in shape.pairs]
    lots = shape.lot_pairs
    pair_lo = {pi: model.row(lo=0.0) for pi in lots}
    class_row = [model.row(up=float(c) / Q) for c in class_cap]
    costs = [-shape.vol[shape.pairs[pi][1]] * Q for pi, _ in flows]
    C = _cost_scale(costs)
    for pi, (_, _, avail, lot) in enumerate(shape.pairs):
        if pi in pair_lo:
            model.row_up[pair_up[pi]] = 0.0
            on = float(fixed_y[pi]) if fixed_y is not None else None
            model.col(
                0.0,
                on if on is not None else 0.0,
                on if on is not None else 1.0,
                _B,
                [pair_up[pi], pair_lo[pi]],
                [-avail / Q, -lot / Q],
            )
        else:
            model.row_up[pair_up[pi]] = avail / Q
    first = model.n_cols
    for (pi, ci), cost in zip(flows, costs, strict=True):
        rows, values = [pair_up[pi], class_row[ci]], [1.0, 1.0]
        if pi in pair_lo:
            rows.append(pair_lo[pi])
            values.append(1.0)
        model.col(cost / C, 0.0, min(shape.pairs[pi][2], int(class_cap[ci])) / Q, _Q, rows, values, Q)
    # an integral objective (volume units): proven exactly once the gap is below one unit
    run = _run(model, deadline, integer=True, rel_gap=0.0, abs_gap=0.5 / C)
    if not run.feasible:
        if fixed_y is not None:
            return None
        raise RuntimeError(
            f"the solver stopped before finding the most demand that can be met ({run.status})"
        )
    y = {pi: round(run.values[c]) for c, pi in enumerate(lots)}
    # the flows from a vertex with those lots: whole (a transport matrix)
    for c in range(len(lots)):
        model.lower[c] = model.upper[c] = float(y[lots[c]])
    vertex = _run(model, deadline, integer=False, vertex=True)
    if not vertex.optimal:
        if fixed_y is not None:
            return None
        raise RuntimeError(f"the solver stopped on the most demand that can be met ({vertex.status})")
    units = vertex.values[first:] * Q
    if np.abs(units - np.rint(units)).max(initial=0.0) > 1e-6 * Q:
        raise RuntimeError("internal: the demand stage returned fractional quantities")
    flow = {f: int(u) for f, u in zip(flows, np.rint(units), strict=True) if u > 0}
    met: dict[str, int] = defaultdict(int)
    for (pi, _), u in flow.items():
        met[shape.pairs[pi][1]] += u
    objective = float(sum(shape.vol[g] * u for g, u in met.items()) * shape.V)
    bound = max(objective, -run.bound * C * shape.V) if run.bound > -_INF else math.inf
    return _Met(
        dict(met), y, flow, line_class, objective, bound, run.optimal, run.status, time.perf_counter() - began
    )


def _distribute(shape: _Shape, met: _Met) -> dict[int, int]:
    """Stage 1's flows as quantities per candidate column (each class's lines filled in order)."""
    col_of = shape.col_of()
    lines_of_class: dict[int, list[int]] = defaultdict(list)
    for li, ci in enumerate(met.line_class):
        lines_of_class[ci].append(li)
    left = shape.cap.copy()
    out: dict[int, int] = {}
    for (pi, ci), amount in sorted(met.flow.items()):
        for li in lines_of_class[ci]:
            if not amount:
                break
            give = min(amount, int(left[li]))
            if give:
                j = col_of[pi, li]
                out[j] = out.get(j, 0) + give
                left[li] -= give
                amount -= give
        if amount:
            raise RuntimeError("internal: a flow of the demand stage does not fit its lines")
    return out


def _demand_report(met: _Met, delivered: float, rel_gap: float) -> Stage:
    gap = max(0.0, met.bound - delivered) / max(1.0, abs(met.bound)) if math.isfinite(met.bound) else 1.0
    return Stage("demand", delivered, met.bound, gap, gap <= rel_gap, met.seconds)


def _gap(objective: float, bound: float) -> float:
    """The relative gap of a minimised ``objective`` above its proven ``bound``."""
    if not math.isfinite(bound):
        return 1.0
    return max(0.0, objective - bound) / max(1.0, abs(objective))


# -------------------------------------------------------------------------- stage 2 of a plan: shares, distance


def _fairness_targets(data: _Data, V: int, total_volume: float, producers: Sequence[str]) -> list[float]:
    """Each farm's target this week in units of ``V``: its share of the group's volume plus its carried gap."""
    return [(data.shares[p] * total_volume + data.gaps[p]) / V for p in producers]


def _fairness_rows(
    model: _Model, targets: Sequence[float], grains: Sequence[int], R: float, cost: float
) -> list[int]:
    """One fairness row per farm, ``volume - d+ + d- = target`` (scaled by ``R``), with its deviation columns
    ``d+`` and ``d-`` at ``cost`` each; and the convex envelope of ``|S - target|`` over the volumes ``S`` the farm
    can reach: whole multiples of its grain (the gcd of the volumes of one unit of the products it can send), so
    its deviation costs at least the chord between the two reachable volumes around the target,
    ``phi * d+ + (1 - phi) * d- >= grain * phi * (1 - phi)`` with ``phi`` the fractional part of
    ``target / grain``. Returns the fairness rows."""
    rows: list[int] = []
    for t, grain in zip(targets, grains, strict=True):
        rhs = t / R if abs(t / R) > _TINY else 0.0
        fair = model.row(rhs, rhs, tu=False)
        rows.append(fair)
        plus_rows, plus_values, minus_rows, minus_values = [fair], [-1.0], [fair], [1.0]
        if grain > 0:
            phi = t / grain - math.floor(t / grain)
            if phi * (1 - phi) >= 1e-6:
                chord = model.row(lo=grain * phi * (1 - phi), tu=False)
                plus_rows.append(chord)
                plus_values.append(phi * R)
                minus_rows.append(chord)
                minus_values.append((1 - phi) * R)
        model.col(cost, 0.0, _INF, _A, plus_rows, plus_values)
        model.col(cost, 0.0, _INF, _A, minus_rows, minus_values)
    return rows


def _grains(producers: Sequence[str], farm_of: Iterable[str], vols: Iterable[int]) -> list[int]:
    """Each farm's grain: the gcd of the volumes of one model unit of each product it can send (0: none)."""
    grain = dict.fromkeys(producers, 0)
    for p, v in zip(farm_of, vols, strict=True):
        grain[p] = math.gcd(grain[p], int(v))
    return [grain[p] for p in producers]


@dataclass
class _Candidates:
    """Every candidate x column of stage 2, as arrays: cost (scaled), upper bound (scaled), entries (CSC)."""

    cost: np.ndarray
    upper: np.ndarray
    start: np.ndarray
    index: np.ndarray
    value: np.ndarray

    def entries(self, j: int) -> tuple[list[int], list[float]]:
        s = slice(int(self.start[j]), int(self.start[j + 1]))
        return self.index[s].tolist(), self.value[s].tolist()

    def reduced_costs(self, dual: np.ndarray) -> np.ndarray:
        return self.cost - np.add.reduceat(self.value * dual[self.index], self.start[:-1])


class _Master:
    """The restricted master of column generation: the fixed columns and the candidate columns added so far. Every
    other candidate is priced from the same arrays its column would be built from, so the pricing cannot leave a
    row out; the pricing is checked against HiGHS's own reduced costs at every round."""

    def __init__(
        self, model: _Model, cand: _Candidates, active: Iterable[int], scale: float, deadline: float
    ):
        self.model = model
        self.cand = cand
        self.first = model.n_cols
        self.scale = scale
        self.deadline = deadline
        self.active: list[int] = []
        self.in_model = np.zeros(len(cand.cost), dtype=bool)
        self._put(sorted(set(active)))
        self.h = _highs(deadline - time.perf_counter())
        lp = model.lp()
        lp.integrality_ = []  # the relaxation; lots are fixed, or made integral for a branch and bound
        self.h.passModel(lp)

    def _put(self, js: Sequence[int]) -> None:
        for j in js:
            rows, values = self.cand.entries(j)
            self.model.col(
                float(self.cand.cost[j]), 0.0, float(self.cand.upper[j]), _Q, rows, values, self.scale
            )
        self.active.extend(js)
        self.in_model[list(js)] = True

    def add(self, js: Iterable[int]) -> None:
        new = [int(j) for j in js if not self.in_model[j]]
        if not new:
            return
        first = self.model.n_cols
        self._put(new)
        starts = np.asarray(self.model.start[first:], dtype=np.int64) - self.model.start[first]
        self.h.addCols(
            len(new),
            np.asarray(self.model.cost[first:]),
            np.zeros(len(new)),
            np.asarray(self.model.upper[first:]),
            len(self.model.index) - self.model.start[first],
            starts.astype(np.int32),
            np.asarray(self.model.index[self.model.start[first] :], dtype=np.int32),
            np.asarray(self.model.value[self.model.start[first] :], dtype=np.float64),
        )

    def bounds(self, cols: Sequence[int], lower: Sequence[float], upper: Sequence[float]) -> None:
        for c, lo, up in zip(cols, lower, upper, strict=True):
            self.model.lower[c], self.model.upper[c] = float(lo), float(up)
        self.h.changeColsBounds(
            len(cols),
            np.asarray(cols, dtype=np.int32),
            np.asarray(lower, dtype=np.float64),
            np.asarray(upper, dtype=np.float64),
        )

    def solve(self) -> float:
        """Re-solve the LP and add priced-out columns until none is left; the LP's value (scaled)."""
        while True:
            self.h.setOptionValue("time_limit", max(0.1, self.deadline - time.perf_counter()))
            self.h.run()
            if self.h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
                status = self.h.modelStatusToString(self.h.getModelStatus())
                raise RuntimeError(f"the solver stopped: {status}")
            if self.in_model.all():
                return float(self.h.getInfo().objective_function_value)
            solution = self.h.getSolution()
            rc = self.cand.reduced_costs(np.asarray(solution.row_dual))
            mine = rc[np.asarray(self.active, dtype=np.int64)]
            theirs = np.asarray(solution.col_dual)[self.first :]
            if np.abs(mine - theirs).max(initial=0.0) > 1e-6:
                raise RuntimeError("internal: the pricing disagrees with the solver's reduced costs")
            rc[self.in_model] = 0.0
            new = np.flatnonzero(rc < -1e-9)
            if not len(new):
                return float(self.h.getInfo().objective_function_value)
            self.add(new)

    def values(self) -> np.ndarray:
        return np.asarray(self.h.getSolution().col_value, dtype=np.float64)


def _shares_stage(
    data: _Data, shape: _Shape, met: _Met, weights: Weights, deadline: float, rel_gap: float
) -> tuple[dict[int, int], float, float, str]:
    """Stage 2 of a plan: with each product's demand met fixed at stage 1's most, the plan closest to the shares,
    then nearest. Returns the whole quantities per candidate column (model units), the proven bound (volume units
    times weights), the seconds and what stopped the solver if not proven.

    Large weeks are solved by column generation, exactly: the model starts with the nearest producers of each
    line (and the columns stage 1's flows use, so it is feasible) and every other column is priced with the duals
    and added while its reduced cost is negative, so the LP relaxation's value is a lower bound for the whole
    model. The lots are then rounded from the relaxation (open where it already supplies the lot) if stage 1 says
    the demand can still be met that way, else stage 1's lots are kept; the LP is re-solved (and re-priced) with
    them fixed. If it is not within ``rel_gap`` of the bound, HiGHS's branch and bound continues from it on the
    model's columns (all of them on a small week: its bound then holds; on a large one the lots it finds are
    re-solved with every column priced again, and the relaxation stays the bound)."""
    began = time.perf_counter()
    producers = sorted(data.shares)
    n_x = len(shape.col_pair)
    V = shape.V
    total = sum(shape.vol[g] * m for g, m in met.met.items())  # units of V
    targets = _fairness_targets(data, V, float(total * V), producers)
    # scales: quantities by Q, volumes (fairness rows, deviations) by R; costs normalised by C below
    Q = _scale(max(max(pr[2] for pr in shape.pairs), int(shape.cap.max()), *met.met.values()))
    R = _scale(max(float(total), *(abs(t) for t in targets)))
    a_pair, a_line = shape.col_pair, shape.col_line
    g_of = [shape.lines[int(li)][1] for li in a_line]
    p_of = [shape.pairs[int(pi)][0] for pi in a_pair]
    a_vol = np.asarray([shape.vol[g] for g in g_of], dtype=np.float64)
    km = np.asarray([data.km[p, shape.lines[int(li)][0]] for p, li in zip(p_of, a_line, strict=True)])
    raw_cost = Q * weights.distance * km * a_vol * V
    C = _cost_scale([*raw_cost, R * weights.share * V])

    model = _Model()
    lots = shape.lot_pairs
    y_col = {pi: c for c, pi in enumerate(lots)}
    pair_up = [model.row() for _ in shape.pairs]
    pair_lo = {pi: model.row(lo=0.0) for pi in lots}
    line_row = [model.row(up=float(c) / Q) for c in shape.cap]
    product_row = {
        g: model.row(float(met.met.get(g, 0)) / Q, float(met.met.get(g, 0)) / Q) for g in shape.products
    }
    for pi, (_, _, avail, lot) in enumerate(shape.pairs):
        if pi in y_col:
            model.row_up[pair_up[pi]] = 0.0
            model.col(0.0, 0.0, 1.0, _B, [pair_up[pi], pair_lo[pi]], [-avail / Q, -lot / Q])
        else:
            model.row_up[pair_up[pi]] = avail / Q
    fair_row = _fairness_rows(model, targets, _grains(producers, p_of, a_vol), R, R * weights.share * V / C)
    prod_index = {p: i for i, p in enumerate(producers)}
    # candidate columns' entries: farm, lot, line, product, fairness rows
    lot_row = np.asarray([pair_lo.get(pi, -1) for pi in range(len(shape.pairs))], dtype=np.int64)
    idx = np.stack(
        [
            np.asarray(pair_up, dtype=np.int64)[a_pair],
            lot_row[a_pair],
            np.asarray(line_row, dtype=np.int64)[a_line],
            np.asarray([product_row[g] for g in g_of], dtype=np.int64),
            np.asarray([fair_row[prod_index[p]] for p in p_of], dtype=np.int64),
        ],
        axis=1,
    )
    val = np.stack([np.ones(n_x), np.ones(n_x), np.ones(n_x), np.ones(n_x), a_vol * Q / R], axis=1)
    mask = idx >= 0
    cand = _Candidates(
        cost=raw_cost / C,
        upper=np.minimum(np.asarray([shape.pairs[int(pi)][2] for pi in a_pair]), shape.cap[a_line]) / Q,
        start=np.concatenate([[0], np.cumsum(mask.sum(axis=1))]).astype(np.int64),
        index=idx[mask],
        value=val[mask],
    )
    start = _distribute(shape, met)
    if n_x <= tunables.DENSE_UP_TO:
        active: set[int] = set(range(n_x))
    else:
        active = set(start)
        by_line: dict[int, list[int]] = defaultdict(list)
        for j in range(n_x):
            by_line[int(a_line[j])].append(j)
        for js in by_line.values():
            js.sort(key=lambda j: km[j])
            active.update(js[: tunables.NEAREST])
    master = _Master(model, cand, active, Q, deadline)
    n_y = len(lots)
    y_cols = list(range(n_y))

    def supplied_by_pair(values: np.ndarray) -> np.ndarray:
        out = np.zeros(len(shape.pairs))
        act = np.asarray(master.active, dtype=np.int64)
        np.add.at(out, a_pair[act], values[master.first :] * Q)
        return out

    # 1. LP relaxation over all columns: a lower bound
    bound = relaxation = master.solve()
    values = master.values()
    duals = np.asarray(master.h.getSolution().row_dual)
    best, best_values, config = math.inf, values, {pi: met.y[pi] for pi in lots}
    status = "Optimal"
    if n_y:
        # 2. lots from the relaxation: open where it supplies the lot, closed where it supplies nothing; those it
        # supplies in part (a few) rounded in turn: open from half the lot, all open, all closed; then stage 1's
        # lots; then single flips of the partial ones. Each tried if the demand can still be met so.
        supplied = supplied_by_pair(values)
        base = {pi: int(supplied[pi] >= shape.pairs[pi][3] - 1e-6) for pi in lots}
        partial = [pi for pi in lots if 1e-6 < supplied[pi] < shape.pairs[pi][3] - 1e-6]
        tried: list[dict[int, int]] = []

        def close_enough() -> bool:
            return math.isfinite(best) and best - bound <= rel_gap * 0.5 * max(abs(best), 1e-12)

        def attempt(y: dict[int, int]) -> None:
            nonlocal best, best_values, config
            if y in tried or close_enough() or deadline - time.perf_counter() < 0.1:
                return
            tried.append(y)
            if y != {pi: met.y[pi] for pi in lots}:
                again = _demand_stage(shape, deadline, y)
                if again is None or any(again.met.get(g, 0) != m for g, m in met.met.items()):
                    return
                master.add(_distribute(shape, again))
            master.bounds(y_cols, [y[pi] for pi in lots], [y[pi] for pi in lots])
            value = master.solve()
            if value < best:
                best, best_values, config = value, master.values(), y

        for rule in (
            lambda pi: int(supplied[pi] >= shape.pairs[pi][3] / 2),
            lambda pi: 1,
            lambda pi: 0,
        ):
            attempt(base | {pi: rule(pi) for pi in partial})
        attempt({pi: met.y[pi] for pi in lots})
        improved = True
        while improved and partial and len(partial) <= 32 and not close_enough():
            improved = False
            for pi in partial:
                before = best
                attempt(config | {pi: 1 - config[pi]})
                improved = improved or best < before
        if best - bound > rel_gap * 0.5 * max(abs(best), 1e-12) and deadline - time.perf_counter() > 0.1:
            # 3. branch and bound on the model's columns, from that plan
            dense = bool(master.in_model.all())
            h = master.h
            master.bounds(y_cols, [0.0] * n_y, [1.0] * n_y)
            h.changeColsIntegrality(n_y, np.asarray(y_cols, dtype=np.int32), np.ones(n_y, dtype=np.uint8))
            solution = highspy.HighsSolution()
            solution.col_value = list(best_values)
            solution.value_valid = True
            h.setSolution(solution)
            h.setOptionValue("mip_rel_gap", rel_gap * 0.1)  # room for the whole quantities, step 4
            h.setOptionValue("time_limit", max(0.1, deadline - time.perf_counter()))
            h.run()
            info = h.getInfo()
            status = h.modelStatusToString(h.getModelStatus())
            found = None
            feasible = info.primal_solution_status == highspy.SolutionStatus.kSolutionStatusFeasible
            if feasible and float(info.objective_function_value) < best:
                found = np.rint(np.asarray(h.getSolution().col_value)[:n_y])
            if dense:  # the branch and bound's bound holds for the whole model
                bound = max(bound, float(info.mip_dual_bound))
            h.changeColsIntegrality(n_y, np.asarray(y_cols, dtype=np.int32), np.zeros(n_y, dtype=np.uint8))
            if found is not None:
                config = {pi: int(found[c]) for c, pi in enumerate(lots)}
        master.bounds(y_cols, [config[pi] for pi in lots], [config[pi] for pi in lots])
        master.solve()
        best_values = master.values()
    # 4. whole quantities, near that plan
    model = master.model
    grain = np.zeros(model.n_cols)
    grain[master.first :] = a_vol[np.asarray(master.active, dtype=np.int64)]
    out = _whole(model, best_values, deadline, grain)
    if out is None:
        raise RuntimeError("the solver found no whole plan near the optimum")

    def objective(units: np.ndarray) -> float:
        """Stage 2's objective (volume units times weights) of whole quantities ``units`` (model columns)."""
        x = units[master.first :]
        act = np.asarray(master.active, dtype=np.int64)
        volume = np.zeros(len(producers))
        np.add.at(volume, np.asarray([prod_index[p_of[j]] for j in act], dtype=np.int64), a_vol[act] * x)
        deviation = np.abs(volume - np.asarray(targets)).sum()
        return float(weights.share * V * deviation + (raw_cost[act] * x).sum() / Q)

    value = objective(out)
    if _gap(value, bound * C) > rel_gap and Q == 1.0 and deadline - time.perf_counter() > 0.1:
        # 5. whole quantities are what is delivered: for ordinary quantities, a branch and bound with whole
        # quantities too, from that plan, on the columns that can take part in a better plan: those in the model,
        # and any other whose reduced cost in the relaxation is below the gap (a plan that uses one costs at least
        # the relaxation's value plus that reduced cost). Its bound then holds for every whole plan.
        room = value / C - relaxation
        extra = np.flatnonzero(~master.in_model & (cand.reduced_costs(duals) < room))
        if len(master.active) + len(extra) <= _EXACT_UP_TO:
            before = model.n_cols
            master.add(extra)
            out = np.concatenate([out, np.zeros(model.n_cols - before)])
            given = np.flatnonzero(np.asarray(model.kind) != _A)
            # a proof can take long where the bound is what lags: at most as long again as the stage so far;
            # a third of it first with the lots as they are, for a better plan to start from
            budget = max(2.0, time.perf_counter() - began)
            polish = _run(
                model,
                min(deadline, time.perf_counter() + budget / 3),
                integer=True,
                rel_gap=rel_gap * 0.1,
                start=out[given],
                start_cols=given,
                whole_quantities=True,
            )
            if polish.feasible:
                units = np.where(np.asarray(model.kind) == _A, 0.0, np.rint(polish.values))
                if objective(units) < value:
                    out, value = units, objective(units)
            for c in y_cols:
                model.lower[c], model.upper[c] = 0.0, 1.0
            exact = _run(
                model,
                min(deadline, time.perf_counter() + budget * 2 / 3),
                integer=True,
                rel_gap=rel_gap,
                start=out[given],
                start_cols=given,
                whole_quantities=True,
            )
            if exact.feasible:
                units = np.where(np.asarray(model.kind) == _A, 0.0, np.rint(exact.values))
                if objective(units) < value:
                    out, value = units, objective(units)
            bound = max(bound, exact.bound)
            status = exact.status
    x = {j: int(out[master.first + c]) for c, j in enumerate(master.active) if out[master.first + c] > 0}
    return x, bound * C, time.perf_counter() - began, status
