"""French public holidays: Easter and the days that follow it, known years checked against the calendar."""

from __future__ import annotations

from datetime import date

from grenier.core.holidays import easter, is_public_holiday, public_holidays


def test_easter_on_known_years() -> None:
    known = {
        2024: date(2024, 3, 31),
        2025: date(2025, 4, 20),
        2026: date(2026, 4, 5),
        2027: date(2027, 3, 28),
        2028: date(2028, 4, 16),
        2038: date(2038, 4, 25),  # the latest possible
        2285: date(2285, 3, 22),  # the earliest possible
    }
    assert {year: easter(year) for year in known} == known


def test_the_eleven_days_of_2027() -> None:
    assert sorted(public_holidays(2027)) == [
        date(2027, 1, 1),
        date(2027, 3, 29),  # Easter Monday
        date(2027, 5, 1),
        date(2027, 5, 6),  # Ascension, a Thursday
        date(2027, 5, 8),
        date(2027, 5, 17),  # Whit Monday
        date(2027, 7, 14),
        date(2027, 8, 15),
        date(2027, 11, 1),
        date(2027, 11, 11),
        date(2027, 12, 25),
    ]
    assert is_public_holiday(date(2026, 5, 14))  # Ascension 2026
    assert not is_public_holiday(date(2026, 5, 13))
    assert not is_public_holiday(date(2027, 3, 28))  # Easter Sunday is a Sunday, not counted as a holiday
