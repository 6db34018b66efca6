"""The fund's projection: the vectorised rules equal the monthly run's, the model's arithmetic, its bounds.

No database: the projection is pure NumPy.
"""

from __future__ import annotations

import dataclasses
import tracemalloc
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grenier.fund import projection, rules

BRACKETS: tuple[tuple[int | None, int], ...] = (
    (60_000, 100),
    (90_000, 1_000),
    (120_000, 3_000),
    (160_000, 6_000),
    (None, 12_000),
)
SCALE = projection.ScaleRule(brackets=BRACKETS, minimum_cents=100)
RULE = projection.AllocationRule(
    base_cents=10_000, per_additional_person_cents=5_000, per_child_cents=3_000, carry_over="keep"
)


def households(*rows: tuple[int, int, int, int]) -> projection.HouseholdArrays:
    """Households from (resources, persons, children, units x 10) rows."""
    columns = list(zip(*rows, strict=True)) if rows else [(), (), (), ()]
    arrays = [np.asarray(column, dtype=np.int64) for column in columns]
    return projection.HouseholdArrays(
        resources_cents=arrays[0], persons=arrays[1], children=arrays[2], consumption_units_x10=arrays[3]
    )


# 600 € alone → 100; 2 400 € for 1.8 units (3 persons, a child) → 1 333 € per unit → 60 €; undeclared → 1 €.
THREE = households((50_000, 1, 0, 10), (240_000, 3, 1, 18), (-1, 2, 0, 15))

STILL: dict[str, Any] = {
    "spend_share_volatility": 0.0,
    "monthly_join_rate": 0.0,
    "monthly_leave_rate": 0.0,
    "grant_level_volatility": 0.0,
    "grant_volatility": 0.0,
}


def assumptions(**changes: Any) -> projection.Assumptions:
    values: dict[str, Any] = {
        "months": 4,
        "scenarios": 50,
        "seed": 7,
        "starting_balance_cents": 100_000,
        "outstanding_credit_cents": 20_000,
        "monthly_grants_cents": 30_000,
        "spend_share_mean": 0.5,
        **changes,
    }
    return projection.Assumptions(**values)


def run(
    *,
    scale: projection.ScaleRule = SCALE,
    rule: projection.AllocationRule = RULE,
    people: projection.HouseholdArrays = THREE,
    **changes: Any,
) -> projection.Projection:
    return projection.project(
        scale=scale, allocation=rule, households=people, assumptions=assumptions(**changes)
    )


# --- the vectorised rules are the monthly run's rules ------------------------------------------------------------

# Bounds and resources are often exactly 600 € or 900 € per unit: "up to" includes the bound.
AT_BOUNDS = [0, 6_000, 9_000, 60_000, 90_000]
bounds = st.one_of(
    st.none(), st.integers(min_value=-1_000, max_value=2_000_000), st.sampled_from([0, 60_000, 90_000])
)
amounts = st.integers(min_value=0, max_value=50_000)


@st.composite
def scales(draw: st.DrawFn) -> projection.ScaleRule:
    """Any scale: mostly well-formed (ascending, open-ended last) ones, and also unordered or closed ones."""
    size = draw(st.integers(min_value=1, max_value=7))
    if draw(st.booleans()):
        up = st.one_of(st.integers(0, 2_000_000), st.sampled_from([60_000, 90_000]))
        ups = sorted(draw(st.lists(up, min_size=size - 1, max_size=size - 1)))
        brackets: list[tuple[int | None, int]] = [(up, draw(amounts)) for up in ups]
        brackets.append((None, draw(amounts)))
    else:
        brackets = draw(st.lists(st.tuples(bounds, amounts), min_size=size, max_size=size))
    return projection.ScaleRule(brackets=tuple(brackets), minimum_cents=draw(st.integers(0, 10_000)))


@st.composite
def household_arrays(draw: st.DrawFn) -> projection.HouseholdArrays:
    rows = []
    for _ in range(draw(st.integers(min_value=0, max_value=30))):
        persons = draw(st.integers(0, 9))
        resources = draw(st.one_of(st.just(-1), st.integers(0, 10_000_000), st.sampled_from(AT_BOUNDS)))
        rows.append((resources, persons, draw(st.integers(0, persons)), draw(st.integers(0, 60))))
    return households(*rows)


@settings(max_examples=300, deadline=None)
@given(scale=scales(), people=household_arrays())
def test_suggested_contributions_are_the_scalar_rule(
    scale: projection.ScaleRule, people: projection.HouseholdArrays
) -> None:
    vectorised = projection.suggested_contributions(scale, people)
    assert vectorised.dtype == np.int64
    expected = [
        rules.suggested_contribution_cents(
            brackets=[list(bracket) for bracket in scale.brackets],
            minimum_cents=scale.minimum_cents,
            resources_cents=None if resources == -1 else int(resources),
            units_x10=int(units),
        )
        for resources, units in zip(people.resources_cents, people.consumption_units_x10, strict=True)
    ]
    assert vectorised.tolist() == expected


@settings(max_examples=300, deadline=None)
@given(
    people=household_arrays(),
    base=amounts,
    per_person=amounts,
    per_child=amounts,
)
def test_allocations_are_the_scalar_rule(
    people: projection.HouseholdArrays, base: int, per_person: int, per_child: int
) -> None:
    rule = projection.AllocationRule(
        base_cents=base, per_additional_person_cents=per_person, per_child_cents=per_child
    )
    vectorised = projection.allocations(rule, people)
    assert vectorised.dtype == np.int64
    expected = [
        rules.allocation_cents(
            base_cents=base,
            per_additional_person_cents=per_person,
            per_child_cents=per_child,
            composition=rules.Composition(persons=int(p), children=int(c), units_x10=int(u)),
        )
        for p, c, u in zip(people.persons, people.children, people.consumption_units_x10, strict=True)
    ]
    assert vectorised.tolist() == expected


def test_the_rules_on_known_households() -> None:
    assert projection.suggested_contributions(SCALE, THREE).tolist() == [100, 6_000, 100]
    # Exactly at a bound is that bracket; 1 800 € for 2 units is 900 € per unit; no units count as one.
    edges = households((60_000, 1, 0, 10), (60_001, 1, 0, 10), (180_000, 2, 0, 20), (500_000, 1, 0, 0))
    assert projection.suggested_contributions(SCALE, edges).tolist() == [100, 1_000, 1_000, 12_000]
    assert projection.allocations(RULE, THREE).tolist() == [10_000, 23_000, 15_000]


# --- with nothing random, the path is the hand-computed one ------------------------------------------------------
# Contributions 6 200, allocations 48 000, grants 30 000 a month; half the credit held is spent each month.


def test_keep_without_randomness_follows_the_hand_computed_path() -> None:
    result = run(**STILL)
    # Month 1: credit 20 000 + 48 000 = 68 000, spent 34 000; balance 100 000 + 6 200 + 30 000 - 34 000.
    # Month 2: credit 34 000 + 48 000 = 82 000, spent 41 000; and so on.
    path = (102_200, 97_400, 89_100, 79_050)
    assert result.balance_p05_cents == result.balance_p50_cents == result.balance_p95_cents == path
    assert result.balance_mean_cents == path
    assert result.outstanding_credit_p50_cents == (34_000, 41_000, 44_500, 46_250)
    assert result.spent_mean_cents == (34_000, 41_000, 44_500, 46_250)
    assert result.contributions_mean_cents == (6_200,) * 4
    assert result.allocations_mean_cents == (48_000,) * 4
    assert result.grants_mean_cents == (30_000,) * 4
    assert result.households_p05 == result.households_p95 == (3, 3, 3, 3)
    assert (result.monthly_contribution_cents, result.monthly_allocation_cents) == (6_200, 48_000)
    assert result.households == 3
    assert result.depletion_probability == 0.0
    assert result.depletion_by_month == (0.0,) * 4
    assert result.months_until_depletion_p50 is None


def test_cap_keeps_at_most_the_cap_per_household() -> None:
    rule = dataclasses.replace(RULE, carry_over="cap", carry_over_cap_cents=5_000)
    result = run(rule=rule, months=3, **STILL)
    # 3 households x 5 000 = 15 000 kept at most: credit 15 000 + 48 000 = 63 000 each month, half spent.
    assert result.balance_p50_cents == (104_700, 109_400, 114_100)
    assert result.outstanding_credit_p50_cents == (31_500,) * 3


def test_return_gives_unspent_credit_back_at_month_end() -> None:
    rule = dataclasses.replace(RULE, carry_over="return")
    result = run(rule=rule, months=3, **STILL)
    # The 20 000 held now and every month's unspent half go back: 24 000 spent a month.
    assert result.balance_p50_cents == (112_200, 124_400, 136_600)
    assert result.spent_mean_cents == (24_000,) * 3


def test_spending_is_rounded_down_to_the_cent() -> None:
    result = run(months=2, outstanding_credit_cents=20_001, spend_share_mean=0.25, **STILL)
    # 68 001 held, a quarter is 17 000.25: 17 000 spent, 51 001 left; then 99 001 held, 24 750 spent.
    assert result.spent_mean_cents == (17_000, 24_750)
    assert result.outstanding_credit_p50_cents == (51_001, 74_251)


def test_the_cap_counts_the_households_that_stay_not_the_joiners() -> None:
    alike = households(*[(100_000, 2, 0, 15)] * 2)  # 10 € each, 15 000 of credit each
    rule = dataclasses.replace(RULE, carry_over="cap", carry_over_cap_cents=1_000)
    result = run(
        people=alike,
        rule=rule,
        months=2,
        outstanding_credit_cents=0,
        spend_share_mean=0.5,
        **{**STILL, "monthly_join_rate": 1.0},
    )
    # Month 1: 30 000 issued, 15 000 spent and held. Month 2: the 2 who stay keep 2 x 1 000 (joiners hold
    # nothing yet), 60 000 issued: 62 000 held, 31 000 spent.
    assert result.spent_mean_cents == (15_000, 31_000)


def test_a_balance_of_exactly_zero_is_not_a_depletion() -> None:
    rule = dataclasses.replace(RULE, carry_over="return")
    # 6 200 + 17 800 in, 24 000 paid to the stores every month.
    result = run(rule=rule, starting_balance_cents=0, monthly_grants_cents=17_800, **STILL)
    assert result.balance_p50_cents == (0, 0, 0, 0)
    assert result.depletion_probability == 0.0


def test_leavers_take_their_credit_and_contributions_with_them() -> None:
    result = run(months=3, **{**STILL, "monthly_leave_rate": 1.0})
    # Everybody leaves before month 2's run: only the grants come in, their 34 000 of credit is never spent.
    assert result.households_p50 == (3, 0, 0)
    assert result.balance_p50_cents == (102_200, 132_200, 162_200)
    assert result.outstanding_credit_p50_cents == (34_000, 0, 0)


def test_joiners_bring_what_households_like_todays_bring() -> None:
    alike = households(*[(100_000, 2, 0, 15)] * 2)  # 666 € per unit: 10 € each, 15 000 of credit each
    rule = dataclasses.replace(RULE, carry_over="return")
    result = run(
        people=alike,
        rule=rule,
        months=3,
        outstanding_credit_cents=0,
        monthly_grants_cents=0,
        spend_share_mean=1.0,
        **{**STILL, "monthly_join_rate": 1.0},  # every household brings another one each month
    )
    assert result.households_p50 == (2, 4, 8)
    assert result.contributions_mean_cents == (2_000, 4_000, 8_000)
    assert result.spent_mean_cents == (30_000, 60_000, 120_000)
    assert result.balance_p50_cents == (72_000, 16_000, -96_000)
    assert result.depletion_by_month == (0.0, 0.0, 1.0)
    assert result.months_until_depletion_p50 == 3


def test_joiners_are_drawn_from_todays_households() -> None:
    rng = np.random.default_rng(3)
    size = 400
    varied = projection.HouseholdArrays(
        resources_cents=rng.integers(-1, 300_000, size),
        persons=np.full(size, 1, dtype=np.int64),
        children=np.zeros(size, dtype=np.int64),
        consumption_units_x10=np.full(size, 10, dtype=np.int64),
    )
    contributions = projection.suggested_contributions(SCALE, varied)
    result = run(
        people=varied,
        months=2,
        scenarios=4_000,
        starting_balance_cents=0,
        monthly_grants_cents=0,
        spend_share_mean=0.0,  # nothing spent: the balance is the contributions received
        **{**STILL, "monthly_join_rate": 1.0},  # as many joiners as households, every time
    )
    assert result.households_p05 == result.households_p95 == (size, 2 * size)
    total = int(contributions.sum())
    # Month 2 brings today's total again on average, give or take the spread of a sum of 400 draws.
    assert abs(result.contributions_mean_cents[1] - 2 * total) < 0.01 * total
    spread = result.balance_p95_cents[1] - result.balance_p05_cents[1]
    expected = 2 * 1.6449 * np.sqrt(size) * float(contributions.std())
    assert 0.9 * expected < spread < 1.1 * expected


def test_no_households_only_grants() -> None:
    result = run(people=households(), outstanding_credit_cents=0, monthly_join_rate=0.5)
    assert result.households == 0
    assert result.monthly_contribution_cents == result.monthly_allocation_cents == 0
    assert result.households_p95 == (0, 0, 0, 0)
    assert result.spent_mean_cents == (0, 0, 0, 0)


def test_the_chunk_size_changes_nothing_without_randomness() -> None:
    whole = run(scenarios=40, **STILL)
    chunked = run(scenarios=40, chunk_scenarios=3, **STILL)
    assert chunked == whole


# --- with randomness ---------------------------------------------------------------------------------------------


def test_same_seed_same_result_and_another_seed_another() -> None:
    first = run(months=24, scenarios=300, chunk_scenarios=64)
    assert run(months=24, scenarios=300, chunk_scenarios=64) == first
    assert run(months=24, scenarios=300, chunk_scenarios=64, seed=8) != first


def test_bands_are_ordered_and_widen() -> None:
    result = run(months=24, scenarios=500, monthly_grants_cents=40_000)
    for low, mid, high in zip(
        result.balance_p05_cents, result.balance_p50_cents, result.balance_p95_cents, strict=True
    ):
        assert low <= mid <= high
    assert result.balance_p95_cents[-1] - result.balance_p05_cents[-1] > (
        result.balance_p95_cents[0] - result.balance_p05_cents[0]
    )
    assert all(low <= high for low, high in zip(result.households_p05, result.households_p95, strict=True))
    assert list(result.depletion_by_month) == sorted(result.depletion_by_month)
    assert result.depletion_probability == result.depletion_by_month[-1]


def test_the_median_month_of_depletion_is_when_half_the_scenarios_have_run_dry() -> None:
    exactly_half_seen = False
    for seed in range(30):
        # Two scenarios whose grants differ (drawn once per scenario): they may run dry in different months.
        result = run(
            seed=seed,
            months=12,
            scenarios=2,
            monthly_grants_cents=30_000,
            starting_balance_cents=20_000,
            grant_level_volatility=0.5,
        )
        by_month = result.depletion_by_month
        exactly_half_seen |= 0.5 in by_month
        expected = next((month for month, share in enumerate(by_month, start=1) if share >= 0.5), None)
        assert result.months_until_depletion_p50 == expected
    assert exactly_half_seen


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**32),
    less=st.integers(0, 200_000),
    more=st.integers(0, 200_000),
    carry_over=st.sampled_from(["keep", "cap", "return"]),
)
def test_more_grants_never_lower_the_balance(seed: int, less: int, more: int, carry_over: str) -> None:
    less, more = min(less, more), max(less, more)
    rule = dataclasses.replace(RULE, carry_over=carry_over, carry_over_cap_cents=4_000)
    lower = run(rule=rule, seed=seed, months=12, scenarios=200, monthly_grants_cents=less)
    higher = run(rule=rule, seed=seed, months=12, scenarios=200, monthly_grants_cents=more)
    for name in ("balance_p05_cents", "balance_p50_cents", "balance_p95_cents", "balance_mean_cents"):
        assert all(a <= b for a, b in zip(getattr(lower, name), getattr(higher, name), strict=True)), name
    assert higher.depletion_probability <= lower.depletion_probability


def test_a_generous_rule_with_no_income_runs_dry() -> None:
    free = projection.ScaleRule(brackets=((None, 0),), minimum_cents=0)
    generous = projection.AllocationRule(
        base_cents=15_000, per_additional_person_cents=15_000, per_child_cents=0, carry_over="keep"
    )
    many = households(*[(150_000, 2, 1, 18)] * 400)
    result = run(
        scale=free,
        rule=generous,
        people=many,
        months=12,
        scenarios=1_000,
        starting_balance_cents=1_000_000,
        outstanding_credit_cents=0,
        monthly_grants_cents=0,
        spend_share_mean=0.9,
    )
    assert result.monthly_contribution_cents == 0
    assert result.depletion_probability == 1.0
    assert result.months_until_depletion_p50 == 1
    assert result.balance_p95_cents[-1] < 0


def test_a_self_financed_fund_never_runs_dry() -> None:
    # Each household pays 120 € a month and receives 100 € of credit; unspent credit goes back at month end.
    paying = projection.ScaleRule(brackets=((None, 12_000),), minimum_cents=100)
    modest = projection.AllocationRule(
        base_cents=10_000, per_additional_person_cents=0, per_child_cents=0, carry_over="return"
    )
    many = households(*[(300_000, 2, 0, 15)] * 450)
    result = run(
        scale=paying,
        rule=modest,
        people=many,
        months=36,
        scenarios=1_000,
        starting_balance_cents=0,
        outstanding_credit_cents=0,
        monthly_grants_cents=0,
        spend_share_mean=0.95,
        spend_share_volatility=0.2,
        monthly_join_rate=0.05,
        monthly_leave_rate=0.05,
    )
    assert result.depletion_probability == 0.0
    assert result.months_until_depletion_p50 is None
    assert min(result.balance_p05_cents) >= 0
    assert result.households_p05 != result.households_p95  # membership did move


def test_no_array_of_households_by_scenarios() -> None:
    size, scenarios = 200_000, 5_000  # households x scenarios as int64 would be 8 GB
    rng = np.random.default_rng(0)
    people = projection.HouseholdArrays(
        resources_cents=rng.integers(-1, 400_000, size),
        persons=np.full(size, 2, dtype=np.int64),
        children=np.zeros(size, dtype=np.int64),
        consumption_units_x10=np.full(size, 15, dtype=np.int64),
    )
    tracemalloc.start()
    try:
        result = run(people=people, months=12, scenarios=scenarios, chunk_scenarios=1_000)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.households == size
    assert peak < 100 * 2**20, f"peak {peak / 2**20:.0f} MiB"


# --- bad inputs --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"months": 0}, "months must be at least 1"),
        ({"months": 121}, "months must be at most 120"),
        ({"months": 1.5}, "months must be a whole number"),
        ({"scenarios": 0}, "scenarios must be at least 1"),
        ({"scenarios": 100_001}, "scenarios must be at most 100000"),
        ({"seed": -1}, "seed must be at least 0"),
        ({"outstanding_credit_cents": -1}, "outstanding_credit_cents must be at least 0"),
        ({"monthly_grants_cents": -5}, "monthly_grants_cents must be at least 0"),
        ({"starting_balance_cents": "100"}, "starting_balance_cents must be a whole number"),
        ({"spend_share_mean": 1.2}, "spend_share_mean must be at most 1.0"),
        ({"spend_share_mean": float("nan")}, "spend_share_mean must be a finite number"),
        ({"spend_share_volatility": -0.1}, "spend_share_volatility must be a finite number at least 0"),
        ({"monthly_join_rate": 2.0}, "monthly_join_rate must be at most 1.0"),
        ({"monthly_leave_rate": True}, "monthly_leave_rate must be a number"),
        ({"grant_volatility": float("inf")}, "grant_volatility must be a finite number"),
        ({"chunk_scenarios": 0}, "chunk_scenarios must be at least 1"),
    ],
)
def test_bad_assumptions_are_refused(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        assumptions(**changes)


def test_bad_rules_are_refused() -> None:
    with pytest.raises(ValueError, match="at least one bracket"):
        projection.ScaleRule(brackets=(), minimum_cents=100)
    with pytest.raises(ValueError, match="bracket 2's suggested contribution must be at least 0"):
        projection.ScaleRule(brackets=((1_000, 100), (None, -1)), minimum_cents=100)
    with pytest.raises(ValueError, match="minimum_cents must be at least 0"):
        projection.ScaleRule(brackets=((None, 100),), minimum_cents=-100)
    with pytest.raises(ValueError, match="carry_over must be one of keep, cap, return"):
        dataclasses.replace(RULE, carry_over="burn")
    with pytest.raises(ValueError, match="base_cents must be at least 0"):
        dataclasses.replace(RULE, base_cents=-1)


def test_bad_households_are_refused() -> None:
    one = np.ones(1, dtype=np.int64)
    with pytest.raises(ValueError, match="persons has 2 entries where resources_cents has 1"):
        projection.HouseholdArrays(one, np.ones(2, dtype=np.int64), one, one)
    with pytest.raises(ValueError, match="resources_cents must be at least 0, or -1"):
        projection.HouseholdArrays(np.array([-2]), one, one * 0, one)
    with pytest.raises(ValueError, match="children must be between 0 and the household's persons"):
        projection.HouseholdArrays(one, one, one * 2, one)
    with pytest.raises(ValueError, match="must hold integers"):
        projection.HouseholdArrays(one.astype(np.float64), one, one, one)
    with pytest.raises(ValueError, match="one-dimensional"):
        projection.HouseholdArrays(np.ones((1, 1), dtype=np.int64), one, one, one)


def test_project_refuses_what_is_not_its_inputs() -> None:
    with pytest.raises(ValueError, match="households must be a HouseholdArrays"):
        projection.project(
            scale=SCALE,
            allocation=RULE,
            households=[1, 2, 3],  # type: ignore[arg-type]
            assumptions=assumptions(),
        )
