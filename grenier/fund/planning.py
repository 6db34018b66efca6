"""Feed the projection engine from the territory's data: its households, its rules (or proposed ones), its money.

The governance module will call ``project_territory`` with a proposal's rules to show them beside the current ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import numpy as np
from django.db.models import Sum
from django.utils import timezone

from grenier.core.errors import Conflict
from grenier.core.models import Territory
from grenier.fund import projection, rules, services
from grenier.fund.models import CarryOver, Grant, Payment, Settlement, SettlementStatus
from grenier.fund.projection import AllocationRule, Assumptions, ScaleRule
from grenier.ledger.models import Account


@dataclass(frozen=True)
class PlanningResult:
    projection: projection.Projection
    # The field above hides the module in this class's body (for mypy): the names below are imported directly.
    assumptions: Assumptions
    scale: ScaleRule
    allocation: AllocationRule
    households_resources: np.ndarray


def household_arrays(territory: Territory, child_age_limit: int = 14) -> projection.HouseholdArrays:
    """The active households as arrays (resources, persons, children, consumption units, the contribution each
    chose) — no names. The contributions are the ones the next monthly run will take: the latest choice in effect
    by next month (the projection's first), ``-1`` for a household that chose none."""
    today = timezone.localdate()
    month = today.replace(day=1)
    households = list(
        services.active_households(territory, month)
        .prefetch_related("persons")
        .only("id", "monthly_resources_cents")
    )
    first_projected = services.first_of_month(services.last_of_month(month) + timedelta(days=1))
    chosen = services.chosen_contributions({household.pk for household in households}, first_projected)
    resources, persons, children, units = [], [], [], []
    for household in households:
        comp = rules.composition(list(household.persons.all()), month, child_age_limit)
        resources.append(
            -1 if household.monthly_resources_cents is None else household.monthly_resources_cents
        )
        persons.append(comp.persons)
        children.append(comp.children)
        units.append(comp.units_x10)
    return projection.HouseholdArrays(
        resources_cents=np.asarray(resources, dtype=np.int64),
        persons=np.asarray(persons, dtype=np.int64),
        children=np.asarray(children, dtype=np.int64),
        consumption_units_x10=np.asarray(units, dtype=np.int64),
        chosen_cents=np.asarray([chosen.get(household.pk, -1) for household in households], dtype=np.int64),
    )


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
) -> PlanningResult:
    """Project the fund under the rules in force, each of which a caller may replace by a proposed value."""
    today = timezone.localdate()
    scale = services.scale_for(territory, today)
    rule = services.rule_for(territory, today)
    if scale is None or rule is None:
        raise Conflict("Set a contribution scale and an allocation rule first.")
    scale_rule = projection.ScaleRule(
        brackets=tuple((b[0], int(b[1] or 0)) for b in (brackets or scale.brackets)),
        minimum_cents=scale.minimum_cents if minimum_cents is None else minimum_cents,
    )
    allocation = projection.AllocationRule(
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
    households = household_arrays(territory, rule.child_age_limit)
    since = today - timedelta(days=183)
    if monthly_grants_cents is None:
        received = (
            Grant.objects.filter(funder__territory=territory, received_on__gte=since).aggregate(
                t=Sum("amount_cents")
            )["t"]
            or 0
        )
        monthly_grants_cents = int(received) // 6
    # Credit households hold may still be spent; credit stores hold is already spent and owed in euros, like the
    # settlements not yet paid: both come off the starting balance.
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
    outstanding = int(wallets or 0)
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
        households_resources=households.resources_cents,
    )


def _observed_spend_share(territory: Territory) -> float:
    """The share of issued credit spent over the last three runs, bounded to a sensible range; 0.92 without data."""
    from grenier.fund.models import MonthLine, MonthlyRun

    runs = list(MonthlyRun.objects.filter(territory=territory).order_by("-month")[:3])
    if not runs:
        return 0.92
    issued = MonthLine.objects.filter(run__in=runs).aggregate(t=Sum("allocation_cents"))["t"] or 0
    start, _ = services.month_bounds(runs[-1].month)
    spent = (
        Payment.objects.filter(territory=territory, created_at__gte=start).aggregate(t=Sum("credit_cents"))[
            "t"
        ]
        or 0
    )
    if issued <= 0:
        return 0.92
    return float(min(max(spent / issued, 0.3), 1.0))


__all__ = ["CarryOver", "PlanningResult", "household_arrays", "project_territory"]
