"""Households join and leave; roles are granted and withdrawn; tokens are created, used and revoked."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from grenier.core import permissions, services
from grenier.core.cards import normalise_card_number
from grenier.core.errors import Forbidden, InvalidInput
from grenier.core.models import ApiToken, AuditEvent, Household, HouseholdPerson, Role, TerritoryRole, User

from ..conftest import Cast, make_user


def test_a_household_joins_with_a_valid_card_and_its_persons(cast: Cast) -> None:
    household = services.household_join(
        territory=cast.territory,
        name="  Foyer Nouveau ",
        persons=[services.PersonInput("A", date(1970, 1, 1)), services.PersonInput("B", date(2020, 1, 1))],
        actor=cast["coordinator"],
    )
    assert household.name == "Foyer Nouveau"
    assert normalise_card_number(household.card_number) == household.card_number
    assert household.persons.count() == 2
    assert household.consumption_units(date(2026, 1, 1)) == Decimal("1.3")
    assert AuditEvent.objects.filter(action="household.join", subject=f"household:{household.pk}").exists()


def test_card_numbers_are_unique(cast: Cast) -> None:
    cards = {
        services.household_join(
            territory=cast.territory, name=f"F{i}", persons=[services.PersonInput()], actor=None
        ).card_number
        for i in range(30)
    }
    assert len(cards) == 30


def test_the_same_idempotency_key_records_one_household(cast: Cast) -> None:
    first = services.household_join(
        territory=cast.territory,
        name="Foyer Clic",
        persons=[services.PersonInput("X")],
        actor=None,
        idempotency_key="form-abc-123",
    )
    again = services.household_join(
        territory=cast.territory,
        name="Foyer Clic",
        persons=[services.PersonInput("X")],
        actor=None,
        idempotency_key="form-abc-123",
    )
    assert again.pk == first.pk
    assert Household.objects.filter(name="Foyer Clic").count() == 1


def test_the_same_key_in_another_territory_is_another_household(cast: Cast) -> None:
    a = services.household_join(
        territory=cast.territory,
        name="A",
        persons=[services.PersonInput()],
        actor=None,
        idempotency_key="k-000001",
    )
    b = services.household_join(
        territory=cast.elsewhere,
        name="B",
        persons=[services.PersonInput()],
        actor=None,
        idempotency_key="k-000001",
    )
    assert a.pk != b.pk


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"name": "  "}, "name"),
        ({"persons": []}, "persons"),
        ({"monthly_resources_cents": -1}, "monthly_resources_cents"),
        ({"joined_on": timedelta(days=2)}, "joined_on"),  # days from today, read when the test runs
        ({"persons": [("bébé", timedelta(days=30))]}, "persons.0.birth_date"),
    ],
)
def test_bad_household_input_is_refused_field_by_field(cast: Cast, kwargs: dict, field: str) -> None:
    today = timezone.localdate()  # the test's clock, not the one read when the parameters were collected
    if "joined_on" in kwargs:
        kwargs = {"joined_on": today + kwargs["joined_on"]}
    elif kwargs.get("persons") and isinstance(kwargs["persons"][0], tuple):
        kwargs = {"persons": [services.PersonInput(name, today + ahead) for name, ahead in kwargs["persons"]]}
    arguments: dict[str, Any] = {
        "territory": cast.territory,
        "name": "Foyer",
        "persons": [services.PersonInput("A")],
        "actor": None,
    }
    arguments.update(kwargs)
    with pytest.raises(InvalidInput) as caught:
        services.household_join(**arguments)
    assert field in caught.value.errors
    assert not Household.objects.filter(territory=cast.territory, name="Foyer").exists()


def test_leaving_erases_personal_data_and_keeps_the_row(cast: Cast) -> None:
    household = cast.household
    member = cast["member"]
    services.role_grant(
        user=member, territory=cast.territory, role=Role.COMMITTEE
    )  # another role: the account stays
    left = services.household_leave(household=household, actor=member)
    left.refresh_from_db()
    assert left.pk == household.pk
    assert left.left_on == timezone.localdate()
    assert left.name == f"H-{household.pk}"
    assert "Martin" not in left.display_name
    assert left.email == "" and left.phone == ""
    persons = list(HouseholdPerson.objects.filter(household=left))
    assert len(persons) == 2  # the household's size is kept for the figures
    assert all(p.first_name == "" and p.birth_date is None and p.user is None for p in persons)
    assert [p.is_child for p in persons] == [False, True]  # who was a child is kept, not when they were born
    assert left.monthly_resources_cents == 120_000  # an amount, kept
    member.refresh_from_db()
    assert member.is_active
    assert not TerritoryRole.objects.filter(user=member, role=Role.MEMBER).exists()
    assert TerritoryRole.objects.filter(user=member, role=Role.COMMITTEE).exists()


def test_leaving_closes_an_account_that_had_no_other_role(cast: Cast) -> None:
    member = cast["member"]
    services.token_create(user=member, territory=cast.territory)
    services.household_leave(household=cast.household, actor=member)
    member.refresh_from_db()
    assert not member.is_active
    assert "member@" not in member.email
    assert not member.has_usable_password()
    assert not ApiToken.objects.filter(user=member, revoked_at__isnull=True).exists()
    assert not User.objects.filter(email="member@test.grenier").exists()


def test_leaving_twice_changes_nothing(cast: Cast) -> None:
    first = services.household_leave(household=cast.household, actor=None, on=timezone.localdate())
    second = services.household_leave(
        household=cast.household, actor=None, on=timezone.localdate() - timedelta(days=1)
    )
    assert second.left_on == first.left_on
    assert AuditEvent.objects.filter(action="household.leave").count() == 1


def test_cannot_leave_before_joining(cast: Cast) -> None:
    with pytest.raises(InvalidInput):
        services.household_leave(
            household=cast.household, actor=None, on=cast.household.joined_on - timedelta(days=1)
        )
    cast.household.refresh_from_db()
    assert cast.household.left_on is None
    assert cast.household.name == "Foyer Martin-Test"


def test_a_household_that_left_may_join_again_as_a_new_household(cast: Cast) -> None:
    services.household_leave(household=cast.other_household, actor=None)
    again = services.household_join(
        territory=cast.territory, name="Foyer Voisin-Test", persons=[services.PersonInput("Lou")], actor=None
    )
    assert again.pk != cast.other_household.pk
    assert again.card_number != cast.other_household.card_number


def test_role_grant_is_once_and_revoke_removes_it(cast: Cast) -> None:
    user = make_user("new@test.grenier")
    services.role_grant(user=user, territory=cast.territory, role=Role.FUNDER)
    services.role_grant(user=user, territory=cast.territory, role=Role.FUNDER)
    assert TerritoryRole.objects.filter(user=user).count() == 1
    assert permissions.roles_of(user, cast.territory) == {Role.FUNDER}
    services.role_revoke(user=user, territory=cast.territory, role=Role.FUNDER)
    assert permissions.roles_of(user, cast.territory) == frozenset()


def test_tokens_are_stored_hashed_and_can_be_revoked(cast: Cast) -> None:
    token, key = services.token_create(user=cast["cashier"], territory=cast.territory, name="caisse")
    assert key.startswith("grn_") and len(key) > 40
    stored = ApiToken.objects.get(pk=token.pk)
    assert key not in (stored.key_hash, stored.prefix)
    assert key[4:] not in stored.key_hash
    found = services.token_authenticate(key)
    assert found is not None and found.user == cast["cashier"] and found.territory == cast.territory
    assert services.token_authenticate(key + "x") is None
    services.token_revoke(token=token, actor=None)
    assert services.token_authenticate(key) is None


def test_a_token_needs_a_role_in_its_territory(cast: Cast) -> None:
    with pytest.raises(Forbidden):
        services.token_create(user=cast["outsider"], territory=cast.territory)


def test_a_token_of_a_closed_account_stops_working(cast: Cast) -> None:
    _token, key = services.token_create(user=cast["funder"], territory=cast.territory)
    User.objects.filter(pk=cast["funder"].pk).update(is_active=False)
    assert services.token_authenticate(key) is None
