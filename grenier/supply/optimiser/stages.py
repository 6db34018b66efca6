"""The stages of a plan and of a re-plan: demand first, then shares and distance; or lines, then volume."""

from __future__ import annotations

import math
import time
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from grenier.supply.optimiser.highs import (
    _B,
    _INF,
    _Q,
    _cost_scale,
    _Model,
    _run,
    _scale,
)
from grenier.supply.optimiser.inputs import Stage, _Data

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
