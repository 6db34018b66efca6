"""The entry points: a week's plan, a re-plan after a shortfall, a plan read against a week, a greedy reference."""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence

from grenier.supply.optimiser.inputs import (
    LineChange,
    LineReport,
    Plan,
    PlanLine,
    ProducerReport,
    ReplanResult,
    Shortfall,
    Stage,
    Supply,
    Week,
    Weights,
    _Data,
    _integer,
    _prepare,
)
from grenier.supply.optimiser.replanning import _replan_stages, _StageRun
from grenier.supply.optimiser.shares import _shares_stage
from grenier.supply.optimiser.stages import (
    _demand_report,
    _demand_stage,
    _gap,
    _Met,
    _Shape,
    _shape,
)

# ----------------------------------------------------------------------------------------------- days and checks


def _split_days(data: _Data, shape: _Shape, x: Mapping[int, int]) -> list[PlanLine]:
    """Split each producer's weekly quantity for a kitchen line over its delivery days: days in order, nearest
    producer first. Every day line is a multiple of the product's ``step`` (the weekly quantities are, and each day
    takes at most its demand rounded down to the step)."""
    by_line: dict[int, list[tuple[str, int]]] = defaultdict(list)
    for j, q in x.items():
        if q > 0:
            by_line[int(shape.col_line[j])].append((shape.pairs[int(shape.col_pair[j])][0], q))
    lines: list[PlanLine] = []
    for li, givers in sorted(by_line.items()):
        k, g, _, days = shape.lines[li]
        step = shape.unit[g]
        left = {d: data.demand[k, g][d] // step * step for d in days}
        out: dict[tuple[str, str], int] = defaultdict(int)
        givers.sort(key=lambda pq: (data.km[pq[0], k], pq[0]))
        for p, q in givers:
            rest = q * step
            for d in days:
                give = min(rest, left[d])
                if give:
                    out[p, d] += give
                    left[d] -= give
                    rest -= give
            if rest:  # cannot happen: the model never sends more than the line's demand
                raise RuntimeError(f"internal: {rest} of {g!r} for {k!r} left over")
        lines.extend(PlanLine(p, k, g, d, q) for (p, d), q in sorted(out.items()) if q)
    return lines


def _check(data: _Data, lines: Sequence[PlanLine]) -> None:
    """What every plan must hold, on the plan itself: declarations (at most what was declared, nothing or at least
    the lot), demand (at most what was asked each day) and the farms a contract names."""
    sent: dict[tuple[str, str], int] = defaultdict(int)
    got: dict[tuple[str, str, str], int] = defaultdict(int)
    for x in lines:
        if x.quantity <= 0:
            raise RuntimeError("internal: a plan line without quantity")
        named = data.allowed.get((x.kitchen, x.product, x.day), frozenset())
        if named is not None and x.producer not in named:
            raise RuntimeError(
                f"internal: {x.producer!r} may not serve {x.kitchen!r} with {x.product!r} on {x.day}"
            )
        sent[x.producer, x.product] += x.quantity
        got[x.kitchen, x.product, x.day] += x.quantity
    for (p, g), t in sent.items():
        s = data.supply.get((p, g))
        if s is None or t > s.available or 0 < t < s.minimum_lot:
            raise RuntimeError(f"internal: the plan breaks the declaration of {p!r} for {g!r}")
    for (k, g, d), t in got.items():
        if t > data.demand[k, g][d]:
            raise RuntimeError("internal: the plan sends more than asked")


def _volume_met(data: _Data, lines: Iterable[PlanLine]) -> float:
    return float(sum(x.quantity * data.products[x.product].share_factor for x in lines))


def _shares_distance(data: _Data, lines: Sequence[PlanLine], weights: Weights) -> float:
    """Stage 2's objective, on a plan: weighted deviation of each farm from its target, plus weighted distance."""
    volume: dict[str, int] = defaultdict(int)
    distance = 0.0
    for x in lines:
        f = data.products[x.product].share_factor
        volume[x.producer] += x.quantity * f
        distance += data.km[x.producer, x.kitchen] * x.quantity * f
    total = sum(volume.values())
    deviation = sum(abs(volume[p] - (s * total + data.gaps[p])) for p, s in data.shares.items())
    return weights.share * deviation + weights.distance * distance


# ----------------------------------------------------------------------------------------------------- reports


def _fmt(q: int | float, unit: str) -> str:
    if unit == "g" and q >= 1000:
        return f"{q / 1000:g} kg"
    if unit == "ml" and q >= 1000:
        return f"{q / 1000:g} l"
    return f"{q:g} {unit}" if isinstance(q, float) else f"{q} {unit}"


class _Reasons:
    """Why a demand line is not met in full, from the plan's lines and the week's declarations."""

    def __init__(
        self,
        data: _Data,
        supplied: Mapping[tuple[str, str, str], int],
        used: Mapping[tuple[str, str], int],
        status: str,
        stages: Sequence[Stage],
    ) -> None:
        self.data, self.used, self.status, self.stages = data, used, status, stages
        self.declared: dict[str, int] = defaultdict(int)
        for (_, g), s in data.supply.items():
            self.declared[g] += s.available
        self.asked: dict[str, int] = defaultdict(int)
        for (_, g), days in data.demand.items():
            self.asked[g] += sum(days.values())
        self.unmet_of: dict[str, int] = defaultdict(int)
        for (k, g), days in data.demand.items():
            for d, q in days.items():
                self.unmet_of[g] += q - supplied[k, g, d]

    def why(self, k: str, g: str, d: str, unmet: int) -> tuple[str, str]:
        unit = self.data.products[g].unit
        if self.declared[g] == 0:
            return "not_declared", f"no producer declared any {g} this week"
        named = self.data.allowed.get((k, g, d))
        if named is not None:
            left = sum(
                s.available - self.used[p, g2]
                for (p, g2), s in self.data.supply.items()
                if g2 == g and p in named
            )
            if left < unmet:
                farms = ", ".join(sorted(named)) or "none"
                return (
                    "contract_farms",
                    f"the contract names {farms}: {_fmt(max(0, left), unit)} of {g} left with them",
                )
        if self.declared[g] < self.asked[g]:
            return (
                "not_enough_declared",
                f"not enough declared: {_fmt(self.declared[g], unit)} available for {_fmt(self.asked[g], unit)} asked "
                "(all kitchens and days)",
            )
        blocked = []
        for (p, g2), s in sorted(self.data.supply.items()):
            if g2 == g and self.used[p, g] == 0 and s.available > 0 and s.minimum_lot > 0:
                blocked.append(f"{p} (lot {_fmt(s.minimum_lot, unit)})")
        left = sum(s.available - self.used[p, g2] for (p, g2), s in self.data.supply.items() if g2 == g)
        if blocked and all(
            s.minimum_lot > self.unmet_of[g] or s.minimum_lot > s.available
            for (p, g2), s in self.data.supply.items()
            if g2 == g and self.used[p, g] == 0 and s.available > 0
        ):
            return (
                "minimum_lots",
                f"minimum lots: {_fmt(left, unit)} left unused, but {self.unmet_of[g] and _fmt(self.unmet_of[g], unit)} "
                f"still asked is below the minimum lot of {', '.join(blocked)}",
            )
        demand_stage = next((s for s in self.stages if s.name == "demand"), None)
        if demand_stage is not None and not demand_stage.proven:
            return (
                "solver_limit",
                f"the solver stopped before proving the most demand that can be met ({self.status})",
            )
        if self.status == "greedy":
            return "other", "the nearest-first allocation ran out of stock nearby"
        return (
            "other",
            "the most demand that can be met leaves this unmet (minimum lots, farms named by contracts)",
        )


def _line_reports(
    data: _Data, supplied: Mapping[tuple[str, str, str], int], reasons: _Reasons
) -> list[LineReport]:
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
                code, text = reasons.why(k, g, d, q - got)
            reports.append(LineReport(k, g, d, q, got, q - got, code, text))
    return reports


def _reports(
    data: _Data,
    lines: Sequence[PlanLine],
    status: str,
    proven_optimal: bool,
    objective: float,
    mip_gap: float,
    seconds: float,
    stages: Sequence[Stage] = (),
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
    reports = _line_reports(data, supplied, _Reasons(data, supplied, used, status, stages))
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
        stages=tuple(stages),
    )


def _summary(stages: Sequence[Stage]) -> tuple[str, bool, float]:
    """The plan's status, whether every stage is proven, and the largest gap."""
    proven = all(s.proven for s in stages)
    gap = max((s.gap for s in stages), default=0.0)
    if proven:
        return "Optimal", True, gap
    worst = max(stages, key=lambda s: s.gap)
    return f"Feasible, within {worst.gap:.1e} of the bound ({worst.name})", False, gap


# ------------------------------------------------------------------------------------------------- entry points


def solve(
    week: Week,
    weights: Weights | None = None,
    *,
    time_limit: float = 60.0,
    mip_rel_gap: float = 1e-4,
) -> Plan:
    """The week's optimised plan: the most demand met, then shares, then distance.

    Raises ValueError on bad input (with what is wrong), RuntimeError if the time limit ends before a plan is found
    (a plan found within the limit but not proven is returned with ``proven_optimal`` false)."""
    weights = weights or Weights()
    weights.check()
    began = time.perf_counter()
    deadline = began + time_limit
    data = _prepare(week)
    shape = _shape(data, by_day=False)
    if not len(shape.col_pair):
        objective = _shares_distance(data, [], weights)
        stages = (
            Stage("demand", 0.0, 0.0, 0.0, True, 0.0),
            Stage("shares_distance", objective, objective, 0.0, True, 0.0),
        )
        return _reports(data, [], "empty", True, objective, 0.0, time.perf_counter() - began, stages)
    met = _demand_stage(shape, deadline)
    assert met is not None  # noqa: S101 - without fixed lots stage 1 always has a plan (nothing sent)
    x, bound, seconds, stopped = _shares_stage(data, shape, met, weights, deadline, mip_rel_gap)
    lines = _split_days(data, shape, x)
    _check(data, lines)
    objective = _shares_distance(data, lines, weights)
    gap = _gap(objective, bound)
    stages = (
        _demand_report(met, _volume_met(data, lines), mip_rel_gap),
        Stage("shares_distance", objective, bound, gap, gap <= mip_rel_gap, seconds),
    )
    status, proven, worst = _summary(stages)
    if not proven and stopped != "Optimal" and "limit" in stopped.lower():
        status = stopped
    return _reports(data, lines, status, proven, objective, worst, time.perf_counter() - began, stages)


def _kept_products(
    data: _Data, shape: _Shape, met: _Met, prev: Mapping[tuple[str, str, str, str], int]
) -> set[str]:
    """The products whose published lines still fit the week (declarations, lots, demand, contracts' farms) and
    still meet the most demand that can be met: they keep every line."""
    bad: set[str] = set()
    sent: dict[tuple[str, str], int] = defaultdict(int)
    got: dict[tuple[str, str, str], int] = defaultdict(int)
    met_base: dict[str, int] = defaultdict(int)
    for (p, k, g, d), q in prev.items():
        if q <= 0:
            continue
        if g not in data.products or d not in data.demand.get((k, g), {}) or (p, g) not in data.supply:
            bad.add(g)
            continue
        named = data.allowed[k, g, d]
        if named is not None and p not in named:
            bad.add(g)
        sent[p, g] += q
        got[k, g, d] += q
        met_base[g] += q
    for (p, g), t in sent.items():
        s = data.supply[p, g]
        if t > s.available or 0 < t < s.minimum_lot:
            bad.add(g)
    for (k, g, d), t in got.items():
        if t > data.demand[k, g][d]:
            bad.add(g)
    products = {g for (_, _, g, _) in prev} | set(shape.products)
    return {
        g for g in products if g not in bad and met_base.get(g, 0) >= met.met.get(g, 0) * shape.unit.get(g, 1)
    }


def replan(
    week: Week,
    previous: Plan,
    shortfall: Shortfall,
    weights: Weights | None = None,
    *,
    time_limit: float = 60.0,
    mip_rel_gap: float = 1e-4,
) -> ReplanResult:
    """Re-plan ``week`` after a shortfall: the most demand met first, then the fewest delivery lines of
    ``previous`` changed, then the least volume moved, then shares and distance.

    The producer's declaration for the product becomes ``shortfall.available`` (its minimum lot shrinks to that if
    larger: it still delivers what it has). Returns the new plan and every line that changed."""
    weights = weights or Weights()
    weights.check()
    new_week = _with_shortfall(week, shortfall)
    began = time.perf_counter()
    deadline = began + time_limit
    data = _prepare(new_week)
    prev: dict[tuple[str, str, str, str], int] = defaultdict(int)
    for line in previous.lines:
        prev[line.producer, line.kitchen, line.product, line.day] += line.quantity
    shape = _shape(data, by_day=True)
    met = (
        _demand_stage(shape, deadline)
        if len(shape.col_pair)
        else _Met({}, {}, {}, [], 0.0, 0.0, True, "empty", 0.0)
    )
    assert met is not None  # noqa: S101 - without fixed lots stage 1 always has a plan
    kept = _kept_products(data, shape, met, prev)
    kept_lines, kept_volume, kept_distance = _kept_lines(data, prev, kept)
    again = {g for g in {*shape.products, *(g for (_, _, g, _) in prev)} if g not in kept}
    replanned: dict[tuple[str, str, str, str], int] = {}
    runs: list[_StageRun] = []
    sub = _shape(data, by_day=True, products=again)
    if len(sub.col_pair):
        sub_met = _demand_stage(sub, deadline)
        assert sub_met is not None  # noqa: S101
        if any(sub_met.met.get(g, 0) != met.met.get(g, 0) for g in again):
            raise RuntimeError("internal: the products re-planned alone meet another demand")
        replanned, runs = _replan_stages(
            data,
            sub,
            sub_met,
            {k: q for k, q in prev.items() if k[2] in again},
            kept_volume,
            kept_distance,
            weights,
            deadline,
            mip_rel_gap,
        )
    lines = sorted(
        [*kept_lines, *(PlanLine(p, k, g, d, q) for (p, k, g, d), q in replanned.items())],
        key=lambda x: (x.kitchen, x.product, x.day, x.producer),
    )
    _check(data, lines)
    changes, moved = _changes(data, prev, lines)
    objective = _shares_distance(data, lines, weights)
    stages = _replan_report(
        met, runs, _volume_met(data, lines), (len(changes), moved, objective), mip_rel_gap
    )
    status, proven, worst = _summary(stages)
    plan = _reports(data, lines, status, proven, objective, worst, time.perf_counter() - began, stages)
    return ReplanResult(plan, changes, moved)


def _with_shortfall(week: Week, shortfall: Shortfall) -> Week:
    """The week with the farm's declaration of the product cut to what it now has (its lot too, if larger)."""
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
    return Week(
        kitchens=week.kitchens,
        producers=week.producers,
        products=week.products,
        demand=week.demand,
        supply=new_supply,
        shares=week.shares,
        gaps=week.gaps,
        distances=week.distances,
    )


def _kept_lines(
    data: _Data, prev: Mapping[tuple[str, str, str, str], int], kept: set[str]
) -> tuple[list[PlanLine], dict[str, float], float]:
    """The published lines of the products kept as they are, and the volume per farm and distance they carry."""
    kept_lines = [PlanLine(p, k, g, d, q) for (p, k, g, d), q in sorted(prev.items()) if g in kept and q > 0]
    kept_volume: dict[str, float] = defaultdict(float)
    kept_distance = 0.0
    for x in kept_lines:
        f = data.products[x.product].share_factor
        kept_volume[x.producer] += x.quantity * f
        kept_distance += data.km[x.producer, x.kitchen] * x.quantity * f
    return kept_lines, kept_volume, kept_distance


def _changes(
    data: _Data, prev: Mapping[tuple[str, str, str, str], int], lines: Sequence[PlanLine]
) -> tuple[tuple[LineChange, ...], int]:
    """Every line whose quantity changed, and the volume moved."""
    after = {(x.producer, x.kitchen, x.product, x.day): x.quantity for x in lines}
    changes = tuple(
        LineChange(p, k, g, d, prev.get((p, k, g, d), 0), after.get((p, k, g, d), 0))
        for (p, k, g, d) in sorted(set(prev) | set(after))
        if prev.get((p, k, g, d), 0) != after.get((p, k, g, d), 0)
    )
    moved = sum(
        abs(c.after - c.before) * data.products[c.product].share_factor
        for c in changes
        if c.product in data.products
    )
    return changes, moved


def _replan_report(
    met: _Met,
    runs: Sequence[_StageRun],
    volume_met: float,
    values: tuple[int, int, float],
    mip_rel_gap: float,
) -> list[Stage]:
    """A re-plan's stages measured on the delivered plan: its lines changed, volume moved and shares-and-distance
    objective ``values`` against each stage's proven bound."""
    changed, moved, objective = values
    bound_of = {r.name: r for r in runs}
    stages = [_demand_report(met, volume_met, mip_rel_gap)]
    for name, value in (
        ("lines", float(changed)),
        ("volume", float(moved)),
        ("shares_distance", objective),
    ):
        r = bound_of.get(name)
        bound = r.bound if r is not None else value  # nothing to re-plan: the published plan is the only one
        gap = _gap(value, bound)
        stages.append(Stage(name, value, bound, gap, gap <= mip_rel_gap, r.seconds if r else 0.0))
    return stages


def report(
    week: Week,
    lines: Sequence[PlanLine],
    *,
    status: str,
    proven_optimal: bool,
    objective: float = 0.0,
    mip_gap: float = 0.0,
    seconds: float = 0.0,
    stages: Sequence[Stage] = (),
) -> Plan:
    """The plan ``lines`` read against ``week``: every demand line's supply and the reason of what is unmet, each
    producer's volume and new gap, as :func:`solve` reports them. For a plan put together from parts (the lines a
    re-plan kept plus those it re-planned), so that its figures are those of the whole week."""
    return _reports(_prepare(week), lines, status, proven_optimal, objective, mip_gap, seconds, stages)


def greedy_nearest_first(week: Week) -> Plan:
    """A reference allocation: each demand line (day, kitchen, product order) served by the nearest producers that
    have stock left (among the farms its contract names, if it names some). A producer starts on a product only
    with at least its minimum lot at once. No fairness."""
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
        named = data.allowed[k, g, d]
        for p in sorted(by_product[g], key=lambda p: (data.km[p, k], p)):
            if not need:
                break
            if named is not None and p not in named:
                continue
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
