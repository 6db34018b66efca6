"""Small counts hidden: what a figure may show to whom.

A figure that counts households or persons, or that rests on a few of them (``Result.support``), is hidden in every
public output (the open-data package, the public CSV) and for every reader who is not a coordinator of the territory
when it is between 1 and ``THRESHOLD - 1``: with three households in a tier, a neighbour could tell who they are.
Zero is shown (nobody to recognise). When one line of a breakdown is hidden, the smallest other line not zero is
hidden too, so the hidden one cannot be found by subtracting the others from the total. A coordinator reads the
exact figures on the dashboard, the API and the command (they already see every household of the territory).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from django.utils.translation import gettext as _

from grenier.reports.registry import Indicator, Number, Part, Result, Unit

THRESHOLD = 5
"""A count of households or persons under this (and above 0) is hidden in public outputs."""


class Status(StrEnum):
    MEASURED = "measured"
    NOT_MEASURED = "not_measured"
    HIDDEN = "hidden"


@dataclass(frozen=True)
class Shown:
    """One line of a breakdown as a reader sees it."""

    key: str
    label: str
    value: Number | None
    status: Status
    unit: Unit


@dataclass(frozen=True)
class Figure:
    """An indicator's result as a reader sees it: its value (``None`` when not measured or hidden) and why."""

    value: Number | None
    status: Status
    reason: str
    parts: tuple[Shown, ...] = ()

    @property
    def number(self) -> float | None:
        """The value as a plain number (for bars and JSON)."""
        return None if self.value is None else float(self.value)


def _small(support: int | None) -> bool:
    return support is not None and 0 < support < THRESHOLD


def _support(unit: Unit, value: Number | None, support: int | None) -> int | None:
    if support is not None:
        return support
    if unit.people and isinstance(value, int):
        return value
    return None


def hidden_reason() -> str:
    return _("Hidden: fewer than %(threshold)s, so that nobody can be recognised.") % {"threshold": THRESHOLD}


def disclose(indicator: Indicator, result: Result, *, exact: bool) -> Figure:
    """``result`` as shown to a reader: exact for a coordinator (``exact``), small counts hidden otherwise."""
    if result.value is None:
        return Figure(None, Status.NOT_MEASURED, result.reason)
    if not exact and _small(_support(indicator.unit, result.value, result.support)):
        return Figure(
            None,
            Status.HIDDEN,
            hidden_reason(),
            tuple(Shown(p.key, p.label, None, Status.HIDDEN, p.unit or indicator.unit) for p in result.parts),
        )
    return Figure(result.value, Status.MEASURED, "", _parts(indicator.unit, result.parts, exact=exact))


def _parts(unit: Unit, parts: tuple[Part, ...], *, exact: bool) -> tuple[Shown, ...]:
    hide = set() if exact else {p.key for p in parts if _small(_support(p.unit or unit, p.value, p.support))}
    if len(hide) == 1:
        others = [p for p in parts if p.key not in hide and p.value]
        if others:
            hide.add(min(others, key=lambda p: (Decimal(p.value or 0), p.key)).key)
    return tuple(
        Shown(p.key, p.label, None, Status.HIDDEN, p.unit or unit)
        if p.key in hide
        else Shown(
            p.key,
            p.label,
            p.value,
            Status.NOT_MEASURED if p.value is None else Status.MEASURED,
            p.unit or unit,
        )
        for p in parts
    )
