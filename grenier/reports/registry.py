"""The registry of indicators: each one a code, a name, a definition a person can read (what is counted, from which
data, over which period, what it does not count), a unit, a theme, and one function computing it for a territory
and a period (``Scope``) with a few grouped queries.

A function answers a ``Result``: a value, or ``None`` with the reason it is not measured (the module holds no data
for the territory by the end of the period: "not measured", never 0). ``support`` is the number of households (or
persons) a figure rests on when it counts people: public outputs hide it when it is small (``disclosure``).

The reports app reads every other module and writes in none of them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Any

from django.db.models import Model, QuerySet, Subquery
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from grenier.core.errors import InvalidInput
from grenier.core.models import Territory
from grenier.core.months import FIRST_YEAR, LAST_YEAR, last_of_month, shift_month

Number = int | Decimal


class Theme(StrEnum):
    ACCESS = "access"
    DEMOCRACY = "democracy"
    COOPERATION = "cooperation"
    FOOD_SYSTEM = "food_system"
    ACTIVITY = "activity"

    @property
    def label(self) -> str:
        return str(THEME_LABELS[self])


THEME_LABELS: dict[Theme, Promise] = {
    Theme.ACCESS: gettext_lazy("Access to food"),
    Theme.DEMOCRACY: gettext_lazy("Participation and democracy"),
    Theme.COOPERATION: gettext_lazy("Cooperation"),
    Theme.FOOD_SYSTEM: gettext_lazy("Sustainability of the food system"),
    Theme.ACTIVITY: gettext_lazy("Activity"),
}


class Unit(StrEnum):
    HOUSEHOLDS = "households"
    PERSONS = "persons"
    COUNT = "count"
    CENTS = "cents"
    PERCENT = "percent"
    KG = "kg"
    G_PER_MEAL = "g_per_meal"
    HOURS = "hours"
    KM_PER_KG = "km_per_kg"
    DAYS = "days"  # a breakdown's line only (resources' days lent): written apart, never drawn among counts

    @property
    def people(self) -> bool:
        """A count of households or persons: hidden in public outputs when small."""
        return self in {Unit.HOUSEHOLDS, Unit.PERSONS}

    @property
    def drawn(self) -> bool:
        """A breakdown's line in this unit is drawn as a bar; days are written apart, beside no bar of counts."""
        return self != Unit.DAYS


UNIT_LABELS: dict[Unit, Promise] = {
    Unit.HOUSEHOLDS: gettext_lazy("households"),
    Unit.PERSONS: gettext_lazy("persons"),
    Unit.COUNT: gettext_lazy("number"),
    Unit.CENTS: gettext_lazy("euros"),
    Unit.PERCENT: gettext_lazy("%"),
    Unit.KG: gettext_lazy("kg"),
    Unit.G_PER_MEAL: gettext_lazy("g per meal"),
    Unit.HOURS: gettext_lazy("hours"),
    Unit.KM_PER_KG: gettext_lazy("km per kg"),
    Unit.DAYS: gettext_lazy("days"),
}


# -- periods -------------------------------------------------------------------------------------------------------

_PERIOD = re.compile(r"^(\d{4})(?:-(\d{2}))?$")


@dataclass(frozen=True)
class Period:
    """A calendar year (``2026``) or month (``2026-03``), local time."""

    year: int
    month: int | None = None

    @classmethod
    def parse(cls, text: str, field_name: str = "period") -> Period:
        found = _PERIOD.match((text or "").strip())
        year = int(found.group(1)) if found else 0
        month = int(found.group(2)) if found and found.group(2) else None
        if not found or not FIRST_YEAR <= year <= LAST_YEAR or (month is not None and not 1 <= month <= 12):
            raise InvalidInput(
                _("Say a year (2026) or a month (2026-03), between %(first)s and %(last)s.")
                % {"first": FIRST_YEAR, "last": LAST_YEAR},
                errors={field_name: [_("A year YYYY or a month YYYY-MM.")]},
            )
        return cls(year, month)

    @classmethod
    def of_year(cls, year: int) -> Period:
        return cls.parse(str(year))

    @property
    def start(self) -> date:
        return date(self.year, self.month or 1, 1)

    @property
    def end(self) -> date:
        """The last day, included."""
        return last_of_month(self.start) if self.month else date(self.year, 12, 31)

    @property
    def key(self) -> str:
        return f"{self.year}-{self.month:02d}" if self.month else str(self.year)

    def previous(self) -> Period:
        if self.month is None:
            return Period(self.year - 1)
        before = shift_month(self.start, -1)
        return Period(before.year, before.month)

    def year_before(self) -> Period:
        return Period(self.year - 1, self.month)

    def label(self) -> str:
        from django.utils.formats import date_format

        return date_format(self.start, "F Y") if self.month else str(self.year)

    def __str__(self) -> str:
        return self.key


# -- what a function reads and answers -----------------------------------------------------------------------------


class Module(StrEnum):
    FUND = "fund"
    BASKETS = "baskets"
    ORDERS = "orders"
    GOVERNANCE = "governance"
    NETWORK = "network"
    SUPPLY = "supply"
    WASTE = "waste"
    ACTIVITIES = "activities"


NOT_MEASURED: dict[Module, Promise] = {
    Module.FUND: gettext_lazy("Not measured: the common fund had run no month in this territory by then."),
    Module.BASKETS: gettext_lazy("Not measured: no solidarity basket had been distributed here by then."),
    Module.ORDERS: gettext_lazy("Not measured: no buying group had delivered an order cycle here by then."),
    Module.GOVERNANCE: gettext_lazy("Not measured: no body of the territory had anyone in it by then."),
    Module.NETWORK: gettext_lazy("Not measured: the cooperation map held no actor by then."),
    Module.SUPPLY: gettext_lazy("Not measured: the supply platform had invoiced nothing here by then."),
    Module.WASTE: gettext_lazy("Not measured: no kitchen had weighed or sent biowaste here by then."),
    Module.ACTIVITIES: gettext_lazy("Not measured: no activity session had taken place here by then."),
}

# The first day each module holds data for a territory: (model, its territory lookup, its date field). Before it,
# and when a module holds nothing, its indicators are "not measured".
_FIRST_DAY: dict[Module, tuple[str, str, str]] = {
    Module.FUND: ("fund.MonthlyRun", "territory", "month"),
    Module.BASKETS: ("baskets.DistributionSheet", "pickup_point__garden__territory", "on"),
    Module.ORDERS: ("orders.OrderCycle", "group__territory", "delivery_date"),
    Module.GOVERNANCE: ("governance.BodyMembership", "body__territory", "joined_at"),
    Module.NETWORK: ("network.Actor", "territory", "joined_on"),
    Module.SUPPLY: ("supply.InvoiceLine", "invoice__territory", "day"),
    Module.WASTE: ("waste.Weighing", "campaign__territory", "day"),
    Module.ACTIVITIES: ("activities.Session", "territory", "date"),
}
_ALSO: dict[Module, tuple[str, str, str]] = {
    Module.WASTE: ("waste.BiowasteDelivery", "territory", "day"),
}


@dataclass
class Scope:
    """A territory and a period (``start`` to ``end``, both days included), with what was already looked up."""

    territory: Territory
    start: date
    end: date
    _first: dict[Module, date | None] = field(default_factory=dict, repr=False)
    _kept: dict[str, Any] = field(default_factory=dict, repr=False)

    def kept(self, name: str, read: Callable[[Scope], Any]) -> Any:
        """``read(self)``, read once for this territory and period (several indicators share one query)."""
        if name not in self._kept:
            self._kept[name] = read(self)
        return self._kept[name]

    def month(self, month: int) -> Scope:
        """The scope of ``month`` of this scope's first year, sharing the modules' first days looked up."""
        start = date(self.start.year, month, 1)
        return Scope(self.territory, start, last_of_month(start), self._first)

    @property
    def start_at(self) -> datetime:
        return timezone.make_aware(datetime.combine(self.start, time.min))

    @property
    def end_at(self) -> datetime:
        """The first instant after the period."""
        return timezone.make_aware(datetime.combine(self.end + timedelta(days=1), time.min))

    def first_day(self, module: Module) -> date | None:
        if module not in self._first:
            self._first.update(_first_days(self.territory))
        return self._first[module]

    def unmeasured(self, module: Module) -> Result | None:
        """``Result.not_measured`` when ``module`` held no data for the territory by the end of the period."""
        first = self.first_day(module)
        if first is None or first > self.end:
            return Result.not_measured(str(NOT_MEASURED[module]))
        return None


def _first_days(territory: Territory) -> dict[Module, date | None]:
    """Each module's first day for ``territory`` (None: no data yet), in one query of one subquery a source (nine
    queries before, for every page of figures)."""
    from django.apps import apps

    sources = [*_FIRST_DAY.items(), *_ALSO.items()]
    firsts: dict[str, Subquery] = {}
    for index, (_module, (label, lookup, day_field)) in enumerate(sources):
        model: type[Model] = apps.get_model(label)
        earliest = (
            model._default_manager.filter(**{lookup: territory, f"{day_field}__isnull": False})
            .order_by(day_field)
            .values(day_field)[:1]
        )
        firsts[f"first_{index}"] = Subquery(earliest)
    found: dict[str, Any] = dict(Territory.objects.filter(pk=territory.pk).values(**firsts).first() or {})
    days: dict[Module, list[date]] = {module: [] for module in _FIRST_DAY}
    for index, (module, _spec) in enumerate(sources):
        day = found.get(f"first_{index}")
        if day is not None:
            days[module].append(timezone.localdate(day) if isinstance(day, datetime) else day)
    return {module: min(found_days, default=None) for module, found_days in days.items()}


@dataclass(frozen=True)
class Part:
    """One line of a figure's breakdown (a store kind, a tier, a level): never a person, never a name of one."""

    key: str
    label: str
    value: Number | None
    support: int | None = None
    unit: Unit | None = None  # when not the indicator's own


@dataclass(frozen=True)
class Result:
    value: Number | None
    reason: str = ""
    support: int | None = None  # the households or persons the figure rests on, when it counts people
    parts: tuple[Part, ...] = ()
    # A share or a rate: the numerator and the denominator it was computed from, so that a roll-up over several
    # territories computes it again from their sums (``reports.rollup``) instead of averaging the shares.
    ratio: tuple[Number, Number] | None = None

    @property
    def measured(self) -> bool:
        return self.value is not None

    @classmethod
    def not_measured(cls, reason: str) -> Result:
        return cls(None, reason)


def percent(part: Number, whole: Number) -> Decimal | None:
    """``part`` in ``whole`` as a percentage with one decimal, rounded half up; ``None`` when ``whole`` is 0."""
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def one_decimal(numerator: Number, denominator: Number = 1) -> Decimal | None:
    if not denominator:
        return None
    return (Decimal(numerator) / Decimal(denominator)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def between(rows: QuerySet[Any], day_field: str, scope: Scope) -> QuerySet[Any]:
    """``rows`` whose ``day_field`` (a date) falls in the period."""
    return rows.filter(**{f"{day_field}__gte": scope.start, f"{day_field}__lte": scope.end})


def between_instants(rows: QuerySet[Any], at_field: str, scope: Scope) -> QuerySet[Any]:
    """``rows`` whose ``at_field`` (a date and time) falls in the period, local time."""
    return rows.filter(**{f"{at_field}__gte": scope.start_at, f"{at_field}__lt": scope.end_at})


# -- the registry ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Indicator:
    code: str
    theme: Theme
    name_text: Promise
    definition_text: Promise
    unit: Unit
    compute: Callable[[Scope], Result]
    modules: tuple[Module, ...] = ()
    # The twelve months of a year at once (``by_month``), for an indicator whose one pass reads a year's rows
    # (the households reached: twelve passes would read them twelve times). Its month values, not their breakdown.
    monthly: Callable[[Scope], dict[int, Result]] | None = None

    def result(self, scope: Scope) -> Result:
        """The figure over ``scope``; "not measured" when one of the modules it reads held nothing by then."""
        if unmeasured := self._unmeasured(scope):
            return unmeasured
        return self.compute(scope)

    def _unmeasured(self, scope: Scope) -> Result | None:
        for module in self.modules:
            if unmeasured := scope.unmeasured(module):
                return unmeasured
        return None

    def months(self, scope: Scope) -> dict[int, Result]:
        """The figure over each month of ``scope`` (a calendar year), the same as ``result`` of each month: one
        pass over the year when the indicator says how (``monthly``), else a pass a month."""
        scopes = {month: scope.month(month) for month in range(1, 13)}
        if self.monthly is None:
            return {month: self.result(each) for month, each in scopes.items()}
        found = self.monthly(scope)
        return {month: self._unmeasured(each) or found[month] for month, each in scopes.items()}

    @property
    def name(self) -> str:
        return str(self.name_text)

    @property
    def definition(self) -> str:
        return str(self.definition_text)

    @property
    def unit_label(self) -> str:
        return str(UNIT_LABELS[self.unit])


REGISTRY: dict[str, Indicator] = {}


def indicator(
    code: str,
    *,
    theme: Theme,
    name: Promise,
    definition: Promise,
    unit: Unit,
    modules: tuple[Module, ...] = (),
) -> Callable[[Callable[[Scope], Result]], Callable[[Scope], Result]]:
    """Register the decorated function as the indicator ``code`` (a code is registered once); it is called only
    when each of ``modules`` held data for the territory by the end of the period ("not measured" otherwise)."""

    def register(compute: Callable[[Scope], Result]) -> Callable[[Scope], Result]:
        if code in REGISTRY:
            raise ValueError(f"indicator {code!r} registered twice")
        REGISTRY[code] = Indicator(code, theme, name, definition, unit, compute, modules)
        return compute

    return register


def by_month(
    code: str,
) -> Callable[[Callable[[Scope], dict[int, Result]]], Callable[[Scope], dict[int, Result]]]:
    """Register the decorated function as the way to compute the indicator ``code`` over the twelve months of a
    year in one pass (``Indicator.months``); it answers each month's result as ``compute`` would, "not measured"
    included, except the ``modules`` check, which ``months`` makes."""

    def register(monthly: Callable[[Scope], dict[int, Result]]) -> Callable[[Scope], dict[int, Result]]:
        REGISTRY[code] = replace(REGISTRY[code], monthly=monthly)
        return monthly

    return register


def indicators() -> list[Indicator]:
    """Every indicator, by theme in the themes' order, then in the order they were registered."""
    order = list(Theme)
    return sorted(REGISTRY.values(), key=lambda found: order.index(found.theme))


def get(code: str) -> Indicator | None:
    return REGISTRY.get(code)


def compute(
    territory: Territory,
    period: Period,
    codes: list[str] | None = None,
    first_days: dict[Module, date | None] | None = None,
) -> dict[str, Result]:
    """Every indicator (or those of ``codes``) of ``territory`` over ``period``. ``first_days``, shared between
    periods of one territory, keeps each module's first day looked up once."""
    scope = Scope(territory, period.start, period.end, {} if first_days is None else first_days)
    chosen = [REGISTRY[code] for code in codes] if codes else indicators()
    return {found.code: found.result(scope) for found in chosen}


def compute_months(
    territory: Territory, year: int, code: str, first_days: dict[Module, date | None] | None = None
) -> dict[int, Result]:
    """The indicator ``code`` of ``territory`` over each month of ``year`` (``Indicator.months``)."""
    period = Period(year)
    return REGISTRY[code].months(
        Scope(territory, period.start, period.end, {} if first_days is None else first_days)
    )
