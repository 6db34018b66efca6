"""What every app's API schemas share: the strict base of request bodies, and the types JSON carries as text.

A request body is read as written: an integer is a JSON integer (``true``, ``"5"`` or ``5.0`` are not cents), a
boolean is ``true`` or ``false`` (not ``"yes"``, not ``1``), a string is a string, and a field the schema does not
name is refused rather than ignored (a misspelt ``amount_cent`` must not pass as a request without an amount).
All of them answer 422 problem+json through the API's one validation handler.
"""

from __future__ import annotations

import re
from datetime import date, time
from typing import Annotated, Any, TypeVar

from django.utils.translation import gettext as _
from ninja import Body, Schema
from pydantic import AfterValidator, BeforeValidator, ConfigDict, Field, Strict, WithJsonSchema
from pydantic_core import PydanticCustomError

MAX_BIGINT = 2**63 - 1
"""The largest integer a database column (BigIntegerField) holds: nothing a client sends may go beyond it."""

FROM_TEXT = Strict(False)
"""Marks a field whose JSON form is text parsed by its type: a date, a time, a choice among an enum's values.
Everything else in an ``InputSchema`` is strict."""


class InputSchema(Schema):
    """The base of every request body: strict types, unknown fields refused."""

    model_config = ConfigDict(strict=True, extra="forbid")


# --- bounds (issue 11, item 1): every value a client sends has one, so none fails deep in a query ------------------

FIRST_DAY = date(2000, 1, 1)
LAST_DAY = date(2100, 12, 31)  # a week or a month starting on it still ends inside what Python's dates hold
FIRST_BIRTH_DAY = date(1900, 1, 1)
MAX_CENTS = 100_000_000_000  # one billion euros: above any territory's budget, far below a bigint when summed
MAX_QUANTITY = 1_000_000_000  # units, or grams (1,000 t): fits the smallest column one is stored in (32-bit)
MAX_ITEMS = 1_000  # lines in one request's list

T = TypeVar("T")

Id = Annotated[int, Field(ge=1, le=MAX_BIGINT)]
"""The id of a row (a household, a product, a farm…): positive, and a bigint."""
Cents = Annotated[int, Field(ge=0, le=MAX_CENTS)]
"""An amount of money in cents, never negative (a field may ask more, e.g. ``gt=0``)."""
Quantity = Annotated[int, Field(ge=0, le=MAX_QUANTITY)]
"""A count of units, or a quantity in a product's base unit (grams for a product sold by the kg)."""
BasisPoints = Annotated[int, Field(ge=0, le=10_000)]
"""A share in basis points: 0 to 10,000 (100 %)."""
Weekday = Annotated[int, Field(ge=0, le=6, description="0 = Monday … 6 = Sunday")]
"""A day of the week."""
Offset = Annotated[int, Field(ge=0, le=MAX_QUANTITY)]
"""How many rows a listing skips."""
Items = Annotated[list[T], Field(max_length=MAX_ITEMS)]
"""A list in a request body, at most ``MAX_ITEMS`` long: ``Items[LineIn]``."""
ItemsBody = Annotated[list[T], Body(..., max_length=MAX_ITEMS)]
"""A request body that is itself a list, at most ``MAX_ITEMS`` long: ``payload: ItemsBody[LineIn]``."""


def _out_of_range(error_type: str, first: date) -> PydanticCustomError:
    return PydanticCustomError(
        error_type,
        _("A date between {first} and {last}."),
        {"first": first.isoformat(), "last": LAST_DAY.isoformat()},
    )


def _day_in_range(day: date) -> date:
    if not FIRST_DAY <= day <= LAST_DAY:
        raise _out_of_range("date_range", FIRST_DAY)
    return day


def _birth_day_in_range(day: date) -> date:
    if not FIRST_BIRTH_DAY <= day <= LAST_DAY:
        raise _out_of_range("date_range", FIRST_BIRTH_DAY)
    return day


MONTH_PATTERN = r"^\d{4}-(0[1-9]|1[0-2])$"


def parse_month(value: Any) -> date:
    """``"2026-11"`` → ``date(2026, 11, 1)``; anything else, or a year outside 2000 to 2100, is refused."""
    if not isinstance(value, str) or not re.fullmatch(MONTH_PATTERN, value):
        raise PydanticCustomError("month", _("A month written YYYY-MM, e.g. 2026-11."))
    year = int(value[:4])
    if not FIRST_DAY.year <= year <= LAST_DAY.year:  # before date(), which refuses year 0 with a ValueError
        raise _out_of_range("month_range", FIRST_DAY)
    return date(year, int(value[5:7]), 1)


Day = Annotated[date, FROM_TEXT, AfterValidator(_day_in_range)]
"""A calendar day, ``YYYY-MM-DD``, between 2000 and 2100 (a week in year 9999 would overflow Python's dates)."""
BirthDate = Annotated[date, FROM_TEXT, AfterValidator(_birth_day_in_range)]
"""A birth date, from 1900 (the service refuses one in the future)."""
Month = Annotated[
    date,
    BeforeValidator(parse_month),
    WithJsonSchema({"type": "string", "pattern": MONTH_PATTERN, "examples": ["2026-11"]}),
]
"""A month, ``YYYY-MM``, between 2000 and 2100: the handler receives its first day."""

_LOCAL_TIME = re.compile(r"([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d{1,6})?)?")
LOCAL_TIME_PATTERN = f"^{_LOCAL_TIME.pattern}$"


def _local_time(value: Any) -> Any:
    # JSON Schema's "time" format is RFC 3339's, with a UTC offset; the opening time of a pickup point is a time on
    # the wall clock of the place, so an offset has no meaning there and is refused like any other malformed time.
    # Only text, or a time without offset: pydantic's lax mode reads a number as seconds since midnight in UTC,
    # which an SQLite column refuses with a server error (issue 11).
    if (isinstance(value, str) and _LOCAL_TIME.fullmatch(value)) or (
        isinstance(value, time) and value.tzinfo is None
    ):
        return value
    raise PydanticCustomError("time_format", _("A local time, HH:MM or HH:MM:SS, without a UTC offset."))


TimeOfDay = Annotated[
    time,
    FROM_TEXT,
    BeforeValidator(_local_time),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": LOCAL_TIME_PATTERN,
            "description": "A local time on the place's clock, HH:MM or HH:MM:SS, without a UTC offset.",
            "examples": ["17:30", "08:00:00"],
        }
    ),
]
"""A time of day on the local clock (an opening time), in and out: ``17:30`` or ``17:30:00``, never an offset."""
