"""The weekly supply plan of a group of growers: who supplies what to which kitchen, solved with HiGHS.

Pure Python, no Django: dataclasses in, dataclasses out, no money. The app wraps it (models, pages, API).

Inputs for one week (:class:`Week`): kitchens, producers (a location each, or a distance matrix producer x kitchen in
km), products (a base unit such as ``g`` or ``piece``), demand lines (kitchen, product, delivery day, quantity, and
the farms a contract names, if it names some), availability (producer, product, quantity this week, minimum lot),
the agreed shares of the group's volume (summing to 1) and each producer's gap carried from previous weeks
(positive = it has supplied less than its share so far). Every quantity is an integer in the product's base unit,
at most :data:`QUANTITY_MAX`; the plan's quantities are integers too, multiples of the product's ``step``.

Volume. Shares are shares of the group's *volume*. A product's ``share_factor`` (an integer, default 1) says how many
volume units one base unit counts for, so that grams and pieces can be added (a lettuce "piece" may count as 400 g).
Demand met, distance and changed volume are counted in the same volume units.

What the plan promises, in this order; each promise is kept whole before the next is looked at (stages solved one
after the other, each with the earlier ones' results fixed — never a weighted sum where a big weight is trusted to
make one goal come first):

1. **Demand first** (stage ``demand``): the plan meets the most demand (in volume) that the declarations allow:
   never more than a farm declared, a product a farm sends at all reaches its minimum lot, no kitchen gets more than
   it asked, a line of a contract that names farms is served by those farms only. Per product, that most is fixed
   for the next stages.
2. **Shares, then distance** (stage ``shares_distance``): among those plans, the one that minimises
   ``share * sum_p |S_p - s_p T - gap_p| + distance * sum km * volume`` (:class:`Weights`; ``share >> distance *
   max km``, so distance only breaks ties between equally fair plans). ``S_p`` is the farm's volume this week, ``T``
   the group's (fixed by stage 1), ``gap_p`` its carried gap; the new carried gap is ``gap_p + s_p T - S_p``.

Re-planning after a shortfall (:func:`replan`) keeps a published plan's promises to the people who organised their
week around it. After stage 1 (demand first, on the week as it now stands), it minimises, in this order:

2. ``lines``: the number of delivery lines (farm -> kitchen, product, day) that change — each one is a delivery a
   farm and a kitchen must re-arrange, and a line in the message each of them gets;
3. ``volume``: among those, the volume moved, ``sum |after - before|`` over the lines;
4. ``shares_distance``: among those, shares then distance as above.

A product whose published lines still fit the week and still meet the most demand that can be met keeps them all
untouched; the others (the product short, and any product a hand adjustment left below what could be met) are
re-planned line by line and day by day.

How (HiGHS through ``highspy``). Quantities are modelled in whole steps of each product. Stage 1 is a small MILP
over (farm, product, group of lines with the same allowed farms): any farm may serve any kitchen line of such a
group, so the flow aggregates exactly; its objective is integral, solved to an absolute gap below one volume unit,
so the most demand is proven exactly. Stage 2 of a plan is solved on weekly quantities per farm x kitchen line
(delivery days are aggregated: nothing depends on the day, any weekly quantity splits over the days,
:func:`_split_days`); large weeks by column generation (exact, see :func:`_shares_stage`); its bound is the LP
relaxation strengthened by the convex envelope of each farm's deviation over whole volume units, then lots are
rounded and, if needed, HiGHS's branch and bound finishes. The quantities are then made whole steps by a small MILP
over the fractional columns with the same objective, so the delivered plan is measured on the stage's own objective.
A re-plan's stages 2 to 4 are MILPs on the re-planned products' day lines (a binary per line: changed or not).

Every stage reports the delivered (integer) plan's value on that stage's objective, the proven bound and the
relative gap between them (:class:`Stage`); the plan is ``proven_optimal`` when every stage is within
``mip_rel_gap``. A final check verifies availability, lots, demand and the contracts' farms.

Numbers. Each model is scaled (quantities and volumes by powers of two, costs normalised) so that HiGHS sees bounds
and costs in the ranges it trusts; inputs beyond them are refused with a message saying which
(:data:`QUANTITY_MAX`, :data:`VOLUME_MAX`, :data:`KM_MAX`).
"""

from __future__ import annotations

# Tuning, read by the modules when they run (tests and benchmarks set them here).
NEAREST = 12  # producers per kitchen line in the first restricted model of column generation
DENSE_UP_TO = 20_000  # candidate columns below which every column is in the model from the start
SOLVER_LOG: str | None = (
    None  # a file HiGHS appends its log to; GRENIER_SUPPLY_SOLVER_LOG=1 prints it instead
)

from grenier.supply.optimiser.inputs import (  # noqa: E402 - after the tuning the modules read
    KM_MAX,
    QUANTITY_MAX,
    SHARE_FACTOR_MAX,
    VOLUME_MAX,
    DemandLine,
    Kitchen,
    LineChange,
    LineReport,
    Location,
    Plan,
    PlanLine,
    Producer,
    ProducerReport,
    Product,
    ReplanResult,
    Shortfall,
    Stage,
    Supply,
    Week,
    Weights,
)
from grenier.supply.optimiser.plans import greedy_nearest_first, replan, report, solve  # noqa: E402

__all__ = [
    "DENSE_UP_TO",
    "KM_MAX",
    "NEAREST",
    "QUANTITY_MAX",
    "SHARE_FACTOR_MAX",
    "SOLVER_LOG",
    "VOLUME_MAX",
    "DemandLine",
    "Kitchen",
    "LineChange",
    "LineReport",
    "Location",
    "Plan",
    "PlanLine",
    "Producer",
    "ProducerReport",
    "Product",
    "ReplanResult",
    "Shortfall",
    "Stage",
    "Supply",
    "Week",
    "Weights",
    "greedy_nearest_first",
    "replan",
    "report",
    "solve",
]
