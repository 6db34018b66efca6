"""Indexes the planner needs at scale, checked on SQLite with its statistics.

The households of a person are found through the persons with an account (``core_person_with_account``), not by
reading every household of the territory: on SQLite the foreign key's index counts the persons without an account
as one value, and with statistics the planner took that index for half the table (100 ms at 100,000 households)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django.db import connection

from grenier.core.models import Household, HouseholdPerson

from ..conftest import Cast

pytestmark = pytest.mark.skipif(
    connection.vendor != "sqlite", reason="SQLite's planner statistics; PostgreSQL counts NULLs apart"
)


def _households(cast: Cast) -> list[Household]:
    return Household.objects.bulk_create(
        Household(
            territory=cast.territory,
            name=f"Foyer {number}",
            card_number=f"9{number:011d}",
            joined_on=date(2026, 1, 5),
            idempotency_key=f"index-{number}",
        )
        for number in range(400)
    )


def _plan(sql: str, params: Any) -> str:
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
        cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
        return " | ".join(str(row[-1]) for row in cursor.fetchall())


def test_the_households_of_a_person_are_read_through_the_persons_with_an_account(cast: Cast) -> None:
    households = _households(cast)
    HouseholdPerson.objects.bulk_create(
        HouseholdPerson(household=household, first_name="Sans compte")
        for household in households
        for _ in range(2)
    )
    query = Household.objects.filter(territory=cast.territory, persons__user_id=cast["member"].pk).distinct()
    plan = _plan(*query.query.sql_with_params())
    assert "core_person_with_account" in plan, plan
    assert list(query) == list(Household.objects.filter(persons__user=cast["member"]).distinct())


def test_the_first_active_households_by_name_are_read_in_order_from_the_index(cast: Cast) -> None:
    """A buying group's page offers the first active households by name that match a search (a few, 500 before
    the search): read in order from the index, not every active household of the territory sorted."""
    households = _households(cast)
    query = (
        Household.objects.filter(territory=cast.territory, left_on__isnull=True)
        .exclude(pk__in=[households[0].pk])
        .order_by("name")[:50]
    )
    plan = _plan(*query.query.sql_with_params())
    assert "core_household_active_by_name" in plan, plan
    assert "ORDER BY" not in plan, plan
    names = sorted(h.name for h in Household.objects.filter(territory=cast.territory, left_on__isnull=True))
    assert [h.name for h in query] == [n for n in names if n != households[0].name][:50]
