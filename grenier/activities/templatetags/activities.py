"""Template filters of the activities: minutes shown as hours (``hours``)."""

from __future__ import annotations

from django import template

register = template.Library()


@register.filter
def hours(minutes: int | None) -> str:
    """``90`` → ``1 h 30``, ``120`` → ``2 h``, ``None`` → ``0 h``."""
    total = int(minutes or 0)
    whole, rest = divmod(total, 60)
    return f"{whole} h {rest:02d}" if rest else f"{whole} h"
