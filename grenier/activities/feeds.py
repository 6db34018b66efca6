"""The activities as iCalendar feeds (RFC 5545, written by ``core.ical``), for calendar apps that subscribe to an
address and cannot log in:

* a territory's public feed of its coming sessions (what the public calendar page shows: what, where, when, who
  may come, the price, places left; nobody's name), and
* a person's feed of their own registrations (those of their households and those they made: a class, a
  household they follow), at a secret address: ``CalendarFeed.public_id`` and a signature of it by the site's
  secret key. Read each time with the person's rights of the day: someone who lost their role gets an empty feed.

Each session is one event whose UID never changes, so a calendar updates it (a cancelled session shows as
cancelled) instead of adding it twice.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Iterable
from datetime import date, datetime, timedelta
from itertools import groupby

from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from grenier.activities import access, selectors
from grenier.activities.models import CalendarFeed, Registration, RegistrationStatus, Session
from grenier.activities.wording import audience_text, persons_text, places_left_text, price_text
from grenier.core.ical import Calendar, Event
from grenier.core.models import Territory

PRODUCT = "-//Grenier//Activities//FR"
FEED_LENGTH = 500  # sessions in one feed: many months of a busy territory
HISTORY = timedelta(days=90)  # a person's past registrations stay in their calendar this long
SIGNATURE_SALT = "grenier.activities.calendar-feed"
Link = Callable[[Session], str]


def token_of(feed: CalendarFeed) -> str:
    """The secret part of the feed's address: its public id, then 32 hex digits of its signature."""
    return feed.public_id + salted_hmac(SIGNATURE_SALT, feed.public_id).hexdigest()[:32]


def webcal(url: str) -> str:
    """The same address for phones: ``webcal://`` opens the calendar app's subscription."""
    for scheme in ("https://", "http://"):
        if url.startswith(scheme):
            return "webcal://" + url.removeprefix(scheme)
    return url


def feed_for_token(territory: Territory, token: str) -> CalendarFeed | None:
    """The feed this token opens in ``territory``, or None (unknown, renewed since, forged, or another
    territory's); an inactive account's feed opens nothing."""
    public_id, signature = token[:16], token[16:]
    feed = (
        CalendarFeed.objects.filter(territory=territory, public_id=public_id, user__is_active=True)
        .select_related("user", "territory")
        .first()
    )
    if feed is None or not hmac.compare_digest(signature, token_of(feed)[16:]):
        return None
    return feed


def _bounds(session: Session) -> tuple[datetime, datetime]:
    start = timezone.make_aware(datetime.combine(session.date, session.starts_at))
    return start, timezone.make_aware(datetime.combine(session.date, session.ends_at))


def _event(session: Session, link: Link, details: list[str], summary: str = "", status: str = "") -> Event:
    start, end = _bounds(session)
    cancelled = session.cancelled_at is not None
    return Event(
        uid=f"session-{session.pk}.{session.territory.slug}@grenier",
        stamp=session.cancelled_at or session.created_at,
        start=start,
        end=end,
        summary=summary or session.activity.title,
        location=session.where,
        description="\n".join([*details, link(session)]),
        url=link(session),
        status="CANCELLED" if cancelled else status or "CONFIRMED",
        sequence=1 if cancelled else 0,
    )


def _price_line(session: Session) -> str:
    return _("Price: %(price)s") % {"price": price_text(session)}


def _session_details(session: Session) -> list[str]:
    lines = [str(session.activity.kind), audience_text(session), _price_line(session)]
    if session.cancelled_at is None:
        lines.append(places_left_text(selectors.places_left(session)))
    if session.accessibility:
        lines.append(_("Access: %(notes)s") % {"notes": session.accessibility})
    return lines


def territory_calendar(territory: Territory, today: date, link: Link) -> str:
    """The territory's sessions from ``today`` on, cancelled ones included (marked cancelled)."""
    sessions = selectors.with_places(Session.objects.filter(territory=territory, date__gte=today)).order_by(
        "date", "starts_at", "id"
    )[:FEED_LENGTH]
    calendar = Calendar(name=_("Workshops and visits · %(name)s") % {"name": territory.name}, product=PRODUCT)
    calendar.events = [_event(session, link, _session_details(session)) for session in sessions]
    return calendar.serialize()


def _registration_line(registration: Registration) -> str:
    who = registration.household.display_name if registration.household else registration.class_name
    if registration.attended is None:
        status = registration.get_status_display()
    else:
        status = _("came") if registration.attended else _("absent")
    return f"{who} · {persons_text(registration.adults, registration.children)} · {status}"


def _person_event(session: Session, registrations: Iterable[Registration], link: Link, today: date) -> Event:
    """One event per session, however many of the person's registrations it holds (two classes of a teacher);
    came or absent once the organiser ticked, until when one may cancel while it is coming."""
    rows = list(registrations)
    lines = [_registration_line(row) for row in rows]
    lines.append(_price_line(session))
    if session.date >= today:
        lines.append(
            _("Register or cancel until %(when)s.")
            % {"when": date_format(timezone.localtime(session.registration_deadline), "l j F, H:i")}
        )
    if any(row.status == RegistrationStatus.CONFIRMED for row in rows):
        return _event(session, link, lines)
    summary = _("Waiting list: %(title)s") % {"title": session.activity.title}
    return _event(session, link, lines, summary=summary, status="TENTATIVE")


def person_calendar(feed: CalendarFeed, today: date, link: Link) -> str:
    """The person's registrations (not cancelled ones) on sessions from ``HISTORY`` ago on, as of their rights
    today."""
    rows = (
        access.own_registrations(feed.user, feed.territory)
        .filter(session__date__gte=today - HISTORY)
        .exclude(status=RegistrationStatus.CANCELLED)
        .select_related(
            "household",
            "session__activity",
            "session__territory",
            "session__place_garden",
            "session__place_pickup_point",
            "session__place_producer",
            "session__place_kitchen",
        )
        .order_by("session__date", "session__starts_at", "session_id", "id")[:FEED_LENGTH]
    )
    calendar = Calendar(name=_("My activities · %(name)s") % {"name": feed.territory.name}, product=PRODUCT)
    calendar.events = [
        _person_event(session, registrations, link, today)
        for session, registrations in groupby(rows, key=lambda row: row.session)
    ]
    return calendar.serialize()
