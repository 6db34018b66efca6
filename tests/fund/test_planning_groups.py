"""The projection's inputs are a few grouped counts (issue 14, "Pages at scale"), and they say what one entry per
household said: on random territories, the groups spread back to households equal the per-household arrays the
projection read before (every household and person loaded as instances), and the projection is the same to the
cent."""

from __future__ import annotations

from datetime import date, timedelta
from types import SimpleNamespace

import numpy as np
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grenier.core.models import Household, HouseholdPerson, Territory
from grenier.fund import planning, projection, rules, services
from grenier.fund.models import CarryOver, ContributionChoice
from grenier.fund.proposals import rule_projection

from .conftest import BRACKETS

TODAY = date(2026, 11, 25)  # tests/conftest.py's pinned clock
MONTH = TODAY.replace(day=1)


def per_household_arrays(territory: Territory, child_age_limit: int) -> projection.HouseholdArrays:
    """The projection's inputs as planning.household_arrays computed them before: every active household and its
    persons as instances, one entry each (the reference the grouped counts must equal)."""
    households = list(
        services.active_households(territory, MONTH)
        .prefetch_related("persons")
        .only("id", "monthly_resources_cents")
    )
    chosen = services.chosen_contributions({h.pk for h in households}, date(2026, 12, 1))
    rows = []
    for household in households:
        comp = rules.composition(list(household.persons.all()), MONTH, child_age_limit)
        resources = household.monthly_resources_cents
        rows.append(
            (
                -1 if resources is None else resources,
                comp.persons,
                comp.children,
                comp.units_x10,
                chosen.get(household.pk, -1),
            )
        )
    columns = list(zip(*rows, strict=True)) if rows else [()] * 5
    arrays = [np.asarray(column, dtype=np.int64) for column in columns]
    resources_cents, persons, children, units, chosen_cents = arrays
    return projection.HouseholdArrays(resources_cents, persons, children, units, chosen_cents=chosen_cents)


PERSON = st.tuples(st.one_of(st.none(), st.dates(min_value=date(1940, 1, 1), max_value=TODAY)), st.booleans())
HOUSEHOLD = st.fixed_dictionaries(
    {
        "resources": st.one_of(st.none(), st.integers(0, 600_000)),
        "persons": st.lists(PERSON, min_size=0, max_size=6),
        "choices": st.lists(
            st.tuples(
                st.sampled_from([date(2026, 10, 1), MONTH, date(2026, 12, 1), date(2027, 1, 1)]),
                st.integers(0, 30_000),
            ),
            max_size=3,
            unique_by=lambda choice: choice[0],
        ),
        "state": st.sampled_from(["in", "in", "in", "left", "left_this_month", "not_in_fund", "joins_later"]),
    }
)
SCALES = st.lists(st.tuples(st.integers(1, 400_000), st.integers(0, 20_000)), min_size=0, max_size=4).map(
    lambda brackets: [[up_to, amount] for up_to, amount in sorted(brackets)] + [[None, 12_000]]
)


def _territory(households: list[dict[str, object]]) -> Territory:
    territory = Territory.objects.create(slug="hasard", name="Hasard")
    for index, spec in enumerate(households):
        state = spec["state"]
        household = Household.objects.create(
            territory=territory,
            name=f"Foyer {index}",
            card_number=f"{index:012d}",
            monthly_resources_cents=spec["resources"],  # type: ignore[misc]
            joined_on=date(2025, 1, 1),
            fund_joined_on=None
            if state == "not_in_fund"
            else date(2026, 12, 3)
            if state == "joins_later"
            else date(2025, 1, 1),
            left_on={"left": date(2026, 10, 31), "left_this_month": date(2026, 11, 20)}.get(str(state)),
        )
        HouseholdPerson.objects.bulk_create(
            HouseholdPerson(household=household, birth_date=born, is_child=child)
            for born, child in spec["persons"]  # type: ignore[attr-defined]
        )
        ContributionChoice.objects.bulk_create(
            ContributionChoice(household=household, effective_month=month, amount_cents=amount)
            for month, amount in spec["choices"]  # type: ignore[attr-defined]
        )
    return territory


def _spread(arrays: projection.HouseholdArrays) -> list[tuple[int, ...]]:
    """One row per household, sorted: the groups repeated as many times as the households they stand for."""
    counts = np.ones(len(arrays), dtype=np.int64) if arrays.counts is None else arrays.counts
    assert arrays.chosen_cents is not None
    columns = [
        arrays.persons,
        arrays.children,
        arrays.consumption_units_x10,
        arrays.chosen_cents,
    ]
    return sorted(
        tuple(int(value) for value in row)
        for row in zip(*(np.repeat(c, counts) for c in columns), strict=True)
    )


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    households=st.lists(HOUSEHOLD, max_size=25),
    child_age_limit=st.sampled_from([14, 14, 3, 18, 25]),
    brackets=SCALES,
    minimum=st.integers(0, 2_000),
)
def test_grouped_inputs_equal_the_per_household_ones(
    db: None,
    households: list[dict[str, object]],
    child_age_limit: int,
    brackets: list[list[int | None]],
    minimum: int,
) -> None:
    with transaction.atomic():
        territory = _territory(households)
        old = per_household_arrays(territory, child_age_limit)
        bounds = [bound for bound, _amount in brackets]
        grouped = planning.household_arrays(territory, child_age_limit, bounds)
        assert grouped.households == len(old)
        assert len(grouped) <= len(old)
        assert _spread(grouped) == _spread(old)
        # Under this scale each group's contribution is each of its households' (its resources stand for theirs).
        scale = projection.ScaleRule(
            brackets=tuple((b[0], int(b[1] or 0)) for b in brackets), minimum_cents=minimum
        )
        old_contributions = projection.contributions(scale, old)
        assert grouped.counts is not None
        new_contributions = np.repeat(projection.contributions(scale, grouped), grouped.counts)
        assert sorted(old_contributions.tolist()) == sorted(new_contributions.tolist())
        rule = projection.AllocationRule(
            base_cents=15_000, per_additional_person_cents=7_500, per_child_cents=2_500
        )
        assumptions = projection.Assumptions(
            months=6,
            scenarios=50,
            seed=3,
            starting_balance_cents=1_000_000,
            outstanding_credit_cents=50_000,
            monthly_grants_cents=100_000,
            spend_share_mean=0.9,
        )
        assert projection.project(
            scale=scale, allocation=rule, households=grouped, assumptions=assumptions
        ) == projection.project(scale=scale, allocation=rule, households=old, assumptions=assumptions)
        transaction.set_rollback(True)


def test_the_projection_reads_groups_not_households(db: None) -> None:
    """500 households of a few kinds: a handful of entries, and the projection of the territory as before."""
    territory = Territory.objects.create(slug="grand", name="Grand")
    services.scale_set(
        territory=territory,
        effective_month=date(2020, 1, 1),
        brackets=BRACKETS,
        minimum_cents=100,
        actor=None,
    )
    services.allocation_rule_set(
        territory=territory,
        effective_month=date(2020, 1, 1),
        base_cents=10_000,
        per_child_cents=2_000,
        carry_over=CarryOver.KEEP,
        actor=None,
    )
    for index in range(500):
        household = Household.objects.create(
            territory=territory,
            name=f"Foyer {index}",
            card_number=f"{index:012d}",
            monthly_resources_cents=[None, 50_000, 150_000, 300_000][index % 4],
            joined_on=date(2025, 1, 1),
            fund_joined_on=date(2025, 1, 1),
        )
        HouseholdPerson.objects.bulk_create(
            HouseholdPerson(household=household, birth_date=TODAY - timedelta(days=365 * (5 + 30 * p)))
            for p in range(1 + index % 3)
        )
    grouped = planning.household_arrays(territory, 14, [b[0] for b in BRACKETS])
    assert grouped.households == 500
    assert len(grouped) <= 12
    result = planning.project_territory(territory, months=3, scenarios=20)
    assert result.households == 500
    old = per_household_arrays(territory, 14)
    scale = projection.ScaleRule(brackets=tuple((b[0], int(b[1] or 0)) for b in BRACKETS), minimum_cents=100)
    assert result.projection == projection.project(
        scale=scale, allocation=result.allocation, households=old, assumptions=result.assumptions
    )


def test_the_vote_panel_reads_the_households_once_and_projects_as_alone(db: None) -> None:
    """The panel beside a vote on the scale groups the households by both scales' bounds, once; each projection is
    the one the territory gets alone under those rules."""
    territory = Territory.objects.create(slug="vote", name="Vote")
    services.scale_set(
        territory=territory,
        effective_month=date(2020, 1, 1),
        brackets=BRACKETS,
        minimum_cents=100,
        actor=None,
    )
    services.allocation_rule_set(
        territory=territory,
        effective_month=date(2020, 1, 1),
        base_cents=10_000,
        carry_over=CarryOver.KEEP,
        actor=None,
    )
    for index in range(60):
        household = Household.objects.create(
            territory=territory,
            name=f"Foyer {index}",
            card_number=f"{index:012d}",
            monthly_resources_cents=None if index % 7 == 0 else 40_000 + 7_919 * index,
            joined_on=date(2025, 1, 1),
            fund_joined_on=date(2025, 1, 1),
        )
        HouseholdPerson.objects.create(household=household, birth_date=date(1980, 1, 1))
    proposed: list[list[int | None]] = [[75_000, 500], [130_000, 4_000], [None, 9_000]]
    proposal = SimpleNamespace(
        territory=territory, kind="contribution_scale", payload={"brackets": proposed, "minimum_cents": 200}
    )
    comparison = rule_projection(proposal, months=6, scenarios=40)
    assert comparison is not None
    alone_current = planning.project_territory(territory, months=6, scenarios=40)
    alone_proposed = planning.project_territory(
        territory, months=6, scenarios=40, brackets=proposed, minimum_cents=200
    )
    assert comparison[0].projection == alone_current.projection
    assert comparison[1].projection == alone_proposed.projection
    assert comparison[1].projection != comparison[0].projection
