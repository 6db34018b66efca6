"""The weekly plan keeps its promises (issue 12), checked on the engine alone (grenier.supply.optimiser).

Demand is met first even with minimum lots; a re-plan changes the fewest delivery lines, then moves the least
volume; the figures describe the plan delivered (its own value on each stage's objective, against a bound); a
contract that names farms is served by those farms only; quantities beyond what the numbers hold are refused; the
models HiGHS sees are not badly scaled; and a week large enough for column generation can be re-planned.

Small weeks are checked against brute force: every whole plan enumerated, the most demand met, then the best value
of each later stage among the plans that reach the earlier ones.
"""

from __future__ import annotations

import itertools
import random
from collections import defaultdict
from collections.abc import Iterator, Mapping
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grenier.supply import optimiser
from grenier.supply.optimiser import (
    KM_MAX,
    QUANTITY_MAX,
    VOLUME_MAX,
    DemandLine,
    Kitchen,
    Plan,
    PlanLine,
    Producer,
    Product,
    Shortfall,
    Supply,
    Week,
    Weights,
    greedy_nearest_first,
    replan,
    solve,
)

KG = Product("carrot", "g", step=1000)
DAY = "1-mon"


def week(
    supply: list[Supply],
    demand: list[DemandLine],
    distances: dict[tuple[str, str], float],
    shares: Mapping[str, float | Fraction],
    gaps: dict[str, float] | None = None,
    products: list[Product] | None = None,
) -> Week:
    farms = sorted({p for p, _ in distances})
    kitchens = sorted({k for _, k in distances})
    return Week(
        kitchens=[Kitchen(k) for k in kitchens],
        producers=[Producer(p) for p in farms],
        products=products or [KG],
        demand=demand,
        supply=supply,
        shares=shares,
        gaps=gaps or {},
        distances=distances,
    )


def sent(plan: Plan) -> dict[tuple[str, str], int]:
    out: dict[tuple[str, str], int] = defaultdict(int)
    for x in plan.lines:
        out[x.producer, x.kitchen] += x.quantity
    return dict(out)


def shares_distance(w: Week, lines: tuple[PlanLine, ...] | list[PlanLine], weights: Weights) -> float:
    """Stage 2's objective computed here, from the lines alone."""
    factor = {g.id: g.share_factor for g in w.products}
    volume: dict[str, float] = defaultdict(float)
    distance = 0.0
    for x in lines:
        volume[x.producer] += x.quantity * factor[x.product]
        distance += (w.distances or {})[x.producer, x.kitchen] * x.quantity * factor[x.product]
    total = sum(volume.values())
    deviation = sum(
        abs(volume[p] - (float(s) * total + (w.gaps or {}).get(p, 0.0))) for p, s in w.shares.items()
    )
    return weights.share * deviation + weights.distance * distance


def stage_checks(plan: Plan, w: Week) -> None:
    """Each stage's figures are the delivered plan's: its value recomputed from the lines, a bound on the right
    side of it, and the gap between them relative to the value."""
    names = [s.name for s in plan.stages]
    assert names[0] == "demand" and names[-1] == "shares_distance"
    demand = plan.stage("demand")
    assert demand is not None
    factor = {g.id: g.share_factor for g in w.products}
    assert demand.objective == sum(x.quantity * factor[x.product] for x in plan.lines)
    assert demand.bound >= demand.objective - 1e-6
    last = plan.stage("shares_distance")
    assert last is not None
    assert last.objective == pytest.approx(shares_distance(w, plan.lines, Weights()), rel=1e-9, abs=1e-9)
    assert plan.objective == last.objective
    for s in plan.stages:
        if s.name != "demand":
            assert s.bound <= s.objective + 1e-6 * max(1.0, abs(s.objective)), s
            assert s.gap == pytest.approx(
                max(0.0, s.objective - s.bound) / max(1.0, abs(s.objective)), abs=1e-12
            )
        assert s.proven == (s.gap <= 1e-4)
    assert plan.mip_gap == max(s.gap for s in plan.stages)
    assert plan.proven_optimal == all(s.proven for s in plan.stages)


# ----------------------------------------------------------------------------------------- brute force, small weeks


def whole_plans(w: Week) -> Iterator[dict[tuple[str, str], int]]:
    """Every whole plan of a week of one product, one day per kitchen: quantities per farm x kitchen in steps."""
    step = w.products[0].step
    declared = {s.producer: s for s in w.supply}
    asked = {d.kitchen: d.quantity // step for d in w.demand}
    cells = [(p, k) for p in sorted(declared) for k in sorted(asked)]
    ranges = [range(min(declared[p].available // step, asked[k]) + 1) for p, k in cells]
    for values in itertools.product(*ranges):
        x = dict(zip(cells, values, strict=True))
        if any(sum(x[p, k] for p in declared) > asked[k] for k in asked):
            continue
        ok = True
        for p, s in declared.items():
            t = sum(x[p, k] for k in asked) * step
            if t > s.available or 0 < t < s.minimum_lot:
                ok = False
                break
        if ok:
            yield {c: v * step for c, v in x.items() if v}


def as_lines(x: dict[tuple[str, str], int]) -> list[PlanLine]:
    return [PlanLine(p, k, KG.id, DAY, q) for (p, k), q in sorted(x.items())]


@st.composite
def small_weeks(draw: st.DrawFn) -> Week:
    farms = [f"f{i}" for i in range(draw(st.integers(2, 3)))]
    kitchens = [f"k{i}" for i in range(draw(st.integers(1, 2)))]
    supply = []
    for p in farms:
        available = draw(st.integers(0, 5)) * 1000
        supply.append(
            Supply(p, KG.id, available, min(available, draw(st.sampled_from([0, 0, 2, 3, 4])) * 1000))
        )
    demand = [DemandLine(k, KG.id, DAY, draw(st.integers(1, 5)) * 1000) for k in kitchens]
    weights = [draw(st.integers(1, 5)) for _ in farms]
    shares = {p: Fraction(v, sum(weights)) for p, v in zip(farms, weights, strict=True)}
    gaps = {p: float(draw(st.integers(-2000, 2000))) for p in farms}
    distances = {(p, k): float(draw(st.integers(1, 40))) for p in farms for k in kitchens}
    return week(supply, demand, distances, shares, gaps)


SMALL = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SMALL
@given(small_weeks())
def test_a_plan_meets_the_most_demand_then_is_the_fairest_and_nearest_whole_plan(w: Week) -> None:
    plans = list(whole_plans(w))
    most = max(sum(x.values()) for x in plans)
    best = min(shares_distance(w, as_lines(x), Weights()) for x in plans if sum(x.values()) == most)
    plan = solve(w)
    stage_checks(plan, w)
    assert plan.supplied_total == most
    last = plan.stage("shares_distance")
    assert last is not None and last.proven
    # the delivered plan is within the tolerance of the best whole plan, and the bound holds for whole plans
    assert last.objective <= best * (1 + 1e-4) + 1e-9
    assert last.bound <= best + 1e-6


@SMALL
@given(small_weeks(), st.data())
def test_a_replan_meets_the_most_demand_then_changes_fewest_lines_then_least_volume(
    w: Week, data: st.DataObject
) -> None:
    before = solve(w)
    short = data.draw(st.sampled_from(list(w.supply)))
    available = data.draw(st.integers(0, short.available // 1000)) * 1000
    result = replan(w, before, Shortfall(short.producer, short.product, available))
    after = week(
        [
            Supply(s.producer, s.product, available, min(s.minimum_lot, available)) if s is short else s
            for s in w.supply
        ],
        list(w.demand),
        dict(w.distances or {}),
        dict(w.shares),
        dict(w.gaps),
    )
    old = {(x.producer, x.kitchen): x.quantity for x in before.lines}

    def changed(x: dict[tuple[str, str], int]) -> int:
        return sum(1 for c in set(x) | set(old) if x.get(c, 0) != old.get(c, 0))

    def moved(x: dict[tuple[str, str], int]) -> int:
        return sum(abs(x.get(c, 0) - old.get(c, 0)) for c in set(x) | set(old))

    plans = list(whole_plans(after))
    most = max(sum(x.values()) for x in plans)
    plans = [x for x in plans if sum(x.values()) == most]
    fewest = min(changed(x) for x in plans)
    least = min(moved(x) for x in plans if changed(x) == fewest)
    best = min(
        shares_distance(after, as_lines(x), Weights())
        for x in plans
        if changed(x) == fewest and moved(x) == least
    )
    plan = result.plan
    stage_checks(plan, after)
    assert [s.name for s in plan.stages] == ["demand", "lines", "volume", "shares_distance"]
    assert plan.supplied_total == most
    assert len(result.changes) == fewest
    assert result.volume_moved == least
    assert plan.stage("lines").objective == fewest  # type: ignore[union-attr]
    assert plan.stage("volume").objective == least  # type: ignore[union-attr]
    assert plan.stage("shares_distance").objective <= best * (1 + 1e-4) + 1e-9  # type: ignore[union-attr]
    assert plan.proven_optimal


# ------------------------------------------------------------------------------------------- the crafted cases


def test_demand_first_even_when_only_a_minimum_lot_can_meet_it() -> None:
    # 100 kg asked; farm a (share 0.9) has 99 kg and no lot, farm b (share 0.1) 100 kg with a 100 kg lot: only b
    # can meet all of it, however unfair
    w = week(
        [Supply("a", "carrot", 99_000), Supply("b", "carrot", 100_000, 100_000)],
        [DemandLine("k", "carrot", DAY, 100_000)],
        {("a", "k"): 1.0, ("b", "k"): 50.0},
        {"a": 0.9, "b": 0.1},
    )
    plan = solve(w)
    assert sent(plan) == {("b", "k"): 100_000}
    assert plan.supplied_total == plan.demand_total == 100_000
    assert plan.proven_optimal
    stage_checks(plan, w)


def test_a_replan_moves_the_least_volume_it_proves_even_from_a_worse_start() -> None:
    # Found by the hypothesis test above (2026-12-06): f2 sends 2 kg to k0 and f1 1 kg to k1; f1 falls to nothing.
    # The fewest changes (4) move 4 kg: f0's 2 kg lot split 1 kg to each kitchen, f2 down to 1 kg. The lines stage
    # had started the volume stage from a plan moving 6 kg (f0 2 kg to k0, f2 1 kg to k1); HiGHS 1.16.0 proved 4 kg
    # but answered the start's values, and the re-plan delivered 6 kg marked "within 33 % of the bound".
    farms, kitchens = ["f0", "f1", "f2"], ["k0", "k1"]
    w = week(
        [Supply("f0", "carrot", 3000, 2000), Supply("f1", "carrot", 1000), Supply("f2", "carrot", 2000)],
        [DemandLine("k0", "carrot", DAY, 2000), DemandLine("k1", "carrot", DAY, 1000)],
        {(f, k): 1.0 for f in farms for k in kitchens},
        {f: Fraction(1, 3) for f in farms},
        {"f0": 0.0, "f1": 0.0, "f2": 1.0},
    )
    before = solve(w)
    assert sent(before) == {("f2", "k0"): 2000, ("f1", "k1"): 1000}
    result = replan(w, before, Shortfall("f1", "carrot", 0))
    assert len(result.changes) == 4
    assert result.volume_moved == 4000
    assert sent(result.plan) == {("f0", "k0"): 1000, ("f0", "k1"): 1000, ("f2", "k0"): 1000}
    assert result.plan.proven_optimal


def test_a_replan_covers_a_shortfall_with_another_farms_lot() -> None:
    # 20 kg asked; a and b have 20 kg each with a 20 kg lot, a serves it; a falls to 19 kg: b delivers all 20
    w = week(
        [Supply("a", "carrot", 20_000, 20_000), Supply("b", "carrot", 20_000, 20_000)],
        [DemandLine("k", "carrot", DAY, 20_000)],
        {("a", "k"): 1.0, ("b", "k"): 30.0},
        {"a": 0.5, "b": 0.5},
    )
    before = solve(w)
    assert sent(before) == {("a", "k"): 20_000}
    result = replan(w, before, Shortfall("a", "carrot", 19_000))
    assert sent(result.plan) == {("b", "k"): 20_000}
    assert {(c.producer, c.before, c.after) for c in result.changes} == {("a", 20_000, 0), ("b", 0, 20_000)}
    assert result.plan.proven_optimal


def test_a_replan_changes_the_fewest_lines_not_just_the_least_volume() -> None:
    # the school gets 12 kg from f0 and 3 kg from f1 on Thursday, the nursing home 10 kg from f1 on Monday; f1 falls
    # from 13 to 8 kg. Moving 10 kg either way: trimming f1's Monday line and adding f0 there changes 2 lines; the
    # earlier re-plan shuffled the school's two lines too (4 lines, the school told for nothing).
    w = week(
        [Supply("f0", "carrot", 25_000), Supply("f1", "carrot", 30_000)],
        [DemandLine("school", "carrot", "4-thu", 15_000), DemandLine("home", "carrot", "1-mon", 10_000)],
        {("f0", "school"): 23.0, ("f0", "home"): 23.0, ("f1", "school"): 11.0, ("f1", "home"): 8.0},
        {"f0": 0.5, "f1": 0.5},
    )
    before = optimiser.Plan(
        lines=(
            PlanLine("f1", "home", "carrot", "1-mon", 10_000),
            PlanLine("f0", "school", "carrot", "4-thu", 12_000),
            PlanLine("f1", "school", "carrot", "4-thu", 3_000),
        ),
        demand_lines=(),
        producers=(),
        status="published",
        proven_optimal=True,
        objective=0.0,
        mip_gap=0.0,
        seconds=0.0,
    )
    result = replan(w, before, Shortfall("f1", "carrot", 8_000))
    assert result.plan.supplied_total == 25_000
    assert len(result.changes) == 2
    assert result.affected_kitchens == {"home"}
    assert result.volume_moved == 10_000


def test_among_the_fewest_lines_a_replan_moves_the_least_volume() -> None:
    # f1 (far, small share) sends the 10 kg asked; it falls to 5 kg. Fairness and distance would have f0 take all
    # 10 kg (f1's line to 0, f0's to 10: two lines, 20 kg moved); the re-plan keeps f1's 5 kg (two lines, 10 kg).
    w = week(
        [Supply("f0", "carrot", 30_000), Supply("f1", "carrot", 10_000)],
        [DemandLine("k", "carrot", DAY, 10_000)],
        {("f0", "k"): 1.0, ("f1", "k"): 40.0},
        {"f0": 0.9, "f1": 0.1},
        gaps={"f0": -50_000.0, "f1": 50_000.0},  # f1 is owed volume: it had the line
    )
    before = solve(w)
    assert sent(before) == {("f1", "k"): 10_000}
    result = replan(w, before, Shortfall("f1", "carrot", 5_000))
    assert sent(result.plan) == {("f0", "k"): 5_000, ("f1", "k"): 5_000}
    assert result.volume_moved == 10_000


def test_the_delivered_plan_is_measured_with_fairness_in_whole_units() -> None:
    # 3 kg asked in whole kg; targets 1.2 kg (a, next door) and 1.8 kg (b). The continuous plan sends exactly the
    # targets; made whole, (1, 2) is 0.4 kg off the shares, (2, 1) is 1.6 kg off. Rounding for distance alone picked
    # (2, 1); the delivered plan is (1, 2), and its figures say so.
    w = week(
        [Supply("a", "carrot", 10_000), Supply("b", "carrot", 10_000)],
        [DemandLine("k", "carrot", DAY, 3_000)],
        {("a", "k"): 1.0, ("b", "k"): 20.0},
        {"a": Fraction(2, 5), "b": Fraction(3, 5)},
        gaps={"a": 0.0, "b": 0.0},
    )
    plan = solve(w)
    assert sent(plan) == {("a", "k"): 1_000, ("b", "k"): 2_000}
    last = plan.stage("shares_distance")
    assert last is not None
    assert last.objective == pytest.approx(10 * 400 + 0.01 * (1_000 + 40_000))
    assert last.proven and last.bound <= last.objective
    stage_checks(plan, w)


# ---------------------------------------------------------------------------------------- column generation


def test_replan_after_a_plan_found_by_column_generation(monkeypatch: pytest.MonkeyPatch) -> None:
    # issue 12's reproduction: every week goes through column generation; re-planning raised "the pricing
    # disagrees with the solver's reduced costs"
    monkeypatch.setattr(optimiser, "DENSE_UP_TO", 0)
    monkeypatch.setattr(optimiser, "NEAREST", 1)
    w = week(
        [Supply("a", "carrot", 15_000), Supply("b", "carrot", 15_000)],
        [DemandLine("k1", "carrot", "mon", 10_000), DemandLine("k2", "carrot", "mon", 10_000)],
        {("a", "k1"): 5.0, ("a", "k2"): 9.0, ("b", "k1"): 7.0, ("b", "k2"): 6.0},
        {"a": 0.5, "b": 0.5},
        products=[Product("carrot")],
    )
    before = solve(w)
    assert sent(before) == {("a", "k1"): 10_000, ("b", "k2"): 10_000}
    result = replan(w, before, Shortfall("a", "carrot", 5_000))
    assert result.plan.supplied_total == 20_000
    assert {(c.producer, c.kitchen, c.before, c.after) for c in result.changes} == {
        ("a", "k1", 10_000, 5_000),
        ("b", "k1", 0, 5_000),
    }
    assert result.plan.proven_optimal


def generated(seed: int, farms: int, kitchens: int, products: int) -> Week:
    rng = random.Random(seed)
    goods = [Product(f"g{i}", "g", step=1000) for i in range(products)]
    names = [f"p{i:02d}" for i in range(farms)]
    supply = [
        Supply(p, g.id, rng.randint(5, 40) * 1000, rng.choice([0, 0, 5_000]))
        for p in names
        for g in rng.sample(goods, max(1, products // 2))
    ]
    demand = [
        DemandLine(f"k{k}", g.id, d, rng.randint(1, 8) * 1000)
        for k in range(kitchens)
        for g in goods
        for d in ("1-mon", "4-thu")
        if rng.random() < 0.7
    ]
    return Week(
        kitchens=[Kitchen(f"k{k}") for k in range(kitchens)],
        producers=[Producer(p) for p in names],
        products=goods,
        demand=demand,
        supply=supply,
        shares={p: Fraction(1, farms) for p in names},
        gaps={p: float(rng.randint(-3000, 3000)) for p in names},
        distances={(p, f"k{k}"): rng.uniform(1, 60) for p in names for k in range(kitchens)},
    )


def test_a_week_large_enough_for_column_generation_is_planned_and_replanned(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    w = generated(3, farms=14, kitchens=8, products=4)
    dense = solve(w)
    monkeypatch.setattr(optimiser, "DENSE_UP_TO", 50)  # below this week's candidate columns
    monkeypatch.setattr(optimiser, "NEAREST", 2)
    plan = solve(w)
    assert plan.proven_optimal and dense.proven_optimal
    assert plan.supplied_total == dense.supplied_total
    assert plan.objective == pytest.approx(dense.objective, rel=2e-4)
    stage_checks(plan, w)
    # the farm with the most of one product that others (without lots) have enough left to cover loses all of it
    used: dict[tuple[str, str], int] = defaultdict(int)
    for x in plan.lines:
        used[x.producer, x.product] += x.quantity

    def spare(farm: str, product: str) -> int:
        return sum(
            s.available - used.get((s.producer, product), 0)
            for s in w.supply
            if s.product == product and s.producer != farm and not s.minimum_lot
        )

    (farm, product), lost = max(
        ((fp, q) for fp, q in used.items() if spare(*fp) >= q), key=lambda kv: (kv[1], kv[0])
    )
    result = replan(w, plan, Shortfall(farm, product, 0))
    assert result.plan.proven_optimal
    assert result.plan.supplied_total == plan.supplied_total  # the others cover it all
    assert {c.product for c in result.changes} == {product}  # nothing else moves
    assert result.volume_moved == 2 * lost  # what farm lost, and as much sent by the others: nothing more
    assert all(c.after == 0 for c in result.changes if c.producer == farm)


# ------------------------------------------------------------------------------------ contracts naming farms


def test_a_contract_naming_farms_is_served_by_those_farms_only() -> None:
    # the school's contract names b; a is next door and has plenty, the home's line takes anyone
    distances = {("a", "school"): 1.0, ("a", "home"): 1.0, ("b", "school"): 30.0, ("b", "home"): 30.0}
    supply = [Supply("a", "carrot", 50_000), Supply("b", "carrot", 6_000)]
    demand = [
        DemandLine("school", "carrot", DAY, 10_000, producers=frozenset({"b"})),
        DemandLine("home", "carrot", DAY, 10_000),
    ]
    w = week(supply, demand, distances, {"a": 0.5, "b": 0.5})
    for plan in (solve(w), greedy_nearest_first(w)):
        assert {x.producer for x in plan.lines if x.kitchen == "school"} == {"b"}
        school = next(r for r in plan.demand_lines if r.kitchen == "school")
        assert (school.supplied, school.unmet, school.reason_code) == (6_000, 4_000, "contract_farms")
        assert "the contract names b" in school.reason
    plan = solve(w)
    assert sent(plan) == {("b", "school"): 6_000, ("a", "home"): 10_000}
    # b falls short: nobody else may cover the school; a re-plan says so and leaves the home as it is
    result = replan(w, plan, Shortfall("b", "carrot", 2_000))
    assert sent(result.plan) == {("b", "school"): 2_000, ("a", "home"): 10_000}
    assert [(c.producer, c.kitchen, c.before, c.after) for c in result.changes] == [
        ("b", "school", 6_000, 2_000)
    ]


def test_a_contract_naming_an_unknown_farm_is_refused() -> None:
    w = week(
        [Supply("a", "carrot", 5_000)],
        [DemandLine("k", "carrot", DAY, 1_000, producers=frozenset({"zz"}))],
        {("a", "k"): 1.0},
        {"a": 1.0},
    )
    with pytest.raises(ValueError, match="the contract names unknown producers 'zz'"):
        solve(w)


# ------------------------------------------------------------------------------------------- numbers and scale


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"demand": QUANTITY_MAX + 1}, "more than the planner counts exactly"),
        ({"available": QUANTITY_MAX + 1}, "more than the planner counts exactly"),
        ({"lot": QUANTITY_MAX + 1}, "more than the planner counts exactly"),
        ({"share_factor": 10**7}, "share_factor is at most"),
        ({"km": KM_MAX + 1}, "more than any trip on Earth"),
        ({"gap": VOLUME_MAX * 2.0}, "beyond"),
        ({"lines": 2 * VOLUME_MAX // QUANTITY_MAX}, "the week's volume asked"),
    ],
)
def test_quantities_beyond_what_the_numbers_hold_are_refused(change: dict[str, int], message: str) -> None:
    lines = change.get("lines", 1)
    w = week(
        [Supply("a", "g", change.get("available", 10), change.get("lot", 0))],
        [DemandLine("k", "g", f"d{i:05d}", change.get("demand", QUANTITY_MAX)) for i in range(lines)],
        {("a", "k"): float(change.get("km", 10))},
        {"a": 1.0},
        gaps={"a": float(change.get("gap", 0.0))},
        products=[Product("g", share_factor=change.get("share_factor", 1))],
    )
    with pytest.raises(ValueError, match=message):
        solve(w)


def test_the_largest_quantities_are_planned_exactly_on_a_model_that_is_not_badly_scaled(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # quantities up to the limit, in grams and in pieces counting 400 g; the log of every model HiGHS solved
    log = tmp_path / "highs.log"
    monkeypatch.setattr(optimiser, "SOLVER_LOG", str(log))
    goods = [Product("beet", "g"), Product("lettuce", "piece", share_factor=400)]
    big = QUANTITY_MAX
    supply = [
        Supply("a", "beet", big, big // 3),
        Supply("b", "beet", big // 2),
        Supply("b", "lettuce", big // 500, 7),
        Supply("c", "lettuce", big // 400, big // 1000),
    ]
    demand = [
        DemandLine("k1", "beet", DAY, big),
        DemandLine("k2", "beet", DAY, big // 7),
        DemandLine("k1", "lettuce", DAY, big // 300),
        DemandLine("k2", "lettuce", DAY, 3),
    ]
    distances = {
        (p, k): d
        for (p, k), d in zip(
            itertools.product("abc", ("k1", "k2")), (3.0, 40.0, 12.0, 1.0, 25.0, 8.0), strict=True
        )
    }
    w = week(supply, demand, distances, {"a": 0.5, "b": 0.3, "c": 0.2}, products=goods)
    plan = solve(w)
    # demand first, exactly: all of it (enough is declared, and the lots fit)
    got = {g: sum(r.supplied for r in plan.demand_lines if r.product == g) for g in ("beet", "lettuce")}
    assert got == {"beet": big + big // 7, "lettuce": big // 300 + 3}
    assert plan.proven_optimal
    stage_checks(plan, w)
    text = log.read_text()
    assert "Model status" in text  # the log was written
    assert "badly scaled" not in text
    assert "excessively large" not in text
    result = replan(w, plan, Shortfall("c", "lettuce", big // 1000))
    assert result.plan.proven_optimal
    assert "badly scaled" not in log.read_text()
