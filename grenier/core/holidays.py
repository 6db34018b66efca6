"""French public holidays (jours fériés) of metropolitan France: the eight fixed days and the three that follow
Easter (Easter Monday, Ascension, Whit Monday). Alsace-Moselle's two more (Good Friday, 26 December) are not
counted. Computed, not looked up: Easter by the Gregorian computus (Meeus/Jones/Butcher)."""

from __future__ import annotations

from datetime import date, timedelta
from functools import cache

FIXED = [(1, 1), (5, 1), (5, 8), (7, 14), (8, 15), (11, 1), (11, 11), (12, 25)]


def easter(year: int) -> date:
    """Easter Sunday of ``year`` in the Gregorian calendar."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    leap = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * leap) // 451
    month, day = divmod(h + leap - 7 * m + 114, 31)
    return date(year, month, day + 1)


@cache
def public_holidays(year: int) -> frozenset[date]:
    sunday = easter(year)
    moving = [sunday + timedelta(days=n) for n in (1, 39, 50)]  # Easter Monday, Ascension, Whit Monday
    return frozenset([date(year, month, day) for month, day in FIXED] + moving)


def is_public_holiday(day: date) -> bool:
    return day in public_holidays(day.year)
