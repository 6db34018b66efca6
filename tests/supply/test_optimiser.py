"""The supply plan's engine (grenier.supply.optimiser): pure Python, no database."""

from __future__ import annotations

import dataclasses
import random
from collections import defaultdict
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grenier.supply import optimiser
from grenier.supply.optimiser import (
    DemandLine,
    Kitchen,
    Location,
    Plan,
    Producer,
    Product,
    Shortfall,
    Supply,
    Week,
    greedy_nearest_first,
    replan,
    solve,
)

KITCHENS = [Kitchen("school"), Kitchen("home")]
PRODUCTS = [Product("carrot", "g"), Product("leek", "g"), Product("lettuce", "piece")]


def week(
    supply: list[Supply],
    demand: list[DemandLine],
    producers: list[str],
    distances: dict[tuple[str, str], float] | None = None,
    shares: dict[str, float | Fraction] | None = None,
    gaps: dict[str, float] | None = None,
) -> Week:
    if distances is None:
        distances = {(p, k.id): 10.0 for p in producers for k in KITCHENS}
    return Week(
        kitchens=KITCHENS,
        producers=[Producer(p) for p in producers],
        products=PRODUCTS,
        demand=demand,
        supply=supply,
        shares=shares or {p: Fraction(1, len(producers)) for p in producers},
        gaps=gaps or {},
        distances=distances,
    )


def totals(plan: Plan) -> dict[tuple[str, str], int]:
    out: dict[tuple[str, str], int] = defaultdict(int)
    for line in plan.lines:
        out[line.producer, line.product] += line.quantity
    return out


# --------------------------------------------------------------------------------------------- random instances

producers_st = st.integers(min_value=1, max_value=4)


@st.composite
def instances(draw: st.DrawFn) -> Week:
    n = draw(producers_st)
    names = [f"p{i}" for i in range(n)]
    supply = []
    for p in names:
        for g in PRODUCTS:
            if draw(st.booleans()):
                avail = draw(st.integers(0, 60))
                lot = draw(st.sampled_from([0, 0, 5, 20]))
                supply.append(Supply(p, g.id, avail, min(lot, avail)))
    demand = []
    for k in KITCHENS:
        for g in PRODUCTS:
            for day in ("mon", "thu"):
                if draw(st.booleans()):
                    demand.append(DemandLine(k.id, g.id, day, draw(st.integers(0, 40))))
    distances = {(p, k.id): float(draw(st.integers(1, 50))) for p in names for k in KITCHENS}
    return week(supply, demand, names, distances)


SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(instances())
def test_never_above_availability_nor_demand_and_lots_respected(w: Week) -> None:
    plan = solve(w)
    assert plan.proven_optimal
    declared = {(s.producer, s.product): s for s in w.supply}
    for (p, g), q in totals(plan).items():
        assert q <= declared[p, g].available
        assert q == 0 or q >= declared[p, g].minimum_lot
    asked = {(d.kitchen, d.product, d.day): d.quantity for d in w.demand}
    for r in plan.demand_lines:
        assert r.supplied <= r.demand == asked[r.kitchen, r.product, r.day]
        assert r.unmet == r.demand - r.supplied
        assert (r.unmet > 0) == bool(r.reason)
    assert all(line.quantity > 0 and isinstance(line.quantity, int) for line in plan.lines)


@SETTINGS
@given(instances())
def test_demand_met_whenever_availability_suffices(w: Week) -> None:
    # without lots, everything that is declared and asked is supplied: per product min(demand, availability)
    w = dataclasses.replace(w, supply=[dataclasses.replace(s, minimum_lot=0) for s in w.supply])
    plan = solve(w)
    for g in PRODUCTS:
        asked = sum(d.quantity for d in w.demand if d.product == g.id)
        declared = sum(s.available for s in w.supply if s.product == g.id)
        supplied = sum(r.supplied for r in plan.demand_lines if r.product == g.id)
        assert supplied == min(asked, declared), g.id


def test_demand_met_with_lots_when_they_fit() -> None:
    supply = [Supply("a", "carrot", 30_000, 10_000), Supply("b", "carrot", 30_000, 10_000)]
    demand = [DemandLine("school", "carrot", "mon", 25_000), DemandLine("home", "carrot", "tue", 20_000)]
    plan = solve(week(supply, demand, ["a", "b"]))
    assert plan.supplied_total == 45_000
    assert all(q >= 10_000 for q in totals(plan).values())


def test_minimum_lot_not_reachable_is_explained() -> None:
    # 8 kg asked, b has 50 kg but a 10 kg minimum lot, a has 5 kg: 3 kg stay unmet
    supply = [Supply("a", "carrot", 5_000, 0), Supply("b", "carrot", 50_000, 10_000)]
    demand = [DemandLine("school", "carrot", "mon", 8_000)]
    plan = solve(week(supply, demand, ["a", "b"]))
    (report,) = plan.demand_lines
    assert (report.supplied, report.unmet) == (5_000, 3_000)
    assert report.reason_code == "minimum_lots"
    assert "minimum lot" in report.reason and "b (lot 10 kg)" in report.reason
    assert totals(plan).get(("b", "carrot"), 0) == 0


def test_shortage_is_explained_with_quantities() -> None:
    supply = [Supply("a", "carrot", 25_000), Supply("b", "carrot", 15_000), Supply("a", "leek", 9_000)]
    demand = [
        DemandLine("school", "carrot", "mon", 30_000),
        DemandLine("home", "carrot", "mon", 25_000),
        DemandLine("school", "lettuce", "tue", 40),
        DemandLine("home", "leek", "tue", 9_000),
    ]
    plan = solve(week(supply, demand, ["a", "b"]))
    by = {(r.kitchen, r.product): r for r in plan.demand_lines}
    assert sum(r.supplied for r in plan.demand_lines if r.product == "carrot") == 40_000
    unmet = [r for r in plan.demand_lines if r.product == "carrot" and r.unmet]
    assert unmet and all(r.reason_code == "not_enough_declared" for r in unmet)
    assert unmet[0].reason == ("not enough declared: 40 kg available for 55 kg asked (all kitchens and days)")
    assert by["school", "lettuce"].reason_code == "not_declared"
    assert by["school", "lettuce"].reason == "no producer declared any lettuce this week"
    assert by["home", "leek"].unmet == 0 and by["home", "leek"].reason == ""


# ------------------------------------------------------------------------------------------------------ fairness


def test_shares_respected_over_weeks_with_gap_carried() -> None:
    # a and b can each supply everything; the demand is small, so fairness decides. Shares 1/2, 1/3, 1/6.
    shares = {"a": Fraction(1, 2), "b": Fraction(1, 3), "c": Fraction(1, 6)}
    distances = {("a", "school"): 5.0, ("b", "school"): 20.0, ("c", "school"): 40.0}
    distances |= {("a", "home"): 5.0, ("b", "home"): 20.0, ("c", "home"): 40.0}
    gaps: dict[str, float] = {}
    cumulative: dict[str, int] = defaultdict(int)
    for n in range(8):
        supply = [Supply(p, g, 50_000, 7_000) for p in shares for g in ("carrot", "leek")]
        demand = [
            DemandLine("school", "carrot", "mon", 11_000 + 1_000 * n),
            DemandLine("home", "leek", "thu", 9_000),
        ]
        plan = solve(week(supply, demand, list(shares), distances, dict(shares), gaps))
        assert plan.supplied_total == sum(d.quantity for d in demand)
        for r in plan.producers:
            cumulative[r.producer] += r.supplied
            assert r.new_gap == pytest.approx(
                gaps.get(r.producer, 0.0) + r.target - gaps.get(r.producer, 0.0) - r.supplied
            )
        gaps = {r.producer: r.new_gap for r in plan.producers}
    total = sum(cumulative.values())
    for p, s in shares.items():
        assert cumulative[p] / total == pytest.approx(float(s), abs=0.02), (p, cumulative)
        assert gaps[p] == pytest.approx(float(s) * total - cumulative[p], abs=1e-6)
    # c, the farthest, does supply: distance alone would never choose it
    assert cumulative["c"] > 0


def test_carried_gap_is_made_up_first() -> None:
    # b supplied less than its share so far: this week it supplies more than a, though a is nearer
    distances = {("a", "school"): 1.0, ("b", "school"): 30.0, ("a", "home"): 1.0, ("b", "home"): 30.0}
    supply = [Supply("a", "carrot", 100_000), Supply("b", "carrot", 100_000)]
    demand = [DemandLine("school", "carrot", "mon", 20_000)]
    plan = solve(week(supply, demand, ["a", "b"], distances, gaps={"a": -5_000.0, "b": 5_000.0}))
    got = {r.producer: r.supplied for r in plan.producers}
    assert got == {"a": 5_000, "b": 15_000}
    assert all(r.new_gap == pytest.approx(0.0) for r in plan.producers)


def test_prefers_shorter_distances_when_all_else_equal() -> None:
    # a is near the school, b near the home; equal shares, equal volumes: each serves its neighbour
    distances = {("a", "school"): 2.0, ("a", "home"): 30.0, ("b", "school"): 30.0, ("b", "home"): 3.0}
    supply = [Supply("a", "carrot", 40_000), Supply("b", "carrot", 40_000)]
    demand = [DemandLine("school", "carrot", "mon", 10_000), DemandLine("home", "carrot", "mon", 10_000)]
    plan = solve(week(supply, demand, ["a", "b"], distances))
    assert {(x.producer, x.kitchen, x.quantity) for x in plan.lines} == {
        ("a", "school", 10_000),
        ("b", "home", 10_000),
    }
    assert plan.total_distance == 2.0 * 10_000 + 3.0 * 10_000


def test_distances_from_locations() -> None:
    w = Week(
        kitchens=[Kitchen("school", Location(43.61, 3.88))],
        producers=[Producer("near", Location(43.62, 3.90)), Producer("far", Location(44.5, 4.5))],
        products=PRODUCTS,
        demand=[DemandLine("school", "leek", "mon", 5_000)],
        supply=[Supply("near", "leek", 5_000), Supply("far", "leek", 5_000)],
        shares={"near": 0.5, "far": 0.5},
        gaps={"near": 2_500.0, "far": -2_500.0},  # fairness indifferent between the two
    )
    plan = solve(w)
    assert [(x.producer, x.quantity) for x in plan.lines] == [("near", 5_000)]


def test_column_generation_reaches_the_same_optimum(monkeypatch: pytest.MonkeyPatch) -> None:
    # large weeks start from the nearest producer of each line and price the others in; same optimum as dense
    rng = random.Random(7)
    names = [f"p{i}" for i in range(12)]
    kitchens = [Kitchen(f"k{i}") for i in range(6)]
    supply = [
        Supply(p, g.id, rng.randint(0, 40) * 1000, rng.choice([0, 0, 5000]))
        for p in names
        for g in PRODUCTS[:2]
    ]
    demand = [
        DemandLine(k.id, g.id, d, rng.randint(1, 8) * 1000)
        for k in kitchens
        for g in PRODUCTS[:2]
        for d in ("mon", "thu")
    ]
    w = Week(
        kitchens=kitchens,
        producers=[Producer(p) for p in names],
        products=PRODUCTS,
        demand=demand,
        supply=supply,
        shares={p: Fraction(1, 12) for p in names},
        gaps={p: rng.randint(-3000, 3000) for p in names},
        distances={(p, k.id): rng.uniform(1, 60) for p in names for k in kitchens},
    )
    dense = solve(w)
    monkeypatch.setattr(optimiser, "DENSE_UP_TO", 0)
    monkeypatch.setattr(optimiser, "NEAREST", 1)
    generated = solve(w)
    assert dense.proven_optimal and generated.proven_optimal
    assert generated.objective == pytest.approx(dense.objective, rel=1e-5)
    assert generated.supplied_total == dense.supplied_total


# --------------------------------------------------------------------------------------------------- re-planning


def test_replan_changes_only_the_failed_producer_and_what_covers_it() -> None:
    producers = ["a", "b", "c"]
    distances = {(p, k.id): d for p, d in (("a", 5.0), ("b", 10.0), ("c", 15.0)) for k in KITCHENS}
    supply = [
        Supply("a", "carrot", 30_000),
        Supply("b", "carrot", 30_000),
        Supply("c", "carrot", 30_000),
        Supply("a", "leek", 20_000),
        Supply("b", "leek", 20_000),
        Supply("c", "lettuce", 200),
    ]
    demand = [
        DemandLine("school", "carrot", "mon", 15_000),
        DemandLine("school", "carrot", "thu", 15_000),
        DemandLine("home", "carrot", "tue", 20_000),
        DemandLine("school", "leek", "mon", 12_000),
        DemandLine("home", "leek", "tue", 8_000),
        DemandLine("home", "lettuce", "tue", 120),
    ]
    w = week(supply, demand, producers, distances)
    before = solve(w)
    assert before.supplied_total == before.demand_total
    a_carrot = totals(before)["a", "carrot"]
    assert a_carrot > 0
    result = replan(w, before, Shortfall("a", "carrot", 0))
    after = result.plan
    assert after.supplied_total == after.demand_total  # b and c cover a's carrots
    assert totals(after).get(("a", "carrot"), 0) == 0
    # only carrot lines change: a's (all of them), and the lines of whoever covers
    changed = {(c.producer, c.product) for c in result.changes}
    assert ("a", "carrot") in changed
    assert {g for _, g in changed} == {"carrot"}
    unchanged_before = {x for x in before.lines if x.product != "carrot"}
    assert unchanged_before <= set(after.lines)
    # the minimum: what the others add equals what a lost, nothing moved between b and c
    added = sum(c.after - c.before for c in result.changes if c.producer != "a")
    removed = sum(c.before - c.after for c in result.changes if c.producer == "a")
    assert added == removed == a_carrot
    assert all(c.after >= c.before for c in result.changes if c.producer != "a")
    assert result.affected_producers == {c.producer for c in result.changes}
    assert result.affected_kitchens <= {"school", "home"}


def test_replan_keeps_lines_even_against_fairness_and_reports_unmet() -> None:
    supply = [Supply("a", "carrot", 10_000), Supply("b", "carrot", 10_000)]
    demand = [DemandLine("school", "carrot", "mon", 8_000), DemandLine("home", "carrot", "thu", 8_000)]
    w = week(supply, demand, ["a", "b"])
    before = solve(w)
    result = replan(w, before, Shortfall("b", "carrot", 1_000))
    plan = result.plan
    assert plan.supplied_total == 11_000
    assert totals(plan) == {("a", "carrot"): 10_000, ("b", "carrot"): 1_000}
    assert {r.reason_code for r in plan.demand_lines if r.unmet} == {"not_enough_declared"}
    # nothing moved that did not have to: lines of a only grew
    assert all(c.after > c.before for c in result.changes if c.producer == "a")


def test_replan_keeps_other_products_lines_against_fairness() -> None:
    # before: a supplies all the carrots (10 kg) and 5 kg of leeks, b 15 kg of leeks: 15 kg each
    supply = [Supply("a", "carrot", 10_000), Supply("a", "leek", 30_000), Supply("b", "leek", 30_000)]
    demand = [DemandLine("school", "carrot", "mon", 10_000), DemandLine("home", "leek", "tue", 20_000)]
    w = week(supply, demand, ["a", "b"])
    before = solve(w)
    assert totals(before) == {("a", "carrot"): 10_000, ("a", "leek"): 5_000, ("b", "leek"): 15_000}
    result = replan(w, before, Shortfall("a", "carrot", 0))
    # fairness alone would now move 5 kg of leeks from b to a; re-planning keeps the published leek lines
    assert [(c.producer, c.product, c.before, c.after) for c in result.changes] == [
        ("a", "carrot", 10_000, 0)
    ]
    assert {(r.product, r.unmet) for r in result.plan.demand_lines} == {("carrot", 10_000), ("leek", 0)}
    assert result.affected_kitchens == {"school"}


def test_replan_keeps_the_delivery_days_of_unchanged_lines() -> None:
    distances = {(p, k.id): d for p, d in (("b", 1.0), ("a", 5.0), ("c", 20.0)) for k in KITCHENS}
    supply = [Supply("b", "carrot", 10_000), Supply("a", "carrot", 10_000), Supply("c", "carrot", 30_000)]
    demand = [
        DemandLine("school", "carrot", "1-mon", 10_000),
        DemandLine("school", "carrot", "4-thu", 20_000),
    ]
    w = week(supply, demand, ["a", "b", "c"], distances)
    before = solve(w)
    assert {(x.producer, x.day, x.quantity) for x in before.lines} == {
        ("b", "1-mon", 10_000),
        ("a", "4-thu", 10_000),
        ("c", "4-thu", 10_000),
    }
    result = replan(w, before, Shortfall("b", "carrot", 0))
    # only c can cover; it takes b's Monday, a keeps its Thursday line
    assert {(c.producer, c.day, c.before, c.after) for c in result.changes} == {
        ("b", "1-mon", 10_000, 0),
        ("c", "1-mon", 0, 10_000),
    }
    assert result.affected_producers == {"b", "c"}


def test_replan_rejects_unknown_declaration() -> None:
    w = week([Supply("a", "carrot", 10_000)], [DemandLine("school", "carrot", "mon", 1_000)], ["a"])
    with pytest.raises(ValueError, match="declared no 'leek'"):
        replan(w, solve(w), Shortfall("a", "leek", 0))


# ------------------------------------------------------------------------------------------------ greedy, inputs


def test_greedy_nearest_first_serves_from_the_nearest() -> None:
    distances = {("a", "school"): 2.0, ("a", "home"): 2.0, ("b", "school"): 30.0, ("b", "home"): 30.0}
    supply = [Supply("a", "carrot", 15_000), Supply("b", "carrot", 40_000)]
    demand = [DemandLine("school", "carrot", "mon", 10_000), DemandLine("home", "carrot", "mon", 10_000)]
    plan = greedy_nearest_first(week(supply, demand, ["a", "b"], distances))
    assert totals(plan) == {("a", "carrot"): 15_000, ("b", "carrot"): 5_000}
    assert plan.status == "greedy" and not plan.proven_optimal


def test_greedy_respects_minimum_lots() -> None:
    distances = {("a", "school"): 2.0, ("a", "home"): 2.0, ("b", "school"): 30.0, ("b", "home"): 30.0}
    supply = [Supply("a", "carrot", 50_000, 10_000), Supply("b", "carrot", 40_000)]
    demand = [DemandLine("school", "carrot", "mon", 6_000), DemandLine("home", "carrot", "mon", 6_000)]
    plan = greedy_nearest_first(week(supply, demand, ["a", "b"], distances))
    assert totals(plan) == {("b", "carrot"): 12_000}


def test_empty_week() -> None:
    plan = solve(week([], [], ["a", "b"], gaps={"a": 10.0, "b": -10.0}))
    assert plan.lines == () and plan.demand_lines == ()
    assert plan.status == "empty" and plan.proven_optimal
    assert {r.producer: r.new_gap for r in plan.producers} == {"a": 10.0, "b": -10.0}


def test_nothing_declared_leaves_all_unmet() -> None:
    plan = solve(week([], [DemandLine("school", "leek", "mon", 3)], ["a"]))
    assert plan.supplied_total == 0 and plan.demand_lines[0].reason_code == "not_declared"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"demand": [DemandLine("school", "carrot", "mon", -1)]}, "negative quantity -1"),
        ({"supply": [Supply("a", "carrot", -5)]}, "negative quantity -5"),
        ({"supply": [Supply("a", "carrot", 5, -1)]}, "negative quantity -1"),
        ({"demand": [DemandLine("school", "carrot", "mon", 2.5)]}, "quantities are integers"),  # type: ignore[arg-type]
        ({"shares": {"a": 0.5, "b": 0.4}}, "must sum to 1, they sum to 0.9"),
        ({"shares": {"a": 1.0}}, "no agreed share for b"),
        ({"shares": {"a": 1.5, "b": -0.5}}, "must be a number >= 0"),
        ({"demand": [DemandLine("canteen", "carrot", "mon", 1)]}, "unknown kitchen 'canteen'"),
        ({"supply": [Supply("z", "carrot", 1)]}, "unknown producer 'z'"),
        ({"supply": [Supply("a", "kale", 1)]}, "unknown product 'kale'"),
        ({"supply": [Supply("a", "carrot", 1), Supply("a", "carrot", 2)]}, "two declarations"),
        ({"gaps": {"zz": 1.0}}, "unknown producer 'zz'"),
        ({"distances": {}}, "no distance from 'a' to 'school'"),
    ],
)
def test_bad_input_is_refused_clearly(change: dict[str, object], message: str) -> None:
    base = week([Supply("a", "carrot", 10)], [DemandLine("school", "carrot", "mon", 5)], ["a", "b"])
    with pytest.raises(ValueError, match=message):
        solve(dataclasses.replace(base, **change))  # type: ignore[arg-type]


# --- whole steps ------------------------------------------------------------------------------------------------


def test_every_line_is_a_multiple_of_the_products_step() -> None:
    # planned in whole kg: 2.5 kg asked on each of two days, 12.5 kg and a 2.5 kg lot declared. Counting in
    # 500 g (the gcd of the quantities) would send 2.5 kg a day; whole kg send 2 kg a day, the 0.5 kg left unmet
    # with its own reason.
    kg = [Product("beet", "g", step=1000)]
    w = Week(
        kitchens=KITCHENS,
        producers=[Producer("a"), Producer("b")],
        products=kg,
        demand=[DemandLine("home", "beet", "tue", 2_500), DemandLine("home", "beet", "fri", 2_500)],
        supply=[Supply("a", "beet", 12_500, 2_500), Supply("b", "beet", 1_500)],
        shares={"a": 0.5, "b": 0.5},
        distances={(p, k.id): 10.0 for p in "ab" for k in KITCHENS},
    )
    plan = solve(w)
    assert plan.lines and all(x.quantity % 1000 == 0 for x in plan.lines)
    assert {r.day: (r.supplied, r.unmet, r.reason_code) for r in plan.demand_lines} == {
        "tue": (2_000, 500, "below_step"),
        "fri": (2_000, 500, "below_step"),
    }
    greedy = greedy_nearest_first(w)
    assert greedy.lines and all(x.quantity % 1000 == 0 for x in greedy.lines)
    # a's lot of 2.5 kg counts as 3 kg in whole kg: a sends 0 or at least 3 kg, b at most 1 kg
    sent = totals(solve(w))
    assert sent[("a", "beet")] in (0, 3_000, 4_000) and sent[("b", "beet")] <= 1_000

    # a re-plan keeps whole steps too, even against a previous plan that did not
    previous = Plan(
        lines=(
            optimiser.PlanLine("a", "home", "beet", "tue", 2_500),
            optimiser.PlanLine("a", "home", "beet", "fri", 1_500),
        ),
        demand_lines=(),
        producers=(),
        status="Optimal",
        proven_optimal=True,
        objective=0.0,
        mip_gap=0.0,
        seconds=0.0,
    )
    result = replan(w, previous, Shortfall("a", "beet", 3_000))
    assert result.plan.lines and all(x.quantity % 1000 == 0 for x in result.plan.lines)
    assert sum(x.quantity for x in result.plan.lines) == 4_000  # a's 3 kg and b's 1 kg
