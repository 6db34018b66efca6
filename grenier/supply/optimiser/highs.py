"""The models handed to HiGHS: built column by column in scaled units, solved, and brought to whole quantities."""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import highspy
import numpy as np

import grenier.supply.optimiser as tunables

_INF = highspy.kHighsInf
_LIMIT = 2.0**19  # the largest bound or cost a scaled model holds: HiGHS trusts values up to 1e6
_WIDEN_UP_TO = 2_000  # columns of one level rounded in a wider neighbourhood (see _whole)
_TINY = 1e-9  # below this (scaled), a fairness target or a chord's right-hand side is zero
_Q, _B, _A = 0, 1, 2  # column kinds: a quantity (whole model units times its scale), a binary, an auxiliary


def _scale(largest: float) -> float:
    """The power of two that brings ``largest`` down to at most ``_LIMIT`` (1 when it already is)."""
    if not largest > _LIMIT:
        return 1.0
    return float(2.0 ** math.ceil(math.log2(largest / _LIMIT)))


def _cost_scale(costs: np.ndarray | Sequence[float]) -> float:
    """The power of two that brings the largest cost to between 1/2 and 1."""
    largest = float(np.max(np.abs(np.asarray(costs, dtype=np.float64)), initial=0.0))
    return float(2.0 ** math.ceil(math.log2(largest))) if largest > 0 else 1.0


def _highs(time_limit: float, rel_gap: float = 1e-5, abs_gap: float = 1e-6) -> highspy.Highs:
    h = highspy.Highs()
    if tunables.SOLVER_LOG:
        h.setOptionValue("log_to_console", False)
        h.setOptionValue("log_file", tunables.SOLVER_LOG)
        h.setOptionValue("output_flag", True)
    else:
        h.setOptionValue("output_flag", os.environ.get("GRENIER_SUPPLY_SOLVER_LOG") == "1")
    h.setOptionValue("time_limit", max(0.1, time_limit))
    h.setOptionValue("mip_rel_gap", rel_gap)
    h.setOptionValue("mip_abs_gap", abs_gap)
    h.setOptionValue("threads", 1)
    h.setOptionValue("random_seed", 0)
    return h


class _Model:
    """A model built column by column, in scaled units: each column's cost, bounds, kind, scale (model units per
    scaled unit) and entries; each row's bounds and whether it belongs to the transport structure (``tu``: farm,
    kitchen line, product and change-link rows, whose matrix with whole bounds has whole vertices)."""

    def __init__(self) -> None:
        self.cost: list[float] = []
        self.lower: list[float] = []
        self.upper: list[float] = []
        self.kind: list[int] = []
        self.scale: list[float] = []
        self.start: list[int] = []
        self.index: list[int] = []
        self.value: list[float] = []
        self.row_lo: list[float] = []
        self.row_up: list[float] = []
        self.row_tu: list[bool] = []

    @property
    def n_cols(self) -> int:
        return len(self.cost)

    def row(self, lo: float = -_INF, up: float = _INF, *, tu: bool = True) -> int:
        self.row_lo.append(lo)
        self.row_up.append(up)
        self.row_tu.append(tu)
        return len(self.row_lo) - 1

    def col(
        self,
        cost: float,
        lower: float,
        upper: float,
        kind: int,
        rows: Sequence[int],
        values: Sequence[float],
        scale: float = 1.0,
    ) -> int:
        self.start.append(len(self.index))
        self.index.extend(rows)
        self.value.extend(values)
        self.cost.append(cost)
        self.lower.append(lower)
        self.upper.append(upper)
        self.kind.append(kind)
        self.scale.append(scale)
        return len(self.cost) - 1

    def lp(self) -> highspy.HighsLp:
        lp = highspy.HighsLp()
        lp.num_col_ = self.n_cols
        lp.num_row_ = len(self.row_lo)
        lp.col_cost_ = np.asarray(self.cost, dtype=np.float64)
        lp.col_lower_ = np.asarray(self.lower, dtype=np.float64)
        lp.col_upper_ = np.asarray(self.upper, dtype=np.float64)
        lp.row_lower_ = np.asarray(self.row_lo, dtype=np.float64)
        lp.row_upper_ = np.asarray(self.row_up, dtype=np.float64)
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = np.asarray([*self.start, len(self.index)], dtype=np.int32)
        lp.a_matrix_.index_ = np.asarray(self.index, dtype=np.int32)
        lp.a_matrix_.value_ = np.asarray(self.value, dtype=np.float64)
        if any(k == _B for k in self.kind):
            lp.integrality_ = [
                highspy.HighsVarType.kInteger if k == _B else highspy.HighsVarType.kContinuous
                for k in self.kind
            ]
        return lp

    def activity(self, values: np.ndarray) -> np.ndarray:
        out = np.zeros(len(self.row_lo))
        starts = [*self.start, len(self.index)]
        index = np.asarray(self.index, dtype=np.int64)
        value = np.asarray(self.value)
        counts = np.diff(np.asarray(starts))
        np.add.at(out, index, value * np.repeat(values, counts))
        return out


@dataclass
class _Run:
    status: str
    feasible: bool  # a solution that satisfies the model is in ``values``
    optimal: bool
    values: np.ndarray
    objective: float  # scaled
    bound: float  # scaled; a proven lower bound on the objective


def _run(
    model: _Model,
    deadline: float,
    *,
    integer: bool,
    rel_gap: float = 1e-5,
    abs_gap: float = 1e-6,
    start: np.ndarray | None = None,
    start_cols: np.ndarray | None = None,
    vertex: bool = False,
    whole_quantities: bool = False,
) -> _Run:
    """Solve ``model`` (its binaries as binaries when ``integer``, else relaxed) before ``deadline``. ``start``: a
    solution to start from (of the columns ``start_cols`` only, if given: HiGHS completes it). ``vertex``: the
    simplex without presolve, so that the solution is a vertex of the model. ``whole_quantities``: quantities are
    whole too (for a model whose quantities are not scaled)."""
    h = _highs(deadline - time.perf_counter(), rel_gap, abs_gap)
    lp = model.lp()
    if not integer:
        lp.integrality_ = []
    elif whole_quantities:
        lp.integrality_ = [
            highspy.HighsVarType.kContinuous if k == _A else highspy.HighsVarType.kInteger for k in model.kind
        ]
    if vertex:
        h.setOptionValue("presolve", "off")
        h.setOptionValue("solver", "simplex")
    h.passModel(lp)
    if start is not None and integer:
        if start_cols is not None:
            h.setSolution(
                len(start_cols), np.asarray(start_cols, dtype=np.int32), np.asarray(start, dtype=np.float64)
            )
        else:
            solution = highspy.HighsSolution()
            solution.col_value = list(map(float, start))
            solution.value_valid = True
            h.setSolution(solution)
    h.run()
    status = h.modelStatusToString(h.getModelStatus())
    info = h.getInfo()
    optimal = h.getModelStatus() == highspy.HighsModelStatus.kOptimal
    feasible = info.primal_solution_status == highspy.SolutionStatus.kSolutionStatusFeasible
    values = np.asarray(h.getSolution().col_value, dtype=np.float64)
    objective = float(info.objective_function_value)
    if start is not None and integer and feasible and not _is_solution_of(model, values, objective):
        # HiGHS 1.16.0 may answer a MIP started from a solution with a better objective (and its proven bound) but
        # the start's values, not those of the solution it found (seen on a re-plan whose volume stage kept the
        # start's 6 t moved while proving 4 t): solved again without the start, its own solution comes back.
        return _run(
            model,
            deadline,
            integer=integer,
            rel_gap=rel_gap,
            abs_gap=abs_gap,
            vertex=vertex,
            whole_quantities=whole_quantities,
        )
    if integer and (whole_quantities or any(k == _B for k in model.kind)):
        bound = float(info.mip_dual_bound)
    else:
        bound = objective if optimal else -_INF
    return _Run(status, feasible, optimal, values, objective, bound)


def _is_solution_of(model: _Model, values: np.ndarray, objective: float) -> bool:
    """Whether ``values`` have the ``objective`` the solver reported for them (to its tolerance)."""
    cost = np.asarray(model.cost, dtype=np.float64)
    if len(values) != len(cost):
        return False
    found = float(np.dot(cost, values))
    return abs(found - objective) <= 1e-6 * max(1.0, abs(objective))


def _whole(
    model: _Model, values: np.ndarray, deadline: float, grain: np.ndarray | None = None
) -> np.ndarray | None:
    """Whole quantities near ``values``, a solution of ``model`` with its binaries fixed. Each fractional quantity
    goes to its floor or its ceiling, chosen by a small MILP with the model's own objective (a binary per fractional
    column). With ``grain`` (each column's volume per unit), the coarsest columns are rounded first while the finer
    ones stay free to make up for them (a lettuce rounded to a whole piece moves 400 g of a farm's volume, which its
    grams can then balance), then the next, down to the finest. If the last MILP finds nothing in time, a vertex of
    the transport rows alone from the same box (whole, as their matrix is totally unimodular), provided it
    satisfies the other rows that have no auxiliary column. Returns each column's value in model units (quantities
    whole; auxiliary columns are not meaningful), or None if no whole plan near ``values`` was found."""
    kind = np.asarray(model.kind)
    scale = np.asarray(model.scale)
    quantity = kind == _Q
    grains = np.ones(len(kind)) if grain is None else np.asarray(grain, dtype=np.float64)
    levels = sorted({float(v) for v in grains[quantity]}, reverse=True)
    current = np.asarray(values, dtype=np.float64).copy()
    done = np.zeros(len(kind), dtype=bool)
    for level in levels:
        units = current * scale
        this = quantity & ~done & (grains >= level)
        fractional = this & (np.abs(units - np.rint(units)) > 1e-6 * np.maximum(1.0, scale))
        later = quantity & ~done & (grains < level)
        if fractional.any():
            # the columns of this level move by a unit or so around the plan (a few), or only to the floor or
            # the ceiling of the fractional ones (many)
            widen = this if this.sum() <= _WIDEN_UP_TO else fractional
            rounded = _round(model, current, widen, later, deadline, 1 if widen is this else 0)
            if rounded is None and later.any():  # round everything left at once instead
                units = current * scale
                fractional = (quantity & ~done) & (
                    np.abs(units - np.rint(units)) > 1e-6 * np.maximum(1.0, scale)
                )
                rounded = _round(model, current, fractional, np.zeros(len(kind), dtype=bool), deadline)
                later[:] = False
            if rounded is None:
                return None
            current = rounded
        done |= this
        if not later.any():
            break
    return np.where(kind == _A, 0.0, np.where(kind == _B, np.rint(current), np.rint(current * scale)))


class _Rounding:
    """The pieces of a rounding (see :func:`_round`): the plan with its fractional quantities at their floor
    (``base``), what that fixed part puts on each row, and the small models that round the rest."""

    def __init__(
        self, model: _Model, current: np.ndarray, fractional: np.ndarray, free: np.ndarray, width: int
    ) -> None:
        self.model, self.width = model, width
        self.kind = kind = np.asarray(model.kind)
        self.scale = scale = np.asarray(model.scale)
        units = current * scale
        self.floor = floor = np.floor(units + 1e-9)
        base = np.where(kind == _B, np.rint(current), np.where(fractional, floor / scale, current))
        base = np.where((kind == _A) | free, 0.0, base)
        self.base = np.where((kind == _Q) & ~fractional & ~free, np.rint(units) / scale, base)
        self.starts = np.asarray([*model.start, len(model.index)])
        self.index = np.asarray(model.index, dtype=np.int64)
        self.value = np.asarray(model.value)
        self.fixed_act = model.activity(self.base)  # what the fixed part puts on each row, scaled
        self.js = np.flatnonzero(fractional)
        self.others = np.flatnonzero(free | (kind == _A))

    def model_of(self, rows_kept: Callable[[int], bool], with_others: bool) -> _Model:
        """The rounding's model: the ``rows_kept`` less what the fixed part puts on them, a column per fractional
        quantity (its steps above the floor) and, ``with_others``, the free and auxiliary columns as they are."""
        model, scale, floor = self.model, self.scale, self.floor
        starts, index, value = self.starts, self.index, self.value
        m = _Model()
        row_map: dict[int, int] = {}
        for r, (lo, up, a) in enumerate(zip(model.row_lo, model.row_up, self.fixed_act, strict=True)):
            if rows_kept(r):
                row_map[r] = m.row(
                    lo - a if lo > -_INF else -_INF, up - a if up < _INF else _INF, tu=model.row_tu[r]
                )
        for j in self.js:
            e = [k for k in range(starts[j], starts[j + 1]) if int(index[k]) in row_map]
            m.col(
                model.cost[j] / scale[j],
                max(-self.width, math.ceil(model.lower[j] * scale[j] - floor[j] - 1e-9)),
                min(1 + self.width, math.floor(model.upper[j] * scale[j] - floor[j] + 1e-9)),
                _B,
                [row_map[int(index[k])] for k in e],
                [value[k] / scale[j] for k in e],
            )
        if with_others:
            for j in self.others:
                e = list(range(starts[j], starts[j + 1]))
                m.col(
                    model.cost[j],
                    model.lower[j],
                    model.upper[j],
                    _A,
                    [row_map[int(index[k])] for k in e],
                    [value[k] for k in e],
                )
        return m

    def from_transport_rows(self, out: np.ndarray, deadline: float) -> np.ndarray | None:
        """The transport rows alone, from the same box: a whole vertex, if it satisfies the other rows."""
        model, js, scale, kind = self.model, self.js, self.scale, self.kind
        starts, index = self.starts, self.index
        m = self.model_of(lambda r: model.row_tu[r], False)
        for c in range(len(js)):
            m.kind[c] = _Q
        run = _run(m, deadline, integer=False, vertex=True)
        if not run.optimal:
            return None
        b = run.values[: len(js)]
        if np.abs(b - np.rint(b)).max(initial=0.0) > 1e-6:
            return None
        out[js] += np.rint(b) / scale[js]
        act = model.activity(np.where(kind == _A, 0.0, out))
        aux_rows = {
            int(index[k]) for j in np.flatnonzero(kind == _A) for k in range(starts[j], starts[j + 1])
        }
        for r, (lo, up) in enumerate(zip(model.row_lo, model.row_up, strict=True)):
            if r in aux_rows or model.row_tu[r]:
                continue
            tol = 1e-7 * max(1.0, abs(act[r]))
            if act[r] < lo - tol or act[r] > up + tol:
                return None
        return out


def _round(
    model: _Model,
    current: np.ndarray,
    fractional: np.ndarray,
    free: np.ndarray,
    deadline: float,
    width: int = 0,
) -> np.ndarray | None:
    """``current`` (scaled) with its ``fractional`` quantities whole, at their floor or ceiling (``width`` units
    further either way within their bounds), and its ``free`` ones re-optimised around them (see :func:`_whole`);
    everything else as it is. None if nothing was found."""
    rounding = _Rounding(model, current, fractional, free, width)
    js, others = rounding.js, rounding.others
    run = _run(rounding.model_of(lambda r: True, True), deadline, integer=True, rel_gap=1e-7)
    out = rounding.base.copy()
    if run.feasible:
        out[js] += np.rint(run.values[: len(js)]) / rounding.scale[js]
        out[others] = run.values[len(js) :]
        return out
    if free.any():
        return None
    return rounding.from_transport_rows(out, deadline)
