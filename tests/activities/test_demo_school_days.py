"""The demo's school sessions fall on school days: never in the Christmas or summer holidays, a weekend or a public
holiday; a coming session moves later and a past one earlier, so that neither changes side of today."""

from __future__ import annotations

from datetime import date, timedelta

from grenier.activities.demo import _school_day
from grenier.core.holidays import is_public_holiday


def _on_holiday(day: date) -> bool:
    return (
        (day.month, day.day) >= (12, 19)
        or (day.month, day.day) <= (1, 3)
        or (7, 4) <= (day.month, day.day) <= (8, 31)
    )


def test_every_day_of_two_years_moves_to_a_school_day_on_its_side_of_today() -> None:
    today = date(2026, 12, 10)
    day = date(2026, 1, 1)
    moved = 0
    while day < date(2028, 1, 1):
        school = _school_day(day, today)
        assert school.weekday() < 5 and not is_public_holiday(school) and not _on_holiday(school), (
            day,
            school,
        )
        assert (school < today) == (day < today), (
            day,
            school,
        )  # a past session stays past, a coming one coming
        if day.weekday() < 5 and not is_public_holiday(day) and not _on_holiday(day):
            assert school == day  # a school day stays where it is
        else:
            moved += 1
            assert abs((school - day).days) <= 63  # to the nearest school day, past the summer at most
        day += timedelta(days=1)
    assert moved > 200  # weekends and holidays were met


def test_the_farm_visit_planned_on_the_last_day_of_december_goes_to_january() -> None:
    assert _school_day(date(2026, 12, 31), date(2026, 12, 10)) == date(2027, 1, 4)
    assert _school_day(date(2026, 12, 22), date(2027, 1, 10)) == date(2026, 12, 18)  # past: the Friday before
