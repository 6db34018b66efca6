"""Figures of the activities: sessions held, who came (persons, children, distinct households, households new to
the territory's activities) and hours of volunteering, by kind, organiser and month, for a year or a month.

* A session is **held** when it is not cancelled and its day has come (today included).
* **Persons** are those ticked present plus the walk-ins; a class counts its head count (its pupils as children).
  A session held whose attendance was never taken counts no one (``not_taken`` says how many).
* **Households** are the distinct households ticked present or found by card at the door; classes and walk-ins
  counted without a card are persons, not households. A household is **new** when it had never come to one of
  the territory's activities before the period.
* **Volunteering** is the minutes recorded on slots of the period: a session's slots count with its activity; the
  pickup points' distributions count apart (and only in the coordinators' figures without a filter).

An activity with two organisers counts under each: the organisers' rows may add up to more than the total.

The baskets' yearly report takes its workshops from here (``garden_workshops``, registered when Django starts).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

from django.db.models import Q, QuerySet
from django.utils import timezone

from grenier.activities import access
from grenier.activities.models import (
    STANDARD_KINDS,
    Activity,
    Organiser,
    Registration,
    RegistrationStatus,
    Session,
    Volunteering,
    VolunteeringStatus,
    WalkIn,
)
from grenier.baskets import selectors as baskets_selectors
from grenier.core.models import Territory
from grenier.core.months import month_name

if TYPE_CHECKING:
    from grenier.core.permissions import AnyUser


@dataclass
class Row:
    """One line of figures (the total, a kind, an organiser or a month)."""

    key: str
    label: str
    sessions: int = 0
    persons: int = 0
    children: int = 0
    minutes: int = 0
    household_ids: set[int] = field(default_factory=set)
    new_ids: set[int] = field(default_factory=set)

    @property
    def households(self) -> int:
        return len(self.household_ids)

    @property
    def new(self) -> int:
        return len(self.new_ids)


@dataclass
class Figures:
    start: date
    end: date
    total: Row
    by_kind: list[Row]
    by_organiser: list[Row]
    by_month: list[Row]
    not_taken: int = 0  # sessions held whose attendance was never taken
    distributions: Row | None = None  # volunteering at the pickup points' distributions


def readable(user: AnyUser, territory: Territory) -> tuple[QuerySet[Activity], bool]:
    """The activities ``user`` reads the figures of (a coordinator: all; an organiser: their own), and whether
    they are the whole territory's (then the distributions' volunteering is shown too)."""
    everything = access.manages_all(user, territory)
    if everything:
        return Activity.objects.filter(territory=territory), True
    return access.managed_activities(user, territory), False


def organiser_key(organiser: Organiser) -> str:
    """An organiser's identity across activities: the garden, group, farm or kitchen, or the association's name."""
    for name in ("garden", "group", "producer", "kitchen"):
        value = getattr(organiser, f"{name}_id")
        if value is not None:
            return f"{name}:{value}"
    return f"association:{organiser.association.strip().lower()}"


def organisers_of(activities: QuerySet[Activity]) -> dict[str, str]:
    """The organisers of these activities, key → name, by name."""
    found: dict[str, str] = {}
    for organiser in Organiser.objects.filter(activity__in=activities).select_related(
        "garden", "group", "producer", "kitchen"
    ):
        found.setdefault(organiser_key(organiser), str(organiser))
    return dict(sorted(found.items(), key=lambda item: item[1].lower()))


def _row(rows: dict[str, Row], key: str, label: str) -> Row:
    if key not in rows:
        rows[key] = Row(key=key, label=label)
    return rows[key]


def figures(
    *,
    territory: Territory,
    start: date,
    end: date,
    activities: QuerySet[Activity],
    kind_id: int | None = None,
    organiser: str | None = None,
    with_distributions: bool = False,
    today: date | None = None,
) -> Figures:
    """The figures of ``activities`` (those the reader may see) from ``start`` to ``end`` (held: up to today),
    for one kind or one organiser if given."""
    today = today or timezone.localdate()
    held_until = min(end, today)
    scope = activities.filter(territory=territory)
    if kind_id is not None:
        scope = scope.filter(kind_id=kind_id)
    activity_organisers: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for named in Organiser.objects.filter(activity__in=scope).select_related(
        "garden", "group", "producer", "kitchen"
    ):
        activity_organisers[named.activity_id].append((organiser_key(named), str(named)))
    if organiser:
        scope = scope.filter(
            pk__in=[pk for pk, rows in activity_organisers.items() if organiser in {k for k, _ in rows}]
        )
    sessions = {
        pk: (day, activity_id, kind_id_, kind_code, kind_name)
        for pk, day, activity_id, kind_id_, kind_code, kind_name in Session.objects.filter(
            territory=territory,
            activity__in=scope,
            cancelled_at__isnull=True,
            date__gte=start,
            date__lte=held_until,
        ).values_list(
            "pk", "date", "activity_id", "activity__kind_id", "activity__kind__code", "activity__kind__name"
        )
    }
    kinds = {kind_pk: _kind_label(code, name) for _d, _a, kind_pk, code, name in sessions.values()}
    total = Row(key="total", label="")
    by_kind: dict[str, Row] = {}
    by_organiser: dict[str, Row] = {}
    by_month: dict[str, Row] = {}

    def rows_of(session_id: int) -> list[Row]:
        day, activity_id, kind_pk, _code, _name = sessions[session_id]
        found = [
            total,
            _row(by_kind, str(kind_pk), kinds[kind_pk]),
            _row(by_month, f"{day:%Y-%m}", month_name(day.replace(day=1))),
        ]
        found.extend(
            _row(by_organiser, key, label) for key, label in activity_organisers.get(activity_id, [])
        )
        return found

    for session_id in sorted(sessions, key=lambda pk: (sessions[pk][0], pk)):
        for row in rows_of(session_id):
            row.sessions += 1
    before = _came_before(territory, start)
    taken: set[int] = set()
    for session_id, household_id, adults, children, attended in _presences(list(sessions)):
        taken.add(session_id)
        if not attended:
            continue
        for row in rows_of(session_id):
            row.persons += adults + children
            row.children += children
            if household_id is not None:
                row.household_ids.add(household_id)
                if household_id not in before:
                    row.new_ids.add(household_id)
    closed = set(
        Session.objects.filter(pk__in=list(sessions), closed_at__isnull=False).values_list("pk", flat=True)
    )
    not_taken = len(set(sessions) - taken - closed)
    volunteered = Volunteering.objects.filter(
        slot__territory=territory,
        status=VolunteeringStatus.SIGNED_UP,
        minutes__gt=0,
        slot__date__gte=start,
        slot__date__lte=held_until,
    )
    for session_id, minutes in volunteered.filter(slot__session__in=list(sessions)).values_list(
        "slot__session_id", "minutes"
    ):
        for row in rows_of(session_id):
            row.minutes += minutes or 0
    distributions = None
    if with_distributions and kind_id is None and not organiser:
        distributions = Row(key="distributions", label="")
        for minutes in volunteered.filter(slot__sheet__isnull=False).values_list("minutes", flat=True):
            distributions.minutes += minutes or 0
    return Figures(
        start=start,
        end=end,
        total=total,
        by_kind=sorted(by_kind.values(), key=lambda r: r.label.lower()),
        by_organiser=sorted(by_organiser.values(), key=lambda r: r.label.lower()),
        by_month=sorted(by_month.values(), key=lambda r: r.key),
        not_taken=not_taken,
        distributions=distributions,
    )


def _kind_label(code: str, name: str) -> str:
    standard = STANDARD_KINDS.get(code)
    return str(standard) if standard is not None and not name else name


def _presences(session_ids: list[int]) -> Iterable[tuple[int, int | None, int, int, bool | None]]:
    """(session, household, adults, children, came) for the confirmed registrations and the walk-ins."""
    yield from (
        Registration.objects.filter(session__in=session_ids, status=RegistrationStatus.CONFIRMED)
        .filter(~Q(attended=None))
        .values_list("session_id", "household_id", "adults", "children", "attended")
    )
    for session_id, household_id, adults, children in WalkIn.objects.filter(
        session__in=session_ids
    ).values_list("session_id", "household_id", "adults", "children"):
        yield session_id, household_id, adults, children, True


def _came_before(territory: Territory, start: date) -> set[int]:
    """The households that came to one of the territory's activities before ``start``."""
    past = Q(session__territory=territory, session__date__lt=start, session__cancelled_at__isnull=True)
    registered = Registration.objects.filter(past, attended=True, household__isnull=False)
    walked = WalkIn.objects.filter(past, household__isnull=False)
    return set(registered.values_list("household_id", flat=True)) | set(
        walked.values_list("household_id", flat=True)
    )


# --- the baskets' yearly report -----------------------------------------------------------------------------------


def garden_workshops(territory: Territory, start: date, end: date) -> baskets_selectors.HeldWorkshops:
    """The sessions held by activities a garden organises, from ``start`` to ``end``: how many, how many persons
    came, by kind; ``since``: the day of the territory's first such session (before it, the report keeps the
    workshops typed on the gardens' pages)."""
    gardens = Activity.objects.filter(territory=territory, organisers__garden__isnull=False).distinct()
    first = (
        Session.objects.filter(territory=territory, activity__in=gardens, cancelled_at__isnull=True)
        .order_by("date")
        .values_list("date", flat=True)
        .first()
    )
    if first is None:
        return baskets_selectors.HeldWorkshops(since=None)
    found = figures(territory=territory, start=max(start, first), end=end, activities=gardens)
    return baskets_selectors.HeldWorkshops(
        since=first,
        held=found.total.sessions,
        participants=found.total.persons,
        by_kind=[(row.label, row.sessions) for row in found.by_kind],
    )


baskets_selectors.workshop_sources.append(garden_workshops)
