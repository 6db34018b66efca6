"""Months and weeks: the calendar helpers every app uses (first day of a month, a month shifted, the months before
one, the Monday of a week), and on pages one parser for the ways people write a month, one field, one way to say a
month in words.

The API keeps its strict ``YYYY-MM`` (``schemas.Month``); a person at a form may type ``2027-01``, ``01/2027``,
``1-2027`` or ``janvier 2027`` (with or without accents or capitals, ``janv.`` or ``january``) and reads back
« janvier 2027 ».
"""

from __future__ import annotations

import calendar
import re
import unicodedata
from datetime import date, datetime, time, timedelta

from django import forms
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

FIRST_YEAR, LAST_YEAR = 2000, 2100


def first_of_month(day: date) -> date:
    return day.replace(day=1)


def last_of_month(month: date) -> date:
    return month.replace(day=calendar.monthrange(month.year, month.month)[1])


def month_bounds(month: date) -> tuple[datetime, datetime]:
    """The first instant of ``month`` and of the next one, in the territory's time zone (Europe/Paris)."""
    start = timezone.make_aware(datetime.combine(first_of_month(month), time.min))
    end = timezone.make_aware(datetime.combine(last_of_month(month) + timedelta(days=1), time.min))
    return start, end


def shift_month(month: date, months: int) -> date:
    """The first day of the month ``months`` after ``month``'s (before it when negative)."""
    index = month.year * 12 + month.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def months_back(today: date, count: int) -> list[date]:
    """The first days of the ``count`` whole months before ``today``'s, oldest first."""
    start = first_of_month(today)
    return [shift_month(start, -n) for n in range(count, 0, -1)]


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


# Month names and the usual abbreviations, accents and capitals removed: French first, English too.
_NAMES = {
    1: ("janvier", "janv", "jan", "january"),
    2: ("fevrier", "fevr", "fev", "february", "feb"),
    3: ("mars", "march", "mar"),
    4: ("avril", "avr", "april", "apr"),
    5: ("mai", "may"),
    6: ("juin", "june", "jun"),
    7: ("juillet", "juil", "july", "jul"),
    8: ("aout", "august", "aug"),
    9: ("septembre", "sept", "sep", "september"),
    10: ("octobre", "oct", "october"),
    11: ("novembre", "nov", "november"),
    12: ("decembre", "dec", "december"),
}
_MONTH_OF_NAME = {name: number for number, names in _NAMES.items() for name in names}
_YEAR_FIRST = re.compile(r"(\d{4})\s*[-/.]\s*(\d{1,2})")
_MONTH_FIRST = re.compile(r"(\d{1,2})\s*[-/.]\s*(\d{4})")
_IN_WORDS = re.compile(r"([a-z]+)\.?\s+(\d{4})")


def _plain(text: str) -> str:
    """Lower case, accents removed, spaces squeezed: « Décembre  2026 » → ``decembre 2026``."""
    decomposed = unicodedata.normalize("NFKD", text.strip().lower())
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).split())


def parse_month(raw: str | None) -> date | None:
    """The first day of the month ``raw`` names, or ``None`` if it names none (or a year outside 2000 to 2100)."""
    text = _plain(raw or "")
    year = month = 0
    if found := _YEAR_FIRST.fullmatch(text):
        year, month = int(found[1]), int(found[2])
    elif found := _MONTH_FIRST.fullmatch(text):
        month, year = int(found[1]), int(found[2])
    elif (found := _IN_WORDS.fullmatch(text)) and found[1] in _MONTH_OF_NAME:
        month, year = _MONTH_OF_NAME[found[1]], int(found[2])
    if not (1 <= month <= 12 and FIRST_YEAR <= year <= LAST_YEAR):
        return None
    return date(year, month, 1)


def month_name(month: date) -> str:
    """A month in words, in the current language: « janvier 2027 »."""
    return date_format(month, "F Y")


class MonthField(forms.CharField):
    """A month as people write it (see ``parse_month``), cleaned to its first day; says the forms it takes."""

    def __init__(self, **kwargs: object) -> None:
        kwargs.setdefault("max_length", 30)
        kwargs.setdefault("help_text", _("For example janvier 2027 or 01/2027."))
        super().__init__(**kwargs)  # type: ignore[arg-type]

    def widget_attrs(self, widget: forms.Widget) -> dict[str, str]:
        attrs: dict[str, str] = super().widget_attrs(widget)
        attrs.update({"autocomplete": "off", "spellcheck": "false"})
        return attrs

    def clean(self, value: object) -> date | None:
        raw = str(super().clean(value) or "").strip()
        if not raw and not self.required:
            return None
        month = parse_month(raw)
        if month is None:
            raise forms.ValidationError(_("Enter a month, for example janvier 2027 or 01/2027."))
        return month
