"""The common fund month by month: a Monte Carlo projection of its euro balance under a rule set.

Pure NumPy (no Django), so the pages, the CLI (``grenier fund project``), the governance module and the benchmark
all call the same function. Money is integer cents in every output.

**What is exact, computed once.** Each current household's contribution — the amount it chose (never below the
scale's minimum), else the scale's suggestion — and food-credit allocation (the rule), vectorised over the households
and equal, household by household, to what the monthly run computes with :mod:`grenier.fund.rules`. Month 1 is run with today's households exactly as they are.

**What is random, per scenario and per month** (seeded generators; same inputs and seed → same result):

* *Membership*, from month 2: leavers ~ Binomial(active households, leave rate), joiners ~ Binomial(active
  households, join rate). Leavers are a random share of the active households and take that share of the
  contributions, the allocations and the unspent credit with them (a leaver's card no longer pays, so that credit
  is never spent and never costs the fund a euro). Joiners are drawn from today's households: the contribution and
  allocation they bring are a bootstrap sum, approximated by a normal law (k joiners: k x the mean, k x the
  covariance of today's contribution and allocation); they start with no credit.
* *Spending*: the share of the credit households hold in the month (carried over + just issued) that they spend,
  normal around ``spend_share_mean`` with ``spend_share_volatility``, clipped to [0, 1].
* *Grants*: the expected monthly grants x a level drawn once per scenario (a funder renewing more or less, normal
  around 1 with ``grant_level_volatility``) x a factor drawn every month (normal around 1 with
  ``grant_volatility``), never below zero.

**Each month**, in the monthly run's order: (1) membership changes; (2) the carry-over policy applies to the credit
left at the end of last month: ``keep`` keeps it, ``return`` returns it to the fund (no euro moves: unspent credit
was never paid for), ``cap`` keeps at most the cap per staying household — on aggregates, min(credit, households x
cap), which can only overstate the credit kept, so errs on the fund's cautious side; (3) contributions come in
(euros, rounded to the cent), allocations are issued (credit), grants come in (euros); (4) households spend their
share of the credit they hold (rounded down to the cent) and the stores are paid that much in euros (in the same
month: the settlement's lag of a few days is ignored). The euro balance at a month's end is last month's plus
contributions plus grants minus what the stores were paid; a scenario *depletes* when that balance goes below zero
at any month's end.

**Memory.** Never an array households x scenarios: the households are reduced once to sums, means and a 2 x 2
covariance; each scenario then carries a handful of numbers (households, contributions, allocations, credit,
balance) through the months, scenarios being processed in chunks of ``chunk_scenarios``. What is kept for the
percentiles is months x scenarios for the balance, the credit and the household count: at most 3 x 8 bytes x
120 x 100 000 ≈ 290 MB, about 1 MB for 36 months x 1 000 scenarios.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

CARRY_OVER_POLICIES = ("keep", "cap", "return")
MAX_MONTHS = 120
MAX_SCENARIOS = 100_000
_INT64_MAX = int(np.iinfo(np.int64).max)


# --- inputs ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScaleRule:
    """The contribution scale: ``brackets`` of ``(up_to_cents_or_None, suggested_cents)``, in order.

    ``up_to`` bounds the monthly resources per consumption unit (cents); the first bracket whose bound is ``None``
    or at least the household's figure applies, and the last bracket's amount when none does (as in
    :func:`grenier.fund.rules.suggested_contribution_cents`). Never below ``minimum_cents``; households whose
    resources are unknown are suggested the minimum.
    """

    brackets: tuple[tuple[int | None, int], ...]
    minimum_cents: int

    def __post_init__(self) -> None:
        _check_int("minimum_cents", self.minimum_cents, low=0)
        if len(self.brackets) == 0:
            raise ValueError("A contribution scale needs at least one bracket.")
        for index, bracket in enumerate(self.brackets, start=1):
            if len(bracket) != 2:
                raise ValueError(f"Bracket {index} must be (up to, suggested), not {bracket!r}.")
            up_to, suggested = bracket
            if up_to is not None:
                _check_int(f"bracket {index}'s upper bound", up_to)
            _check_int(f"bracket {index}'s suggested contribution", suggested, low=0)


@dataclass(frozen=True)
class AllocationRule:
    """The monthly food-credit allocation and what happens to unspent credit.

    ``base_cents`` for a household (its first person), plus ``per_additional_person_cents`` for each other person,
    plus ``per_child_cents`` for each child under the age limit; nothing for a household with nobody in it.
    ``carry_over`` is ``"keep"`` (all unspent credit is kept), ``"cap"`` (kept up to ``carry_over_cap_cents`` per
    household, the rest returned) or ``"return"`` (all returned to the fund at month end).
    """

    base_cents: int
    per_additional_person_cents: int
    per_child_cents: int
    carry_over: str = "keep"
    carry_over_cap_cents: int = 0

    def __post_init__(self) -> None:
        _check_int("base_cents", self.base_cents, low=0)
        _check_int("per_additional_person_cents", self.per_additional_person_cents, low=0)
        _check_int("per_child_cents", self.per_child_cents, low=0)
        _check_int("carry_over_cap_cents", self.carry_over_cap_cents, low=0)
        if self.carry_over not in CARRY_OVER_POLICIES:
            raise ValueError(
                f"carry_over must be one of {', '.join(CARRY_OVER_POLICIES)}, not {self.carry_over!r}."
            )


@dataclass(frozen=True)
class HouseholdArrays:
    """Today's active households as four aligned one-dimensional integer arrays (one entry per household).

    ``resources_cents``: declared monthly resources, ``-1`` when unknown; ``persons``: people in the household;
    ``children``: those under the rule's age limit (at most ``persons``); ``consumption_units_x10``: consumption
    units x 10 (1.8 → 18); ``chosen_cents`` (optional): the monthly contribution each household chose, ``-1`` where
    it chose none (the scale's suggestion then applies), as in the monthly run. ``counts`` (optional): how many
    households each entry stands for (``fund.planning`` passes one entry per group of identical households); one
    each when absent.
    """

    resources_cents: IntArray
    persons: IntArray
    children: IntArray
    consumption_units_x10: IntArray
    chosen_cents: IntArray | None = None
    counts: IntArray | None = None

    def __post_init__(self) -> None:
        size: int | None = None
        for name in (
            "resources_cents",
            "persons",
            "children",
            "consumption_units_x10",
            "chosen_cents",
            "counts",
        ):
            array = getattr(self, name)
            if array is None and name in ("chosen_cents", "counts"):
                continue
            if not isinstance(array, np.ndarray) or array.ndim != 1:
                raise ValueError(f"{name} must be a one-dimensional NumPy array.")
            if not np.issubdtype(array.dtype, np.integer):
                raise ValueError(f"{name} must hold integers, not {array.dtype}.")
            if size is None:
                size = len(array)
            elif len(array) != size:
                raise ValueError(f"{name} has {len(array)} entries where resources_cents has {size}.")
        if size:
            if int(self.resources_cents.min()) < -1:
                raise ValueError("resources_cents must be at least 0, or -1 when unknown.")
            if int(self.persons.min()) < 0:
                raise ValueError("persons cannot be negative.")
            if int(self.children.min()) < 0 or bool(np.any(self.children > self.persons)):
                raise ValueError("children must be between 0 and the household's persons.")
            if int(self.consumption_units_x10.min()) < 0:
                raise ValueError("consumption_units_x10 cannot be negative.")
            if self.counts is not None and int(self.counts.min()) < 0:
                raise ValueError("counts cannot be negative.")

    def __len__(self) -> int:
        return len(self.resources_cents)

    @property
    def households(self) -> int:
        """How many households the arrays stand for."""
        return len(self) if self.counts is None else int(self.counts.sum())


@dataclass(frozen=True)
class Assumptions:
    """What the projection assumes beyond the rules and the households.

    Attributes:
        months: how many months to project, 1 to 120; month 1 is the next monthly run.
        scenarios: how many random scenarios, 1 to 100 000.
        seed: the random seed (an integer ≥ 0); the same assumptions give the same projection.
        starting_balance_cents: the fund's euro balance now, at the end of the current month.
        outstanding_credit_cents: food credit the households hold now, not yet spent (≥ 0); month 1's
            carry-over applies to it.
        monthly_grants_cents: the grants expected per month (≥ 0).
        spend_share_mean: the share of the credit they hold (carried over + issued) that households spend in a
            month, 0 to 1.
        spend_share_volatility: the standard deviation of that share from month to month (absolute: 0.05 means
            ± 5 points); the share is clipped to [0, 1].
        monthly_join_rate: joiners per month as a share of the active households (0.02: 2 new households a month
            for every 100), from month 2.
        monthly_leave_rate: the chance an active household leaves in a month, from month 2.
        grant_level_volatility: the relative standard deviation of the grants' level over the whole projection,
            drawn once per scenario (0.1: in one scenario out of six, about 10 % less than expected all along).
        grant_volatility: the relative standard deviation of each month's grants around that level (grants come
            irregularly).
        chunk_scenarios: scenarios simulated together; bounds the working memory, not the result (a different
            chunk size draws other random numbers, so it is part of what makes a projection reproducible).
    """

    months: int
    scenarios: int
    seed: int
    starting_balance_cents: int
    outstanding_credit_cents: int
    monthly_grants_cents: int
    spend_share_mean: float
    spend_share_volatility: float = 0.05
    monthly_join_rate: float = 0.02
    monthly_leave_rate: float = 0.02
    grant_level_volatility: float = 0.10
    grant_volatility: float = 0.20
    chunk_scenarios: int = 10_000

    def __post_init__(self) -> None:
        _check_int("months", self.months, low=1, high=MAX_MONTHS)
        _check_int("scenarios", self.scenarios, low=1, high=MAX_SCENARIOS)
        _check_int("seed", self.seed, low=0)
        _check_int("starting_balance_cents", self.starting_balance_cents)
        _check_int("outstanding_credit_cents", self.outstanding_credit_cents, low=0)
        _check_int("monthly_grants_cents", self.monthly_grants_cents, low=0)
        _check_float("spend_share_mean", self.spend_share_mean, high=1.0)
        _check_float("spend_share_volatility", self.spend_share_volatility)
        _check_float("monthly_join_rate", self.monthly_join_rate, high=1.0)
        _check_float("monthly_leave_rate", self.monthly_leave_rate, high=1.0)
        _check_float("grant_level_volatility", self.grant_level_volatility)
        _check_float("grant_volatility", self.grant_volatility)
        _check_int("chunk_scenarios", self.chunk_scenarios, low=1)


def _check_int(name: str, value: object, *, low: int | None = None, high: int | None = None) -> None:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise ValueError(f"{name} must be a whole number, not {value!r}.")
    number = int(value)
    if abs(number) > _INT64_MAX:
        raise ValueError(f"{name} is out of range: {number}.")
    if low is not None and number < low:
        raise ValueError(f"{name} must be at least {low}, not {number}.")
    if high is not None and number > high:
        raise ValueError(f"{name} must be at most {high}, not {number}.")


def _check_float(name: str, value: object, *, high: float | None = None) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise ValueError(f"{name} must be a number, not {value!r}.")
    number = float(value)
    if not math.isfinite(number) or number < 0:
        raise ValueError(f"{name} must be a finite number at least 0, not {number}.")
    if high is not None and number > high:
        raise ValueError(f"{name} must be at most {high}, not {number}.")


# --- the rules, vectorised -------------------------------------------------------------------------------------


def contributions(scale: ScaleRule, households: HouseholdArrays) -> IntArray:
    """Each household's monthly contribution in cents, as the monthly run takes it: the amount it chose, never below
    the scale's minimum, or the scale's suggestion where it chose none."""
    suggested = suggested_contributions(scale, households)
    if households.chosen_cents is None:
        return suggested
    chosen = households.chosen_cents.astype(np.int64, copy=False)
    return np.where(chosen >= 0, np.maximum(chosen, scale.minimum_cents), suggested)


def suggested_contributions(scale: ScaleRule, households: HouseholdArrays) -> IntArray:
    """Each household's suggested monthly contribution in cents: ``rules.suggested_contribution_cents``, vectorised."""
    resources = households.resources_cents.astype(np.int64, copy=False)
    units = np.maximum(households.consumption_units_x10.astype(np.int64, copy=False), 1)
    known = resources >= 0
    per_unit = np.where(known, resources, 0) * 10 // units
    # Brackets after the first open-ended one are never reached; with none, the last bracket's amount applies.
    bounds: list[int] = []
    amounts: list[int] = []
    for up_to, suggested in scale.brackets:
        amounts.append(max(int(suggested), scale.minimum_cents))
        if up_to is None:
            break
        bounds.append(int(up_to))
    else:
        amounts.append(amounts[-1])
    values = np.asarray(amounts, dtype=np.int64)
    bounds_array = np.asarray(bounds, dtype=np.int64)
    if bounds_array.size < 2 or bool(np.all(np.diff(bounds_array) >= 0)):
        # Non-decreasing bounds: the first bound ≥ the figure is where it would be inserted on the left.
        index = np.searchsorted(bounds_array, per_unit, side="left")
    else:
        index = np.full(per_unit.shape, len(bounds), dtype=np.intp)
        for position in range(len(bounds) - 1, -1, -1):  # from the last, so the first match wins
            index[per_unit <= bounds[position]] = position
    result: IntArray = np.where(known, values[index], np.int64(scale.minimum_cents)).astype(np.int64)
    return result


def allocations(rule: AllocationRule, households: HouseholdArrays) -> IntArray:
    """Each household's monthly food-credit allocation in cents: ``rules.allocation_cents``, vectorised."""
    persons = households.persons.astype(np.int64, copy=False)
    children = households.children.astype(np.int64, copy=False)
    amount = (
        np.int64(rule.base_cents)
        + np.int64(rule.per_additional_person_cents) * (persons - 1)
        + np.int64(rule.per_child_cents) * children
    )
    result: IntArray = np.where(persons == 0, np.int64(0), amount).astype(np.int64)
    return result


# --- the projection --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Projection:
    """The fund month by month. Every per-month tuple has ``months`` entries; entry 0 is month 1's end.

    ``balance_pXX_cents``: the fund's euro balance, 5th, 50th and 95th percentile over the scenarios;
    ``outstanding_credit_p50_cents``: the credit households hold at month end (median); ``households_pXX``: active
    households; ``*_mean_cents``: the month's flows, averaged over the scenarios (contributions and grants in,
    allocations issued as credit, euros paid to the stores for credit spent); ``depletion_by_month``: the share of
    scenarios whose balance has gone below zero by that month's end; ``depletion_probability``: the last of those;
    ``months_until_depletion_p50``: the first month by which half the scenarios have run dry (``None``: not within
    the projection). ``monthly_contribution_cents`` and ``monthly_allocation_cents`` are month 1's totals for
    today's ``households``.
    """

    months: int
    scenarios: int
    households: int
    monthly_contribution_cents: int
    monthly_allocation_cents: int
    balance_p05_cents: tuple[int, ...]
    balance_p50_cents: tuple[int, ...]
    balance_p95_cents: tuple[int, ...]
    balance_mean_cents: tuple[int, ...]
    outstanding_credit_p50_cents: tuple[int, ...]
    households_p05: tuple[int, ...]
    households_p50: tuple[int, ...]
    households_p95: tuple[int, ...]
    contributions_mean_cents: tuple[int, ...]
    allocations_mean_cents: tuple[int, ...]
    grants_mean_cents: tuple[int, ...]
    spent_mean_cents: tuple[int, ...]
    depletion_by_month: tuple[float, ...]
    depletion_probability: float
    months_until_depletion_p50: int | None


@dataclass(frozen=True)
class _Population:
    """Today's households reduced to what the scenarios need: count, totals, and the law a joiner is drawn from."""

    count: int
    contribution_cents: int
    allocation_cents: int
    mean_contribution: float
    mean_allocation: float
    # Lower-triangular Cholesky factor of the covariance of (contribution, allocation) over the households.
    chol_11: float
    chol_21: float
    chol_22: float


def _population(
    contributions: IntArray, allocations_: IntArray, counts: IntArray | None = None
) -> _Population:
    """The households' count, totals, means and covariance, from exact integer sums (so neither the households'
    order nor their grouping changes a bit of the result: ``counts`` weighs each entry)."""
    weights = np.ones(len(contributions), dtype=np.int64) if counts is None else counts.astype(np.int64)
    count = int(weights.sum())
    if count == 0:
        return _Population(0, 0, 0, 0.0, 0.0, 0.0, 0.0, 0.0)
    c, a = _exact(contributions), _exact(allocations_)
    w = _exact(weights)
    sum_c, sum_a = int(np.dot(w, c)), int(np.dot(w, a))
    sum_cc, sum_aa, sum_ca = int(np.dot(w, c * c)), int(np.dot(w, a * a)), int(np.dot(w, c * a))
    square = count * count
    var_c = (count * sum_cc - sum_c * sum_c) / square  # Python integers, then one correctly rounded division
    var_a = (count * sum_aa - sum_a * sum_a) / square
    cov = (count * sum_ca - sum_c * sum_a) / square
    chol_11 = math.sqrt(var_c)
    chol_21 = cov / chol_11 if chol_11 > 0 else 0.0
    chol_22 = math.sqrt(max(var_a - chol_21 * chol_21, 0.0))
    return _Population(
        count=count,
        contribution_cents=sum_c,
        allocation_cents=sum_a,
        mean_contribution=sum_c / count,
        mean_allocation=sum_a / count,
        chol_11=chol_11,
        chol_21=chol_21,
        chol_22=chol_22,
    )


def _exact(values: IntArray) -> npt.NDArray[np.object_]:
    """The values as Python integers, so that sums of products never overflow 64 bits."""
    return values.astype(np.int64).astype(object)


@dataclass
class _Totals:
    """Across chunks: the months x scenarios matrices the percentiles need, and sums for the means."""

    balance: IntArray
    credit: IntArray
    households: IntArray
    contributions: list[int]
    allocations: list[int]
    grants: list[int]
    spent: list[int]
    depleted_in: list[int]  # scenarios whose balance first went below zero in each month


def project(
    *,
    scale: ScaleRule,
    allocation: AllocationRule,
    households: HouseholdArrays,
    assumptions: Assumptions,
) -> Projection:
    """Project the fund over ``assumptions.months`` months in ``assumptions.scenarios`` scenarios (see the module)."""
    for name, value, kind in (
        ("scale", scale, ScaleRule),
        ("allocation", allocation, AllocationRule),
        ("households", households, HouseholdArrays),
        ("assumptions", assumptions, Assumptions),
    ):
        if not isinstance(value, kind):
            raise ValueError(f"{name} must be a {kind.__name__}, not {type(value).__name__}.")
    population = _population(
        contributions(scale, households), allocations(allocation, households), households.counts
    )
    months, scenarios = assumptions.months, assumptions.scenarios
    totals = _Totals(
        balance=np.empty((months, scenarios), dtype=np.int64),
        credit=np.empty((months, scenarios), dtype=np.int64),
        households=np.empty((months, scenarios), dtype=np.int64),
        contributions=[0] * months,
        allocations=[0] * months,
        grants=[0] * months,
        spent=[0] * months,
        depleted_in=[0] * months,
    )
    chunk = assumptions.chunk_scenarios
    starts = range(0, scenarios, chunk)
    streams = np.random.SeedSequence(assumptions.seed).spawn(len(starts))
    for start, stream in zip(starts, streams, strict=True):
        _simulate(
            np.random.default_rng(stream),
            slice(start, min(start + chunk, scenarios)),
            population,
            allocation,
            assumptions,
            totals,
        )
    return _summarise(population, assumptions, totals)


def _simulate(
    rng: np.random.Generator,
    columns: slice,
    population: _Population,
    rule: AllocationRule,
    assumptions: Assumptions,
    totals: _Totals,
) -> None:
    """Run one chunk of scenarios through every month, writing into ``totals``."""
    size = columns.stop - columns.start
    active = np.full(size, population.count, dtype=np.int64)
    # The active households' monthly totals, in cents (floats: leavers take a share of them).
    contribution = np.full(size, float(population.contribution_cents))
    allocation = np.full(size, float(population.allocation_cents))
    credit = np.full(size, assumptions.outstanding_credit_cents, dtype=np.int64)
    balance = np.full(size, assumptions.starting_balance_cents, dtype=np.int64)
    depleted = np.zeros(size, dtype=bool)
    grant_level = np.maximum(1.0 + assumptions.grant_level_volatility * rng.standard_normal(size), 0.0)
    grant_level *= assumptions.monthly_grants_cents
    cap = np.int64(rule.carry_over_cap_cents)
    for month in range(assumptions.months):
        stayers = active
        if month > 0:
            leavers = rng.binomial(active, assumptions.monthly_leave_rate)
            joiners = rng.binomial(active, assumptions.monthly_join_rate)
            first, second = rng.standard_normal(size), rng.standard_normal(size)
            share_left = np.divide(leavers, active, out=np.zeros(size), where=active > 0)
            contribution -= contribution * share_left
            allocation -= allocation * share_left
            credit -= np.rint(credit * share_left).astype(np.int64)
            stayers = active - leavers
            spread = np.sqrt(joiners)
            contribution += joiners * population.mean_contribution + spread * (population.chol_11 * first)
            allocation += joiners * population.mean_allocation + spread * (
                population.chol_21 * first + population.chol_22 * second
            )
            np.maximum(contribution, 0.0, out=contribution)
            np.maximum(allocation, 0.0, out=allocation)
            active = stayers + joiners
        if rule.carry_over == "return":
            credit[:] = 0
        elif rule.carry_over == "cap":
            np.minimum(credit, stayers * cap, out=credit)
        contributions_in = np.rint(contribution).astype(np.int64)
        issued = np.rint(allocation).astype(np.int64)
        grant_factor = np.maximum(1.0 + assumptions.grant_volatility * rng.standard_normal(size), 0.0)
        grants_in = np.rint(grant_level * grant_factor).astype(np.int64)
        share = np.clip(
            assumptions.spend_share_mean + assumptions.spend_share_volatility * rng.standard_normal(size),
            0.0,
            1.0,
        )
        credit += issued
        spent = np.floor(share * credit).astype(np.int64)
        credit -= spent
        balance += contributions_in + grants_in - spent
        newly = (balance < 0) & ~depleted
        depleted |= newly
        totals.balance[month, columns] = balance
        totals.credit[month, columns] = credit
        totals.households[month, columns] = active
        totals.contributions[month] += int(contributions_in.sum())
        totals.allocations[month] += int(issued.sum())
        totals.grants[month] += int(grants_in.sum())
        totals.spent[month] += int(spent.sum())
        totals.depleted_in[month] += int(newly.sum())


def _summarise(population: _Population, assumptions: Assumptions, totals: _Totals) -> Projection:
    scenarios = assumptions.scenarios
    balance = _percentiles(totals.balance, (5, 50, 95))
    households = _percentiles(totals.households, (5, 50, 95))
    (credit,) = _percentiles(totals.credit, (50,))
    depleted = 0
    by_month: list[float] = []
    half: int | None = None
    for month, count in enumerate(totals.depleted_in, start=1):
        depleted += count
        by_month.append(depleted / scenarios)
        if half is None and 2 * depleted >= scenarios:
            half = month
    return Projection(
        months=assumptions.months,
        scenarios=scenarios,
        households=population.count,
        monthly_contribution_cents=population.contribution_cents,
        monthly_allocation_cents=population.allocation_cents,
        balance_p05_cents=balance[0],
        balance_p50_cents=balance[1],
        balance_p95_cents=balance[2],
        balance_mean_cents=tuple(_mean(int(row.sum()), scenarios) for row in totals.balance),
        outstanding_credit_p50_cents=credit,
        households_p05=households[0],
        households_p50=households[1],
        households_p95=households[2],
        contributions_mean_cents=tuple(_mean(total, scenarios) for total in totals.contributions),
        allocations_mean_cents=tuple(_mean(total, scenarios) for total in totals.allocations),
        grants_mean_cents=tuple(_mean(total, scenarios) for total in totals.grants),
        spent_mean_cents=tuple(_mean(total, scenarios) for total in totals.spent),
        depletion_by_month=tuple(by_month),
        depletion_probability=depleted / scenarios,
        months_until_depletion_p50=half,
    )


def _percentiles(matrix: IntArray, levels: Sequence[int]) -> list[tuple[int, ...]]:
    """Per month (row), the given percentiles over the scenarios (columns), rounded to whole numbers."""
    values = np.rint(np.percentile(matrix, list(levels), axis=1))
    return [tuple(int(v) for v in row) for row in values]


def _mean(total: int, count: int) -> int:
    """``total / count`` rounded half up, in exact integer arithmetic."""
    return (2 * total + count) // (2 * count)


__all__ = [
    "AllocationRule",
    "Assumptions",
    "HouseholdArrays",
    "Projection",
    "ScaleRule",
    "allocations",
    "project",
    "suggested_contributions",
]
