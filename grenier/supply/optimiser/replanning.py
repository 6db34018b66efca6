"""Re-planning after a shortfall: the fewest delivery lines changed, then the least volume moved, then shares and
distance, on the day lines of the products that must move."""

from __future__ import annotations

import math
import time
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from grenier.supply.optimiser.highs import _B, _Q, _cost_scale, _Model, _run, _scale, _whole
from grenier.supply.optimiser.inputs import Weights, _Data
from grenier.supply.optimiser.shares import _fairness_rows, _fairness_targets, _grains
from grenier.supply.optimiser.stages import _distribute, _Met, _Shape

# ---------------------------------------------------------------------------------- re-planning: lines, volume


@dataclass
class _StageRun:
    name: str
    bound: float  # volume units (lines: a count), the model's own objective's proven bound
    seconds: float
    status: str


@dataclass
class _DayLines:
    """The candidate columns of a re-plan as day lines (farm, kitchen, product, day) and what was published on
    them: ``pu`` the published quantity in whole steps (at most ``U``, what the line may now carry); ``forced`` a
    published line that cannot be kept as it is (not a whole number of steps, or more than it may now carry); with
    the published lines no longer a candidate, they change whatever the plan (``forced_count`` lines, moving
    ``forced_volume``)."""

    key: list[tuple[str, str, str, str]]
    step: list[int]
    U: list[int]
    pu: list[int]
    forced: list[bool]
    forced_count: int
    forced_volume: float
    vol: list[int]
    km: list[float]


def _day_lines(data: _Data, shape: _Shape, prev: Mapping[tuple[str, str, str, str], int]) -> _DayLines:
    key = [
        (
            shape.pairs[int(pi)][0],
            shape.lines[int(li)][0],
            shape.lines[int(li)][1],
            shape.lines[int(li)][3][0],
        )
        for pi, li in zip(shape.col_pair, shape.col_line, strict=True)
    ]
    step = [shape.unit[k[2]] for k in key]
    U = [
        min(shape.pairs[int(pi)][2], int(shape.cap[li]))
        for pi, li in zip(shape.col_pair, shape.col_line, strict=True)
    ]
    prev_q = [int(prev.get(k, 0)) for k in key]
    pu = [min(q // s, u) for q, s, u in zip(prev_q, step, U, strict=True)]
    forced = [q > 0 and (q % s != 0 or q // s > u) for q, s, u in zip(prev_q, step, U, strict=True)]
    matched = set(key)
    forced_out = sum(1 for k, q in prev.items() if q > 0 and k not in matched)
    forced_count = forced_out + sum(forced)
    # the volume those lines move whatever the plan (from the published quantity to its whole steps kept)
    share_factor = [data.products[k[2]].share_factor for k in key]
    forced_volume = sum(
        abs(q - u * s) * f
        for q, u, s, f, bad in zip(prev_q, pu, step, share_factor, forced, strict=True)
        if bad
    ) + sum(q * data.products[k[2]].share_factor for k, q in prev.items() if q > 0 and k not in matched)
    vol = [shape.vol[k[2]] for k in key]
    km = [data.km[k[0], k[1]] for k in key]
    return _DayLines(key, step, U, pu, forced, forced_count, forced_volume, vol, km)


@dataclass
class _ReplanRows:
    pair_up: list[int]
    pair_lo: dict[int, int]
    line_row: list[int]
    product_row: dict[str, int]
    lines_row: int  # sum z <= fewest lines, from stage 3 on
    volume_row: int  # volume moved <= least, in stage 4
    y_col: dict[int, int]  # lot pair -> its open-or-not column


def _replan_rows(model: _Model, shape: _Shape, met: _Met, d: _DayLines, Q: float) -> _ReplanRows:
    """The rows of what is left to send once the published steps are counted (farm, lot, line, product), the
    lines-changed and volume-moved rows, and the lots' columns."""
    lots = shape.lot_pairs
    pair_pu = [0] * len(shape.pairs)
    line_pu = [0] * len(shape.lines)
    product_pu: dict[str, int] = defaultdict(int)
    for j in range(len(d.key)):
        pair_pu[int(shape.col_pair[j])] += d.pu[j]
        line_pu[int(shape.col_line[j])] += d.pu[j]
        product_pu[d.key[j][2]] += d.pu[j]
    pair_up = [model.row() for _ in shape.pairs]
    pair_lo = {pi: model.row(lo=-pair_pu[pi] / Q) for pi in lots}
    line_row = [model.row(up=(int(c) - line_pu[li]) / Q) for li, c in enumerate(shape.cap)]
    product_row = {
        g: model.row((met.met.get(g, 0) - product_pu[g]) / Q, (met.met.get(g, 0) - product_pu[g]) / Q)
        for g in shape.products
    }
    lines_row = model.row(tu=True)
    volume_row = model.row(tu=False)
    y_col: dict[int, int] = {}
    for pi, (_, _, avail, lot) in enumerate(shape.pairs):
        if pi in pair_lo:
            model.row_up[pair_up[pi]] = -pair_pu[pi] / Q
            y_col[pi] = model.col(0.0, 0.0, 1.0, _B, [pair_up[pi], pair_lo[pi]], [-avail / Q, -lot / Q])
        else:
            model.row_up[pair_up[pi]] = (avail - pair_pu[pi]) / Q
    return _ReplanRows(pair_up, pair_lo, line_row, product_row, lines_row, volume_row, y_col)


class _ReplanModel:
    """The MILP of a re-plan's stages: per day line a changed-or-not binary ``z`` (a line that cannot be kept has
    none), an increase ``inc`` and a decrease ``dec`` from its published steps; per lot an open-or-not binary; per
    farm its fairness deviations. Each stage only changes the costs and tightens the lines or volume row."""

    def __init__(
        self,
        data: _Data,
        shape: _Shape,
        met: _Met,
        d: _DayLines,
        kept_volume: Mapping[str, float],
    ) -> None:
        self.d = d
        self.producers = producers = sorted(data.shares)
        self.prod_index = prod_index = {p: i for i, p in enumerate(producers)}
        V = shape.V
        total = sum(kept_volume.values()) / V + sum(shape.vol[g] * m for g, m in met.met.items())
        targets = _fairness_targets(data, V, total * V, producers)
        base = [0.0] * len(producers)  # each farm's volume already fixed: kept products, published steps kept
        for p, v in kept_volume.items():
            base[prod_index[p]] += v / V
        for j in range(len(d.key)):
            base[prod_index[d.key[j][0]]] += d.vol[j] * d.pu[j]
        rhs = [t - b for t, b in zip(targets, base, strict=True)]
        self.Q = Q = _scale(max(max(pr[2] for pr in shape.pairs), int(shape.cap.max())))
        self.R = _scale(
            max(total, *(abs(r) for r in rhs), sum(v * u for v, u in zip(d.vol, d.U, strict=True)))
        )
        self.model = model = _Model()
        self.rows = _replan_rows(model, shape, met, d, Q)
        fair_first = model.n_cols
        self.fair_row = _fairness_rows(
            model, rhs, _grains(producers, (k[0] for k in d.key), d.vol), self.R, 0.0
        )
        self.d_cols = list(range(fair_first, model.n_cols))
        self.z_col: dict[int, int] = {}
        self.inc_col: dict[int, int] = {}
        self.dec_col: dict[int, int] = {}
        for j in range(len(d.key)):
            self._line_columns(shape, j)

    def _line_columns(self, shape: _Shape, j: int) -> None:
        """Day line ``j``'s columns: ``z`` with its links (``inc <= (U - pu) z``, ``dec <= pu z``), ``inc``, ``dec``."""
        d, model, rows, Q, R = self.d, self.model, self.rows, self.Q, self.R
        U, pu = d.U, d.pu
        pi, li = int(shape.col_pair[j]), int(shape.col_line[j])
        common = [
            rows.pair_up[pi],
            rows.line_row[li],
            rows.product_row[d.key[j][2]],
            self.fair_row[self.prod_index[d.key[j][0]]],
        ]
        if pi in rows.pair_lo:
            common.append(rows.pair_lo[pi])
        values = [1.0, 1.0, 1.0, d.vol[j] * Q / R] + ([1.0] if pi in rows.pair_lo else [])
        links: list[int] = []
        if not d.forced[j]:
            if U[j] > pu[j]:
                links.append(model.row(up=0.0))
            if pu[j] > 0:
                links.append(model.row(up=0.0))
            link_values = ([-(U[j] - pu[j]) / Q] if U[j] > pu[j] else []) + (
                [-pu[j] / Q] if pu[j] > 0 else []
            )
            self.z_col[j] = model.col(0.0, 0.0, 1.0, _B, [*links, rows.lines_row], [*link_values, 1.0])
        vrow = [rows.volume_row]
        vval = [d.vol[j] * Q / R]
        if U[j] > pu[j]:
            cols = [*common, *vrow] + ([links[0]] if links else [])
            self.inc_col[j] = model.col(
                0.0, 0.0, (U[j] - pu[j]) / Q, _Q, cols, [*values, *vval] + ([1.0] if links else []), Q
            )
        if pu[j] > 0:
            cols = [*common, *vrow] + ([links[-1]] if links else [])
            neg = [-v for v in values]
            self.dec_col[j] = model.col(
                0.0, 0.0, pu[j] / Q, _Q, cols, [*neg, *vval] + ([1.0] if links else []), Q
            )

    def vector(self, x: np.ndarray, y: Mapping[int, int]) -> np.ndarray:
        """The model's columns (scaled) for quantities ``x`` (model units) and lots ``y``; deviations fitted."""
        model, pu, Q = self.model, self.d.pu, self.Q
        out = np.zeros(model.n_cols)
        for pi, c in self.rows.y_col.items():
            out[c] = y[pi]
        for j in range(len(self.d.key)):
            if j in self.inc_col:
                out[self.inc_col[j]] = max(0, int(x[j]) - pu[j]) / Q
            if j in self.dec_col:
                out[self.dec_col[j]] = max(0, pu[j] - int(x[j])) / Q
            if j in self.z_col:
                out[self.z_col[j]] = float(int(x[j]) != pu[j])
        act = model.activity(out)
        for i, r in enumerate(self.fair_row):
            dev = act[r] - model.row_lo[r]
            out[self.d_cols[2 * i]] = max(0.0, dev)
            out[self.d_cols[2 * i + 1]] = max(0.0, -dev)
        return out

    def quantities(self, units: np.ndarray) -> np.ndarray:
        """Each line's quantity (model units) from the columns' values in model units."""
        out = np.asarray(self.d.pu, dtype=np.int64).copy()
        for j, c in self.inc_col.items():
            out[j] += round(units[c])
        for j, c in self.dec_col.items():
            out[j] -= round(units[c])
        return out

    def costs(self, per_z: float, per_unit_moved: float, share: float, distance: float) -> None:
        model, vol, km = self.model, self.d.vol, self.d.km
        for c in range(model.n_cols):
            model.cost[c] = 0.0
        for c in self.z_col.values():
            model.cost[c] = per_z
        for j, c in self.inc_col.items():
            model.cost[c] = per_unit_moved * vol[j] + distance * km[j] * vol[j]
        for j, c in self.dec_col.items():
            model.cost[c] = per_unit_moved * vol[j] - distance * km[j] * vol[j]
        for c in self.d_cols:
            model.cost[c] = share

    def stage(
        self,
        name: str,
        prices: tuple[float, float, float, float],
        plan: tuple[np.ndarray, dict[int, int]],
        deadline: float,
        rel_gap: float,
    ) -> tuple[np.ndarray, dict[int, int], float, str]:
        """One stage from ``plan`` (quantities, lots) at ``prices`` (per z, per unit moved, share, distance, in
        unscaled volume units): the binaries solved then fixed, the quantities from a vertex made whole. Returns the
        plan (the one given if no whole plan is found, stage 4 only), the proven bound on the stage's objective
        (model units) and what stopped the solver."""
        model, d = self.model, self.d
        x, y = plan
        per_z, per_moved, share, distance = prices
        raw = [
            per_z,
            per_moved * max(d.vol, default=1),
            share,
            distance * max(d.km, default=0.0) * max(d.vol, default=1),
        ]
        C = _cost_scale(raw)
        self.costs(per_z / C, per_moved / C, share / C, distance / C)
        start = self.vector(x, y)
        exact = name != "shares_distance"  # a count, a volume in whole units: proven to less than one unit
        run = _run(
            model,
            deadline,
            integer=True,
            rel_gap=0.0 if exact else rel_gap * 0.5,
            abs_gap=0.5 / C if exact else 1e-9,
            start=start,
        )
        if not run.feasible:
            raise RuntimeError(f"the solver stopped before re-planning ({run.status})")
        solved = run.values
        fixed = [(c, round(solved[c])) for c in [*self.rows.y_col.values(), *self.z_col.values()]]
        saved = [(c, model.lower[c], model.upper[c]) for c, _ in fixed]
        for c, v in fixed:
            model.lower[c] = model.upper[c] = float(v)
        vertex = _run(model, deadline, integer=False, vertex=True)
        grain = np.zeros(model.n_cols)
        for j, c in [*self.inc_col.items(), *self.dec_col.items()]:
            grain[c] = d.vol[j]
        whole = _whole(model, vertex.values, deadline, grain) if vertex.optimal else None
        for c, lo, up in saved:
            model.lower[c], model.upper[c] = lo, up
        if whole is not None:  # else (stage 4 only) the previous stage's plan stands
            x = self.quantities(whole)
            y = {pi: round(whole[c]) for pi, c in self.rows.y_col.items()}
        return x, y, run.bound * C, run.status

    def hold(self, name: str, x: np.ndarray) -> None:
        """This stage's optimum constrains the next ones."""
        d = self.d
        if name == "lines":
            self.model.row_up[self.rows.lines_row] = float(sum(1 for j in self.z_col if int(x[j]) != d.pu[j]))
        elif name == "volume":
            moved = sum(d.vol[j] * abs(int(x[j]) - d.pu[j]) for j in range(len(d.key)))
            self.model.row_up[self.rows.volume_row] = (moved + 0.5) / self.R


def _replan_stages(
    data: _Data,
    shape: _Shape,
    met: _Met,
    prev: Mapping[tuple[str, str, str, str], int],
    kept_volume: Mapping[str, float],
    kept_distance: float,
    weights: Weights,
    deadline: float,
    rel_gap: float,
) -> tuple[dict[tuple[str, str, str, str], int], list[_StageRun]]:
    """Stages 2 to 4 of a re-plan, on the day lines of the products to re-plan (``shape``, by day): fewest lines
    changed, then least volume moved, then shares and distance. Each stage is a MILP with a binary per candidate
    line (changed or not) and per lot; the previous stages' optimum is a constraint of the next. After each, the
    binaries are fixed and the quantities taken from a vertex (whole: the transport rows with whole bounds), or
    rounded (:func:`_whole`) where the fairness rows make the vertex fractional.

    A line is ``pu + inc - dec`` with ``pu`` its published quantity in whole steps, ``inc <= (U - pu) z``,
    ``dec <= pu z``. A published line that cannot be kept as it is (not a whole number of steps, more than it may
    now carry, or no longer a candidate) changes whatever the plan: it counts as changed in every plan, and its
    volume moved is counted from its whole steps."""
    runs: list[_StageRun] = []
    d = _day_lines(data, shape, prev)
    m = _ReplanModel(data, shape, met, d, kept_volume)
    V, Q, R = shape.V, m.Q, m.R
    # a start: stage 1's flows over the day lines
    x = np.zeros(len(d.key), dtype=np.int64)
    for j, q in _distribute(shape, met).items():
        x[j] = q
    y = dict(met.y)
    # the stages: (name, per z, per unit moved, share, distance) in unscaled volume units
    plans = [
        ("lines", 1.0, 0.0, 0.0, 0.0),
        ("volume", 0.0, float(V * Q), 0.0, 0.0),
        ("shares_distance", 0.0, 0.0, R * weights.share * V, Q * weights.distance * V),
    ]
    offset_distance = weights.distance * (
        kept_distance + sum(d.km[j] * d.vol[j] * d.pu[j] * V for j in range(len(d.key)))
    )
    for name, *prices in plans:
        stage_began = time.perf_counter()
        x, y, bound, status = m.stage(
            name, (prices[0], prices[1], prices[2], prices[3]), (x, y), deadline, rel_gap
        )
        if name == "lines":
            bound = math.ceil(bound - 1e-6) + d.forced_count
        elif name == "volume":
            bound += d.forced_volume
        elif name == "shares_distance":
            bound += offset_distance
        runs.append(_StageRun(name, bound, time.perf_counter() - stage_began, status))
        m.hold(name, x)
    out: dict[tuple[str, str, str, str], int] = {}
    for j in range(len(d.key)):
        if x[j] > 0:
            out[d.key[j]] = int(x[j]) * d.step[j]
    return out, runs
