"""Feed the projection engine from the territory's data: its households, its rules (or proposed ones), its money.

The governance module will call ``project_territory`` with a proposal's rules to show them beside the current ones.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
from django.db import connection
from django.db.models import Count, OuterRef, Q, Subquery, Sum
from django.utils import timezone

from grenier.core.errors import Conflict
from grenier.core.models import CHILD_AGE_LIMIT, Territory
from grenier.fund import projection, selectors, services
from grenier.fund.models import AllocationRule as AllocationRuleRow
from grenier.fund.models import (
    CarryOver,
    ContributionChoice,
    Grant,
    HouseholdsStamp,
    Settlement,
    SettlementStatus,
)
from grenier.fund.projection import AllocationRule, Assumptions, ScaleRule
from grenier.ledger.models import Account


@dataclass(frozen=True)
class PlanningResult:
    projection: projection.Projection
    # The field above hides the module in this class's body (for mypy): the names below are imported directly.
    assumptions: Assumptions
    scale: ScaleRule
    allocation: AllocationRule
    households: int


def household_arrays(
    territory: Territory, child_age_limit: int = 14, bounds: Sequence[int | None] = ()
) -> projection.HouseholdArrays:
    """The active households as arrays, one entry per group of households the projection cannot tell apart (same
    persons, children under the rule's age limit and under 14, chosen contribution, and resources per consumption
    unit in the same interval between the scale's ``bounds``), with how many households each stands for — no
    names. One grouped query: the database counts, Python never sees a household or a person.

    Each group's resources are its smallest household's: the same consumption units, so the same bracket of every
    scale whose bounds are among ``bounds`` (a caller projecting a proposed scale passes its bounds). The
    contributions are the ones the next monthly run will take: the latest choice in effect by next month (the
    projection's first), ``-1`` for a household that chose none."""
    today = timezone.localdate()
    month = today.replace(day=1)
    first_projected = services.first_of_month(services.last_of_month(month) + timedelta(days=1))
    rows = _kept_groups(territory, month, first_projected, child_age_limit, bounds)
    columns = list(zip(*rows, strict=True)) if rows else [()] * 6
    persons, children, under_14, resources, chosen, counts = (np.asarray(c, dtype=np.int64) for c in columns)
    return projection.HouseholdArrays(
        resources_cents=resources,
        persons=persons,
        children=children,
        consumption_units_x10=np.asarray(
            [_units_x10(int(n), int(c)) for n, c in zip(persons, under_14, strict=True)], dtype=np.int64
        ),
        chosen_cents=chosen,
        counts=counts,
    )


# The groups last read, by database, territory, households' stamp and what they were read for; a few entries.
_GROUPS: OrderedDict[tuple[object, ...], list[tuple[int, int, int, int, int, int]]] = OrderedDict()
_GROUPS_KEPT = 32


def _kept_groups(
    territory: Territory,
    month: date,
    first_projected: date,
    child_age_limit: int,
    bounds: Sequence[int | None],
) -> list[tuple[int, int, int, int, int, int]]:
    """``_household_groups``, read again only when the territory's households changed since: the database gives
    the territory a new stamp (``HouseholdsStamp``) in every transaction that writes a household, a person or a
    chosen contribution, so groups kept under the stamp they were read at are still what the query would return.
    The stamp is read first: whatever is written after it was read gives a new stamp, so groups are never kept
    under a stamp older than what they saw. Without a stamp (none written yet) the groups are read each time."""
    limits = tuple(sorted({int(bound) for bound in bounds if bound is not None}))
    token = HouseholdsStamp.objects.filter(territory=territory).values_list("token", flat=True).first()
    if token is None:
        return _household_groups(territory, month, first_projected, child_age_limit, limits)
    database = connection.settings_dict["NAME"]
    key = (
        connection.alias,
        str(database),
        territory.pk,
        token,
        month,
        first_projected,
        child_age_limit,
        limits,
    )
    rows = _GROUPS.get(key)
    if rows is None:
        rows = _household_groups(territory, month, first_projected, child_age_limit, limits)
        _GROUPS[key] = rows
        while len(_GROUPS) > _GROUPS_KEPT:
            _GROUPS.popitem(last=False)
    else:
        _GROUPS.move_to_end(key)
    return list(rows)


def _units_x10(persons: int, children_under_14: int) -> int:
    """``core.models.consumption_units`` x 10, from the counts (the INSEE scale: 1, 0.5 per other person of 14 or
    more, 0.3 per child; a household of children only is headed by its first)."""
    adults = persons - children_under_14
    if adults <= 0:
        return 10 + 3 * max(children_under_14 - 1, 0)
    return 10 + 5 * (adults - 1) + 3 * children_under_14


def _child(limit: int, on: date) -> Q:
    """A person under ``limit`` years on ``on`` (a month's first day), as ``rules.composition`` counts them: born
    after the day ``limit`` years before, or, with no birth date, marked as a child."""
    cutoff = on.replace(year=on.year - limit)
    return Q(persons__birth_date__gt=cutoff) | Q(persons__birth_date__isnull=True, persons__is_child=True)


def _household_groups(
    territory: Territory,
    month: date,
    first_projected: date,
    child_age_limit: int,
    bounds: Sequence[int | None],
) -> list[tuple[int, int, int, int, int, int]]:
    """(persons, children, children under 14, resources or -1, chosen or -1, households) per group: the active
    households with their persons counted (one ``GROUP BY`` household), grouped again by what the projection
    reads, in one statement."""
    chosen = ContributionChoice.objects.filter(
        household=OuterRef("pk"), effective_month__lte=first_projected
    ).order_by("-effective_month")
    per_household = (
        services.active_households(territory, month)
        .order_by()
        .annotate(
            n=Count("persons"),
            c=Count("persons", filter=_child(child_age_limit, month)),
            c14=Count("persons", filter=_child(CHILD_AGE_LIMIT, month)),
            chosen=Subquery(chosen.values("amount_cents")[:1]),
        )
        .values("monthly_resources_cents", "n", "c", "c14", "chosen")
    )
    inner, params = per_household.query.sql_with_params()
    units = (
        "(CASE WHEN h.n - h.c14 <= 0 THEN (CASE WHEN h.c14 > 1 THEN 7 + 3 * h.c14 ELSE 10 END) "
        "ELSE 5 + 5 * (h.n - h.c14) + 3 * h.c14 END)"
    )
    limits = sorted({int(bound) for bound in bounds if bound is not None})
    interval = "CASE WHEN h.monthly_resources_cents IS NULL THEN -1 "
    interval += "".join(
        f"WHEN h.monthly_resources_cents * 10 / {units} <= %s THEN {index} " for index in range(len(limits))
    )
    interval += f"ELSE {len(limits)} END"
    # Our own query's text and constants; every value is a bound parameter.
    columns = (
        "h.n, h.c, h.c14, COALESCE(MIN(h.monthly_resources_cents), -1), COALESCE(h.chosen, -1), COUNT(*)"
    )
    sql = f"SELECT {columns} FROM ({inner}) h GROUP BY h.n, h.c, h.c14, {interval}, h.chosen"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, *limits])
        return [tuple(int(value) for value in row) for row in cursor.fetchall()]  # type: ignore[misc]


def project_territory(
    territory: Territory,
    *,
    months: int = 12,
    scenarios: int = 1000,
    seed: int = 0,
    base_cents: int | None = None,
    per_additional_person_cents: int | None = None,
    per_child_cents: int | None = None,
    carry_over: str | None = None,
    carry_over_cap_cents: int | None = None,
    brackets: list[list[int | None]] | None = None,
    minimum_cents: int | None = None,
    monthly_grants_cents: int | None = None,
    households: projection.HouseholdArrays | None = None,
) -> PlanningResult:
    """Project the fund under the rules in force, each of which a caller may replace by a proposed value.

    ``households``: arrays from ``household_arrays`` with this scale's bounds among theirs, for a caller that
    projects the same territory twice (the panel beside a vote: the rules in force and the proposed ones)."""
    today = timezone.localdate()
    scale = services.scale_for(territory, today)
    rule = services.rule_for(territory, today)
    if scale is None or rule is None:
        raise Conflict("Set a contribution scale and an allocation rule first.")
    scale_rule = projection.ScaleRule(
        brackets=tuple((b[0], int(b[1] or 0)) for b in (brackets or scale.brackets)),
        minimum_cents=scale.minimum_cents if minimum_cents is None else minimum_cents,
    )
    allocation = _allocation(
        rule,
        base_cents=base_cents,
        per_additional_person_cents=per_additional_person_cents,
        per_child_cents=per_child_cents,
        carry_over=carry_over,
        carry_over_cap_cents=carry_over_cap_cents,
    )
    if households is None:
        households = household_arrays(territory, rule.child_age_limit, [b[0] for b in scale_rule.brackets])
    if monthly_grants_cents is None:
        monthly_grants_cents = _monthly_grants(territory, today - timedelta(days=183))
    figures_balance, outstanding = _balances(territory)
    spend_share = _observed_spend_share(territory)
    assumptions = projection.Assumptions(
        months=months,
        scenarios=scenarios,
        seed=seed,
        starting_balance_cents=max(figures_balance, 0),
        outstanding_credit_cents=max(outstanding, 0),
        monthly_grants_cents=monthly_grants_cents,
        spend_share_mean=spend_share,
    )
    result = projection.project(
        scale=scale_rule, allocation=allocation, households=households, assumptions=assumptions
    )
    return PlanningResult(
        projection=result,
        assumptions=assumptions,
        scale=scale_rule,
        allocation=allocation,
        households=households.households,
    )


def _allocation(
    rule: AllocationRuleRow,
    *,
    base_cents: int | None,
    per_additional_person_cents: int | None,
    per_child_cents: int | None,
    carry_over: str | None,
    carry_over_cap_cents: int | None,
) -> projection.AllocationRule:
    """The allocation rule in force, with each value a caller proposes in its place."""
    return projection.AllocationRule(
        base_cents=rule.base_cents if base_cents is None else base_cents,
        per_additional_person_cents=(
            rule.per_additional_person_cents
            if per_additional_person_cents is None
            else per_additional_person_cents
        ),
        per_child_cents=rule.per_child_cents if per_child_cents is None else per_child_cents,
        carry_over=carry_over or rule.carry_over,
        carry_over_cap_cents=rule.carry_over_cap_cents
        if carry_over_cap_cents is None
        else carry_over_cap_cents,
    )


def _monthly_grants(territory: Territory, since: date) -> int:
    """What funders gave a month on average over the last six months."""
    received = (
        Grant.objects.filter(funder__territory=territory, received_on__gte=since).aggregate(
            t=Sum("amount_cents")
        )["t"]
        or 0
    )
    return int(received) // 6


def _balances(territory: Territory) -> tuple[int, int]:
    """The fund's balance to project from, and the credit households still hold.

    Credit households hold may still be spent; credit stores hold is already spent and owed in euros, like the
    settlements not yet paid: both come off the starting balance."""
    wallets = Account.objects.filter(territory=territory, code__startswith="household:").aggregate(
        t=Sum("balance_cents")
    )["t"]
    at_stores = Account.objects.filter(territory=territory, code__startswith="store:").aggregate(
        t=Sum("balance_cents")
    )["t"]
    due = Settlement.objects.filter(store__territory=territory, status=SettlementStatus.DUE).aggregate(
        t=Sum("amount_cents")
    )["t"]
    figures_balance = services.fund_account(territory).balance_cents - int(at_stores or 0) - int(due or 0)
    return figures_balance, int(wallets or 0)


def _observed_spend_share(territory: Territory) -> float:
    """The share of issued credit spent over the last three runs, bounded to a sensible range; 0.92 without data."""
    from grenier.fund.models import MonthlyRun, RunTotals

    runs = list(MonthlyRun.objects.filter(territory=territory).order_by("-month")[:3])
    if not runs:
        return 0.92
    # The runs' kept totals (one row a run), not their lines.
    issued = RunTotals.objects.filter(run__in=runs).aggregate(t=Sum("allocation_cents"))["t"] or 0
    start, _ = services.month_bounds(runs[-1].month)
    spent = selectors.credit_spent_since(territory, start)
    if issued <= 0:
        return 0.92
    return float(min(max(spent / issued, 0.3), 1.0))


__all__ = ["CarryOver", "PlanningResult", "household_arrays", "project_territory"]
