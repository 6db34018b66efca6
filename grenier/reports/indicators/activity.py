"""Activity: the workshops, visits and shared meals held, the people who came, the volunteers' hours; the gardens'
own workshops recorded for their yearly report."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet, Sum
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from grenier.activities.models import (
    STANDARD_KINDS,
    Registration,
    RegistrationStatus,
    Session,
    Volunteering,
    VolunteeringStatus,
    WalkIn,
)
from grenier.baskets.models import Workshop
from grenier.reports.registry import Module, Part, Result, Scope, Theme, Unit, between, indicator, one_decimal


def _held(scope: Scope) -> QuerySet[Session]:
    """The sessions of the period that took place: recorded as closed, not cancelled."""
    return between(
        Session.objects.filter(territory=scope.territory, cancelled_at__isnull=True, closed_at__isnull=False),
        "date",
        scope,
    )


@indicator(
    "sessions_held",
    theme=Theme.ACTIVITY,
    name=gettext_lazy("Workshops and visits held"),
    definition=gettext_lazy(
        "The sessions of activities (workshops, farm visits, school sessions, shared meals...) held on a day of "
        "the period and recorded as held, by kind. Read from the activities' sessions. Not counted: cancelled "
        "sessions, sessions whose record was not closed."
    ),
    unit=Unit.COUNT,
    modules=(Module.ACTIVITIES,),
)
def sessions_held(scope: Scope) -> Result:
    rows = list(
        _held(scope).order_by().values("activity__kind__code", "activity__kind__name").annotate(n=Count("pk"))
    )
    parts = tuple(
        Part(
            row["activity__kind__code"],
            row["activity__kind__name"]
            or str(STANDARD_KINDS.get(row["activity__kind__code"], row["activity__kind__code"])),
            row["n"],
        )
        for row in sorted(rows, key=lambda row: (-row["n"], row["activity__kind__code"]))
    )
    return Result(sum(row["n"] for row in rows), parts=parts)


@indicator(
    "participants",
    theme=Theme.ACTIVITY,
    name=gettext_lazy("Participants in activities"),
    definition=gettext_lazy(
        "The adults and children who came to the sessions held in the period: those registered and marked "
        "present, school classes by their headcount, and those who walked in. A person who came to two "
        "sessions counts twice. Read from the sessions' registrations and walk-ins. Not counted: people "
        "registered and absent, waiting lists."
    ),
    unit=Unit.PERSONS,
    modules=(Module.ACTIVITIES,),
)
def participants(scope: Scope) -> Result:
    held = _held(scope)
    came = Registration.objects.filter(
        session__in=held, status=RegistrationStatus.CONFIRMED, attended=True
    ).aggregate(adults=Sum("adults"), children=Sum("children"))
    walked = WalkIn.objects.filter(session__in=held).aggregate(adults=Sum("adults"), children=Sum("children"))
    adults = int(came["adults"] or 0) + int(walked["adults"] or 0)
    children = int(came["children"] or 0) + int(walked["children"] or 0)
    return Result(
        adults + children,
        parts=(Part("adults", _("adults"), adults), Part("children", _("children"), children)),
    )


@indicator(
    "volunteering_hours",
    theme=Theme.ACTIVITY,
    name=gettext_lazy("Volunteering hours"),
    definition=gettext_lazy(
        "The time volunteers gave on the sessions' and the pickup points' volunteer slots of the period, as "
        "recorded after the slot, in hours, and how many volunteers gave it. Read from the volunteer sign-ups. "
        "Not counted: sign-ups cancelled or whose time was not recorded, volunteering outside Grenier."
    ),
    unit=Unit.HOURS,
    modules=(Module.ACTIVITIES,),
)
def volunteering_hours(scope: Scope) -> Result:
    found = between(
        Volunteering.objects.filter(
            slot__territory=scope.territory, status=VolunteeringStatus.SIGNED_UP, minutes__isnull=False
        ),
        "slot__date",
        scope,
    ).aggregate(minutes=Sum("minutes"), volunteers=Count("volunteer", distinct=True))
    return Result(
        one_decimal(int(found["minutes"] or 0), 60),
        parts=(Part("volunteers", _("volunteers"), found["volunteers"], unit=Unit.PERSONS),),
    )


@indicator(
    "garden_workshops",
    theme=Theme.ACTIVITY,
    name=gettext_lazy("Gardens' workshops"),
    definition=gettext_lazy(
        "The workshops the solidarity gardens held with their members during the period (cooking, gardening, "
        "nutrition, get-togethers), recorded for the gardens' yearly report, with their participants as the "
        "garden counted them. Read from the gardens' workshops. Not counted: sessions of the activities module "
        "(counted above)."
    ),
    unit=Unit.COUNT,
    modules=(Module.BASKETS,),
)
def garden_workshops(scope: Scope) -> Result:
    found = between(Workshop.objects.filter(garden__territory=scope.territory), "on", scope).aggregate(
        n=Count("pk"), people=Sum("participants", filter=Q(participants__gt=0))
    )
    return Result(
        found["n"],
        parts=(Part("participants", _("participants"), int(found["people"] or 0), unit=Unit.PERSONS),),
    )
