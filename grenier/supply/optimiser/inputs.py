"""What goes into the weekly supply plan and what comes out of it, and the checks on what goes in."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction

QUANTITY_MAX = 1_000_000_000  # base units in one quantity (1,000 t in grams): the API's own bound
SHARE_FACTOR_MAX = 1_000_000  # volume units one base unit may count for
VOLUME_MAX = 10**13  # volume units declared, or asked, in one week, and the largest carried gap
KM_MAX = 20_100.0  # half the Earth's circumference: a longer distance is a mistake


# ---------------------------------------------------------------------------------------------------------- inputs


@dataclass(frozen=True)
class Location:
    """A point in degrees (WGS84)."""

    lat: float
    lon: float

    def km_to(self, other: Location) -> float:
        """Great-circle distance (haversine), in km."""
        la1, lo1, la2, lo2 = map(math.radians, (self.lat, self.lon, other.lat, other.lon))
        h = math.sin((la2 - la1) / 2) ** 2 + math.cos(la1) * math.cos(la2) * math.sin((lo2 - lo1) / 2) ** 2
        return 2 * 6371.0 * math.asin(min(1.0, math.sqrt(h)))


@dataclass(frozen=True)
class Kitchen:
    id: str
    location: Location | None = None


@dataclass(frozen=True)
class Producer:
    id: str
    location: Location | None = None


@dataclass(frozen=True)
class Product:
    id: str
    unit: str = "g"  # the base unit every quantity of this product is counted in
    share_factor: int = 1  # volume units one base unit counts for in shares, demand met and distance
    step: int = (
        1  # the plan's quantities of this product are multiples of it (1000 for whole kg when unit is g)
    )


@dataclass(frozen=True)
class DemandLine:
    kitchen: str
    product: str
    day: str  # a delivery day, e.g. an ISO date; days sort as strings
    quantity: int
    producers: frozenset[str] | None = (
        None  # the farms a contract names for this line; None: any farm of the group
    )


@dataclass(frozen=True)
class Supply:
    """What a producer declared for the week: at most ``available``; if anything, at least ``minimum_lot``."""

    producer: str
    product: str
    available: int
    minimum_lot: int = 0


@dataclass(frozen=True)
class Weights:
    """Stage 2's objective: ``share`` per volume unit away from a farm's share (cumulative), ``distance`` per volume
    unit per km. Demand met and, when re-planning, lines and volume changed are not weighed: they come first."""

    share: float = 10.0
    distance: float = 0.01

    def check(self) -> None:
        if not (math.isfinite(self.share) and math.isfinite(self.distance)):
            raise ValueError("weights: share and distance must be finite numbers")
        if not (self.share > 0 and self.distance >= 0):
            raise ValueError("weights: share must be positive, distance not negative")


@dataclass(frozen=True)
class Week:
    kitchens: Sequence[Kitchen]
    producers: Sequence[Producer]
    products: Sequence[Product]
    demand: Sequence[DemandLine]
    supply: Sequence[Supply]
    shares: Mapping[str, float | Fraction]  # producer -> agreed share of the group's volume; sums to 1
    gaps: Mapping[str, float] = field(
        default_factory=dict
    )  # producer -> carried gap (volume units), default 0
    distances: Mapping[tuple[str, str], float] | None = None  # (producer, kitchen) -> km; else from locations


# --------------------------------------------------------------------------------------------------------- outputs


@dataclass(frozen=True)
class PlanLine:
    producer: str
    kitchen: str
    product: str
    day: str
    quantity: int


@dataclass(frozen=True)
class LineReport:
    """One demand line explained: demand, supply, unmet quantity and why."""

    kitchen: str
    product: str
    day: str
    demand: int
    supplied: int
    unmet: int
    reason_code: str  # "" when met; "not_declared", "not_enough_declared", "contract_farms", "minimum_lots",
    # "below_step", "solver_limit", "other"
    reason: str


@dataclass(frozen=True)
class ProducerReport:
    producer: str
    supplied: int  # volume units this week
    share: float
    target: float  # share of this week's group volume plus the carried gap
    new_gap: float  # carried to next week (positive = still owed supply)


@dataclass(frozen=True)
class Stage:
    """One stage of the solve, measured on the delivered plan.

    ``name``: ``demand`` (volume of demand met, maximised), ``lines`` (delivery lines changed, minimised),
    ``volume`` (volume moved, minimised) or ``shares_distance`` (the weighted deviation from shares plus distance,
    minimised). ``objective`` is the delivered plan's value on it, ``bound`` the best value proven possible (above
    for ``demand``, below for the others), ``gap`` the distance between them relative to ``objective``."""

    name: str
    objective: float
    bound: float
    gap: float
    proven: bool
    seconds: float


@dataclass(frozen=True)
class Plan:
    lines: tuple[PlanLine, ...]
    demand_lines: tuple[LineReport, ...]
    producers: tuple[ProducerReport, ...]
    status: str  # "Optimal" when every stage is proven, else what stopped; "greedy", "empty", or given
    proven_optimal: bool
    objective: float  # the delivered plan's shares-and-distance objective (stage ``shares_distance``)
    mip_gap: float  # the largest relative gap of the stages
    seconds: float
    total_distance: float = 0.0  # sum km x volume over the plan lines
    stages: tuple[Stage, ...] = ()

    @property
    def demand_total(self) -> int:
        return sum(r.demand for r in self.demand_lines)

    @property
    def supplied_total(self) -> int:
        return sum(r.supplied for r in self.demand_lines)

    def stage(self, name: str) -> Stage | None:
        return next((s for s in self.stages if s.name == name), None)


@dataclass(frozen=True)
class Shortfall:
    """A producer now has only ``available`` of ``product`` for the week (a crop failure)."""

    producer: str
    product: str
    available: int


@dataclass(frozen=True)
class LineChange:
    producer: str
    kitchen: str
    product: str
    day: str
    before: int
    after: int


@dataclass(frozen=True)
class ReplanResult:
    plan: Plan
    changes: tuple[LineChange, ...]
    volume_moved: int = 0  # sum |after - before| x share factor over the changes (volume units)

    @property
    def affected_producers(self) -> set[str]:
        return {c.producer for c in self.changes}

    @property
    def affected_kitchens(self) -> set[str]:
        return {c.kitchen for c in self.changes}


# ------------------------------------------------------------------------------------------------------ validation


@dataclass
class _Data:
    week: Week
    products: dict[str, Product]
    demand: dict[tuple[str, str], dict[str, int]]  # (kitchen, product) -> day -> quantity
    allowed: dict[
        tuple[str, str, str], frozenset[str] | None
    ]  # (kitchen, product, day) -> farms named, or any
    supply: dict[tuple[str, str], Supply]  # (producer, product) -> declaration
    km: dict[tuple[str, str], float]
    shares: dict[str, float]
    gaps: dict[str, float]


def _unique(kind: str, ids: Iterable[str]) -> set[str]:
    seen: set[str] = set()
    for i in ids:
        if not isinstance(i, str) or not i:
            raise ValueError(f"{kind}: every id must be a non-empty string, got {i!r}")
        if i in seen:
            raise ValueError(f"{kind}: duplicate id {i!r}")
        seen.add(i)
    return seen


def _integer(what: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{what}: quantities are integers in the product's base unit, got {value!r}")
    if value < 0:
        raise ValueError(f"{what}: negative quantity {value}")
    if value > QUANTITY_MAX:
        raise ValueError(
            f"{what}: {value} is more than the planner counts exactly ({QUANTITY_MAX:,} base units at most)"
        )
    return value


def _prepare(week: Week) -> _Data:
    """The week checked (a ValueError says what is wrong, the first thing found in this order: products, demand,
    availability, the week's volume, shares, gaps, distances) and indexed for the stages."""
    kitchens = _unique("kitchens", (k.id for k in week.kitchens))
    producers = _unique("producers", (p.id for p in week.producers))
    _unique("products", (g.id for g in week.products))
    products = {g.id: g for g in week.products}
    _check_products(week)
    demand, allowed, asked = _read_demand(week, kitchens, producers, products)
    supply, declared = _read_supply(week, producers, products)
    _check_volume(asked, declared)
    shares = _read_shares(week, producers)
    gaps = _read_gaps(week, producers)
    km = _read_distances(week, demand, supply)
    return _Data(week, products, dict(demand), allowed, supply, km, shares, gaps)


def _check_products(week: Week) -> None:
    for g in week.products:
        if isinstance(g.share_factor, bool) or not isinstance(g.share_factor, int) or g.share_factor < 1:
            raise ValueError(f"product {g.id!r}: share_factor must be a positive integer")
        if g.share_factor > SHARE_FACTOR_MAX:
            raise ValueError(f"product {g.id!r}: share_factor is at most {SHARE_FACTOR_MAX:,}")
        if isinstance(g.step, bool) or not isinstance(g.step, int) or g.step < 1:
            raise ValueError(f"product {g.id!r}: step must be a positive integer")
        if g.step > QUANTITY_MAX:
            raise ValueError(f"product {g.id!r}: step is at most {QUANTITY_MAX:,} base units")


def _read_demand(
    week: Week, kitchens: set[str], producers: set[str], products: dict[str, Product]
) -> tuple[dict[tuple[str, str], dict[str, int]], dict[tuple[str, str, str], frozenset[str] | None], int]:
    """Demand per kitchen and product by day, the farms each line allows (None: any), the volume asked."""
    demand: dict[tuple[str, str], dict[str, int]] = defaultdict(dict)
    allowed: dict[tuple[str, str, str], frozenset[str] | None] = {}
    asked = 0
    for line in week.demand:
        if line.kitchen not in kitchens:
            raise ValueError(f"demand: unknown kitchen {line.kitchen!r}")
        if line.product not in products:
            raise ValueError(f"demand: unknown product {line.product!r}")
        q = _integer(f"demand of {line.kitchen!r} for {line.product!r} on {line.day!r}", line.quantity)
        days = demand[line.kitchen, line.product]
        if line.day in days:
            raise ValueError(f"demand: two lines for {line.kitchen!r}, {line.product!r} on {line.day!r}")
        days[line.day] = q
        named = line.producers
        if named is not None:
            named = frozenset(named)
            unknown = sorted(named - producers)
            if unknown:
                raise ValueError(
                    f"demand of {line.kitchen!r} for {line.product!r} on {line.day!r}: the contract names "
                    f"unknown producers {', '.join(map(repr, unknown))}"
                )
        allowed[line.kitchen, line.product, line.day] = named
        asked += q * products[line.product].share_factor
    return demand, allowed, asked


def _read_supply(
    week: Week, producers: set[str], products: dict[str, Product]
) -> tuple[dict[tuple[str, str], Supply], int]:
    """The declarations per farm and product, and the volume declared."""
    supply: dict[tuple[str, str], Supply] = {}
    declared = 0
    for s in week.supply:
        if s.producer not in producers:
            raise ValueError(f"availability: unknown producer {s.producer!r}")
        if s.product not in products:
            raise ValueError(f"availability: unknown product {s.product!r}")
        _integer(f"availability of {s.producer!r} for {s.product!r}", s.available)
        _integer(f"minimum lot of {s.producer!r} for {s.product!r}", s.minimum_lot)
        if (s.producer, s.product) in supply:
            raise ValueError(f"availability: two declarations by {s.producer!r} for {s.product!r}")
        supply[s.producer, s.product] = s
        declared += s.available * products[s.product].share_factor
    return supply, declared


def _check_volume(asked: int, declared: int) -> None:
    for what, total in (("asked", asked), ("declared", declared)):
        if total > VOLUME_MAX:
            raise ValueError(
                f"the week's volume {what} ({total:,} volume units) is more than the planner counts exactly "
                f"({VOLUME_MAX:,} at most)"
            )


def _read_shares(week: Week, producers: set[str]) -> dict[str, float]:
    shares: dict[str, float] = {}
    for p, share in week.shares.items():
        if p not in producers:
            raise ValueError(f"shares: unknown producer {p!r}")
        if not math.isfinite(float(share)) or float(share) < 0:
            raise ValueError(f"shares: the share of {p!r} must be a number >= 0, got {share!r}")
        shares[p] = float(share)
    missing = sorted(producers - set(shares))
    if producers and missing:
        raise ValueError(f"shares: no agreed share for {', '.join(missing)}")
    agreed = sum((Fraction(x) for x in week.shares.values()), Fraction(0))
    if producers and abs(agreed - 1) > Fraction(1, 10**6):
        raise ValueError(f"shares: agreed shares must sum to 1, they sum to {float(agreed):.6g}")
    return shares


def _read_gaps(week: Week, producers: set[str]) -> dict[str, float]:
    gaps: dict[str, float] = {}
    for p in producers:
        gap = float(week.gaps.get(p, 0.0))
        if not math.isfinite(gap):
            raise ValueError(f"gaps: the carried gap of {p!r} is not a finite number")
        if abs(gap) > VOLUME_MAX:
            raise ValueError(f"gaps: the carried gap of {p!r} is beyond {VOLUME_MAX:,} volume units")
        gaps[p] = gap
    for p in week.gaps:
        if p not in producers:
            raise ValueError(f"gaps: unknown producer {p!r}")
    return gaps


def _read_distances(
    week: Week, demand: Mapping[tuple[str, str], object], supply: Mapping[tuple[str, str], Supply]
) -> dict[tuple[str, str], float]:
    """The distance of every farm to every kitchen that orders a product it declared: recorded, else great-circle."""
    km: dict[tuple[str, str], float] = {}
    kitchen_loc = {k.id: k.location for k in week.kitchens}
    producer_loc = {p.id: p.location for p in week.producers}
    ordered: dict[str, set[str]] = defaultdict(set)
    for kitchen, product in demand:
        ordered[product].add(kitchen)
    needed = {(p, k) for (p, product) in supply for k in ordered.get(product, ())}
    for p, k in sorted(needed):
        if week.distances is not None and (p, k) in week.distances:
            d = float(week.distances[p, k])
        else:
            ploc, kloc = producer_loc[p], kitchen_loc[k]
            if ploc is None or kloc is None:
                raise ValueError(f"distance: no distance from {p!r} to {k!r} and no locations to compute it")
            d = ploc.km_to(kloc)
        if not math.isfinite(d) or d < 0:
            raise ValueError(f"distance from {p!r} to {k!r} must be >= 0 km, got {d!r}")
        if d > KM_MAX:
            raise ValueError(f"distance from {p!r} to {k!r}: {d:g} km is more than any trip on Earth")
        km[p, k] = d
    return km
