"""The projection's inputs are what the monthly run will use (issue 13, item 2): on a caisse where households chose
their contribution (from 1 to 250 €, as in Montpellier), month 1's contributions are the run's, to the cent."""

from __future__ import annotations

import random
from datetime import date, datetime
from zoneinfo import ZoneInfo

import numpy as np
import time_machine

from grenier.core import services as core_services
from grenier.core.models import Territory
from grenier.fund import planning, projection, services
from grenier.fund.models import CarryOver

from .conftest import BRACKETS

NOVEMBER, DECEMBER = date(2026, 11, 1), date(2026, 12, 1)


def _self_assessed_caisse(db: None) -> tuple[Territory, int]:
    """60 households with comfortable declared resources (the scale suggests 30 to 120 €) who chose 1 to 250 €
    (mean about 55 €), a few from December, a few not at all. Returns the territory and the scale's suggested total."""
    territory = core_services.territory_create(slug="montpellier", name="Montpellier")
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
        per_additional_person_cents=5_000,
        carry_over=CarryOver.KEEP,
        actor=None,
    )
    scale = services.scale_for(territory, DECEMBER)
    assert scale is not None
    rng = random.Random(13)
    suggested_total = 0
    for index in range(60):
        persons = [core_services.PersonInput(f"P{index}", date(1980, 1, 1))]
        if index % 3 == 0:
            persons.append(core_services.PersonInput(f"Q{index}", date(2015, 5, 5)))
        household = core_services.household_join(
            territory=territory,
            name=f"Foyer {index}",
            persons=persons,
            monthly_resources_cents=rng.choice([180_000, 250_000, 400_000, 400_000]),
            joined_on=date(2026, 1, 1),
            actor=None,
        )
        suggested_total += services.suggested_for(household, DECEMBER, scale)
        if index % 10 == 9:
            continue  # chose nothing: the scale's suggestion applies
        amount = rng.choice([100, 500, 1_000, 2_000, 3_000, 5_000, 5_500, 6_000, 8_000, 25_000])
        services.contribution_choose(
            household=household,
            amount_cents=amount,
            effective_month=DECEMBER if index % 7 == 0 else NOVEMBER,
            actor=None,
        )
    return territory, suggested_total


def test_the_projection_takes_the_contributions_households_chose(db: None) -> None:
    territory, suggested_total = _self_assessed_caisse(db)
    projected = planning.project_territory(territory, months=6, scenarios=200).projection
    with time_machine.travel(datetime(2026, 12, 1, 9, 0, tzinfo=ZoneInfo("Europe/Paris")), tick=False):
        run = services.monthly_run(territory=territory, month=DECEMBER, actor=None)
    assert run.households == 60
    assert projected.monthly_contribution_cents == run.contributions_paid_cents
    # Month 1: nobody has joined or left yet.
    assert projected.contributions_mean_cents[0] == run.contributions_paid_cents
    assert projected.monthly_allocation_cents == run.credit_issued_cents
    # The scale alone would have flattered the fund: what the issue measured (47 476 € against 24 740 €).
    assert suggested_total > 1.3 * run.contributions_paid_cents


def test_a_chosen_contribution_is_never_below_the_minimum_and_none_is_the_suggestion() -> None:
    scale = projection.ScaleRule(brackets=((None, 6_000),), minimum_cents=1_000)
    one = np.ones(3, dtype=np.int64)
    people = projection.HouseholdArrays(
        resources_cents=np.array([100_000, 100_000, 100_000], dtype=np.int64),
        persons=one,
        children=one * 0,
        consumption_units_x10=one * 10,
        chosen_cents=np.array([-1, 500, 25_000], dtype=np.int64),
    )
    assert projection.contributions(scale, people).tolist() == [6_000, 1_000, 25_000]
    assert projection.suggested_contributions(scale, people).tolist() == [6_000, 6_000, 6_000]
