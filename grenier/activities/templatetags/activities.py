"""Template tags of the activities: minutes shown as hours (``hours``), a head count in words with its plurals right
(``{% persons adults children %}``), a session's price in a few words (``session|price``), a school's home panel (``{% school_home territory %}``)."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils import timezone
from django.utils.text import capfirst

from grenier.activities import access, selectors
from grenier.activities.models import Audience, RegistrationStatus, Session
from grenier.activities.wording import persons_text, price_text
from grenier.core.models import Territory

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


SCHOOL_HOME_ROWS = 5


@register.inclusion_tag("activities/_school_home.html", takes_context=True)
def school_home(context: template.Context, territory: Territory) -> dict[str, Any]:
    """A school's home: the next sessions for school classes, and its own classes' registrations coming."""
    user = context["request"].user
    today = timezone.localdate()
    sessions = selectors.upcoming(
        access.sessions_of(user, territory).filter(audience=Audience.SCHOOL), today
    )[:SCHOOL_HOME_ROWS]
    classes = (
        access.own_registrations(user, territory)
        .filter(household__isnull=True, session__date__gte=today)
        .exclude(status=RegistrationStatus.CANCELLED)
        .select_related("session__activity")
        .order_by("session__date", "session__starts_at", "id")
    )
    return {"territory": territory, "sessions": list(sessions), "classes": list(classes)}
