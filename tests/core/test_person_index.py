"""The households of a person are found through the persons with an account (``core_person_with_account``), not by
reading every household of the territory: on SQLite the foreign key's index counts the persons without an account
as one value, and with statistics the planner took that index for half the table (100 ms at 100,000 households)."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection

from grenier.core.models import Household, HouseholdPerson

from ..conftest import Cast

pytestmark = pytest.mark.skipif(
    connection.vendor != "sqlite", reason="SQLite's planner statistics; PostgreSQL counts NULLs apart"
)


def test_the_households_of_a_person_are_read_through_the_persons_with_an_account(cast: Cast) -> None:
    households = Household.objects.bulk_create(
        Household(
            territory=cast.territory,
            name=f"Foyer {number}",
            card_number=f"9{number:011d}",
            joined_on=date(2026, 1, 5),
            idempotency_key=f"index-{number}",
        )
        for number in range(400)
    )
    HouseholdPerson.objects.bulk_create(
        HouseholdPerson(household=household, first_name="Sans compte")
        for household in households
        for _ in range(2)
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    query = Household.objects.filter(territory=cast.territory, persons__user_id=cast["member"].pk).distinct()
    sql, params = query.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
        plan = " | ".join(str(row[-1]) for row in cursor.fetchall())
    assert "core_person_with_account" in plan, plan
    assert list(query) == list(Household.objects.filter(persons__user=cast["member"]).distinct())
