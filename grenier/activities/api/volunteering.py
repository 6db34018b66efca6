"""Volunteering: the slots coming (every person of the territory sees them), signing up and cancelling one's own,
the hours recorded by those who run the slot."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from grenier.activities import access, selectors, services
from grenier.activities.api.common import router
from grenier.activities.api.schemas import HoursIn, SignUpIn, SlotOut, VolunteeringOut
from grenier.activities.models import Volunteering, VolunteerSlot
from grenier.api import territory_of
from grenier.core import permissions
from grenier.core.auth import user_of
from grenier.core.errors import NotFound
from grenier.core.permissions import Action
from grenier.core.schemas import Day

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
