"""The territory's figures count children in the database as a person's own rule does (issue 14: a home page never
reads every person): on random persons and any day, Feb 29 included."""

from __future__ import annotations

from datetime import date

import time_machine
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grenier.core.models import Household, HouseholdPerson, Territory
from grenier.core.selectors import territory_figures

PERSONS = st.lists(
    st.tuples(
        st.one_of(st.none(), st.dates(min_value=date(1990, 1, 1), max_value=date(2028, 2, 29))), st.booleans()
    ),
    max_size=12,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    persons=PERSONS,
    today=st.one_of(
        st.dates(min_value=date(2024, 1, 1), max_value=date(2028, 12, 31)), st.just(date(2028, 2, 29))
    ),
)
def test_children_are_counted_as_each_person_says(
    db: None, persons: list[tuple[date | None, bool]], today: date
) -> None:
    with transaction.atomic():
        territory = Territory.objects.create(slug="chiffres", name="Chiffres")
        household = Household.objects.create(
            territory=territory, name="Foyer", card_number="000000000001", joined_on=date(2020, 1, 1)
        )
        rows = HouseholdPerson.objects.bulk_create(
            HouseholdPerson(household=household, birth_date=born, is_child=child) for born, child in persons
        )
        with time_machine.travel(date(today.year, today.month, today.day), tick=False):
            figures = territory_figures(territory)
            assert figures.persons == len(rows)
            assert figures.children == sum(1 for person in rows if person.is_child_on(today))
        transaction.set_rollback(True)
