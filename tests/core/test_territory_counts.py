"""The counts a home reads (``TerritoryCount``: persons of the households still there by birth date, households by
the day they joined and left) are kept true by the database as households and persons are written (issue 14): after
any sequence of writes — one row or many in one statement, households leaving, coming back, moving to another
territory, deleted with their persons — they equal the slow recount of every household and person, and the home's
figures equal each person's own rule on any day."""

from __future__ import annotations

from collections import Counter
from datetime import date

import time_machine
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grenier.core.models import Household, HouseholdPerson, Territory, TerritoryCount
from grenier.core.selectors import territory_figures

Kind = TerritoryCount.Kind


def recount(territory: Territory) -> Counter[tuple[int, date]]:
    """Every household and person of the territory read and counted in Python."""
    counts: Counter[tuple[int, date]] = Counter()
    for household in Household.objects.filter(territory=territory).prefetch_related("persons"):
        counts[(Kind.HOUSEHOLD_JOINED, household.joined_on)] += 1
        if household.left_on is not None:
            counts[(Kind.HOUSEHOLD_LEFT, household.left_on)] += 1
            continue
        for person in household.persons.all():
            if person.birth_date is not None:
                day = person.birth_date
            else:
                day = TerritoryCount.UNDATED_CHILD if person.is_child else TerritoryCount.UNDATED_ADULT
            counts[(Kind.PERSON_BORN, day)] += 1
    return counts


def kept(territory: Territory) -> Counter[tuple[int, date]]:
    return Counter(
        {
            (kind, day): n
            for kind, day, n in TerritoryCount.objects.filter(territory=territory).values_list(
                "kind", "day", "n"
            )
            if n
        }
    )


def _born(number: int) -> date | None:
    return None if number % 4 == 0 else date(1940 + number % 88, 1 + number % 12, 1 + number % 28)


OPERATIONS = st.lists(
    st.tuples(
        st.sampled_from(
            [
                "household",
                "household_with_persons",
                "person",
                "born",
                "undated",
                "remove_person",
                "move_person",
                "many_persons",
                "leave",
                "come_back",
                "joined",
                "territory",
                "many_households",
                "delete_household",
                "nothing",
            ]
        ),
        st.integers(0, 10_000),
    ),
    min_size=1,
    max_size=25,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(operations=OPERATIONS, today=st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 31)))
def test_the_counts_equal_the_recount_after_any_writes(
    db: None, operations: list[tuple[str, int]], today: date
) -> None:
    with transaction.atomic():
        territory = Territory.objects.create(slug="comptes", name="Comptes")
        elsewhere = Territory.objects.create(slug="ailleurs", name="Ailleurs")
        for index, (operation, number) in enumerate(operations):
            households = list(Household.objects.filter(territory=territory).order_by("pk"))
            persons = list(HouseholdPerson.objects.filter(household__territory=territory).order_by("pk"))
            household = households[number % len(households)] if households else None
            if operation.startswith("household") or household is None:
                household = Household.objects.create(
                    territory=territory,
                    name=f"Foyer {number}",
                    card_number=f"{index:012d}",
                    joined_on=date(2020 + number % 6, 1 + number % 12, 1 + number % 28),
                    left_on=date(2030, 1, 1) if number % 7 == 0 else None,
                )
                if operation == "household_with_persons":  # one statement, several persons
                    HouseholdPerson.objects.bulk_create(
                        HouseholdPerson(
                            household=household, birth_date=_born(number + k), is_child=k % 2 == 0
                        )
                        for k in range(1 + number % 4)
                    )
            elif operation == "person":
                HouseholdPerson.objects.create(
                    household=household, birth_date=_born(number), is_child=number % 2 == 0
                )
            elif operation == "born" and persons:
                person = persons[number % len(persons)]
                person.birth_date = _born(number + 1)
                person.save()
            elif operation == "undated" and persons:
                HouseholdPerson.objects.filter(pk=persons[number % len(persons)].pk).update(
                    birth_date=None, is_child=number % 2 == 0
                )
            elif operation == "remove_person" and persons:
                persons[number % len(persons)].delete()
            elif operation == "move_person" and persons:
                HouseholdPerson.objects.filter(pk=persons[number % len(persons)].pk).update(
                    household=household
                )
            elif operation == "many_persons" and persons:  # one statement, many rows, some unchanged
                HouseholdPerson.objects.filter(pk__in=[p.pk for p in persons[number % 3 :: 2]]).update(
                    is_child=number % 2 == 0, birth_date=_born(number) if number % 3 else None
                )
            elif operation == "leave":
                household.left_on = date(2026, 1 + number % 12, 1 + number % 28)
                household.save()
            elif operation == "come_back":
                Household.objects.filter(pk=household.pk).update(left_on=None)
            elif operation == "joined":
                Household.objects.filter(pk=household.pk).update(joined_on=date(2024, 1 + number % 12, 1))
            elif operation == "territory":  # a household moved to another territory, and back
                Household.objects.filter(pk=household.pk).update(
                    territory=elsewhere if number % 2 else territory
                )
            elif operation == "many_households":  # one statement: some leave, the others come back or stay
                Household.objects.filter(pk__in=[h.pk for h in households[number % 2 :: 2]]).update(
                    left_on=date(2027, 3, 1) if number % 3 else None
                )
            elif operation == "delete_household":
                household.delete()  # its persons with it
            for place in (territory, elsewhere):
                assert kept(place) == recount(place), (operation, place.slug)
        with time_machine.travel(today, tick=False):
            figures = territory_figures(territory)
        households = list(Household.objects.filter(territory=territory).prefetch_related("persons"))
        present = [
            person
            for household in households
            if household.left_on is None
            for person in household.persons.all()
        ]
        assert figures.persons == len(present)
        assert figures.children == sum(1 for person in present if person.is_child_on(today))
        assert figures.households_active == sum(1 for h in households if h.left_on is None)
        assert figures.households_left == sum(1 for h in households if h.left_on is not None)
        month = today.replace(day=1)
        assert figures.joined_this_month == sum(1 for h in households if h.joined_on >= month)
        assert figures.left_this_month == sum(1 for h in households if h.left_on and h.left_on >= month)
        transaction.set_rollback(True)
