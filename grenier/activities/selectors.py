"""Reads of the activities that are more than one line: places left, a session's record, calendars."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import Count, F, IntegerField, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce, Greatest
from django.urls import reverse
from django.utils.translation import gettext

from grenier.activities.models import (
    Audience,
    Registration,
    RegistrationStatus,
    Session,
    VolunteeringStatus,
    VolunteerSlot,
)
from grenier.core.models import Territory
from grenier.supply import selectors as supply_selectors
from grenier.supply.models import Kitchen, SupplyWeek


def with_places(sessions: QuerySet[Session]) -> QuerySet[Session]:
    """``sessions`` with ``taken`` (persons confirmed) and ``waiting`` (registrations waiting), in one query."""
    confirmed = Q(registrations__status=RegistrationStatus.CONFIRMED)
    taken = Coalesce(
        Sum("registrations__adults", filter=confirmed), Value(0), output_field=IntegerField()
    ) + Coalesce(Sum("registrations__children", filter=confirmed), Value(0), output_field=IntegerField())
    return sessions.annotate(
        taken=taken,
        left=Greatest(F("capacity") - taken, Value(0), output_field=IntegerField()),
        waiting=Count("registrations", filter=Q(registrations__status=RegistrationStatus.WAITING)),
    ).select_related(
        "activity__kind",
        "activity__payee_store",
        "place_garden",
        "place_pickup_point",
        "place_producer",
        "place_kitchen",
        "audience_garden",
        "audience_group",
    )


def upcoming(sessions: QuerySet[Session], today: date) -> QuerySet[Session]:
    return with_places(sessions.filter(date__gte=today, cancelled_at__isnull=True)).order_by(
        "date", "starts_at", "id"
    )


def audience_asked(value: str | None) -> str | None:
    """The audience a calendar or list is filtered by (``?audience=school``), or ``None`` for every session: a value
    that names no audience filters nothing (a page's address, hand-typed or old, never answers an error)."""
    return value if value in Audience.values else None


def for_audience(sessions: QuerySet[Session], audience: str | None) -> QuerySet[Session]:
    """``sessions`` open to ``audience`` (``school``: the sessions a school may register a class on), or all."""
    return sessions if audience is None else sessions.filter(audience=audience)


def month_programme(sessions: QuerySet[Session], month: date) -> QuerySet[Session]:
    """The sessions of the month starting ``month`` that are still on (not cancelled), by day and time."""
    following = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    return with_places(
        sessions.filter(date__gte=month, date__lt=following, cancelled_at__isnull=True)
    ).order_by("date", "starts_at", "id")


def places_left(session: Session) -> int:
    """Places left on a session read through ``with_places``."""
    return int(getattr(session, "left", 0))


@dataclass(frozen=True)
class Record:
    """Who came to a session: registrations present, and persons counted at the door."""

    households: int
    classes: int
    adults: int
    children: int
    absent: int
    walk_in_adults: int
    walk_in_children: int

    @property
    def persons(self) -> int:
        return self.adults + self.children + self.walk_in_adults + self.walk_in_children


def record(session: Session) -> Record:
    present = session.registrations.filter(status=RegistrationStatus.CONFIRMED, attended=True)
    sums = present.aggregate(
        adults=Coalesce(Sum("adults"), 0),
        children=Coalesce(Sum("children"), 0),
        households=Count("household", distinct=True),
        classes=Count("id", filter=Q(household__isnull=True)),
    )
    walk_ins = session.walk_ins.aggregate(
        adults=Coalesce(Sum("adults"), 0), children=Coalesce(Sum("children"), 0)
    )
    walk_in_households = (
        session.walk_ins.filter(household__isnull=False).values("household").distinct().count()
    )
    return Record(
        households=sums["households"] + walk_in_households,
        classes=sums["classes"],
        adults=sums["adults"],
        children=sums["children"],
        absent=session.registrations.filter(status=RegistrationStatus.CONFIRMED, attended=False).count(),
        walk_in_adults=walk_ins["adults"],
        walk_in_children=walk_ins["children"],
    )


def registrations_shown(rows: QuerySet[Registration]) -> QuerySet[Registration]:
    return rows.select_related("session__activity__kind", "household").order_by("-session__date", "-id")


def slots_with_places(slots: QuerySet[VolunteerSlot]) -> QuerySet[VolunteerSlot]:
    """``slots`` with ``signed`` (volunteers signed up) and ``left`` (places left), in one query."""
    signed = Count("volunteerings", filter=Q(volunteerings__status=VolunteeringStatus.SIGNED_UP))
    return slots.annotate(
        signed=signed, left=Greatest(F("places") - signed, Value(0), output_field=IntegerField())
    ).select_related(
        "session__activity",
        "session__place_pickup_point",
        "sheet__pickup_point",
        "cycle__group",
        "cycle__pickup_point",
        "delivery_kitchen",
    )


def delivery_volunteers(
    territory: Territory, kitchen: Kitchen, week: SupplyWeek
) -> supply_selectors.DeliveryVolunteers:
    """The volunteer slots opened on ``kitchen``'s deliveries of ``week`` (``delivery_week``, ``delivery_kitchen``),
    with their places left, for the kitchen's delivery page: supply shows them and writes nothing."""
    slots = slots_with_places(
        VolunteerSlot.objects.filter(territory=territory, delivery_week=week, delivery_kitchen=kitchen)
    ).order_by("date", "starts_at", "id")
    who = gettext("Anyone with a role in the territory signs up on the volunteering page.")
    return supply_selectors.DeliveryVolunteers(
        calls=[
            supply_selectors.VolunteerCall(
                day=slot.date,
                task=slot.task,
                starts_at=slot.starts_at,
                ends_at=slot.ends_at,
                places=slot.places,
                places_left=int(getattr(slot, "left", 0)),
                who=who,
                url=reverse("activities_slot", args=[territory.slug, slot.pk]),
            )
            for slot in slots
        ],
        call_url=reverse("activities_slot_new", args=[territory.slug]),
    )


supply_selectors.delivery_volunteer_sources.append(delivery_volunteers)
