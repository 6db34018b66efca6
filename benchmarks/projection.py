"""Benchmark the fund's projection at the size the issue asks for: 1 000 000 households x 36 months x 1 000 scenarios.

    .venv/bin/python benchmarks/projection.py [--households 1000000 --months 36 --scenarios 1000]

Builds synthetic households with NumPy (1 to 5 persons; monthly resources per consumption unit lognormal around
1 100 euros; 8 % undeclared), a Montpellier-like scale and Lyon's allocation rule, runs ``project`` and prints its
wall time and the process's peak memory (``ru_maxrss``), beside references measured in the same run on the same
machine: one NumPy pass over households x months (a sum of the resources array, once per month) and one draw of
months x scenarios normal numbers. Times are the best of ``--repeat`` runs.
"""

from __future__ import annotations

import argparse
import math
import resource
import time
import tracemalloc
from collections.abc import Callable

import numpy as np

from grenier.fund import projection

# Resources per consumption unit (cents) -> suggested monthly contribution (cents).
BRACKETS: tuple[tuple[int | None, int], ...] = (
    (60_000, 100),
    (90_000, 1_000),
    (120_000, 3_000),
    (160_000, 6_000),
    (200_000, 10_000),
    (None, 15_000),
)


def synthetic_households(count: int, seed: int) -> projection.HouseholdArrays:
    rng = np.random.default_rng(seed)
    persons = 1 + rng.binomial(4, 0.35, count)  # 1 to 5, about 2.4 on average
    adults = np.minimum(persons, 1 + rng.binomial(1, 0.55, count))
    children = persons - adults  # every child counts as under the age limit here
    units_x10 = (
        10 + 5 * (adults - 1) + 3 * children
    )  # OECD-modified scale: 1, 0.5 per other adult, 0.3 per child
    per_unit = rng.lognormal(mean=math.log(110_000), sigma=0.5, size=count)  # cents a month per unit
    resources = np.rint(per_unit * units_x10 / 10).astype(np.int64)
    resources[rng.random(count) < 0.08] = -1  # undeclared
    return projection.HouseholdArrays(
        resources_cents=resources,
        persons=persons.astype(np.int64),
        children=children.astype(np.int64),
        consumption_units_x10=units_x10.astype(np.int64),
    )


def best_time(repeat: int, work: Callable[[], object]) -> float:
    best = math.inf
    for _ in range(repeat):
        started = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - started)
    return best


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--households", type=int, default=1_000_000)
    parser.add_argument("--months", type=int, default=36)
    parser.add_argument("--scenarios", type=int, default=1_000)
    parser.add_argument("--chunk", type=int, default=10_000, help="Scenarios simulated together.")
    parser.add_argument("--repeat", type=int, default=3, help="Runs of each measure; the best time is kept.")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--trace-memory",
        action="store_true",
        help="Also measure the peak of NumPy's allocations during one projection (tracemalloc; slower).",
    )
    options = parser.parse_args(argv)

    started = time.perf_counter()
    households = synthetic_households(options.households, options.seed)
    built = time.perf_counter() - started
    scale = projection.ScaleRule(brackets=BRACKETS, minimum_cents=100)
    rule = projection.AllocationRule(
        base_cents=15_000, per_additional_person_cents=7_500, per_child_cents=4_500, carry_over="keep"
    )
    contributions = projection.suggested_contributions(scale, households)
    allocations = projection.allocations(rule, households)
    # Grants close most of the gap, so the fund neither surely holds nor surely runs dry.
    grants = int(0.95 * int(allocations.sum()) - int(contributions.sum()))
    assumptions = projection.Assumptions(
        months=options.months,
        scenarios=options.scenarios,
        seed=options.seed,
        starting_balance_cents=int(allocations.sum()),  # a month of allocations in the bank
        outstanding_credit_cents=int(allocations.sum()) // 2,
        monthly_grants_cents=max(grants, 0),
        spend_share_mean=0.92,
        chunk_scenarios=options.chunk,
    )
    rss_before = peak_mib()

    result: list[projection.Projection] = []

    def run() -> None:
        result[:] = [
            projection.project(scale=scale, allocation=rule, households=households, assumptions=assumptions)
        ]

    project_seconds = best_time(options.repeat, run)
    rules_seconds = best_time(
        options.repeat,
        lambda: (
            projection.suggested_contributions(scale, households),
            projection.allocations(rule, households),
        ),
    )
    rss_after = peak_mib()

    resources = households.resources_cents

    def households_by_months_pass() -> None:
        for _ in range(options.months):
            resources.sum()

    pass_seconds = best_time(options.repeat, households_by_months_pass)
    rng = np.random.default_rng(options.seed)
    draw_seconds = best_time(options.repeat, lambda: rng.standard_normal((options.months, options.scenarios)))

    traced = ""
    if options.trace_memory:
        tracemalloc.start()
        run()
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        traced = f"{peak / 2**20:,.0f} MiB"

    (projected,) = result
    size = f"{options.households:,} households x {options.months} months x {options.scenarios:,} scenarios"
    print(f"Fund projection: {size} (chunks of {options.chunk:,} scenarios), best of {options.repeat}")
    print(f"  synthetic households built in      {built:8.3f} s (not counted)")
    print(f"  project()                          {project_seconds:8.3f} s")
    print(f"    of which the rules (vectorised)  {rules_seconds:8.3f} s")
    print("  references, same run:")
    print(
        f"    one pass households x months     {pass_seconds:8.3f} s"
        f"   project() = {project_seconds / pass_seconds:,.1f} x this"
    )
    print(
        f"    normal draw months x scenarios   {draw_seconds:8.4f} s"
        f"   project() = {project_seconds / draw_seconds:,.0f} x this"
    )
    print(f"  peak RSS (ru_maxrss) before project  {rss_before:8,.0f} MiB (inputs built)")
    print(f"  peak RSS (ru_maxrss) after project   {rss_after:8,.0f} MiB")
    if traced:
        print(f"  peak NumPy allocations in one project() (tracemalloc)  {traced}")
    print(
        f"  month 1: contributions {projected.monthly_contribution_cents / 100:,.0f} EUR,"
        f" allocations {projected.monthly_allocation_cents / 100:,.0f} EUR,"
        f" grants {assumptions.monthly_grants_cents / 100:,.0f} EUR expected"
    )
    print(
        f"  balance at month {options.months}: 5 % {projected.balance_p05_cents[-1] / 100:,.0f} EUR,"
        f" median {projected.balance_p50_cents[-1] / 100:,.0f} EUR,"
        f" 95 % {projected.balance_p95_cents[-1] / 100:,.0f} EUR;"
        f" depletion probability {projected.depletion_probability:.1%}"
    )


if __name__ == "__main__":
    main()
