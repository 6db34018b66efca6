"""Benchmark the supply plan (grenier.supply.optimiser) beside a greedy nearest-first allocation.

    .venv/bin/python benchmarks/supply.py [--producers 300 --products 80 --kitchens 100 --seed 1]
                                          [--year-producers 7 --year-products 30 --year-kitchens 2 --weeks 52]
                                          [--skip-regional] [--skip-year] [--skip-replan] [--medium 10]
                                          [--time-limit 60]

Two generated instances, each solved by ``solve`` (HiGHS MILP, proven optimum) and by ``greedy_nearest_first``:

* The regional week: P producers x G products x K kitchens, one week. Each producer grows 10 to 20 products, declares
  20 to 400 kg of each (a minimum lot of 5 to 20 kg for a third of them); each kitchen orders about 30 products on 2 to
  5 of the 5 weekdays, 2 to 30 kg a line. Coordinates uniform in a 100 km square, straight-line distances. Shares
  proportional to each producer's declared volume (so a fair plan exists), no carried gap. The demand is scaled to
  about 90 % of what is declared overall, so some products run short and others do not.
* The group's year: 7 producers x 30 products x 2 kitchens x 52 weeks, seasonal availability (each product in season
  for part of the year, with a weekly noise), demand on 2 to 3 days, equal shares; solved week by week, the gap carried
  from week to week (the greedy allocation gets the same weeks, and its gap is computed the same way).

Printed: time to a proven optimum, % of demand met, mean and max absolute deviation from shares (the carried gap
after the week or year, in % of the producer's target volume), total distance (km x kg); the greedy's figures and the
ratios optimiser / greedy. For the regional week also each stage of the solve (demand first, then shares and
distance): its time, and the delivered plan's value on the stage's own objective against the proven bound (the
gap). Then two re-plans of the regional week after a shortfall (``replan``): the farm with the most of one product
that the others can cover loses all of it ("covered"), and the farm with the most of any product loses half of it
("short", the group cannot cover it all): time, delivery lines changed, farms and kitchens told, volume moved,
demand met, and each stage of the re-plan (demand, lines, volume, shares and distance). Every figure is printed
with the machine's load average over the last minute (``os.getloadavg``), taken right after it.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import os
import random
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from grenier.supply import optimiser
from grenier.supply.optimiser import (
    DemandLine,
    Kitchen,
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

DAYS = ("1-mon", "2-tue", "3-wed", "4-thu", "5-fri")


def regional_week(producers: int, products: int, kitchens: int, seed: int) -> Week:
    rng = random.Random(seed)  # noqa: S311 - generated test data
    prods = [Product(f"g{i:03d}", "g", step=100) for i in range(products)]
    farms = [Producer(f"p{i:03d}") for i in range(producers)]
    kits = [Kitchen(f"k{i:03d}") for i in range(kitchens)]
    where = {x.id: (rng.uniform(0, 100), rng.uniform(0, 100)) for x in [*farms, *kits]}
    supply: list[Supply] = []
    for f in farms:
        for g in rng.sample(prods, rng.randint(10, 20)):
            kg = rng.randint(20, 400)
            lot = rng.randint(5, 20) * 1000 if rng.random() < 1 / 3 else 0
            supply.append(Supply(f.id, g.id, kg * 1000, lot))
    demand: list[DemandLine] = []
    for k in kits:
        for g in rng.sample(prods, min(products, rng.randint(25, 35))):
            for d in rng.sample(DAYS, rng.randint(2, 5)):
                demand.append(DemandLine(k.id, g.id, d, rng.randint(2, 30) * 1000))
    declared = sum(s.available for s in supply)
    asked = sum(d.quantity for d in demand)
    scale = 0.9 * declared / asked
    demand = [
        DemandLine(d.kitchen, d.product, d.day, max(1, round(d.quantity * scale / 1000)) * 1000)
        for d in demand
    ]
    volume = {f.id: 0 for f in farms}
    for s in supply:
        volume[s.producer] += s.available
    shares = {p: v / declared for p, v in volume.items()}
    distances = {(f.id, k.id): math.dist(where[f.id], where[k.id]) for f in farms for k in kits}
    return Week(kits, farms, prods, demand, supply, shares, {}, distances)


def year_weeks(producers: int, products: int, kitchens: int, weeks: int, seed: int) -> list[Week]:
    rng = random.Random(seed)  # noqa: S311 - generated test data
    prods = [Product(f"veg{i:02d}", "g", step=100) for i in range(products)]
    farms = [Producer(f"farm{i}") for i in range(producers)]
    kits = [Kitchen("school"), Kitchen("nursing-home")][:kitchens] + [
        Kitchen(f"kitchen{i}") for i in range(2, kitchens)
    ]
    where = {x.id: (rng.uniform(0, 30), rng.uniform(0, 30)) for x in [*farms, *kits]}
    distances = {(f.id, k.id): math.dist(where[f.id], where[k.id]) for f in farms for k in kits}
    season = {g.id: (rng.randrange(52), rng.randint(12, 40)) for g in prods}  # start week, weeks in season
    grows = {f.id: set(rng.sample([g.id for g in prods], rng.randint(12, 22))) for f in farms}
    size = {f.id: rng.uniform(0.6, 1.4) for f in farms}
    shares = {f.id: 1 / producers for f in farms}
    out: list[Week] = []
    for w in range(weeks):
        in_season = {g for g, (start, length) in season.items() if (w - start) % 52 < length}
        supply = [
            Supply(f.id, g, round(size[f.id] * rng.uniform(10, 60)) * 1000, 5000 if rng.random() < 0.3 else 0)
            for f in farms
            for g in sorted(grows[f.id] & in_season)
        ]
        demand = [
            DemandLine(k.id, g, d, rng.randint(3, 25) * 1000)
            for k in kits
            for g in sorted(in_season)
            if rng.random() < 0.8
            for d in rng.sample(DAYS, rng.randint(2, 3))
        ]
        out.append(Week(kits, farms, prods, demand, supply, shares, {}, distances))
    return out


def medium_week(seed: int, producers: int = 22, products: int = 12, kitchens: int = 6) -> Week:
    """A medium week of the kind that used to take as much CPU as the regional one in HiGHS's heuristics, on a model
    it called badly scaled: products in grams (step 1; 100 kg to 1.6 t declared, 20 to 500 kg a line) and in pieces
    counting 50, 150 or 400 g, a third of the declarations with a minimum lot, random shares and carried gaps of up
    to 20 kg either way."""
    rng = random.Random(seed)  # noqa: S311 - generated test data
    goods = [
        Product(f"g{i:02d}", "g")
        if i % 3
        else Product(f"g{i:02d}", "piece", share_factor=rng.choice([50, 150, 400]))
        for i in range(products)
    ]
    farms = [Producer(f"p{i:02d}") for i in range(producers)]
    kits = [Kitchen(f"k{i}") for i in range(kitchens)]
    supply = []
    for f in farms:
        for g in rng.sample(goods, rng.randint(3, 8)):
            unit = 20_000 if g.share_factor == 1 else 10
            available = rng.randint(5, 80) * unit
            lot = rng.randint(2, 20) * unit if rng.random() < 1 / 3 else 0
            supply.append(Supply(f.id, g.id, available, min(lot, available)))
    demand = [
        DemandLine(k.id, g.id, d, rng.randint(1, 25) * (20_000 if g.share_factor == 1 else 10))
        for k in kits
        for g in goods
        for d in DAYS[:3]
        if rng.random() < 0.6
    ]
    weights = [rng.random() for _ in farms]
    shares = {f.id: w / sum(weights) for f, w in zip(farms, weights, strict=True)}
    gaps = {f.id: rng.uniform(-20_000, 20_000) for f in farms}
    distances = {(f.id, k.id): rng.uniform(1, 60) for f in farms for k in kits}
    return Week(kits, farms, goods, demand, supply, shares, gaps, distances)


def show_medium(count: int, seed: int, time_limit: float) -> None:
    """Medium weeks: time, proof, and what HiGHS said of the models' scaling (its log, every model of the solve)."""
    print(
        f"\n### Medium weeks ({count} of them: 22 farms x 12 products x 6 kitchens, share factors up to 400)\n"
    )
    print(
        "| week | declarations | lots | time | proven | largest stage gap | 'badly scaled' in HiGHS's log | load |"
    )
    print("|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as where:
        for n in range(count):
            week = medium_week(seed + n)
            log = os.path.join(where, f"week{n}.log")
            optimiser.SOLVER_LOG = log
            began = time.perf_counter()
            plan = solve(week, time_limit=time_limit)
            took = time.perf_counter() - began
            optimiser.SOLVER_LOG = None
            with open(log, encoding="utf-8") as f:
                badly = sum("badly scaled" in line for line in f)
            lots = sum(1 for s in week.supply if s.minimum_lot)
            print(
                f"| {seed + n} | {len(week.supply)} | {lots} | {took:.2f} s | {'yes' if plan.proven_optimal else 'no'} "
                f"| {plan.mip_gap:.1e} | {badly} | {load()} |"
            )


@dataclass
class Figures:
    seconds: float
    demand: int
    supplied: int
    deviations: list[float]  # |gap| / target volume, per producer, in %
    distance_km_kg: float
    optimal: str
    load: str = ""  # the load average right after the figure was taken

    @property
    def met(self) -> float:
        return 100.0 * self.supplied / self.demand if self.demand else 100.0


def deviations(gaps: dict[str, float], shares: dict[str, float], total: float) -> list[float]:
    return [100.0 * abs(gap) / (shares[p] * total) for p, gap in gaps.items() if shares[p] * total > 0]


def week_figures(plan: Plan, week: Week, seconds: float) -> Figures:
    total = sum(r.supplied for r in plan.producers)
    shares = {p: float(s) for p, s in week.shares.items()}
    gaps = {r.producer: r.new_gap for r in plan.producers}
    return Figures(
        seconds,
        plan.demand_total,
        plan.supplied_total,
        deviations(gaps, shares, total),
        plan.total_distance / 1000,
        "yes" if plan.proven_optimal else "no",
        load(),
    )


def year_figures(weeks: Sequence[Week], greedy: bool, time_limit: float) -> Figures:
    gaps: dict[str, float] = {}
    total_volume = 0.0
    fig = Figures(0.0, 0, 0, [], 0.0, "yes")
    proven = 0
    worst = 0.0
    for week in weeks:
        week = dataclasses.replace(week, gaps=dict(gaps))
        began = time.perf_counter()
        plan = greedy_nearest_first(week) if greedy else solve(week, time_limit=time_limit)
        took = time.perf_counter() - began
        fig.seconds += took
        worst = max(worst, took)
        proven += plan.proven_optimal
        fig.demand += plan.demand_total
        fig.supplied += plan.supplied_total
        fig.distance_km_kg += plan.total_distance / 1000
        total_volume += sum(r.supplied for r in plan.producers)
        gaps = {r.producer: r.new_gap for r in plan.producers}
    shares = {p: float(s) for p, s in weeks[0].shares.items()}
    fig.deviations = deviations(gaps, shares, total_volume)
    fig.optimal = "greedy" if greedy else f"{proven}/{len(weeks)} weeks, slowest week {worst:.2f} s"
    fig.load = load()
    return fig


def load() -> str:
    return f"{os.getloadavg()[0]:.2f}"


def show_stages(plan: Plan) -> None:
    """Each stage of the solve, measured on the delivered plan."""
    print("| stage | time | delivered | bound | gap | proven | load |")
    print("|---|---|---|---|---|---|---|")
    units = {"demand": "kg", "volume": "kg", "lines": "lines", "shares_distance": ""}
    for s in plan.stages:
        scale = 1000 if units[s.name] == "kg" else 1
        unit = f" {units[s.name]}" if units[s.name] else ""
        print(
            f"| {s.name} | {s.seconds:.2f} s | {s.objective / scale:,.1f}{unit} | {s.bound / scale:,.1f}{unit} "
            f"| {s.gap:.1e} | {'yes' if s.proven else 'no'} | {load()} |"
        )


def shortfalls(week: Week, plan: Plan) -> list[tuple[str, Shortfall, int]]:
    """The two shortfalls of the regional re-plans: (name, shortfall, quantity the farm had planned)."""
    planned: Counter[tuple[str, str]] = Counter()
    for x in plan.lines:
        planned[x.producer, x.product] += x.quantity
    spare: Counter[str] = Counter()
    for s in week.supply:
        if not s.minimum_lot:  # what farms without a lot have left: they can send any of it
            spare[s.product] += s.available - planned[s.producer, s.product]
    (farm, product), q = max(
        ((fp, q) for fp, q in planned.items() if spare[fp[1]] >= q), key=lambda kv: (kv[1], kv[0])
    )
    # the most of a product the others cannot make up for (they have less left than half of it)
    (farm2, product2), q2 = max(
        [(fp, q) for fp, q in planned.items() if spare[fp[1]] < q // 2] or list(planned.items()),
        key=lambda kv: (kv[1], kv[0]),
    )
    return [
        ("covered", Shortfall(farm, product, 0), q),
        ("short", Shortfall(farm2, product2, q2 // 2 // 100 * 100), q2),
    ]


def show_replans(week: Week, plan: Plan, time_limit: float) -> None:
    for name, shortfall, had in shortfalls(week, plan):
        began = time.perf_counter()
        result = replan(week, plan, shortfall, time_limit=time_limit)
        took = time.perf_counter() - began
        after = result.plan
        print(
            f"\n#### Re-plan after a shortfall, {name}: {shortfall.producer} has {shortfall.available / 1000:g} kg of "
            f"{shortfall.product} instead of {had / 1000:g} kg planned\n"
        )
        print(
            "| time | proven | lines changed | farms told | kitchens told | volume moved | demand met | load |"
        )
        print("|---|---|---|---|---|---|---|---|")
        print(
            f"| {took:.2f} s | {'yes' if after.proven_optimal else 'no'} | {len(result.changes)} "
            f"| {len(result.affected_producers)} | {len(result.affected_kitchens)} "
            f"| {result.volume_moved / 1000:,.1f} kg | {100 * after.supplied_total / after.demand_total:.2f} % "
            f"(before {100 * plan.supplied_total / plan.demand_total:.2f} %) | {load()} |"
        )
        print()
        show_stages(after)


def show(title: str, opt: Figures, greedy: Figures) -> None:
    def row(name: str, f: Figures) -> str:
        dev = f.deviations or [0.0]
        return (
            f"| {name} | {f.seconds:.2f} s | {f.optimal} | {f.met:.2f} % | {sum(dev) / len(dev):.2f} % "
            f"| {max(dev):.2f} % | {f.distance_km_kg:,.0f} | {f.load} |"
        )

    def ratio(a: float, b: float) -> str:
        return f"{a / b:.2f}" if b else "-"

    og, gg = opt.deviations or [0.0], greedy.deviations or [0.0]
    print(f"\n### {title}\n")
    print(
        "| | time | proven optimum | demand met | mean deviation | max deviation | distance (km x kg) | load |"
    )
    print("|---|---|---|---|---|---|---|---|")
    print(row("optimiser", opt))
    print(row("greedy nearest-first", greedy))
    print(
        f"| optimiser / greedy | {ratio(opt.seconds, greedy.seconds)} | | {ratio(opt.met, greedy.met)} "
        f"| {ratio(sum(og) / len(og), sum(gg) / len(gg))} | {ratio(max(og), max(gg))} "
        f"| {ratio(opt.distance_km_kg, greedy.distance_km_kg)} | |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--producers", type=int, default=300)
    parser.add_argument("--products", type=int, default=80)
    parser.add_argument("--kitchens", type=int, default=100)
    parser.add_argument("--year-producers", type=int, default=7)
    parser.add_argument("--year-products", type=int, default=30)
    parser.add_argument("--year-kitchens", type=int, default=2)
    parser.add_argument("--weeks", type=int, default=52)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--time-limit", type=float, default=60.0)
    parser.add_argument("--skip-regional", action="store_true")
    parser.add_argument("--skip-year", action="store_true")
    parser.add_argument("--skip-replan", action="store_true")
    parser.add_argument("--medium", type=int, default=10, help="medium weeks to solve (0: none)")
    args = parser.parse_args()

    if not args.skip_regional:
        began = time.perf_counter()
        week = regional_week(args.producers, args.products, args.kitchens, args.seed)
        print(
            f"regional week generated in {time.perf_counter() - began:.1f} s: {len(week.supply)} declarations, "
            f"{len(week.demand)} demand lines"
        )
        began = time.perf_counter()
        plan = solve(week, time_limit=args.time_limit)
        opt = week_figures(plan, week, time.perf_counter() - began)
        print(f"optimiser: {plan.status}, largest stage gap {plan.mip_gap:.2g}, load {load()}")
        began = time.perf_counter()
        greedy = greedy_nearest_first(week)
        show(
            f"Regional week ({args.producers} x {args.products} x {args.kitchens})",
            opt,
            week_figures(greedy, week, time.perf_counter() - began),
        )
        print("\n#### Its stages, each measured on the plan delivered\n")
        show_stages(plan)
        if not args.skip_replan:
            show_replans(week, plan, args.time_limit)
    if args.medium:
        show_medium(args.medium, args.seed, args.time_limit)
    if not args.skip_year:
        weeks = year_weeks(args.year_producers, args.year_products, args.year_kitchens, args.weeks, args.seed)
        show(
            f"The group's year ({args.year_producers} x {args.year_products} x {args.year_kitchens} x {args.weeks})",
            year_figures(weeks, False, args.time_limit),
            year_figures(weeks, True, args.time_limit),
        )


if __name__ == "__main__":
    main()
