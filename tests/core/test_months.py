"""Months as people write them on a form, and as pages say them back."""

from __future__ import annotations

from datetime import date

import pytest
from django.utils import translation

from grenier.core.months import MonthField, month_name, parse_month

JANUARY = date(2027, 1, 1)


@pytest.mark.parametrize(
    "typed",
    [
        "2027-01",
        "2027-1",
        "2027/01",
        "01/2027",
        "1/2027",
        "01-2027",
        "01.2027",
        " janvier 2027 ",
        "Janvier 2027",
        "JANVIER  2027",
        "janv. 2027",
        "janv 2027",
        "January 2027",
    ],
)
def test_the_ways_people_write_a_month(typed: str) -> None:
    assert parse_month(typed) == JANUARY


def test_month_names_with_or_without_accents() -> None:
    assert parse_month("décembre 2026") == parse_month("decembre 2026") == date(2026, 12, 1)
    assert parse_month("Février 2027") == parse_month("fevr. 2027") == date(2027, 2, 1)
    assert parse_month("août 2027") == parse_month("aout 2027") == date(2027, 8, 1)


@pytest.mark.parametrize(
    "typed",
    ["", "2027", "13/2027", "00/2027", "2027-13", "janvie 2027", "janvier", "1999-12", "2101-01", "12/26"],
)
def test_what_is_not_a_month(typed: str) -> None:
    assert parse_month(typed) is None


def test_a_month_is_said_in_words_in_french() -> None:
    with translation.override("fr"):
        assert month_name(date(2026, 12, 1)) == "décembre 2026"
        field = MonthField()
        assert field.clean("janvier 2027") == JANUARY
        assert "janvier 2027" in str(field.help_text)  # the field says how to write a month


def test_the_field_says_why_it_refuses() -> None:
    from django import forms

    with translation.override("fr"), pytest.raises(forms.ValidationError) as refused:
        MonthField().clean("le mois prochain")
    assert "janvier 2027" in str(refused.value.messages[0])
    assert MonthField(required=False).clean("") is None
