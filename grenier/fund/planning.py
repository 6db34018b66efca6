"""Feed the projection engine from the territory's data: its households, its rules (or proposed ones), its money.

The governance module will call ``project_territory`` with a proposal's rules to show them beside the current ones.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np
from django.db import connection
from django.db.models import Count, F, OuterRef, Q, Subquery, Sum
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
    HouseholdTouch,
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


# The groups last read, by what they were read for and the households' stamp (token) they were read at; a few.
_GROUPS: OrderedDict[tuple[object, ...], list[tuple[int, int, int, int, int, int]]] = OrderedDict()
_GROUPS_KEPT = 32
# The households behind the groups last read outside any transaction, by what they were read for: the base the
# next changes are applied to (a few MB at 100,000 households each, so fewer).
_BASES: OrderedDict[tuple[object, ...], _Households] = OrderedDict()
_BASES_KEPT = 8
# More households touched than this since the base was read: read them all again (one query) instead.
_TOUCHED_AT_MOST = 5_000

Key = tuple[int, int, int, int, int]  # persons, children, children under 14, interval of the bounds, chosen


@dataclass(frozen=True)
class _Households:
    """Each active household's row (``ids`` sorted; ``rows``: persons, children, children under 14, interval of the
    bounds or -1, chosen or -1, resources or -1) and the groups they make (key -> households, smallest resources),
    as read at the stamp's number ``seq`` of its ``epoch``."""

    epoch: int
    seq: int
    ids: np.ndarray
    rows: np.ndarray
    groups: dict[Key, tuple[int, int]]

    def listed(self) -> list[tuple[int, int, int, int, int, int]]:
        return [
            (n, c, c14, least, chosen, count)
            for (n, c, c14, _, chosen), (count, least) in self.groups.items()
        ]


def _kept_groups(
    territory: Territory,
    month: date,
    first_projected: date,
    child_age_limit: int,
    bounds: Sequence[int | None],
) -> list[tuple[int, int, int, int, int, int]]:
    """``_household_groups``, kept while the territory's households do not change, and when they do, updated from
    the households that changed only.

    The database gives the territory a new stamp (``HouseholdsStamp``: a token, and a number that grows in the
    order writes commit) in every transaction that writes a household, a person or a chosen contribution, and marks
    each household written with that number (``HouseholdTouch``). The stamp is read first. Same token: the groups
    kept under it are what the query would return. Another token: the households touched after the number the kept
    households were read at are read again (one query restricted to them), their old rows replaced by the new ones
    and the groups moved by as much — a household written after the stamp was read is touched after its number, so
    it is read again next time (reading it twice changes nothing). The households kept as a base were read outside
    any transaction, so they never hold a write that could still be rolled back. Without a stamp (none written yet)
    the groups are read each time."""
    limits = tuple(sorted({int(bound) for bound in bounds if bound is not None}))
    stamp = HouseholdsStamp.objects.filter(territory=territory).values_list("token", "seq", "epoch").first()
    if stamp is None:
        return _household_groups(territory, month, first_projected, child_age_limit, limits)
    token, seq, epoch = stamp
    read_for = (
        connection.alias,
        str(connection.settings_dict["NAME"]),
        territory.pk,
        month,
        first_projected,
        child_age_limit,
        limits,
    )
    rows = _GROUPS.get((*read_for, token))
    if rows is not None:
        _GROUPS.move_to_end((*read_for, token))
        return list(rows)
    base = _BASES.get(read_for)
    households = None
    if base is not None and base.epoch == epoch and seq >= base.seq:
        touched = list(
            HouseholdTouch.objects.filter(territory=territory, seq__gt=base.seq).values_list(
                "household_id", flat=True
            )[: _TOUCHED_AT_MOST + 1]
        )
        if len(touched) <= _TOUCHED_AT_MOST:
            households = _moved(
                base,
                epoch,
                seq,
                _household_rows(territory, month, first_projected, child_age_limit, limits, touched),
                touched,
            )
    if households is None:
        households = _grouped(
            epoch, seq, _household_rows(territory, month, first_projected, child_age_limit, limits)
        )
    if _committed():
        _BASES[read_for] = households
        _BASES.move_to_end(read_for)
        while len(_BASES) > _BASES_KEPT:
            _BASES.popitem(last=False)
    rows = households.listed()
    _GROUPS[(*read_for, token)] = rows
    while len(_GROUPS) > _GROUPS_KEPT:
        _GROUPS.popitem(last=False)
    return list(rows)


def _committed() -> bool:
    """Whether what the connection reads now is committed: outside any transaction (a view's reads)."""
    return not connection.in_atomic_block


def _grouped(epoch: int, seq: int, rows: np.ndarray) -> _Households:
    """The households ``rows`` (id first) and their groups, sorted by id."""
    rows = rows[np.argsort(rows[:, 0], kind="stable")]
    groups: dict[Key, tuple[int, int]] = {}
    if len(rows):
        keys, inverse, counts = np.unique(rows[:, 1:6], axis=0, return_inverse=True, return_counts=True)
        least = np.full(len(keys), np.iinfo(np.int64).max, dtype=np.int64)
        np.minimum.at(least, inverse.reshape(-1), rows[:, 6])
        groups = {
            tuple(int(v) for v in key): (int(count), int(low))  # type: ignore[misc]
            for key, count, low in zip(keys, counts, least, strict=True)
        }
    return _Households(epoch=epoch, seq=seq, ids=rows[:, 0].copy(), rows=rows[:, 1:].copy(), groups=groups)


def _moved(base: _Households, epoch: int, seq: int, fresh: np.ndarray, touched: list[int]) -> _Households:
    """``base`` with the households ``touched`` replaced by their rows now (``fresh``, id first: those still
    active in the territory)."""
    groups = dict(base.groups)
    leaving = np.isin(base.ids, np.asarray(touched, dtype=np.int64))
    recount: set[Key] = set()
    for row in base.rows[leaving]:
        key: Key = (int(row[0]), int(row[1]), int(row[2]), int(row[3]), int(row[4]))
        count, least = groups[key]
        if count == 1:
            del groups[key]
            continue
        groups[key] = (count - 1, least)
        if int(row[5]) == least:
            recount.add(key)  # its smallest resources may have gone
    ids = np.concatenate([base.ids[~leaving], fresh[:, 0]])
    rows = np.concatenate([base.rows[~leaving], fresh[:, 1:]])
    order = np.argsort(ids, kind="stable")
    ids, rows = ids[order], rows[order]
    for row in fresh[:, 1:]:
        key = (int(row[0]), int(row[1]), int(row[2]), int(row[3]), int(row[4]))
        count, least = groups.get(key, (0, int(row[5])))
        groups[key] = (count + 1, min(least, int(row[5])))
    for key in recount & groups.keys():
        members = np.all(rows[:, :5] == np.asarray(key, dtype=np.int64), axis=1)
        groups[key] = (groups[key][0], int(rows[members, 5].min()))
    return _Households(epoch=epoch, seq=seq, ids=ids, rows=rows, groups=groups)


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


def _per_household(
    territory: Territory,
    month: date,
    first_projected: date,
    child_age_limit: int,
    bounds: Sequence[int | None],
    only: list[int] | None = None,
) -> tuple[str, tuple[Any, ...], str]:
    """The active households (only those of ``only``, if given) with their persons counted, as a query's text and
    parameters, and the expression of the interval of the scale's bounds their resources per unit fall in."""
    chosen = ContributionChoice.objects.filter(
        household=OuterRef("pk"), effective_month__lte=first_projected
    ).order_by("-effective_month")
    households = services.active_households(territory, month)
    if only is not None:
        households = households.filter(pk__in=only)
    per_household = (
        households.order_by()
        .annotate(
            n=Count("persons"),
            c=Count("persons", filter=_child(child_age_limit, month)),
            c14=Count("persons", filter=_child(CHILD_AGE_LIMIT, month)),
            chosen=Subquery(chosen.values("amount_cents")[:1]),
            hid=F("pk"),
        )
        .values("hid", "monthly_resources_cents", "n", "c", "c14", "chosen")
    )
    inner, params = per_household.query.sql_with_params()
    units = (
        "(CASE WHEN h.n - h.c14 <= 0 THEN (CASE WHEN h.c14 > 1 THEN 7 + 3 * h.c14 ELSE 10 END) "
        "ELSE 5 + 5 * (h.n - h.c14) + 3 * h.c14 END)"
    )
    limits = sorted({int(bound) for bound in bounds if bound is not None})
    interval = "CASE WHEN h.monthly_resources_cents IS NULL THEN -1 "
    interval += "".join(
        f"WHEN h.monthly_resources_cents * 10 / {units} <= {limit:d} THEN {index} "
        for index, limit in enumerate(limits)
    )
    interval += f"ELSE {len(limits)} END"
    return inner, tuple(params), interval


def _household_groups(
    territory: Territory,
    month: date,
    first_projected: date,
    child_age_limit: int,
    bounds: Sequence[int | None],
) -> list[tuple[int, int, int, int, int, int]]:
    """(persons, children, children under 14, resources or -1, chosen or -1, households) per group: the active
    households with their persons counted (one ``GROUP BY`` household), grouped again by what the projection
    reads, in one statement (the recount ``_kept_groups`` is checked against)."""
    inner, params, interval = _per_household(territory, month, first_projected, child_age_limit, bounds)
    # Our own query's text and constants (the bounds are integers); every value is a bound parameter.
    columns = (
        "h.n, h.c, h.c14, COALESCE(MIN(h.monthly_resources_cents), -1), COALESCE(h.chosen, -1), COUNT(*)"
    )
    sql = f"SELECT {columns} FROM ({inner}) h GROUP BY h.n, h.c, h.c14, {interval}, h.chosen"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [tuple(int(value) for value in row) for row in cursor.fetchall()]  # type: ignore[misc]


def _household_rows(
    territory: Territory,
    month: date,
    first_projected: date,
    child_age_limit: int,
    bounds: Sequence[int | None],
    only: list[int] | None = None,
) -> np.ndarray:
    """One row per active household (only those of ``only``, if given): id, persons, children, children under 14,
    interval of the bounds or -1, chosen or -1, resources or -1."""
    chunks: list[list[int] | None] = (
        [None] if only is None else [only[i : i + 500] for i in range(0, len(only), 500)]
    )
    found: list[tuple[int, ...]] = []
    for chunk in chunks:
        inner, params, interval = _per_household(
            territory, month, first_projected, child_age_limit, bounds, chunk
        )
        columns = f"h.hid, h.n, h.c, h.c14, {interval}, COALESCE(h.chosen, -1), COALESCE(h.monthly_resources_cents, -1)"
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {columns} FROM ({inner}) h", params)  # noqa: S608 - as above
            found.extend(cursor.fetchall())
    return np.asarray(found, dtype=np.int64).reshape(-1, 7)


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
    observed: Observed | None = None,
) -> PlanningResult:
    """Project the fund under the rules in force, each of which a caller may replace by a proposed value.

    ``households``: arrays from ``household_arrays`` with this scale's bounds among theirs, and ``observed``: from
    ``observe``, for a caller that projects the same territory twice (the panel beside a vote: the rules in force
    and the proposed ones), so that both read the territory once."""
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
    if observed is None:
        observed = observe(territory)
    assumptions = projection.Assumptions(
        months=months,
        scenarios=scenarios,
        seed=seed,
        starting_balance_cents=max(observed.balance_cents, 0),
        outstanding_credit_cents=max(observed.outstanding_cents, 0),
        monthly_grants_cents=observed.monthly_grants_cents
        if monthly_grants_cents is None
        else monthly_grants_cents,
        spend_share_mean=observed.spend_share,
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


@dataclass(frozen=True)
class Observed:
    """What a projection starts from, read from the territory's books (the same whatever rules are projected)."""

    balance_cents: int
    outstanding_cents: int
    monthly_grants_cents: int
    spend_share: float


def observe(territory: Territory) -> Observed:
    """The fund's balance and the credit households hold today, what funders gave a month lately, and the share of
    issued credit that was spent."""
    figures_balance, outstanding = _balances(territory)
    return Observed(
        balance_cents=figures_balance,
        outstanding_cents=outstanding,
        monthly_grants_cents=_monthly_grants(territory, timezone.localdate() - timedelta(days=183)),
        spend_share=_observed_spend_share(territory),
    )


def _balances(territory: Territory) -> tuple[int, int]:
    """The fund's balance to project from, and the credit households still hold.

    Credit households hold may still be spent; credit stores hold is already spent and owed in euros, like the
    settlements not yet paid: both come off the starting balance. Both sums in one pass over the accounts."""
    sums = Account.objects.filter(
        Q(code__startswith="household:") | Q(code__startswith="store:"), territory=territory
    ).aggregate(
        wallets=Sum("balance_cents", filter=Q(code__startswith="household:")),
        at_stores=Sum("balance_cents", filter=Q(code__startswith="store:")),
    )
    wallets, at_stores = sums["wallets"], sums["at_stores"]
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


__all__ = ["CarryOver", "Observed", "PlanningResult", "household_arrays", "observe", "project_territory"]
