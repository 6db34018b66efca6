"""Volunteering: slots on a session, on a pickup point's distribution sheet, on a buying group's pickup or on a
platform delivery (a published supply week's lines to one kitchen on one day), people
signing up (and cancelling until the slot starts), the hours each one gave recorded by those who run the slot. One transaction each, its
audit line inside; a slot's row is locked while its places are counted, so two people taking its last place at
once are served one after the other.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from grenier.activities.models import (
    MAX_SLOT_MINUTES,
    Session,
    Volunteering,
    VolunteeringStatus,
    VolunteerSlot,
)
from grenier.baskets.models import DistributionSheet
from grenier.core.errors import Conflict, InvalidInput
from grenier.core.idempotency import fingerprint, replayed
from grenier.core.models import Household, Territory, User
from grenier.core.services import audit
from grenier.orders.models import OrderCycle
from grenier.supply.models import Kitchen, PlanLine, SupplyWeek, WeekStatus

MAX_SLOT_PLACES = 100


def _minutes_range() -> str:
    return ngettext(
        "Between 0 and %(count)s minute.", "Between 0 and %(count)s minutes.", MAX_SLOT_MINUTES
    ) % {"count": MAX_SLOT_MINUTES}


def _starts(slot: VolunteerSlot) -> datetime:
    return timezone.make_aware(datetime.combine(slot.date, slot.starts_at))


def _check_slot(
    territory: Territory,
    session: Session | None,
    sheet: DistributionSheet | None,
    cycle: OrderCycle | None,
    delivery: Delivery | None,
    task: str,
    starts_at: time,
    ends_at: time,
    places: int,
) -> None:
    errors: dict[str, list[str]] = {}
    if sum(target is not None for target in (session, sheet, cycle, delivery)) != 1:
        errors["session"] = [_("Choose a session or a distribution.")]
    if session is not None and session.territory_id != territory.pk:
        errors["session"] = [_("This session belongs to another territory.")]
    if sheet is not None and sheet.pickup_point.garden.territory_id != territory.pk:
        errors["sheet"] = [_("This distribution belongs to another territory.")]
    if cycle is not None and cycle.group.territory_id != territory.pk:
        errors["cycle"] = [_("This distribution belongs to another territory.")]
    if errors.get("session") is None and delivery is not None:
        _check_delivery(territory, delivery)
    if not task.strip():
        errors["task"] = [_("This field is required.")]
    if ends_at <= starts_at:
        errors["ends_at"] = [_("A slot ends after it starts.")]
    if not 1 <= places <= MAX_SLOT_PLACES:
        errors["places"] = [
            ngettext(
                "Between 1 and %(count)s volunteer.", "Between 1 and %(count)s volunteers.", MAX_SLOT_PLACES
            )
            % {"count": MAX_SLOT_PLACES}
        ]
    if errors:
        raise InvalidInput(_("The volunteer slot could not be recorded."), errors=errors)


def _slot_day(
    session: Session | None,
    sheet: DistributionSheet | None,
    cycle: OrderCycle | None,
    delivery: Delivery | None,
    starts_at: time,
    now: datetime,
) -> date:
    """The day of the slot's session, distribution or pickup, refused if it is over or the slot already started."""
    if session is not None and (session.cancelled_at is not None or session.closed_at is not None):
        raise Conflict(_("This session is over or cancelled."))
    if sheet is not None and sheet.closed_at is not None:
        raise Conflict(_("This distribution is closed."))
    if session is not None:
        day = session.date
    elif sheet is not None:
        day = sheet.on
    elif delivery is not None:
        day = delivery.day
    else:
        day = cycle.delivery_date  # type: ignore[union-attr]
    if timezone.make_aware(datetime.combine(day, starts_at)) < now:
        raise Conflict(_("This slot would already have started."))
    return day


def slot_create(
    *,
    territory: Territory,
    task: str,
    starts_at: time,
    ends_at: time,
    places: int,
    actor: User | None,
    idempotency_key: str,
    session: Session | None = None,
    sheet: DistributionSheet | None = None,
    cycle: OrderCycle | None = None,
    delivery: Delivery | None = None,
    now: datetime | None = None,
) -> VolunteerSlot:
    """A call for ``places`` volunteers on ``session``, ``sheet``, a buying group's pickup (``cycle``, on its
    delivery day) or a platform ``delivery`` (on its day), from ``starts_at`` to ``ends_at``. Sent again under the
    same key, answers the same slot."""
    now = now or timezone.now()
    request: dict[str, object] = {
        "session": session,
        "sheet": sheet,
        "task": task.strip(),
        "starts_at": starts_at,
        "ends_at": ends_at,
        "places": places,
    }
    if cycle is not None:
        request["cycle"] = cycle  # only when named, so the keys of slots made before still replay
    if delivery is not None:
        request["delivery"] = f"{delivery.week.pk}:{delivery.kitchen.pk}:{delivery.day.isoformat()}"
    found = VolunteerSlot.objects.filter(territory=territory, idempotency_key=idempotency_key).first()
    if found is not None:
        return replayed(found, key=idempotency_key, **request)
    _check_slot(territory, session, sheet, cycle, delivery, task, starts_at, ends_at, places)
    day = _slot_day(session, sheet, cycle, delivery, starts_at, now)
    try:
        with transaction.atomic():
            slot = VolunteerSlot.objects.create(
                territory=territory,
                session=session,
                sheet=sheet,
                cycle=cycle,
                delivery_week=delivery.week if delivery is not None else None,
                delivery_kitchen=delivery.kitchen if delivery is not None else None,
                task=task.strip()[:200],
                date=day,
                starts_at=starts_at,
                ends_at=ends_at,
                places=places,
                created_by=actor,
                idempotency_key=idempotency_key,
                request_fingerprint=fingerprint(**request),
            )
            audit(
                territory=territory, actor=actor, action="activities.slot.create", subject=f"slot:{slot.pk}"
            )
    except IntegrityError:
        won = VolunteerSlot.objects.filter(territory=territory, idempotency_key=idempotency_key).first()
        if won is None:
            raise
        return replayed(won, key=idempotency_key, **request)
    return slot


def places_left(slot: VolunteerSlot) -> int:
    return slot.places - slot.volunteerings.filter(status=VolunteeringStatus.SIGNED_UP).count()


@dataclass(frozen=True)
class Delivery:
    """A platform delivery: the lines of ``week``'s plan to ``kitchen`` on ``day``."""

    week: SupplyWeek
    kitchen: Kitchen
    day: date


def _check_delivery(territory: Territory, delivery: Delivery) -> None:
    """A delivery of the territory's published plan, with at least one line to the kitchen that day."""
    if delivery.week.territory_id != territory.pk or delivery.kitchen.territory_id != territory.pk:
        raise InvalidInput(
            _("This delivery belongs to another territory."),
            errors={"delivery": [_("This delivery belongs to another territory.")]},
        )
    if delivery.week.status != WeekStatus.PUBLISHED:
        raise Conflict(_("This week's plan is not published: its deliveries are not decided yet."))
    if not PlanLine.objects.filter(
        week=delivery.week, kitchen=delivery.kitchen, day=delivery.day, quantity__gt=0
    ).exists():
        message = _("The plan of this week delivers nothing to %(kitchen)s on %(day)s.") % {
            "kitchen": delivery.kitchen,
            "day": f"{delivery.day:%d/%m/%Y}",
        }
        raise InvalidInput(message, errors={"delivery": [message]})


@dataclass(frozen=True)
class SignedUp:
    volunteering: Volunteering
    created: bool  # False: already signed up (or the same key again), nothing changed


def sign_up(
    *,
    slot: VolunteerSlot,
    volunteer: User,
    household: Household | None,
    idempotency_key: str,
    now: datetime | None = None,
) -> SignedUp:
    """``volunteer`` takes a place on ``slot``, for ``household``, until the slot starts and while places are
    left. Signed up already: the same sign-up back."""
    now = now or timezone.now()
    request = {"slot": slot, "volunteer": volunteer.pk}
    found = Volunteering.objects.filter(slot=slot, idempotency_key=idempotency_key).first()
    if found is not None:
        return SignedUp(replayed(found, key=idempotency_key, **request), created=False)
    if household is not None and household.territory_id != slot.territory_id:
        raise InvalidInput(_("This household is not a member of the territory."))
    try:
        with transaction.atomic():
            locked = VolunteerSlot.objects.select_for_update().get(pk=slot.pk)
            live = Volunteering.objects.filter(
                slot=locked, volunteer=volunteer, status=VolunteeringStatus.SIGNED_UP
            ).first()
            if live is not None:
                return SignedUp(live, created=False)
            if _starts(locked) <= now:
                raise Conflict(_("This slot has started: signing up is closed."))
            if places_left(locked) <= 0:
                raise Conflict(_("This slot has all the volunteers it needs. Thank you!"))
            volunteering = Volunteering.objects.create(
                slot=locked,
                volunteer=volunteer,
                household=household,
                status=VolunteeringStatus.SIGNED_UP,
                idempotency_key=idempotency_key,
                request_fingerprint=fingerprint(**request),
            )
            audit(
                territory=locked.territory,
                actor=volunteer,
                action="activities.volunteer.sign_up",
                subject=f"volunteering:{volunteering.pk}",
                slot=locked.pk,
            )
    except IntegrityError:
        won = Volunteering.objects.filter(slot=slot, idempotency_key=idempotency_key).first()
        if won is not None:
            return SignedUp(replayed(won, key=idempotency_key, **request), created=False)
        live = Volunteering.objects.filter(
            slot=slot, volunteer=volunteer, status=VolunteeringStatus.SIGNED_UP
        ).first()
        if live is None:
            raise
        return SignedUp(live, created=False)
    return SignedUp(volunteering, created=True)


def volunteering_cancel(
    *, volunteering: Volunteering, actor: User | None, now: datetime | None = None
) -> Volunteering:
    """Cancel a sign-up until the slot starts; cancelling twice changes nothing."""
    now = now or timezone.now()
    with transaction.atomic():
        slot = VolunteerSlot.objects.select_for_update().get(pk=volunteering.slot_id)
        locked = Volunteering.objects.select_for_update().get(pk=volunteering.pk)
        if locked.status == VolunteeringStatus.CANCELLED:
            return locked
        if _starts(slot) <= now:
            raise Conflict(_("This slot has started: tell its organiser if you cannot come."))
        locked.status = VolunteeringStatus.CANCELLED
        locked.cancelled_at = now
        locked.save(update_fields=["status", "cancelled_at"])
        audit(
            territory=slot.territory,
            actor=actor,
            action="activities.volunteer.cancel",
            subject=f"volunteering:{locked.pk}",
        )
    return locked


def hours_record(
    *, volunteering: Volunteering, minutes: int, actor: User | None, now: datetime | None = None
) -> Volunteering:
    """The time a volunteer gave, in minutes (0: did not come), recorded from the slot's start by those who run
    it; a correction replaces it. The same minutes again change nothing."""
    now = now or timezone.now()
    if not 0 <= minutes <= MAX_SLOT_MINUTES:
        raise InvalidInput(
            _minutes_range(),
            errors={"minutes": [_minutes_range()]},
        )
    with transaction.atomic():
        locked = Volunteering.objects.select_for_update().select_related("slot").get(pk=volunteering.pk)
        if locked.status != VolunteeringStatus.SIGNED_UP:
            raise Conflict(_("This sign-up was cancelled."))
        if _starts(locked.slot) > now:
            raise Conflict(_("Hours are recorded once the slot has started."))
        if locked.minutes == minutes:
            return locked
        locked.minutes = minutes
        locked.recorded_by = actor
        locked.recorded_at = now
        locked.save(update_fields=["minutes", "recorded_by", "recorded_at"])
        audit(
            territory=locked.slot.territory,
            actor=actor,
            action="activities.volunteer.hours",
            subject=f"volunteering:{locked.pk}",
            minutes=minutes,
        )
    return locked
