"""A figure written for a person, the French way (``2 531``, ``85,9 %``, ``301 200 €``, ``123,9 g``), and the
width of its bar."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from grenier.core.money import NARROW_NBSP, NBSP
from grenier.reports.registry import Number, Unit


def _grouped(value: Number, places: int = 0) -> str:
    rounded = Decimal(value).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    sign = "-" if rounded < 0 else ""
    whole, _dot, fraction = f"{abs(rounded):f}".partition(".")
    text = f"{int(whole):,}".replace(",", NARROW_NBSP)
    return f"{sign}{text},{fraction}" if fraction else f"{sign}{text}"


def number_text(value: Number | None, unit: Unit) -> str:
    """``value`` in ``unit`` as a person reads it; a dash for a figure not there."""
    if value is None:
        return "—"
    if unit == Unit.CENTS:
        return f"{_grouped(Decimal(value) / 100)}{NBSP}€"
    if unit == Unit.PERCENT:
        return f"{_grouped(value, 1)}{NBSP}%"
    if unit == Unit.KG:
        return f"{_grouped(value, 1)}{NBSP}kg"
    if unit == Unit.G_PER_MEAL:
        return f"{_grouped(value, 1)}{NBSP}g"
    if unit == Unit.KM_PER_KG:
        return f"{_grouped(value, 1)}{NBSP}km"
    if unit == Unit.HOURS:
        return f"{_grouped(value, 1)}{NBSP}h"
    if unit == Unit.DAYS:
        return ngettext("%(days)s day", "%(days)s days", int(value)) % {"days": _grouped(value)}
    return _grouped(value)


def change_text(now: Number | None, before: Number | None, unit: Unit) -> str:
    """How ``now`` compares with ``before``: points for a percentage, a relative change otherwise."""
    if now is None or before is None:
        return ""
    if unit == Unit.PERCENT:
        points = Decimal(now) - Decimal(before)
        return _("%(sign)s%(points)s points") % {
            "sign": "+" if points > 0 else "",
            "points": _grouped(points, 1),
        }
    if not before:
        return ""
    change = (Decimal(now) - Decimal(before)) * 100 / abs(Decimal(before))
    return f"{'+' if change > 0 else ''}{_grouped(change)}{NBSP}%"


def bar_percent(value: Number | None, largest: Number | None) -> int:
    """A bar's length, 0 to 100, against the largest of its group (negative values draw no bar)."""
    if value is None or not largest or Decimal(largest) <= 0 or Decimal(value) <= 0:
        return 0
    return max(1, round(Decimal(value) * 100 / Decimal(largest)))
