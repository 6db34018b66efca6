"""Access to food: the households the schemes reached (each counted once), the food credit issued and spent, the
solidarity baskets and the members' part of them, the buying groups' orders at each tier."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db import connection
from django.db.models import (
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from grenier.baskets.models import BasketSize, DistributionLine, LineStatus
from grenier.core.models import CHILD_AGE_LIMIT, Household, HouseholdPerson
from grenier.core.months import last_of_month
from grenier.fund.models import ContributionScale, MonthLine, Refund, RunTotals, StoreHour
from grenier.orders.models import GroupMembership, Order, OrderStatus
from grenier.reports.format import number_text
from grenier.reports.models import (
    CHILD_BITS,
    CHILD_FIELD,
    UNDECLARED,
    YEAR_PERIOD,
    BasketTally,
    HouseholdReach,
    ReachBand,
    ReachCount,
    month_bits,
)
from grenier.reports.registry import (
    Module,
    Part,
    Result,
    Scope,
    Theme,
    Unit,
    between,
    between_instants,
    by_month,
    indicator,
    percent,
)


def fund_households(scope: Scope) -> QuerySet[MonthLine]:
    """The households that received a month of the fund in the period."""
    return between(MonthLine.objects.filter(run__territory=scope.territory), "month", scope)


def basket_lines(scope: Scope) -> QuerySet[DistributionLine]:
    """The baskets collected in the period."""
    return between(
        DistributionLine.objects.filter(
            sheet__pickup_point__garden__territory=scope.territory, status=LineStatus.COLLECTED
        ),
        "on",
        scope,
    )


def group_members(scope: Scope) -> QuerySet[GroupMembership]:
    """The households that were members of a buying group for at least a day of the period."""
    return GroupMembership.objects.filter(group__territory=scope.territory, joined_on__lte=scope.end).filter(
        Q(left_on__isnull=True) | Q(left_on__gte=scope.start)
    )


SIZES = ((1, gettext_lazy("1 person")), (2, gettext_lazy("2 persons")), (3, gettext_lazy("3 or 4 persons")))


def _persons(scope: Scope, children: bool) -> Subquery:
    """How many persons (``children``: how many of them children) a household had on the period's last day."""
    persons = HouseholdPerson.objects.filter(household=OuterRef("pk"))
    if children:
        born_after = _years_before(scope.end, CHILD_AGE_LIMIT)
        persons = persons.filter(Q(birth_date__gt=born_after) | Q(birth_date__isnull=True, is_child=True))
    counted = persons.order_by().values("household").annotate(n=Count("pk")).values("n")
    return Subquery(counted, output_field=IntegerField())


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def _households(scope: Scope) -> QuerySet[Any]:
    """The territory's households, each with whether the fund, the baskets or a buying group reached it in the
    period (the fund: a month line of one of the territory's runs), how many persons and children it had on the
    period's last day: what ``HouseholdReach`` keeps, counted again from the lines themselves."""
    return (
        Household.objects.filter(territory=scope.territory)
        .annotate(
            in_fund=Exists(fund_households(scope).filter(household=OuterRef("pk"))),
            in_baskets=Exists(basket_lines(scope).filter(household=OuterRef("pk"))),
            in_groups=Exists(group_members(scope).filter(household=OuterRef("pk"))),
            size=Coalesce(_persons(scope, children=False), Value(0)),
            children=Coalesce(_persons(scope, children=True), Value(0)),
        )
        .order_by()
    )


def _reached_measured(scope: Scope) -> Result | None:
    """``Result.not_measured`` when none of the fund, the baskets or the buying groups ran here by then."""
    if any(scope.unmeasured(m) is None for m in (Module.FUND, Module.BASKETS, Module.ORDERS)):
        return None
    return Result.not_measured(
        _("Not measured: none of the fund, the baskets or the buying groups ran here.")
    )


# A household's consumption units times ten from its persons and children, as ``core.models.consumption_units``
# counts them: 1 for the first adult, 0.5 for each other person of 14 or more, 0.3 for each child; a household of
# children only is headed by the first of them.
_UNITS_X10_SQL = (
    "CASE WHEN size = 0 THEN 10 WHEN size = children THEN 10 + 3 * (children - 1) "
    "ELSE 10 + 5 * (size - children - 1) + 3 * children END"
)


def _brackets(scope: Scope) -> list[list[int | None]] | None:
    """The brackets of the fund's contribution scale in force on the period's last day (None without one): the
    households reached are read once, banded by them, for both indicators that count them."""

    def read(scope: Scope) -> list[list[int | None]] | None:
        scale = (
            ContributionScale.objects.filter(territory=scope.territory, effective_month__lte=scope.end)
            .order_by("-effective_month")
            .first()
        )
        return None if scale is None else scale.brackets

    return scope.kept("fund_scale_brackets", read)


@dataclass(frozen=True)
class Reach:
    """The households reached in a period, counted: in all, by scheme, by size (1, 2, 3 or 4, 5 or more persons)
    and by band of the fund's scale (0: resources not declared, or no scale)."""

    total: int
    fund: int
    baskets: int
    groups: int
    sizes: dict[int, int]
    bands: dict[int, int]


def _fence() -> str:
    """What keeps a subquery from being merged into the query around it (so that what it computes for a row is
    computed once): SQLite, ``LIMIT -1``; PostgreSQL, ``OFFSET 0``."""
    return " LIMIT -1" if connection.vendor == "sqlite" else " OFFSET 0"


def _counted(rows: str, params: list[Any], brackets: list[list[int | None]] | None) -> Reach:
    return _count(rows, params, brackets, every=False)[0]


def _count(
    rows: str, params: list[Any], brackets: list[list[int | None]] | None, *, every: bool
) -> tuple[Reach, int]:
    """The rows of ``rows`` (in fund, in baskets, in groups — 1 or 0 —, size, children, resources), those reached
    in the period counted in one pass: counts of conditions (``COUNT(*) FILTER``), no grouping (sorting 100,000
    rows to group them cost twice the pass itself). Each row's resources per unit is computed once: the
    subqueries are kept from being merged into the counts (SQLite: ``LIMIT -1``; PostgreSQL: ``OFFSET 0``),
    which would compute it again in each. The bands come from how many are at most each bound (the bounds
    increase: ``fund.rules.validate_brackets``), not from a band worked out row by row; households of 5 persons
    or more are the others. A pass over 100,000 kept rows: 102 -> 45 ms on SQLite (docs/PERFORMANCE.md).

    ``every``: the rows not reached are counted too (the second figure), in the same pass; else only those
    reached are read (the second figure is 0)."""
    bounds = [up_to for up_to, _suggested in brackets or []]
    numbered = [int(up_to) for up_to in bounds if up_to is not None]
    fence = _fence()
    conditions = [
        "size <= 1",
        "size = 2",
        "size IN (3, 4)",
        "per_unit IS NULL",
        # The bounds written as whole numbers (no user text).
        *(f"per_unit <= {up_to}" for up_to in numbered),
    ]
    reached = "reached AND " if every else ""
    counts = ", ".join(f"COUNT(*) FILTER (WHERE {reached}{condition})" for condition in conditions)
    total = "COUNT(*) FILTER (WHERE reached)" if every else "COUNT(*)"
    sql = (
        f"SELECT {total}, SUM(in_fund), SUM(in_baskets), SUM(in_groups), {counts}"  # noqa: S608 - no user text: the ORM's query and numbers
        + (", COUNT(*)" if every else "")
        + " FROM (SELECT in_fund, in_baskets, in_groups, size, "
        f"resources * 10 / ({_UNITS_X10_SQL}) AS per_unit"
        + (", in_fund + in_baskets + in_groups > 0 AS reached" if every else "")
        + f" FROM ({rows}{fence}) r"
        + ("" if every else " WHERE in_fund + in_baskets + in_groups > 0")
        + f"{fence}) u"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        found = [int(value or 0) for value in cursor.fetchone()]
    every_row = found.pop() if every else 0
    total_reached, fund, baskets, groups, one, two, three_four, undeclared = found[:8]
    return (
        Reach(
            total_reached,
            fund,
            baskets,
            groups,
            {1: one, 2: two, 3: three_four, 5: total_reached - one - two - three_four},
            _bands(bounds, total_reached, undeclared, found[8:]),
        ),
        every_row,
    )


def _tallied_period(scope: Scope) -> int | None:
    """The period the tallies keep ``scope`` under (0: a whole year, 1 to 12: one month), None for another."""
    start, end = scope.start, scope.end
    if start.year != end.year or start.day != 1 or end != last_of_month(end):
        return None
    if (start.month, end.month) == (1, 12):
        return YEAR_PERIOD
    return end.month if start.month == end.month else None


def _tallied(scope: Scope, brackets: list[list[int | None]] | None) -> Reach | None:
    """The households the fund or the baskets reached in ``scope`` counted from the tallies the database keeps
    (``ReachCount``, ``ReachBand``: a few dozen rows) instead of a pass over the year's kept rows, as ``_counted``
    counts them (``groups`` 0: the members are counted on their own); None when the period is not a whole year or
    one month, or when a bound of ``brackets`` is not a whole number of euros (the euro counts cannot tell which
    side of it a household is on: the pass counts then)."""
    bounds = [up_to for up_to, _suggested in brackets or []]
    period = _tallied_period(scope)
    if period is None or any(up_to is not None and up_to % 100 for up_to in bounds):
        return None
    key = {
        "territory": scope.territory.pk,
        "year": scope.end.year,
        "home_territory": scope.territory.pk,
        "period": period,
    }
    total = fund = baskets = 0
    sizes = dict.fromkeys((1, 2, 3, 5), 0)
    for in_fund, in_baskets, size, n in ReachCount.objects.filter(**key).values_list(
        "fund", "baskets", "size", "n"
    ):
        total += n
        fund += n * in_fund
        baskets += n * in_baskets
        sizes[size] += n
    numbered = [up_to for up_to in bounds if up_to is not None]
    found = ReachBand.objects.filter(**key).aggregate(
        undeclared=Sum("n", filter=Q(euros=UNDECLARED)),
        **{
            f"at_most_{index}": Sum("n", filter=Q(euros__gt=UNDECLARED, euros__lte=up_to // 100))
            for index, up_to in enumerate(numbered)
        },
    )
    undeclared = int(found["undeclared"] or 0)
    at_most = [int(found[f"at_most_{index}"] or 0) for index in range(len(numbered))]
    return Reach(total, fund, baskets, 0, sizes, _bands(bounds, total, undeclared, at_most))


def _bands(bounds: list[int | None], total: int, undeclared: int, at_most: list[int]) -> dict[int, int]:
    """The households of each band (0: resources not declared, or no scale) from how many are at most each
    numbered bound: band i (from 1) at most its bound and over the one before; the last, open band the declared
    others."""
    if not bounds:
        return {0: total}
    bands = {0: undeclared}
    below = 0
    for band, up_to in enumerate(at_most, 1):
        bands[band] = up_to - below
        below = up_to
    bands[len(bounds)] = bands.get(len(bounds), 0) + total - undeclared - below
    return bands


def _kept_rows(scope: Scope) -> tuple[str, list[Any]] | None:
    """The rows of the households the fund or the baskets reached in ``scope`` as SQL, read from ``HouseholdReach``
    (one range of its key): for a period of whole months of one year that the tallies do not keep (several
    months, or a scale whose bounds are not whole euros); None for another period (read from the lines then)."""
    start, end = scope.start, scope.end
    if start.year != end.year or start.day != 1 or end != last_of_month(end):
        return None
    months = month_bits(start.month, end.month)
    shift = CHILD_BITS * (end.month - 1)
    territory = scope.territory.pk
    table = HouseholdReach._meta.db_table
    # Whether a kept household is also in a group is not asked row by row (a look-up in the members for each
    # of 100,000 rows: a fifth of the pass): every member is reached, so the households in a group are the
    # members, counted on their own.
    kept_sql = (
        f"SELECT CASE WHEN (fund_months & {months}) <> 0 THEN 1 ELSE 0 END AS in_fund, "  # noqa: S608 - numbers
        f"CASE WHEN (basket_months & {months}) <> 0 THEN 1 ELSE 0 END AS in_baskets, 0 AS in_groups, "
        f"persons AS size, (children >> {shift}) & {CHILD_FIELD} AS children, resources_cents AS resources "
        f"FROM {table} WHERE territory_id = %s AND year = %s AND home_territory_id = %s "
        f"AND ((fund_months | basket_months) & {months}) <> 0"
    )
    return kept_sql, [territory, end.year, territory]


def _members(scope: Scope, brackets: list[list[int | None]] | None) -> tuple[int, Reach]:
    """The territory's households that were members of one of its buying groups for a day of ``scope`` (a
    period of whole months of one year), and those of them neither the fund nor the baskets reached then,
    counted as ``_counted`` counts (their persons counted from the persons: they have no kept row). One pass over
    the members, a few thousand at most, in a statement written here for each database (the ORM's two took 4 ms
    a period to build at 100,000 households, more than they took to run; PostgreSQL planned their joins as a scan
    of the territory's 100,000 households or kept rows)."""
    months = month_bits(scope.start.month, scope.end.month)
    found = (
        _members_postgresql(scope, months)
        if connection.vendor == "postgresql"
        else _members_sqlite(scope, months)
    )
    only, groups = _count(*found, brackets, every=True)
    return groups, only


def _members_sqlite(scope: Scope, months: int) -> tuple[str, list[Any]]:
    """``_members``'s rows: each member's household, territory and kept row looked up by its key, the persons and
    resources read only for those with no kept row."""
    territory, end = scope.territory.pk, scope.end
    table = HouseholdReach._meta.db_table
    members = (
        f"SELECT mm.id, (SELECT COUNT(*) FROM {table} r WHERE r.territory_id = %s AND r.year = %s "  # noqa: S608 - numbers and constants
        f"AND r.household_id = mm.id AND ((r.fund_months | r.basket_months) & {months}) <> 0) AS kept "
        "FROM (SELECT DISTINCT m.household_id AS id FROM orders_groupmembership m "
        "JOIN orders_buyinggroup g ON g.id = m.group_id "
        "WHERE g.territory_id = %s AND m.joined_on <= %s AND (m.left_on IS NULL OR m.left_on >= %s)) mm "
        "WHERE (SELECT h.territory_id FROM core_household h WHERE h.id = mm.id) = %s"
    )
    persons = "SELECT COUNT(*) FROM core_householdperson p WHERE p.household_id = k.id"
    child = "(p.birth_date > %s OR (p.birth_date IS NULL AND p.is_child))"
    rows = (
        "SELECT 0 AS in_fund, 0 AS in_baskets, 1 - k.kept AS in_groups, "  # noqa: S608 - constants
        f"CASE WHEN k.kept = 0 THEN ({persons}) ELSE 0 END AS size, "
        f"CASE WHEN k.kept = 0 THEN ({persons} AND {child}) ELSE 0 END AS children, "
        "CASE WHEN k.kept = 0 THEN (SELECT h.monthly_resources_cents FROM core_household h WHERE h.id = k.id) "
        f"END AS resources FROM ({members}{_fence()}) k"
    )
    params: list[Any] = [
        _years_before(end, CHILD_AGE_LIMIT),
        territory,
        end.year,
        territory,
        end,
        scope.start,
        territory,
    ]
    return rows, params


def _members_postgresql(scope: Scope, months: int) -> tuple[str, list[Any]]:
    """``_members``'s rows as PostgreSQL reads them fastest: the members as an array, the households and their kept
    rows read by it (index scans of a few thousand keys, where a look-up a member costs 1 to 2 µs each), the
    persons of those with no kept row read and grouped at once (8 to 17 -> 6 to 9 ms a period at 100,000
    households, the members' persons read for a year before the fund ran)."""
    territory, end = scope.territory.pk, scope.end
    table = HouseholdReach._meta.db_table
    child = "(p.birth_date > %s OR (p.birth_date IS NULL AND p.is_child))"
    rows = (
        "WITH members AS MATERIALIZED (SELECT DISTINCT m.household_id AS id FROM orders_groupmembership m "  # noqa: S608 - numbers and constants
        "JOIN orders_buyinggroup g ON g.id = m.group_id "
        "WHERE g.territory_id = %s AND m.joined_on <= %s AND (m.left_on IS NULL OR m.left_on >= %s)), "
        "found AS MATERIALIZED (SELECT h.id, h.monthly_resources_cents AS resources, "
        "CASE WHEN r.household_id IS NULL THEN 0 ELSE 1 END AS kept FROM core_household h "
        f"LEFT JOIN {table} r ON r.territory_id = %s AND r.year = %s AND r.household_id = h.id "
        f"AND ((r.fund_months | r.basket_months) & {months}) <> 0 "
        "AND r.household_id = ANY(ARRAY(SELECT id FROM members)) "
        "WHERE h.id = ANY(ARRAY(SELECT id FROM members)) AND h.territory_id = %s), "
        "persons AS MATERIALIZED (SELECT p.household_id, COUNT(*) AS size, "
        f"COUNT(*) FILTER (WHERE {child}) AS children FROM core_householdperson p "
        "WHERE p.household_id = ANY(ARRAY(SELECT id FROM found WHERE kept = 0)) GROUP BY p.household_id) "
        "SELECT 0 AS in_fund, 0 AS in_baskets, 1 - f.kept AS in_groups, "
        "CASE WHEN f.kept = 0 THEN COALESCE(c.size, 0) ELSE 0 END AS size, "
        "CASE WHEN f.kept = 0 THEN COALESCE(c.children, 0) ELSE 0 END AS children, "
        "CASE WHEN f.kept = 0 THEN f.resources END AS resources "
        "FROM found f LEFT JOIN persons c ON c.household_id = f.id"
    )
    born_after = _years_before(end, CHILD_AGE_LIMIT)
    return rows, [territory, end, scope.start, territory, end.year, territory, born_after]


def reach(scope: Scope, brackets: list[list[int | None]] | None = None) -> Reach:
    """The households reached in the period, counted in all, by scheme, by size and by band of the fund's scale
    ``brackets`` their declared resources per consumption unit fall in (from 1, up to and including each bound;
    0 when none declared or without ``brackets``).

    Read once for the indicators that count the households reached (``scope.kept``) from ``HouseholdReach``, the
    months each scheme reached each household kept by the database as the schemes write (one range of rows of
    the territory and year, whatever the number of lines), and the buying groups' memberships. Resources are in
    cents: ten times them divided (as whole numbers, as Python's ``//``) by ten times the units is the whole cents
    a unit."""

    def read(scope: Scope) -> Reach:
        kept_rows = _kept_rows(scope)
        if kept_rows is None:
            return reach_recounted(scope, brackets)
        kept = _tallied(scope, brackets) or _counted(*kept_rows, brackets)
        groups, only = _members(scope, brackets)
        return Reach(
            kept.total + only.total,
            kept.fund,
            kept.baskets,
            groups,
            {size: kept.sizes[size] + only.sizes[size] for size in kept.sizes},
            {band: kept.bands[band] + only.bands[band] for band in kept.bands},
        )

    return scope.kept(f"reach:{brackets!r}", read)


def reach_recounted(scope: Scope, brackets: list[list[int | None]] | None = None) -> Reach:
    """``reach`` counted again from the lines, the sheets, the memberships and the persons themselves (each
    household of the territory looked at once: seconds at 100,000 households). For a period that is not whole
    months of one year, and to check the kept rows against."""
    inner, params = (
        _households(scope)
        .values_list("in_fund", "in_baskets", "in_groups", "size", "children", "monthly_resources_cents")
        .query.sql_with_params()
    )
    # Each household's row computed once (MATERIALIZED: its subqueries are not inlined in the sums), flags as 1 or 0.
    rows = (
        f"WITH households AS MATERIALIZED ({inner}) SELECT "  # noqa: S608 - the ORM's query
        "CASE WHEN in_fund THEN 1 ELSE 0 END AS in_fund, CASE WHEN in_baskets THEN 1 ELSE 0 END AS in_baskets, "
        "CASE WHEN in_groups THEN 1 ELSE 0 END AS in_groups, size, children, "
        "monthly_resources_cents AS resources FROM households"
    )
    return _counted(rows, list(params), brackets)


@indicator(
    "households_reached",
    theme=Theme.ACCESS,
    name=gettext_lazy("Households reached"),
    definition=gettext_lazy(
        "The households of the territory that, during the period, received at least one month of food credit "
        "from the common fund, collected at least one solidarity basket, or were members of a buying group for "
        "at least one day. A household reached by several of them is counted once. Read from the fund's monthly "
        "lines, the baskets' distribution sheets and the buying groups' memberships. Not counted: people met "
        "only at an activity, households registered but reached by none of the three."
    ),
    unit=Unit.HOUSEHOLDS,
)
def households_reached(scope: Scope) -> Result:
    if unmeasured := _reached_measured(scope):
        return unmeasured
    found = reach(scope, _brackets(scope))
    parts = [
        Part("fund", _("in the common fund"), found.fund),
        Part("baskets", _("collected a solidarity basket"), found.baskets),
        Part("groups", _("in a buying group"), found.groups),
    ]
    parts += [Part(f"size_{size}", str(label), found.sizes[size]) for size, label in SIZES]
    parts.append(Part("size_5", _("5 persons or more"), found.sizes[5]))
    return Result(found.total, parts=tuple(parts))


@by_month("households_reached")
def households_reached_by_month(scope: Scope) -> dict[int, Result]:
    """The households reached in each month of the year ``scope``, as ``households_reached`` counts each (its total,
    not its breakdown), in two queries instead of twelve passes over the year's kept rows: the months' tallies
    (``ReachCount``), and the memberships of the year (a few rows a group) for the households a group reached in a
    month in which neither the fund nor the baskets did."""
    territory, year = scope.territory.pk, scope.start.year
    kept = HouseholdReach.objects.filter(territory=territory, year=year, home_territory=territory)
    bits = F("fund_months").bitor(F("basket_months"))  # type: ignore[arg-type]  # an expression works; the stubs say int
    months = range(1, 13)
    # Each month's households the fund or the baskets reached, read from the tallies (a dozen rows a month).
    in_kept = dict.fromkeys(months, 0)
    tallied = (
        ReachCount.objects.filter(territory=territory, year=year, home_territory=territory, period__in=months)
        .order_by()
        .values_list("period")
        .annotate(n=Sum("n"))
    )
    for month, n in tallied:
        in_kept[month] = int(n or 0)
    kept_bits = kept.filter(household=OuterRef("household")).annotate(bits=bits).values("bits")[:1]
    members = (
        group_members(scope)
        .filter(household__territory=territory)
        .annotate(bits=Coalesce(Subquery(kept_bits, output_field=IntegerField()), Value(0)))
    )
    # Each member's kept months read once (fenced: the ORM would write the look-up again in each month's count).
    members_sql, members_params = members.values_list(
        "household", "joined_on", "left_on", "bits"
    ).query.sql_with_params()
    fence = _fence()
    counts, params = [], []
    for m in months:
        month = scope.month(m)
        counts.append(
            f"COUNT(DISTINCT CASE WHEN (bits & {month_bits(m, m)}) = 0 AND joined_on <= %s "
            "AND (left_on IS NULL OR left_on >= %s) THEN household END)"
        )
        params += [month.end, month.start]
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {', '.join(counts)} FROM ({members_sql}{fence}) m",  # noqa: S608 - numbers and the ORM's query
            [*params, *members_params],
        )
        only_groups = dict(zip(months, (int(n or 0) for n in cursor.fetchone()), strict=True))
    found = {}
    for m in months:
        if unmeasured := _reached_measured(scope.month(m)):
            found[m] = unmeasured
        else:
            found[m] = Result(in_kept[m] + only_groups[m])
    return found


def _band_labels(brackets: list[list[int | None]]) -> list[str]:
    """Each bracket of the scale as a person reads it, in euros of monthly resources per consumption unit."""
    labels, low = [], None
    for up_to, _suggested in brackets:
        if low is None and up_to is not None:
            labels.append(_("up to %(high)s") % {"high": number_text(up_to, Unit.CENTS)})
        elif up_to is None:
            labels.append(_("over %(low)s") % {"low": number_text(low or 0, Unit.CENTS)})
        else:
            labels.append(
                _("over %(low)s, up to %(high)s")
                % {"low": number_text(low, Unit.CENTS), "high": number_text(up_to, Unit.CENTS)}
            )
        low = up_to
    return labels


def household_bands(scope: Scope, households: list[int]) -> dict[int, int]:
    """The band of the fund's scale in force on the period's last day each of ``households`` falls in, as
    ``households_by_resources`` counts it (0: resources not declared); {} without a scale. For a few households
    (the roll-up's households known in two territories)."""
    brackets = _brackets(scope)
    if brackets is None:
        return {}
    bounds = [up_to for up_to, _suggested in brackets]
    rows = (
        Household.objects.filter(pk__in=households)
        .annotate(
            size=Coalesce(_persons(scope, children=False), Value(0)),
            children=Coalesce(_persons(scope, children=True), Value(0)),
        )
        .values_list("pk", "size", "children", "monthly_resources_cents")
    )
    bands = {}
    for household, size, children, resources in rows:
        if resources is None:
            bands[household] = 0
            continue
        units_x10 = (
            10
            if size == 0
            else 10 + 3 * (children - 1)
            if size == children
            else 10 + 5 * (size - children - 1) + 3 * children
        )
        per_unit = resources * 10 // units_x10
        bands[household] = next(
            (i for i, up_to in enumerate(bounds, 1) if up_to is not None and per_unit <= up_to), len(bounds)
        )
    return bands


@indicator(
    "households_by_resources",
    theme=Theme.ACCESS,
    name=gettext_lazy("Households reached, by resources band"),
    definition=gettext_lazy(
        "The households reached during the period (each once, as in the households reached) by band of "
        "declared monthly resources per consumption unit, the bands being those of the common fund's "
        "contribution scale in force on the last day of the period (consumption units: 1 for the first adult, "
        "0.5 for each other person of 14 or more, 0.3 for each child, on that day). Read from the resources each "
        "household declared, as they stand today, and its persons. Not counted in a band: households that "
        "declared no resources (a line of their own). Not measured where the fund has no contribution scale."
    ),
    unit=Unit.HOUSEHOLDS,
)
def households_by_resources(scope: Scope) -> Result:
    if unmeasured := _reached_measured(scope):
        return unmeasured
    brackets = _brackets(scope)
    if brackets is None:
        return Result.not_measured(_("Not measured: the common fund had no contribution scale by then."))
    counts = reach(scope, brackets).bands
    parts = [
        Part(f"band_{index}", label, counts.get(index, 0))
        for index, label in enumerate(_band_labels(brackets), start=1)
    ]
    parts.append(Part("undeclared", _("resources not declared"), counts.get(0, 0)))
    return Result(sum(counts.values()), parts=tuple(parts))


@indicator(
    "credit_issued",
    theme=Theme.ACCESS,
    name=gettext_lazy("Food credit issued"),
    definition=gettext_lazy(
        "The food credit the common fund allocated to its households by the monthly runs of the months in the "
        "period, in euros. Read from the runs' totals. Not counted: credit carried over from an earlier month, "
        "the households' contributions."
    ),
    unit=Unit.CENTS,
    modules=(Module.FUND,),
)
def credit_issued(scope: Scope) -> Result:
    return Result(_issued(scope))


def _issued(scope: Scope) -> int:
    """The credit the period's runs allocated, read once for the credit issued and the share spent."""

    def read(scope: Scope) -> int:
        found = between(
            RunTotals.objects.filter(run__territory=scope.territory), "run__month", scope
        ).aggregate(credit=Sum("allocation_cents"))
        return int(found["credit"] or 0)

    found: int = scope.kept("credit_issued", read)
    return found


def _spent_by_kind(scope: Scope) -> dict[str, int]:
    """The credit spent in the period by kind of store, refunds taken off: read once for the credit spent and
    the share spent."""
    found: dict[str, int] = scope.kept("spent_by_kind", _read_spent_by_kind)
    return found


def _read_spent_by_kind(scope: Scope) -> dict[str, int]:
    spent: dict[str, int] = {}
    hours = StoreHour.objects.filter(
        territory=scope.territory, hour__gte=scope.start_at, hour__lt=scope.end_at
    )
    for row in hours.order_by().values("store__kind").annotate(credit=Sum("credit_cents")):
        kind = row["store__kind"] or ""
        spent[kind] = spent.get(kind, 0) + int(row["credit"] or 0)
    refunds = between_instants(Refund.objects.filter(payment__territory=scope.territory), "created_at", scope)
    for row in refunds.order_by().values("payment__store__kind").annotate(credit=Sum("credit_cents")):
        kind = row["payment__store__kind"] or ""
        spent[kind] = spent.get(kind, 0) - int(row["credit"] or 0)
    return spent


@indicator(
    "credit_spent",
    theme=Theme.ACCESS,
    name=gettext_lazy("Food credit spent"),
    definition=gettext_lazy(
        "The food credit the households spent at the fund's stores during the period, refunds taken off, in "
        "euros, by kind of store. Read from the stores' payments by hour and the refunds. Not counted: the part "
        "of a purchase paid in euros at the till."
    ),
    unit=Unit.CENTS,
    modules=(Module.FUND,),
)
def credit_spent(scope: Scope) -> Result:
    spent = _spent_by_kind(scope)
    parts = tuple(
        Part(kind or "-", kind or _("kind not given"), cents)
        for kind, cents in sorted(spent.items(), key=lambda item: (-item[1], item[0]))
    )
    return Result(sum(spent.values()), parts=parts)


@indicator(
    "credit_share_spent",
    theme=Theme.ACCESS,
    name=gettext_lazy("Share of the food credit spent"),
    definition=gettext_lazy(
        "The food credit spent during the period divided by the credit issued for the months of the period, in "
        "percent. Above 100 % when households spent credit carried over from before. Not measured when no "
        "credit was issued in the period."
    ),
    unit=Unit.PERCENT,
    modules=(Module.FUND,),
)
def credit_share_spent(scope: Scope) -> Result:
    spent, issued = sum(_spent_by_kind(scope).values()), _issued(scope)
    share = percent(spent, issued)
    if share is None:
        return Result.not_measured(_("Not measured: no credit was issued in this period."))
    return Result(share, ratio=(spent, issued))


def _baskets(scope: Scope) -> dict[str, int]:
    """The period's baskets collected, their households, price and members' part, and the baskets and households
    of each size (``n_<size>``, ``households_<size>``): read once for the three indicators that show them
    (``scope.kept``). A whole year or one month is read from ``BasketTally``, which the database keeps (a range of
    a few thousand rows; the lines through their sheets, pickup points and gardens: 29 ms a year at 100,000
    households on SQLite); another period from the lines."""

    def read(scope: Scope) -> dict[str, int]:
        period = _tallied_period(scope)
        by_size: dict[str, Any] = {}
        if period is not None:
            collected = Q(n__gt=0)
            for size in BasketSize.values:
                by_size[f"n_{size}"] = Sum("n", filter=Q(size=size))
                by_size[f"households_{size}"] = Count("household", filter=collected & Q(size=size))
            found = BasketTally.objects.filter(
                territory=scope.territory, year=scope.end.year, period=period
            ).aggregate(
                baskets=Sum("n"),
                households=Count("household", distinct=True, filter=collected),
                price=Sum("price_cents"),
                member=Sum("member_cents"),
                **by_size,
            )
        else:
            for size in BasketSize.values:
                of_size = Q(offer__size=size)
                by_size[f"n_{size}"] = Count("pk", filter=of_size)
                by_size[f"households_{size}"] = Count("household", distinct=True, filter=of_size)
            found = basket_lines(scope).aggregate(
                baskets=Count("pk"),
                households=Count("household", distinct=True),
                price=Sum("price_cents"),
                member=Sum("member_part_cents"),
                **by_size,
            )
        return {key: int(value or 0) for key, value in found.items()}

    found: dict[str, int] = scope.kept("baskets", read)
    return found


@indicator(
    "baskets_distributed",
    theme=Theme.ACCESS,
    name=gettext_lazy("Solidarity baskets collected"),
    definition=gettext_lazy(
        "The solidarity baskets collected at the pickup points on a day of the period, by size. Read from the "
        "distribution sheets checked off. Not counted: baskets due but not collected, baskets skipped for an "
        "absence."
    ),
    unit=Unit.COUNT,
    modules=(Module.BASKETS,),
)
def baskets_distributed(scope: Scope) -> Result:
    found = _baskets(scope)
    parts = tuple(
        Part(size, str(label), found[f"n_{size}"], found[f"households_{size}"])
        for size, label in BasketSize.choices
    )
    return Result(found["baskets"], support=found["households"], parts=parts)


@indicator(
    "baskets_member_part",
    theme=Theme.ACCESS,
    name=gettext_lazy("Members' part of the baskets"),
    definition=gettext_lazy(
        "What the households paid of the price of the baskets they collected in the period, in euros; the rest "
        "was paid by the co-financing agreements. Read from the distribution lines. Not counted: baskets not "
        "collected."
    ),
    unit=Unit.CENTS,
    modules=(Module.BASKETS,),
)
def baskets_member_part(scope: Scope) -> Result:
    found = _baskets(scope)
    return Result(
        found["member"],
        support=found["households"],
        parts=(
            Part("price", _("full price of the baskets"), found["price"], found["households"]),
            Part(
                "funded", _("paid by the co-financing"), found["price"] - found["member"], found["households"]
            ),
        ),
    )


@indicator(
    "baskets_member_share",
    theme=Theme.ACCESS,
    name=gettext_lazy("Members' share of the baskets' price"),
    definition=gettext_lazy(
        "The members' part divided by the full price of the baskets collected in the period, in percent. Not "
        "counted: baskets not collected. Not measured when no basket was collected in the period."
    ),
    unit=Unit.PERCENT,
    modules=(Module.BASKETS,),
)
def baskets_member_share(scope: Scope) -> Result:
    found = _baskets(scope)
    share = percent(found["member"], found["price"])
    if share is None:
        return Result.not_measured(_("Not measured: no basket was collected in this period."))
    return Result(share, support=found["households"], ratio=(found["member"], found["price"]))


def _orders(scope: Scope) -> QuerySet[Order]:
    return between(
        Order.objects.filter(cycle__group__territory=scope.territory).exclude(status=OrderStatus.CANCELLED),
        "cycle__delivery_date",
        scope,
    )


@indicator(
    "orders_by_tier",
    theme=Theme.ACCESS,
    name=gettext_lazy("Buying-group orders, by tier"),
    definition=gettext_lazy(
        "The orders placed in the buying groups' cycles delivered during the period, by the share of the price "
        "the household paid (its solidarity tier). Read from the orders. Not counted: cancelled orders."
    ),
    unit=Unit.COUNT,
    modules=(Module.ORDERS,),
)
def orders_by_tier(scope: Scope) -> Result:
    found = _orders_figures(scope)
    parts = tuple(
        Part(str(tier), _("paying %(percent)s %% of the price") % {"percent": tier}, orders, households)
        for tier, orders, households in found.tiers
    )
    return Result(
        sum(orders for _tier, orders, _households in found.tiers), support=found.households, parts=parts
    )


@dataclass(frozen=True)
class _OrdersFigures:
    """The period's orders: (tier, orders, households) by tier, the households that ordered, and of the orders
    below the full price whose amount due is set, their households, full price and what was paid."""

    tiers: list[tuple[int, int, int]]
    households: int
    solidary_households: int
    full_cents: int
    due_cents: int


def _orders_figures(scope: Scope) -> _OrdersFigures:
    """Read once (``scope.kept``) for the orders by tier and the solidarity received: two grouped queries, where
    each indicator read the orders again (three queries, 16 ms a year at 100,000 households on SQLite)."""

    def read(scope: Scope) -> _OrdersFigures:
        tiers = [
            (int(tier), int(n), int(households))
            for tier, n, households in _orders(scope)
            .order_by()
            .values_list("tier_percent")
            .annotate(n=Count("pk"), households=Count("household", distinct=True))
            .order_by("tier_percent")
        ]
        solidary = Q(due_cents__isnull=False, tier_percent__lt=100)
        found = _orders(scope).aggregate(
            households=Count("household", distinct=True),
            solidary=Count("household", distinct=True, filter=solidary),
            full=Sum("full_cents", filter=solidary),
            due=Sum("due_cents", filter=solidary),
        )
        return _OrdersFigures(
            tiers,
            int(found["households"] or 0),
            int(found["solidary"] or 0),
            int(found["full"] or 0),
            int(found["due"] or 0),
        )

    found: _OrdersFigures = scope.kept("orders_figures", read)
    return found


@indicator(
    "orders_solidarity",
    theme=Theme.ACCESS,
    name=gettext_lazy("Solidarity received in the buying groups"),
    definition=gettext_lazy(
        "What the households of the tiers below the full price did not pay of their orders delivered during "
        "the period, in euros: what the solidarity pot, fed by the higher tiers and the funders, paid for them. "
        "Read from the closed cycles' orders. Not counted: cycles not closed yet, orders cancelled."
    ),
    unit=Unit.CENTS,
    modules=(Module.ORDERS,),
)
def orders_solidarity(scope: Scope) -> Result:
    found = _orders_figures(scope)
    full, due, households = found.full_cents, found.due_cents, found.solidary_households
    return Result(
        full - due,
        support=households,
        parts=(
            Part("full", _("full price"), full, households),
            Part("paid", _("paid by the households"), due, households),
        ),
    )


@indicator(
    "food_budget_share",
    theme=Theme.ACCESS,
    name=gettext_lazy("Share of the households' food budget covered by Grenier"),
    definition=gettext_lazy(
        "What the common fund's credit, the co-financing of the baskets and the buying groups' solidarity bring "
        "a household, divided by what it spends on food in a month. Not measured: Grenier does not ask the "
        "households what they spend on food (it asks their resources only, for the contribution scale), and a "
        "share of resources would not be a share of the food budget; it would take a declared food budget, "
        "asked with the household's consent, to measure it. Not counted meanwhile: nothing, rather than an "
        "estimate."
    ),
    unit=Unit.PERCENT,
)
def food_budget_share(scope: Scope) -> Result:
    return Result.not_measured(_("Not measured: the households do not declare a food budget in Grenier."))
