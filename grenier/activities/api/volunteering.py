"""Volunteering: the slots coming (every person of the territory sees them), signing up and cancelling one's own,
the hours recorded by those who run the slot."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from grenier.activities import access, selectors, services
from grenier.activities.api.common import router
from grenier.activities.api.schemas import HoursIn, SignUpIn, SlotIn, SlotOut, VolunteeringOut
from grenier.activities.models import Volunteering, VolunteerSlot
from grenier.api import territory_of
from grenier.core import permissions
from grenier.core.auth import user_of
from grenier.core.errors import InvalidInput, NotFound
from grenier.core.models import Territory
from grenier.core.permissions import Action
from grenier.core.schemas import Day
from grenier.supply.models import SupplyWeek

LIST_LIMIT = 500


def _slot_out(slot: VolunteerSlot) -> SlotOut:
    return SlotOut(
        id=slot.pk,
        task=slot.task,
        what=slot.what,
        session_id=slot.session_id,
        sheet_id=slot.sheet_id,
        cycle_id=slot.cycle_id,
        delivery_week_id=slot.delivery_week_id,
        delivery_kitchen_id=slot.delivery_kitchen_id,
        date=slot.date,
        starts_at=slot.starts_at,
        ends_at=slot.ends_at,
        where=slot.where,
        places=slot.places,
        places_left=int(getattr(slot, "left", 0)),
    )


def _volunteering_out(row: Volunteering) -> VolunteeringOut:
    return VolunteeringOut(
        id=row.pk, slot_id=row.slot_id, household_id=row.household_id, status=row.status, minutes=row.minutes
    )


@router.get(
    "/activities/volunteer-slots",
    response=list[SlotOut],
    summary="Volunteer slots from a day (today by default), with the volunteers still wanted",
)
def slot_list(request: HttpRequest, since: Day | None = None) -> list[SlotOut]:
    territory = territory_of(request)
    permissions.require(request.user, territory, Action.VIEW_TERRITORY)
    rows = selectors.slots_with_places(
        VolunteerSlot.objects.filter(territory=territory, date__gte=since or timezone.localdate())
    )
    return [_slot_out(slot) for slot in rows.order_by("date", "starts_at", "id")[:LIST_LIMIT]]


def _one_target(payload: SlotIn) -> None:
    """Refused (422) unless the body names exactly one target: a session, a distribution sheet, a buying group's
    pickup (its cycle) or a platform delivery, whole (its week, kitchen and day)."""
    delivery = {
        "delivery_week_id": payload.delivery_week_id,
        "delivery_kitchen_id": payload.delivery_kitchen_id,
        "date": payload.date,
    }
    named = [payload.session_id, payload.sheet_id, payload.cycle_id]
    if sum(given is not None for given in named) + any(v is not None for v in delivery.values()) != 1:
        message = _(
            "Give one of a session, a distribution sheet, a buying group's pickup or a platform delivery."
        )
        raise InvalidInput(message, errors={"session_id": [message]})
    missing = [name for name, value in delivery.items() if value is None]
    if len(missing) < len(delivery) and missing:
        message = _("A platform delivery is given by its week, its kitchen and its day.")
        raise InvalidInput(message, errors={name: [message] for name in missing})


def _not_yours() -> NotFound:
    return NotFound(_("This does not exist, or you do not call volunteers for it."))


def _target(request: HttpRequest, territory: Territory, payload: SlotIn) -> dict[str, Any]:
    """The slot's target among those the caller may call volunteers for, as the page offers them (else 404), as
    ``services.slot_create``'s keyword."""
    user = request.user
    if payload.session_id is not None:
        session = access.slot_sessions(user, territory).filter(pk=payload.session_id).first()
        if session is None:
            raise _not_yours()
        return {"session": session}
    if payload.sheet_id is not None:
        sheets = access.slot_sheets(user, territory).select_related("pickup_point__garden")
        sheet = sheets.filter(pk=payload.sheet_id).first()
        if sheet is None:
            raise _not_yours()
        return {"sheet": sheet}
    if payload.cycle_id is not None:
        cycle = (
            access.pickup_cycles_of(user, territory)
            .filter(pk=payload.cycle_id)
            .select_related("group")
            .first()
        )
        if cycle is None:
            raise _not_yours()
        return {"cycle": cycle}
    week_id, kitchen_id, day = payload.delivery_week_id, payload.delivery_kitchen_id, payload.date
    if week_id is None or kitchen_id is None or day is None:  # never: ``_one_target`` asked for all three
        raise _not_yours()
    week = SupplyWeek.objects.filter(territory=territory, pk=week_id).first()
    kitchen = access.delivery_kitchens_of(user, territory).filter(pk=kitchen_id).first()
    if week is None or kitchen is None:
        raise _not_yours()
    return {"delivery": services.Delivery(week=week, kitchen=kitchen, day=day)}


@router.post(
    "/activities/volunteer-slots",
    response={200: SlotOut, 201: SlotOut},
    summary="Call for volunteers on a session, a distribution sheet, a buying group's pickup or a platform "
    "delivery, as the page does (those who run it; another caller 403, a target one does not run 404); the same "
    "key again answers the same slot (200)",
)
def slot_create(request: HttpRequest, payload: SlotIn) -> tuple[int, SlotOut]:
    territory = territory_of(request)
    access.require_slot_runner(request.user, territory)
    _one_target(payload)
    target = _target(request, territory, payload)
    replay = VolunteerSlot.objects.filter(
        territory=territory, idempotency_key=payload.idempotency_key
    ).exists()
    slot = services.slot_create(
        territory=territory,
        task=payload.task,
        starts_at=payload.starts_at,
        ends_at=payload.ends_at,
        places=payload.places,
        actor=user_of(request),
        idempotency_key=payload.idempotency_key,
        **target,
    )
    found = selectors.slots_with_places(VolunteerSlot.objects.filter(pk=slot.pk)).get()
    return (200 if replay else 201), _slot_out(found)


@router.post(
    "/activities/volunteer-slots/{slot_id}/volunteers",
    response={200: VolunteeringOut, 201: VolunteeringOut},
    summary="Sign up for a slot (for one's household); already signed up: the same sign-up (200)",
)
def sign_up(request: HttpRequest, slot_id: int, payload: SignUpIn) -> tuple[int, VolunteeringOut]:
    territory = territory_of(request)
    slot = access.slot_for(request.user, territory, slot_id)
    user = user_of(request)
    if user is None:  # never: a role here means logged in
        raise NotFound(_("This volunteer slot does not exist."))
    signed = services.sign_up(
        slot=slot,
        volunteer=user,
        household=access.volunteer_household(request.user, territory),
        idempotency_key=payload.idempotency_key,
    )
    return (201 if signed.created else 200), _volunteering_out(signed.volunteering)


@router.get("/activities/volunteerings", response=list[VolunteeringOut], summary="One's own sign-ups")
def volunteering_list(request: HttpRequest) -> list[VolunteeringOut]:
    territory = territory_of(request)
    permissions.require(request.user, territory, Action.VIEW_TERRITORY)
    rows = access.own_volunteerings(request.user, territory).order_by("-id")[:LIST_LIMIT]
    return [_volunteering_out(row) for row in rows]


@router.post(
    "/activities/volunteerings/{volunteering_id}/cancel",
    response=VolunteeringOut,
    summary="Cancel one's sign-up until the slot starts (then 409)",
)
def volunteering_cancel(request: HttpRequest, volunteering_id: int) -> VolunteeringOut:
    territory = territory_of(request)
    row = access.volunteering_for(request.user, territory, volunteering_id)
    return _volunteering_out(services.volunteering_cancel(volunteering=row, actor=user_of(request)))


@router.post(
    "/activities/volunteerings/{volunteering_id}/hours",
    response=VolunteeringOut,
    summary="Record the minutes a volunteer gave (those who run the slot, from its start)",
)
def hours(request: HttpRequest, volunteering_id: int, payload: HoursIn) -> VolunteeringOut:
    territory = territory_of(request)
    row = access.volunteering_for(request.user, territory, volunteering_id, manage=True)
    recorded = services.hours_record(volunteering=row, minutes=payload.minutes, actor=user_of(request))
    return _volunteering_out(recorded)
