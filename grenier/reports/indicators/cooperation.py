"""Cooperation, from the cooperation map: the actors on it, the cooperations by level at the end of the period,
the levels that rose or fell during it, the bookings of shared resources."""

from __future__ import annotations

from django.db.models import Count, F, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from grenier.network.models import (
    Actor,
    ActorKind,
    Booking,
    BookingStatus,
    Cooperation,
    CooperationStatus,
    Level,
    LevelChange,
    ResourceKind,
    Sort,
)
from grenier.reports.registry import Module, Part, Result, Scope, Theme, Unit, between, indicator


@indicator(
    "actors",
    theme=Theme.COOPERATION,
    name=gettext_lazy("Actors on the cooperation map"),
    definition=gettext_lazy(
        "The structures (associations, farms, stores, kitchens, public bodies, collectives...) on the "
        "territory's cooperation map on the last day of the period, by kind. Read from the map's actors. Not "
        "counted: actors that had left the map by then."
    ),
    unit=Unit.COUNT,
    modules=(Module.NETWORK,),
)
def actors(scope: Scope) -> Result:
    rows = {
        row["kind"]: row["n"]
        for row in Actor.objects.filter(territory=scope.territory, joined_on__lte=scope.end)
        .filter(Q(left_on__isnull=True) | Q(left_on__gt=scope.end))
        .order_by()
        .values("kind")
        .annotate(n=Count("pk"))
    }
    labels = dict(ActorKind.choices)
    parts = tuple(
        Part(kind, str(labels.get(kind, kind)), n)
        for kind, n in sorted(rows.items(), key=lambda item: (-item[1], item[0]))
    )
    return Result(sum(rows.values()), parts=parts)


@indicator(
    "cooperations_by_level",
    theme=Theme.COOPERATION,
    name=gettext_lazy("Cooperations, by level"),
    definition=gettext_lazy(
        "The confirmed cooperations between actors going on on the last day of the period, by their level on "
        "that day (1 a wish to cooperate, 2 an exchange of services, 3 a pooling of means, 4 a new common "
        "action, 5 a collective organisation). Read from the map's cooperations and the dated history of their "
        "level. Not counted: cooperations proposed and not confirmed, dismissed, ended or not begun."
    ),
    unit=Unit.COUNT,
    modules=(Module.NETWORK,),
)
def cooperations_by_level(scope: Scope) -> Result:
    level_then = (
        LevelChange.objects.filter(cooperation=OuterRef("pk"), on__lte=scope.end)
        .order_by("-on", "-recorded_at", "-pk")
        .values("level_to")[:1]
    )
    rows = {
        row["then"]: row["n"]
        for row in _going_on(scope)
        .annotate(then=Subquery(level_then, output_field=IntegerField()))
        .order_by()
        .values("then")
        .annotate(n=Count("pk"))
    }
    parts = tuple(Part(str(level), str(label), rows.get(level, 0)) for level, label in Level.choices)
    return Result(sum(n for level, n in rows.items() if level is not None), parts=parts)


def _going_on(scope: Scope) -> QuerySet[Cooperation]:
    """The confirmed cooperations going on on the period's last day."""
    return Cooperation.objects.filter(
        territory=scope.territory, status=CooperationStatus.CONFIRMED, starts_on__lte=scope.end
    ).filter(Q(ends_on__isnull=True) | Q(ends_on__gt=scope.end))


@indicator(
    "cooperations_by_sort",
    theme=Theme.COOPERATION,
    name=gettext_lazy("Cooperations, by sort"),
    definition=gettext_lazy(
        "The confirmed cooperations between actors going on on the last day of the period, by the sort of "
        "cooperation they articulate: of proximity (neighbours on the territory), of theme (the food system, "
        "social action), of scale of intervention, or around the people concerned. Read from the map's "
        "cooperations. Not counted: cooperations proposed and not confirmed, dismissed, ended or not begun."
    ),
    unit=Unit.COUNT,
    modules=(Module.NETWORK,),
)
def cooperations_by_sort(scope: Scope) -> Result:
    rows = {
        row["sort"]: row["n"] for row in _going_on(scope).order_by().values("sort").annotate(n=Count("pk"))
    }
    parts = tuple(Part(sort, str(label), rows.get(sort, 0)) for sort, label in Sort.choices)
    return Result(sum(rows.values()), parts=parts)


@indicator(
    "level_changes",
    theme=Theme.COOPERATION,
    name=gettext_lazy("Changes of a cooperation's level"),
    definition=gettext_lazy(
        "The changes of level of the territory's cooperations dated in the period, rises and falls. Read from "
        "the dated history of each cooperation's level. Not counted: a cooperation's first level, the day it "
        "was recorded."
    ),
    unit=Unit.COUNT,
    modules=(Module.NETWORK,),
)
def level_changes(scope: Scope) -> Result:
    found = between(
        LevelChange.objects.filter(cooperation__territory=scope.territory, level_from__isnull=False),
        "on",
        scope,
    ).aggregate(
        rose=Count("pk", filter=Q(level_to__gt=F("level_from"))),
        fell=Count("pk", filter=Q(level_to__lt=F("level_from"))),
    )
    return Result(
        found["rose"] + found["fell"],
        parts=(Part("rose", _("rose"), found["rose"]), Part("fell", _("fell"), found["fell"])),
    )


@indicator(
    "bookings",
    theme=Theme.COOPERATION,
    name=gettext_lazy("Shared resources booked"),
    definition=gettext_lazy(
        "The bookings of a resource one actor shares with another (premises, a kitchen, a cold room, a vehicle, "
        "tools...) accepted by its owner and beginning during the period, by kind of resource. Read from the map's "
        "bookings. Not counted: bookings waiting, refused or withdrawn."
    ),
    unit=Unit.COUNT,
    modules=(Module.NETWORK,),
)
def bookings(scope: Scope) -> Result:
    rows = {
        row["resource__kind"]: row["n"]
        for row in _accepted(scope).order_by().values("resource__kind").annotate(n=Count("pk"))
    }
    return Result(sum(rows.values()), parts=_by_resource_kind(rows))


def _accepted(scope: Scope) -> QuerySet[Booking]:
    """The accepted bookings beginning in the period."""
    return between(
        Booking.objects.filter(requester__territory=scope.territory, status=BookingStatus.ACCEPTED),
        "starts_on",
        scope,
    )


def _by_resource_kind(rows: dict[str, int]) -> tuple[Part, ...]:
    return tuple(Part(kind, str(label), rows.get(kind, 0)) for kind, label in ResourceKind.choices)


@indicator(
    "resources_shared",
    theme=Theme.COOPERATION,
    name=gettext_lazy("Resources shared"),
    definition=gettext_lazy(
        "The resources (premises, a kitchen, a cold room, a vehicle, land, tools, skills, volunteers' time, "
        "money) one actor of the map lent to another during the period: each resource counted once however "
        "often it was booked, by kind, with the days they were lent for. Read from the map's bookings accepted "
        "by the resource's owner and beginning in the period. Not counted: resources offered but not booked "
        "(the map does not date an offer), bookings waiting, refused or withdrawn."
    ),
    unit=Unit.COUNT,
    modules=(Module.NETWORK,),
)
def resources_shared(scope: Scope) -> Result:
    accepted = _accepted(scope)
    rows = {
        row["resource__kind"]: row["n"]
        for row in accepted.order_by().values("resource__kind").annotate(n=Count("resource", distinct=True))
    }
    days = sum(
        (ends - starts).days + 1 for starts, ends in accepted.order_by().values_list("starts_on", "ends_on")
    )
    parts = (
        *_by_resource_kind(rows),
        Part("days", _("lent, all bookings together, for"), days, unit=Unit.DAYS),
    )
    return Result(sum(rows.values()), parts=parts)
