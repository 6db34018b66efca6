"""Small pieces every module relies on: money formatting, card numbers, settings from the environment."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ImproperlyConfigured
from hypothesis import given
from hypothesis import strategies as st

from grenier.core.cards import format_card_number, luhn_check_digit, new_card_number, normalise_card_number
from grenier.core.models import HouseholdPerson, consumption_units
from grenier.core.money import format_cents, parse_euros
from grenier.env import database_from_url


def test_money_is_shown_the_french_way() -> None:
    assert format_cents(123456) == "1\u202f234,56\u00a0€"
    assert format_cents(5) == "0,05\u00a0€"
    assert format_cents(-250) == "-2,50\u00a0€"


@given(st.integers(min_value=-(10**12), max_value=10**12))
def test_formatted_money_parses_back_to_the_same_cents(cents: int) -> None:
    assert parse_euros(format_cents(cents)) == cents


@pytest.mark.parametrize("text", ["", "abc", "1,234", "12.3.4", "1,2,3", "--3"])
def test_bad_amounts_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match=r".*"):
        parse_euros(text)


def test_amounts_people_type_are_understood() -> None:
    assert parse_euros("12") == 1200
    assert parse_euros("12,5") == 1250
    assert parse_euros("12.50") == 1250
    assert parse_euros("1 250,00 €") == 125000


def test_new_card_numbers_pass_their_own_check() -> None:
    for _ in range(200):
        number = new_card_number()
        assert len(number) == 12 and number[0] != "0"
        assert normalise_card_number(format_card_number(number)) == number


def test_a_mistyped_digit_or_swap_is_caught() -> None:
    number = "7992739871" + "3"  # a classic Luhn example, padded below
    body = "4" + number[:10]
    card = body + luhn_check_digit(body)
    wrong_digit = card[:5] + str((int(card[5]) + 1) % 10) + card[6:]
    swapped = card[:2] + card[3] + card[2] + card[4:]
    assert normalise_card_number(card) == card
    assert normalise_card_number(wrong_digit) is None
    if card[2] != card[3]:
        assert normalise_card_number(swapped) is None
    assert normalise_card_number("1234") is None
    assert normalise_card_number("abcd efgh ijkl") is None


def test_consumption_units_follow_the_insee_scale() -> None:
    on = date(2026, 12, 1)
    adult = HouseholdPerson(birth_date=date(1980, 1, 1))
    teen = HouseholdPerson(birth_date=date(2012, 1, 1))  # 14 on that day: counts as an adult
    child = HouseholdPerson(birth_date=date(2013, 1, 2))  # 13
    assert consumption_units([adult], on) == 1
    assert consumption_units([adult, adult, child], on) == Decimal("1.8")
    assert consumption_units([adult, teen], on) == Decimal("1.5")
    assert consumption_units([HouseholdPerson(is_child=True)], on) == 1


def test_database_urls() -> None:
    assert database_from_url("sqlite:////srv/g.sqlite3")["NAME"] == "/srv/g.sqlite3"
    assert database_from_url("sqlite:///var/g.sqlite3")["NAME"] == "var/g.sqlite3"
    pg = database_from_url("postgres://grenier:s%40cret@db.local:5433/grenier?sslmode=require")
    assert pg["ENGINE"] == "django.db.backends.postgresql"
    assert (pg["USER"], pg["PASSWORD"], pg["HOST"], pg["PORT"], pg["NAME"]) == (
        "grenier",
        "s@cret",
        "db.local",
        "5433",
        "grenier",
    )
    assert pg["OPTIONS"] == {"sslmode": "require"}
    socket = database_from_url("postgresql://postgres:@/postgres?host=/run/pg")
    assert socket["HOST"] == "/run/pg" and socket["OPTIONS"] == {}
    with pytest.raises(ImproperlyConfigured):
        database_from_url("mysql://x/y")
