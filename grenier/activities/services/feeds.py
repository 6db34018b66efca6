"""A person's calendar feed: its secret address made or renewed (the old one stops working at once), or stopped.
The address itself is ``grenier.activities.feeds.token_of``."""

from __future__ import annotations

import secrets

from django.db import transaction

from grenier.activities.models import CalendarFeed
from grenier.core.models import Territory, User
from grenier.core.services import audit


def calendar_feed_renew(*, user: User, territory: Territory) -> CalendarFeed:
    """A new secret address for ``user``'s registrations in ``territory``, replacing any earlier one. Sent twice,
    the second address is the one that works (each answer shows the one it made)."""
    with transaction.atomic():
        feed = CalendarFeed.objects.select_for_update().filter(user=user, territory=territory).first()
        if feed is None:
            feed = CalendarFeed(user=user, territory=territory)
        feed.public_id = secrets.token_urlsafe(12)  # 16 characters of [A-Za-z0-9_-]
        feed.save()
        audit(
            territory=territory,
            actor=user,
            action="activities.calendar_feed.renew",
            subject=f"user:{user.pk}",
        )
    return feed


def calendar_feed_stop(*, user: User, territory: Territory) -> bool:
    """No secret address any more; True if there was one."""
    with transaction.atomic():
        deleted, _rows = CalendarFeed.objects.filter(user=user, territory=territory).delete()
        if deleted:
            audit(
                territory=territory,
                actor=user,
                action="activities.calendar_feed.stop",
                subject=f"user:{user.pk}",
            )
    return bool(deleted)
