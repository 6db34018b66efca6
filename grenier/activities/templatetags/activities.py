"""Template tags of the activities: minutes shown as hours (``hours``), a head count in words with its plurals right
(``{% persons adults children %}``), a session's price in a few words (``session|price``)."""

from __future__ import annotations

from django import template
from django.utils.text import capfirst

from grenier.activities.models import Session
from grenier.activities.wording import persons_text, price_text

register = template.Library()


@register.filter
def hours(minutes: int | None) -> str:
    """``90`` → ``1 h 30``, ``120`` → ``2 h``, ``None`` → ``0 h``."""
    total = int(minutes or 0)
    whole, rest = divmod(total, 60)
    return f"{whole} h {rest:02d}" if rest else f"{whole} h"


@register.simple_tag
def persons(adults: int, children: int) -> str:
    return persons_text(adults or 0, children or 0)


@register.filter
def price(session: Session) -> str:
    """ "Free", or "3,00 € per adult, 1,00 € per child, in food credit"."""
    return capfirst(price_text(session))
