"""API of the cooperation map: actors, cooperations and the history of their level, resources and bookings."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from django.db.models import Prefetch, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router

from grenier.api import territory_of
from grenier.core import permissions
from grenier.core.auth import user_of
from grenier.core.errors import InvalidInput
from grenier.core.permissions import Action
from grenier.core.schemas import Offset
from grenier.network import access, services
from grenier.network.models import Actor, Booking, Cooperation, LevelChange, Resource
from grenier.network.schemas import (
    ActorIn,
    ActorKindText,
    ActorOut,
    BookingIn,
    BookingOut,
    ContactOut,
    CooperationIn,
    CooperationOut,
    EndIn,
    LevelChangeOut,
    LevelIn,
    LevelNumber,
    RefuseIn,
    ResourceOut,
    SortText,
    ThemeText,
)

router = Router(tags=["network"])
PAGE = 500


def _actor_out(actor: Actor, contacts: bool) -> ActorOut:
    return ActorOut(
        id=actor.pk,
        name=actor.name,
        kind=actor.kind,
        scale=actor.scale,
        description=actor.description,
        address=actor.address,
        latitude=None if actor.latitude is None else float(actor.latitude),
        longitude=None if actor.longitude is None else float(actor.longitude),
        linked_to=actor.linked_to,
        joined_on=actor.joined_on,
        left_on=actor.left_on,
        contact=ContactOut(name=actor.contact_name, phone=actor.contact_phone, email=actor.contact_email)
        if contacts
        else None,
    )


def _cooperation_out(cooperation: Cooperation) -> CooperationOut:
    return CooperationOut(
        id=cooperation.pk,
        title=cooperation.title,
        sort=cooperation.sort,
        level=cooperation.level,
        status=cooperation.status,
        description=cooperation.description,
        themes=list(cooperation.themes or []),
        scale=cooperation.scale,
        people=list(cooperation.people or []),
        starts_on=cooperation.starts_on,
        ends_on=cooperation.ends_on,
        actors=sorted(a.pk for a in cooperation.actors.all()),
        documents=cooperation.documents,
        source=cooperation.source,
        history=[
            LevelChangeOut(
                level_from=c.level_from,
                level_to=c.level_to,
                on=c.on,
                reason=c.reason,
                recorded_by=str(c.recorded_by) if c.recorded_by else None,
                recorded_at=c.recorded_at,
            )
            for c in sorted(cooperation.changes.all(), key=lambda c: (c.on, c.pk))
        ],
    )


def _cooperations() -> QuerySet[Cooperation]:
    return Cooperation.objects.prefetch_related(
        Prefetch("changes", queryset=LevelChange.objects.select_related("recorded_by")), "actors"
    )


@router.get(
    "/network/actors", response=list[ActorOut], summary="The territory's actors (contacts: coordinators)"
)
def network_actor_list(
    request: HttpRequest, kind: ActorKindText | None = None, offset: Offset = 0
) -> list[ActorOut]:
    territory = territory_of(request)
    access.require_view(request.user, territory)
    rows = Actor.objects.filter(territory=territory).order_by("name", "id")
    if kind:
        rows = rows.filter(kind=kind)
    contacts = access.may_see_contacts(request.user, territory)
    return [_actor_out(a, contacts) for a in rows[offset : offset + PAGE]]


@router.get("/network/actors/{actor_id}", response=ActorOut, summary="One actor")
def network_actor_detail(request: HttpRequest, actor_id: int) -> ActorOut:
    territory = territory_of(request)
    actor = access.actor_for(request.user, territory, actor_id)
    return _actor_out(actor, access.may_see_contacts(request.user, territory))


@router.post("/network/actors", response={201: ActorOut}, summary="Put an actor on the map (coordinator)")
def network_actor_create(request: HttpRequest, payload: ActorIn) -> tuple[int, ActorOut]:
    territory = territory_of(request)
    permissions.require(request.user, territory, Action.NETWORK_MANAGE)
    data = payload.dict(exclude={"idempotency_key"})
    for name in ("latitude", "longitude"):
        data[name] = None if data[name] is None else Decimal(str(data[name]))
    actor = services.actor_create(
        territory=territory,
        fields=services.ActorFields(**data),
        by=user_of(request),
        idempotency_key=payload.idempotency_key,
    )
    return 201, _actor_out(actor, True)


@router.get(
    "/network/cooperations",
    response=list[CooperationOut],
    summary="Cooperations, each with the history of its level",
)
def network_cooperation_list(
    request: HttpRequest,
    status: Literal["proposed", "confirmed", "dismissed"] | None = None,
    level: LevelNumber | None = None,
    sort: SortText | None = None,
    theme: ThemeText | None = None,
    offset: Offset = 0,
) -> list[CooperationOut]:
    territory = territory_of(request)
    access.require_view(request.user, territory)
    rows = _cooperations().filter(territory=territory).order_by("id")
    if status:
        rows = rows.filter(status=status)
    if level:
        rows = rows.filter(level=level)
    if sort:
        rows = rows.filter(sort=sort)
    found = [_cooperation_out(c) for c in rows[offset : offset + PAGE]]
    return [c for c in found if not theme or theme in c.themes]


@router.get("/network/cooperations/{cooperation_id}", response=CooperationOut, summary="One cooperation")
def network_cooperation_detail(request: HttpRequest, cooperation_id: int) -> CooperationOut:
    found = access.cooperation_for(request.user, territory_of(request), cooperation_id)
    return _cooperation_out(found)


@router.post(
    "/network/cooperations", response={201: CooperationOut}, summary="Record a cooperation (coordinator)"
)
def network_cooperation_create(request: HttpRequest, payload: CooperationIn) -> tuple[int, CooperationOut]:
    territory = territory_of(request)
    permissions.require(request.user, territory, Action.NETWORK_MANAGE)
    actors = list(Actor.objects.filter(territory=territory, pk__in=payload.actors))
    if len(actors) != len(set(payload.actors)):
        raise InvalidInput(
            _("The cooperation could not be recorded."),
            errors={"actors": [_("Only actors of this territory.")]},
        )
    fields = services.CooperationFields(
        title=payload.title,
        sort=payload.sort,
        level=payload.level,
        actors=actors,
        starts_on=payload.starts_on,
        description=payload.description,
        themes=list(payload.themes),
        scale=payload.scale,
        people=list(payload.people),
        documents=payload.documents,
    )
    cooperation = services.cooperation_create(
        territory=territory,
        fields=fields,
        by=user_of(request),
        idempotency_key=payload.idempotency_key,
        reason=payload.reason,
    )
    return 201, _cooperation_out(cooperation)


@router.post(
    "/network/cooperations/{cooperation_id}/level",
    response={201: CooperationOut},
    summary="The level changed: a dated event in its history, the old level kept (coordinator)",
)
def network_cooperation_level(
    request: HttpRequest, cooperation_id: int, payload: LevelIn
) -> tuple[int, CooperationOut]:
    territory = territory_of(request)
    permissions.require(request.user, territory, Action.NETWORK_MANAGE)
    cooperation = access.cooperation_for(request.user, territory, cooperation_id)
    services.cooperation_level_set(
        cooperation=cooperation,
        level=payload.level,
        reason=payload.reason,
        on=payload.on,
        by=user_of(request),
        idempotency_key=payload.idempotency_key,
    )
    return 201, _cooperation_out(_cooperations().get(pk=cooperation.pk))


@router.post(
    "/network/cooperations/{cooperation_id}/end",
    response=CooperationOut,
    summary="The cooperation ended: its history stays; ended already, it stays as it was (coordinator)",
)
def network_cooperation_end(request: HttpRequest, cooperation_id: int, payload: EndIn) -> CooperationOut:
    territory = territory_of(request)
    permissions.require(request.user, territory, Action.NETWORK_MANAGE)
    cooperation = access.cooperation_for(request.user, territory, cooperation_id)
    services.cooperation_end(
        cooperation=cooperation, by=user_of(request), on=payload.on, reason=payload.reason
    )
    return _cooperation_out(_cooperations().get(pk=cooperation.pk))


@router.get("/network/resources", response=list[ResourceOut], summary="What the actors have and may share")
def network_resource_list(request: HttpRequest, offset: Offset = 0) -> list[ResourceOut]:
    territory = territory_of(request)
    access.require_view(request.user, territory)
    rows = Resource.objects.filter(actor__territory=territory).order_by("id")[offset : offset + PAGE]
    return [
        ResourceOut(
            id=r.pk,
            actor=r.actor_id,
            kind=r.kind,
            name=r.name,
            description=r.description,
            shareable=r.shareable,
            terms=r.terms,
        )
        for r in rows
    ]


def _booking_out(b: Booking) -> BookingOut:
    return BookingOut(
        id=b.pk,
        resource=b.resource_id,
        requester=b.requester_id,
        starts_on=b.starts_on,
        ends_on=b.ends_on,
        status=b.status,
        note=b.note,
        reason=b.reason,
    )


@router.get("/network/bookings", response=list[BookingOut], summary="Bookings asked by or of one's actors")
def network_booking_list(request: HttpRequest, offset: Offset = 0) -> list[BookingOut]:
    territory = territory_of(request)
    access.require_view(request.user, territory)
    rows = access.bookings_of(request.user, territory).order_by("id")[offset : offset + PAGE]
    return [_booking_out(b) for b in rows]


@router.post(
    "/network/bookings", response={201: BookingOut}, summary="Ask for another actor's resource for dates"
)
def network_booking_create(request: HttpRequest, payload: BookingIn) -> tuple[int, BookingOut]:
    territory = territory_of(request)
    resource = access.resource_for(request.user, territory, payload.resource)
    requester = access.actor_for(request.user, territory, payload.requester)
    access.require_acts_for(request.user, requester)
    booking = services.booking_request(
        resource=resource,
        requester=requester,
        starts_on=payload.starts_on,
        ends_on=payload.ends_on,
        note=payload.note,
        by=user_of(request),
        idempotency_key=payload.idempotency_key,
    )
    return 201, _booking_out(booking)


def _owned_booking(request: HttpRequest, booking_id: int) -> Booking:
    territory = territory_of(request)
    booking = access.booking_for(request.user, territory, booking_id)
    access.require_acts_for(request.user, booking.resource.actor)
    return booking


@router.post(
    "/network/bookings/{booking_id}/accept", response=BookingOut, summary="Accept a booking (the owner)"
)
def network_booking_accept(request: HttpRequest, booking_id: int) -> BookingOut:
    booking = _owned_booking(request, booking_id)
    return _booking_out(services.booking_decide(booking=booking, accept=True, by=user_of(request)))


@router.post(
    "/network/bookings/{booking_id}/refuse",
    response=BookingOut,
    summary="Refuse a booking, saying why (the owner)",
)
def network_booking_refuse(request: HttpRequest, booking_id: int, payload: RefuseIn) -> BookingOut:
    booking = _owned_booking(request, booking_id)
    return _booking_out(
        services.booking_decide(booking=booking, accept=False, by=user_of(request), reason=payload.reason)
    )


@router.post(
    "/network/bookings/{booking_id}/withdraw",
    response=BookingOut,
    summary="Withdraw a request until its first day (the requester's people)",
)
def network_booking_withdraw(request: HttpRequest, booking_id: int) -> BookingOut:
    booking = access.booking_for(request.user, territory_of(request), booking_id)
    access.require_acts_for(request.user, booking.requester)
    return _booking_out(services.booking_withdraw(booking=booking, by=user_of(request)))
