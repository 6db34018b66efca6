"""Stage 2 of a plan: with each product's demand met fixed at stage 1's most, the plan closest to the shares, then
nearest (column generation on large weeks); the fairness rows a re-plan's last stage shares."""

from __future__ import annotations

import math
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
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
from grenier.supply.optimiser.inputs import Weights, _Data
from grenier.supply.optimiser.stages import _EXACT_UP_TO, _demand_stage, _distribute, _gap, _Met, _Shape


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


@dataclass
class _SupplyRows:
    """The rows of stage 2's model a candidate column enters besides its farm's fairness row."""

    pair_up: list[int]  # per pair: at most what the farm declared (with its lot open, for a lot pair)
    pair_lo: dict[int, int]  # per lot pair: at least the lot once open
    line_row: list[int]  # per kitchen line: at most its demand
    product_row: dict[str, int]  # per product: exactly stage 1's demand met


def _supply_rows(model: _Model, shape: _Shape, met: _Met, Q: float) -> _SupplyRows:
    """The supply, lot, line and product rows, and one open-or-not column per lot pair (the model's first)."""
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
    return _SupplyRows(pair_up, pair_lo, line_row, product_row)


@dataclass
class _SharesModel:
    """Stage 2's model of a week: its scales (quantities by ``Q``, volumes by ``R``, costs by ``C``), each farm's
    target, the candidate columns' farm, volume, distance and cost, the model (its rows and lot columns)."""

    producers: list[str]
    prod_index: dict[str, int]
    V: int
    targets: list[float]
    Q: float
    R: float
    C: float
    p_of: list[str]
    a_vol: np.ndarray
    km: np.ndarray
    raw_cost: np.ndarray
    model: _Model
    lots: list[int]

    def objective(self, master: _Master, units: np.ndarray, weights: Weights) -> float:
        """Stage 2's objective (volume units times weights) of whole quantities ``units`` (model columns)."""
        x = units[master.first :]
        act = np.asarray(master.active, dtype=np.int64)
        volume = np.zeros(len(self.producers))
        np.add.at(
            volume,
            np.asarray([self.prod_index[self.p_of[j]] for j in act], dtype=np.int64),
            self.a_vol[act] * x,
        )
        deviation = np.abs(volume - np.asarray(self.targets)).sum()
        return float(weights.share * self.V * deviation + (self.raw_cost[act] * x).sum() / self.Q)


def _candidates(
    shape: _Shape, rows: _SupplyRows, fair_row: Sequence[int], g_of: Sequence[str], s: _SharesModel
) -> _Candidates:
    """Every candidate column's cost, bound and entries: farm, lot, line, product, fairness rows."""
    a_pair, a_line = shape.col_pair, shape.col_line
    n_x = len(a_pair)
    lot_row = np.asarray([rows.pair_lo.get(pi, -1) for pi in range(len(shape.pairs))], dtype=np.int64)
    idx = np.stack(
        [
            np.asarray(rows.pair_up, dtype=np.int64)[a_pair],
            lot_row[a_pair],
            np.asarray(rows.line_row, dtype=np.int64)[a_line],
            np.asarray([rows.product_row[g] for g in g_of], dtype=np.int64),
            np.asarray([fair_row[s.prod_index[p]] for p in s.p_of], dtype=np.int64),
        ],
        axis=1,
    )
    val = np.stack([np.ones(n_x), np.ones(n_x), np.ones(n_x), np.ones(n_x), s.a_vol * s.Q / s.R], axis=1)
    mask = idx >= 0
    return _Candidates(
        cost=s.raw_cost / s.C,
        upper=np.minimum(np.asarray([shape.pairs[int(pi)][2] for pi in a_pair]), shape.cap[a_line]) / s.Q,
        start=np.concatenate([[0], np.cumsum(mask.sum(axis=1))]).astype(np.int64),
        index=idx[mask],
        value=val[mask],
    )


def _shares_model(
    data: _Data, shape: _Shape, met: _Met, weights: Weights
) -> tuple[_SharesModel, _Candidates]:
    """Stage 2's model, and its candidate columns as arrays (put in the model by the master as it needs them)."""
    producers = sorted(data.shares)
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
    rows = _supply_rows(model, shape, met, Q)
    fair_row = _fairness_rows(model, targets, _grains(producers, p_of, a_vol), R, R * weights.share * V / C)
    prod_index = {p: i for i, p in enumerate(producers)}
    s = _SharesModel(
        producers, prod_index, V, targets, Q, R, C, p_of, a_vol, km, raw_cost, model, shape.lot_pairs
    )
    return s, _candidates(shape, rows, fair_row, g_of, s)


def _first_columns(shape: _Shape, met: _Met, km: np.ndarray) -> set[int]:
    """The columns the model starts with: all of them on a small week; else those stage 1's flows use (so it is
    feasible) and the nearest farms of each line."""
    n_x = len(shape.col_pair)
    start = _distribute(shape, met)
    if n_x <= tunables.DENSE_UP_TO:
        return set(range(n_x))
    active = set(start)
    by_line: dict[int, list[int]] = defaultdict(list)
    for j in range(n_x):
        by_line[int(shape.col_line[j])].append(j)
    for js in by_line.values():
        js.sort(key=lambda j: km[j])
        active.update(js[: tunables.NEAREST])
    return active


class _LotSearch:
    """Step 2: lots rounded from the relaxation, each way tried if the demand can still be met so; the best plan
    found (its LP value ``best``, its column values and its lots ``config``)."""

    def __init__(
        self, shape: _Shape, met: _Met, master: _Master, bound: float, rel_gap: float, deadline: float
    ) -> None:
        self.shape, self.met, self.master = shape, met, master
        self.bound, self.rel_gap, self.deadline = bound, rel_gap, deadline
        self.lots = shape.lot_pairs
        self.y_cols = list(range(len(self.lots)))
        self.best = math.inf
        self.best_values = master.values()
        self.config = {pi: met.y[pi] for pi in self.lots}
        self.tried: list[dict[int, int]] = []

    def close_enough(self) -> bool:
        return math.isfinite(self.best) and self.best - self.bound <= self.rel_gap * 0.5 * max(
            abs(self.best), 1e-12
        )

    def attempt(self, y: dict[int, int]) -> None:
        if y in self.tried or self.close_enough() or self.deadline - time.perf_counter() < 0.1:
            return
        self.tried.append(y)
        if y != {pi: self.met.y[pi] for pi in self.lots}:
            again = _demand_stage(self.shape, self.deadline, y)
            if again is None or any(again.met.get(g, 0) != m for g, m in self.met.met.items()):
                return
            self.master.add(_distribute(self.shape, again))
        self.master.bounds(self.y_cols, [y[pi] for pi in self.lots], [y[pi] for pi in self.lots])
        value = self.master.solve()
        if value < self.best:
            self.best, self.best_values, self.config = value, self.master.values(), y

    def run(self, supplied: np.ndarray) -> None:
        """Open where the relaxation supplies the lot, closed where it supplies nothing; those it supplies in part
        (a few) rounded in turn: open from half the lot, all open, all closed; then stage 1's lots; then single
        flips of the partial ones."""
        pairs = self.shape.pairs
        base = {pi: int(supplied[pi] >= pairs[pi][3] - 1e-6) for pi in self.lots}
        partial = [pi for pi in self.lots if 1e-6 < supplied[pi] < pairs[pi][3] - 1e-6]
        for rule in (
            lambda pi: int(supplied[pi] >= pairs[pi][3] / 2),
            lambda pi: 1,
            lambda pi: 0,
        ):
            self.attempt(base | {pi: rule(pi) for pi in partial})
        self.attempt({pi: self.met.y[pi] for pi in self.lots})
        improved = True
        while improved and partial and len(partial) <= 32 and not self.close_enough():
            improved = False
            for pi in partial:
                before = self.best
                self.attempt(self.config | {pi: 1 - self.config[pi]})
                improved = improved or self.best < before


def _branch_lots(
    master: _Master, n_y: int, best_values: np.ndarray, best: float, rel_gap: float, deadline: float
) -> tuple[np.ndarray | None, float | None, str]:
    """Step 3: HiGHS's branch and bound on the model's columns, from the best plan so far. Returns the lots it
    found if better (else None), its bound if it holds for the whole model (every column in it, else None), and
    what stopped it."""
    dense = bool(master.in_model.all())
    h = master.h
    y_cols = list(range(n_y))
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
    bound = (
        float(info.mip_dual_bound) if dense else None
    )  # the branch and bound's bound holds for the whole model
    h.changeColsIntegrality(n_y, np.asarray(y_cols, dtype=np.int32), np.zeros(n_y, dtype=np.uint8))
    return found, bound, status


def _lots_and_values(
    shape: _Shape, met: _Met, master: _Master, bound: float, rel_gap: float, deadline: float
) -> tuple[np.ndarray, float, str | None]:
    """Steps 2 and 3: the lots fixed, the LP re-solved with them; its column values, the bound and what stopped the
    branch and bound if it ran."""
    lots = shape.lot_pairs
    n_y = len(lots)
    y_cols = list(range(n_y))
    values = master.values()
    supplied = np.zeros(len(shape.pairs))
    act = np.asarray(master.active, dtype=np.int64)
    np.add.at(supplied, shape.col_pair[act], values[master.first :] * master.scale)
    search = _LotSearch(shape, met, master, bound, rel_gap, deadline)
    search.run(supplied)
    config, status = search.config, None
    best = search.best
    if best - bound > rel_gap * 0.5 * max(abs(best), 1e-12) and deadline - time.perf_counter() > 0.1:
        found, dense_bound, status = _branch_lots(master, n_y, search.best_values, best, rel_gap, deadline)
        if dense_bound is not None:
            bound = max(bound, dense_bound)
        if found is not None:
            config = {pi: int(found[c]) for c, pi in enumerate(lots)}
    master.bounds(y_cols, [config[pi] for pi in lots], [config[pi] for pi in lots])
    master.solve()
    return master.values(), bound, status


def _prove_whole(
    s: _SharesModel,
    master: _Master,
    weights: Weights,
    duals: np.ndarray,
    room: float,
    whole: tuple[np.ndarray, float],
    rel_gap: float,
    deadline: float,
    began: float,
) -> tuple[np.ndarray, float, float, str] | None:
    """Step 5: whole quantities are what is delivered: for ordinary quantities, a branch and bound with whole
    quantities too, from that plan, on the columns that can take part in a better plan: those in the model, and any
    other whose reduced cost in the relaxation is below the gap ``room`` (a plan that uses one costs at least the
    relaxation's value plus that reduced cost). Its bound then holds for every whole plan. None if there are too
    many such columns; else the plan, its value, the bound and what stopped the solver."""
    out, value = whole
    model = master.model
    extra = np.flatnonzero(~master.in_model & (master.cand.reduced_costs(duals) < room))
    if len(master.active) + len(extra) > _EXACT_UP_TO:
        return None
    before = model.n_cols
    master.add(extra)
    out = np.concatenate([out, np.zeros(model.n_cols - before)])
    given = np.flatnonzero(np.asarray(model.kind) != _A)
    budget = max(2.0, time.perf_counter() - began)
    # a proof can take long where the bound is what lags: at most as long again as the stage so far;
    # a third of it first with the lots as they are, for a better plan to start from
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
        if s.objective(master, units, weights) < value:
            out, value = units, s.objective(master, units, weights)
    for c in range(len(s.lots)):
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
        if s.objective(master, units, weights) < value:
            out, value = units, s.objective(master, units, weights)
    return out, value, exact.bound, exact.status


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
    s, candidates = _shares_model(data, shape, met, weights)
    master = _Master(s.model, candidates, _first_columns(shape, met, s.km), s.Q, deadline)
    # 1. LP relaxation over all columns: a lower bound
    bound = relaxation = master.solve()
    best_values = master.values()
    duals = np.asarray(master.h.getSolution().row_dual)
    status = "Optimal"
    if s.lots:  # 2. and 3. the lots
        best_values, bound, stopped = _lots_and_values(shape, met, master, bound, rel_gap, deadline)
        if stopped is not None:
            status = stopped
    # 4. whole quantities, near that plan
    grain = np.zeros(master.model.n_cols)
    grain[master.first :] = s.a_vol[np.asarray(master.active, dtype=np.int64)]
    out = _whole(master.model, best_values, deadline, grain)
    if out is None:
        raise RuntimeError("the solver found no whole plan near the optimum")
    value = s.objective(master, out, weights)
    if _gap(value, bound * s.C) > rel_gap and s.Q == 1.0 and deadline - time.perf_counter() > 0.1:
        room = value / s.C - relaxation
        proven = _prove_whole(s, master, weights, duals, room, (out, value), rel_gap, deadline, began)
        if proven is not None:
            out, value, exact_bound, status = proven
            bound = max(bound, exact_bound)
    x = {j: int(out[master.first + c]) for c, j in enumerate(master.active) if out[master.first + c] > 0}
    return x, bound * s.C, time.perf_counter() - began, status
