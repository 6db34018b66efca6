"""The projection's groups are read again only when the households changed (issue 14): the database gives a
territory a new stamp (``HouseholdsStamp``) whenever a household, a person or a chosen contribution is written, and
``planning.household_arrays`` keeps the groups under the stamp they were read at. After any sequence of writes the
kept groups equal the groups the query reads now, and with nothing written they are not read again."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grenier.core.models import Household, HouseholdPerson, Territory
from grenier.fund import planning
from grenier.fund.models import ContributionChoice, HouseholdsStamp

from .test_planning_groups import TODAY, _spread

MONTH = TODAY.replace(day=1)
FIRST_PROJECTED = date(2026, 12, 1)
BOUNDS = [60_000, 120_000, None]


def arrays_now(territory: Territory) -> list[tuple[int, ...]]:
    """The groups as the query reads them now, without what ``household_arrays`` keeps (the recount)."""
    rows = planning._household_groups(territory, MONTH, FIRST_PROJECTED, 14, [60_000, 120_000])
    return sorted(rows)


def arrays_kept(territory: Territory) -> list[tuple[int, ...]]:
    """The groups ``household_arrays`` gives, as the same rows (persons, children, under 14, resources, chosen,
    households)."""
    rows = planning._kept_groups(territory, MONTH, FIRST_PROJECTED, 14, BOUNDS)
    return sorted(rows)


OPERATIONS = st.lists(
    st.tuples(
        st.sampled_from(
            [
                "household",
                "person",
                "person",
                "born",
                "born_again",
                "child",
                "remove_person",
                "move_person",
                "resources",
                "leave",
                "join",
                "choose",
                "unchoose",
                "change_choice",
                "territory",
                "delete_household",
                "nothing",
            ]
        ),
        st.integers(0, 10_000),
    ),
    min_size=1,
    max_size=25,
)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(operations=OPERATIONS, touched_at_most=st.sampled_from([0, 2, 5_000]))
def test_the_kept_groups_equal_the_query_after_any_writes(
    db: None, monkeypatch: pytest.MonkeyPatch, operations: list[tuple[str, int]], touched_at_most: int
) -> None:
    # The households read are kept as a base for the next changes inside this test's transaction too (it is never
    # rolled back before the end): each step moves the groups by the households touched since the step before,
    # or reads them all again when more were touched than ``touched_at_most``.
    monkeypatch.setattr(planning, "_committed", lambda: True)
    monkeypatch.setattr(planning, "_TOUCHED_AT_MOST", touched_at_most)
    planning._BASES.clear()  # none of an example rolled back
    with transaction.atomic():
        territory = Territory.objects.create(slug="tampon", name="Tampon")
        elsewhere = Territory.objects.create(slug="ailleurs", name="Ailleurs")
        for index, (operation, number) in enumerate(operations):
            households = list(Household.objects.filter(territory=territory).order_by("pk"))
            persons = list(HouseholdPerson.objects.filter(household__territory=territory).order_by("pk"))
            choices = list(ContributionChoice.objects.filter(household__territory=territory).order_by("pk"))
            household = households[number % len(households)] if households else None
            if operation == "household" or household is None:
                Household.objects.create(
                    territory=territory,
                    name=f"Foyer {number}",
                    card_number=f"{index:012d}",
                    monthly_resources_cents=None if number % 5 == 0 else number * 40,
                    joined_on=date(2025, 1, 1),
                    fund_joined_on=date(2025, 1, 1),
                )
            elif operation == "person":
                born = None if number % 3 == 0 else date(1950 + number % 76, 1 + number % 12, 1 + number % 28)
                HouseholdPerson.objects.create(household=household, birth_date=born, is_child=number % 2 == 0)
            elif operation == "born" and persons:
                person = persons[number % len(persons)]
                person.birth_date = date(2000 + number % 26, 1 + number % 12, 1)
                person.save()
            elif operation == "born_again" and persons:  # the birth date alone, in one statement
                HouseholdPerson.objects.filter(pk=persons[number % len(persons)].pk).update(
                    birth_date=date(2010 + number % 16, 1 + number % 12, 1 + number % 28)
                )
            elif operation == "child" and persons:
                HouseholdPerson.objects.filter(pk=persons[number % len(persons)].pk).update(
                    birth_date=None, is_child=number % 2 == 0
                )
            elif operation == "remove_person" and persons:
                persons[number % len(persons)].delete()
            elif operation == "move_person" and persons:
                HouseholdPerson.objects.filter(pk=persons[number % len(persons)].pk).update(
                    household=household
                )
            elif operation == "resources":
                Household.objects.filter(pk=household.pk).update(monthly_resources_cents=number * 30)
            elif operation == "leave":
                household.left_on = date(2026, 10 + number % 2, 1 + number % 28)
                household.save()
            elif operation == "join":
                Household.objects.filter(pk=household.pk).update(
                    left_on=None, fund_joined_on=[None, date(2026, 12, 2), date(2025, 6, 1)][number % 3]
                )
            elif operation == "choose":
                ContributionChoice.objects.update_or_create(
                    household=household,
                    effective_month=[date(2026, 10, 1), FIRST_PROJECTED, date(2027, 1, 1)][number % 3],
                    defaults={"amount_cents": number},
                )
            elif operation == "unchoose" and choices:
                choices[number % len(choices)].delete()
            elif operation == "change_choice" and choices:
                ContributionChoice.objects.filter(pk=choices[number % len(choices)].pk).update(
                    amount_cents=number
                )
            elif operation == "territory":  # a household moved to another territory, and back
                Household.objects.filter(pk=household.pk).update(
                    territory=elsewhere if number % 2 else territory
                )
            elif operation == "delete_household" and not household.persons.exists():
                ContributionChoice.objects.filter(household=household).delete()
                household.delete()
            assert arrays_kept(territory) == arrays_now(territory), operation
        # Spread back to households, the kept groups are what the projection reads.
        kept = planning.household_arrays(territory, 14, BOUNDS)
        assert _spread(kept) == _spread(planning.household_arrays(territory, 14, BOUNDS))
        transaction.set_rollback(True)


def _household(territory: Territory, index: int, resources_cents: int) -> Household:
    return Household.objects.create(
        territory=territory,
        name=f"Foyer {index}",
        card_number=f"{index:012d}",
        monthly_resources_cents=resources_cents,
        joined_on=date(2025, 1, 1),
        fund_joined_on=date(2025, 1, 1),
    )


def test_the_groups_are_not_read_again_while_nothing_changes(db: None) -> None:
    territory = Territory.objects.create(slug="calme", name="Calme")
    household = _household(territory, 1, 90_000)
    assert HouseholdsStamp.objects.filter(territory=territory).exists()
    first = arrays_kept(territory)
    with CaptureQueriesContext(connection) as queries:
        assert arrays_kept(territory) == first
    assert len(queries) == 1  # the stamp, not the households
    HouseholdPerson.objects.create(household=household, birth_date=date(2020, 5, 4))
    with CaptureQueriesContext(connection) as queries:
        again = arrays_kept(territory)
    assert again == arrays_now(territory) != first
    assert len(queries) == 2  # a new stamp: the groups are read again


def test_only_the_households_touched_are_read_again(db: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(planning, "_committed", lambda: True)
    planning._BASES.clear()
    territory = Territory.objects.create(slug="delta", name="Delta")
    households = [_household(territory, index, 50_000 + 10_000 * index) for index in range(6)]
    arrays_kept(territory)
    read: list[list[int] | None] = []
    rows = planning._household_rows

    def reading(*args: Any) -> Any:
        read.append(args[5] if len(args) > 5 else None)
        return rows(*args)

    monkeypatch.setattr(planning, "_household_rows", reading)
    HouseholdPerson.objects.create(household=households[2], birth_date=date(2019, 3, 1))
    Household.objects.filter(pk=households[4].pk).update(monthly_resources_cents=1_000)
    assert arrays_kept(territory) == arrays_now(territory)
    assert read == [[households[2].pk, households[4].pk]] or read == [[households[4].pk, households[2].pk]]


def test_a_write_rolled_back_is_not_kept(transactional_db: None) -> None:
    """Outside a test's transaction, as a view reads: a write rolled back after the groups were read inside it
    leaves no trace in the base the next changes are applied to."""
    planning._BASES.clear()
    territory = Territory.objects.create(slug="retour", name="Retour")
    household = _household(territory, 1, 90_000)
    first = arrays_kept(territory)  # outside any transaction: kept as a base
    with transaction.atomic():
        HouseholdPerson.objects.create(household=household, birth_date=date(2020, 5, 4))
        inside = arrays_kept(territory)
        assert inside == arrays_now(territory) != first
        transaction.set_rollback(True)
    assert arrays_kept(territory) == arrays_now(territory) == first
    Household.objects.filter(pk=household.pk).update(monthly_resources_cents=200_000)
    assert arrays_kept(territory) == arrays_now(territory) != first
