"""Every write of the activities: kinds, activities, sessions, registrations and their waiting list, attendance,
the close of a session and the day-before reminders. One transaction each, its audit line inside.

**Places.** A session never has more persons confirmed than its capacity. Registering, cancelling and serving the
waiting list lock the session's row first (``select_for_update``): two people taking the last place at once are
served one after the other, the second finds it taken and goes on the waiting list.

**The waiting list is served in order.** While anyone waits, a new registration waits too (it would otherwise
jump the queue); when places free up, the first in line is confirmed if its persons fit, then the next, and so
on. The first in line who does not fit yet keeps its rank: nobody behind it goes first, or a large family would
never get in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import partial

from django.db import IntegrityError, transaction
from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from grenier.activities import notifications
from grenier.activities.models import (
    STANDARD_KINDS,
    Activity,
    ActivityKind,
    Audience,
    Organiser,
    Registration,
    RegistrationStatus,
    Session,
    WalkIn,
)
from grenier.baskets.models import Garden, GardenMembership, PickupPoint
from grenier.core.errors import Conflict, InvalidInput
from grenier.core.idempotency import fingerprint, replayed
from grenier.core.models import Household, Territory, User
from grenier.core.services import audit
from grenier.orders.models import BuyingGroup, GroupMembership
from grenier.supply.models import Kitchen, Producer

MAX_PERSONS = 50  # in one household's registration, or one class


# --- kinds and activities -----------------------------------------------------------------------------------------


def kinds_ensure(*, territory: Territory) -> list[ActivityKind]:
    """The territory's kinds, the standard ones created on first use (idempotent)."""
    existing = set(ActivityKind.objects.filter(territory=territory).values_list("code", flat=True))
    missing = [code for code in STANDARD_KINDS if code not in existing]
    if missing:
        ActivityKind.objects.bulk_create(
            [ActivityKind(territory=territory, code=code) for code in missing], ignore_conflicts=True
        )
    return list(ActivityKind.objects.filter(territory=territory).order_by("id"))


def kind_create(*, territory: Territory, name: str, actor: User | None) -> ActivityKind:
    """A coordinator's new kind (the Semaine du goût, a repair café…). The same name again is the same kind."""
    from django.utils.text import slugify

    name = name.strip()
    code = slugify(name)[:40]
    if not name or not code:
        raise InvalidInput(_("Name the kind of activity."), errors={"name": [_("This field is required.")]})
    kinds_ensure(territory=territory)
    with transaction.atomic():
        kind, created = ActivityKind.objects.get_or_create(
            territory=territory, code=code, defaults={"name": name[:100]}
        )
        if created:
            audit(
                territory=territory, actor=actor, action="activities.kind.create", subject=f"kind:{kind.pk}"
            )
    return kind


@dataclass(frozen=True)
class OrganiserInput:
    """One organiser: a garden, a group, a farm, a kitchen of the territory, or an association's name."""

    garden: Garden | None = None
    group: BuyingGroup | None = None
    producer: Producer | None = None
    kitchen: Kitchen | None = None
    association: str = ""

    def as_request(self) -> list[object]:
        return [self.garden, self.group, self.producer, self.kitchen, self.association.strip()]

    def territory_ids(self) -> set[int]:
        rows = [self.garden, self.group, self.producer, self.kitchen]
        return {row.territory_id for row in rows if row is not None}


def activity_create(
    *,
    territory: Territory,
    kind: ActivityKind,
    title: str,
    organisers: list[OrganiserInput],
    actor: User | None,
    idempotency_key: str,
    description: str = "",
    managers: list[User] | None = None,
) -> Activity:
    """An activity and its organisers (at least one). Sent again under the same key, answers the same activity."""
    managers = managers or []
    request = {
        "kind": kind,
        "title": title.strip(),
        "description": description.strip(),
        "organisers": [organiser.as_request() for organiser in organisers],
        "managers": sorted(manager.pk for manager in managers),
    }
    found = Activity.objects.filter(territory=territory, idempotency_key=idempotency_key).first()
    if found is not None:
        return replayed(found, key=idempotency_key, **request)
    errors: dict[str, list[str]] = {}
    if not title.strip():
        errors["title"] = [_("This field is required.")]
    if kind.territory_id != territory.pk:
        errors["kind"] = [_("This kind belongs to another territory.")]
    if not organisers:
        errors["organisers"] = [_("Name at least one organiser.")]
    for organiser in organisers:
        named = [value for value in organiser.as_request() if value]
        if len(named) != 1 or organiser.territory_ids() - {territory.pk}:
            errors["organisers"] = [
                _("Each organiser is one garden, group, farm, kitchen or association here.")
            ]
    if errors:
        raise InvalidInput(_("The activity could not be recorded."), errors=errors)
    try:
        with transaction.atomic():
            activity = Activity.objects.create(
                territory=territory,
                kind=kind,
                title=title.strip()[:200],
                description=description.strip()[:4000],
                created_by=actor,
                idempotency_key=idempotency_key,
                request_fingerprint=fingerprint(**request),
            )
            Organiser.objects.bulk_create(
                [
                    Organiser(
                        activity=activity,
                        garden=organiser.garden,
                        group=organiser.group,
                        producer=organiser.producer,
                        kitchen=organiser.kitchen,
                        association=organiser.association.strip()[:200],
                    )
                    for organiser in organisers
                ]
            )
            activity.managers.set(managers)
            audit(
                territory=territory,
                actor=actor,
                action="activities.create",
                subject=f"activity:{activity.pk}",
            )
    except IntegrityError:
        won = Activity.objects.filter(territory=territory, idempotency_key=idempotency_key).first()
        if won is None:
            raise
        return replayed(won, key=idempotency_key, **request)
    return activity


# --- sessions -----------------------------------------------------------------------------------------------------

Place = Garden | PickupPoint | Producer | Kitchen


def default_deadline(day: date) -> datetime:
    """Registrations close the day before at noon (Paris time), unless the organiser says otherwise."""
    return timezone.make_aware(datetime.combine(day - timedelta(days=1), time(12, 0)))


def session_create(
    *,
    activity: Activity,
    day: date,
    starts_at: time,
    ends_at: time,
    capacity: int,
    audience: Audience | str,
    actor: User | None,
    idempotency_key: str,
    address: str = "",
    place: Place | None = None,
    audience_garden: Garden | None = None,
    audience_group: BuyingGroup | None = None,
    accessibility: str = "",
    registration_deadline: datetime | None = None,
) -> Session:
    """A session of ``activity``. Sent again under the same key, answers the same session."""
    deadline = registration_deadline or default_deadline(day)
    request = {
        "day": day,
        "starts_at": starts_at,
        "ends_at": ends_at,
        "capacity": capacity,
        "audience": str(audience),
        "address": address.strip(),
        "place": place,
        "audience_garden": audience_garden,
        "audience_group": audience_group,
        "accessibility": accessibility.strip(),
        "deadline": deadline,
    }
    found = Session.objects.filter(activity=activity, idempotency_key=idempotency_key).first()
    if found is not None:
        return replayed(found, key=idempotency_key, **request)
    territory = activity.territory
    errors: dict[str, list[str]] = {}
    if ends_at <= starts_at:
        errors["ends_at"] = [_("A session ends after it starts.")]
    if not 1 <= capacity <= 10_000:
        errors["capacity"] = [_("Between 1 and 10,000 places.")]
    if audience not in Audience.values:
        errors["audience"] = [_("Choose who may come.")]
    if (audience == Audience.GARDEN) != (audience_garden is not None):
        errors["audience_garden"] = [
            _("Name the garden whose members may come (and only for that audience).")
        ]
    if (audience == Audience.GROUP) != (audience_group is not None):
        errors["audience_group"] = [_("Name the group whose members may come (and only for that audience).")]
    owners = [audience_garden, audience_group, place.garden if isinstance(place, PickupPoint) else place]
    if any(row is not None and row.territory_id != territory.pk for row in owners):
        errors["place"] = [_("This place belongs to another territory.")]
    if place is None and not address.strip():
        errors["address"] = [_("Say where: an address or a place of Grenier.")]
    if deadline > timezone.make_aware(datetime.combine(day, starts_at)):
        errors["registration_deadline"] = [_("Registrations close before the session starts.")]
    if errors:
        raise InvalidInput(_("The session could not be recorded."), errors=errors)
    try:
        with transaction.atomic():
            session = Session.objects.create(
                activity=activity,
                territory=territory,
                date=day,
                starts_at=starts_at,
                ends_at=ends_at,
                address=address.strip()[:300],
                place_garden=place if isinstance(place, Garden) else None,
                place_pickup_point=place if isinstance(place, PickupPoint) else None,
                place_producer=place if isinstance(place, Producer) else None,
                place_kitchen=place if isinstance(place, Kitchen) else None,
                capacity=capacity,
                audience=str(audience),
                audience_garden=audience_garden,
                audience_group=audience_group,
                accessibility=accessibility.strip()[:500],
                registration_deadline=deadline,
                created_by=actor,
                idempotency_key=idempotency_key,
                request_fingerprint=fingerprint(**request),
            )
            audit(
                territory=territory,
                actor=actor,
                action="activities.session.create",
                subject=f"session:{session.pk}",
            )
    except IntegrityError:
        won = Session.objects.filter(activity=activity, idempotency_key=idempotency_key).first()
        if won is None:
            raise
        return replayed(won, key=idempotency_key, **request)
    return session


# --- registrations ------------------------------------------------------------------------------------------------


def places_taken(session: Session) -> int:
    """Persons confirmed on ``session`` (not those waiting, nor those counted at the door)."""
    total = session.registrations.filter(status=RegistrationStatus.CONFIRMED).aggregate(
        adults=Sum("adults"), children=Sum("children")
    )
    return (total["adults"] or 0) + (total["children"] or 0)


def _deadline_passed(session: Session, now: datetime, what: str) -> Conflict:
    when = date_format(timezone.localtime(session.registration_deadline), "j F Y, H:i")
    if what == "cancel":
        detail = _(
            "Cancelling closed on %(when)s. If you cannot come, tell the organiser: the place will be marked "
            "absent."
        )
    else:
        detail = _("Registrations closed on %(when)s.")
    return Conflict(detail % {"when": when}, extra={"deadline": session.registration_deadline.isoformat()})


def _refuse_closed(session: Session) -> None:
    if session.cancelled_at is not None:
        raise Conflict(_("This session was cancelled."))
    if session.closed_at is not None:
        raise Conflict(_("This session is over: its attendance is recorded."))


def _check_registration(
    session: Session, household: Household | None, class_name: str, adults: int, children: int, now: datetime
) -> None:
    _refuse_closed(session)
    if now > session.registration_deadline:
        raise _deadline_passed(session, now, "register")
    errors: dict[str, list[str]] = {}
    if adults < 0 or children < 0 or adults + children < 1:
        errors["adults"] = [_("Register at least one person.")]
    if adults + children > MAX_PERSONS:
        errors["adults"] = [_("At most %(count)s persons in one registration.") % {"count": MAX_PERSONS}]
    if (household is None) == (not class_name.strip()):
        errors["household"] = [_("Register a household, or a class by its name.")]
    if errors:
        raise InvalidInput(_("The registration could not be recorded."), errors=errors)
    if household is None:
        if session.audience != Audience.SCHOOL:
            raise Conflict(_("This session is not for school classes."))
        return
    if household.territory_id != session.territory_id or household.left_on is not None:
        raise InvalidInput(
            _("This household is not a member of the territory."),
            errors={"household": [_("Not a member here.")]},
        )
    if session.audience == Audience.SCHOOL:
        raise Conflict(_("This session is for school classes only."))
    if (
        session.audience == Audience.GARDEN
        and not GardenMembership.objects.filter(
            garden=session.audience_garden, household=household, left_on__isnull=True
        ).exists()
    ):
        raise Conflict(
            _("This session is for the members of %(garden)s.") % {"garden": session.audience_garden}
        )
    if (
        session.audience == Audience.GROUP
        and not GroupMembership.objects.filter(
            group=session.audience_group, household=household, left_on__isnull=True
        ).exists()
    ):
        raise Conflict(_("This session is for the members of %(group)s.") % {"group": session.audience_group})


@dataclass(frozen=True)
class Registered:
    registration: Registration
    created: bool  # False: the household (or this key) was already registered, nothing changed


def register(
    *,
    session: Session,
    actor: User | None,
    idempotency_key: str,
    adults: int,
    children: int = 0,
    household: Household | None = None,
    class_name: str = "",
    now: datetime | None = None,
) -> Registered:
    """Register a household (its adults and children) or a school class (a name and a head count). Confirmed if
    its persons fit and nobody waits, else on the waiting list. A household already registered (or waiting) gets
    its registration back unchanged; the same key with another request is refused (``KeyReused``)."""
    now = now or timezone.now()
    request = {
        "session": session,
        "household": household,
        "class_name": class_name.strip(),
        "adults": adults,
        "children": children,
    }
    found = Registration.objects.filter(session=session, idempotency_key=idempotency_key).first()
    if found is not None:
        return Registered(replayed(found, key=idempotency_key, **request), created=False)
    _check_registration(session, household, class_name, adults, children, now)
    try:
        with transaction.atomic():
            # The race: two people taking the last place at once. The session's row is locked, so the second
            # counts the places after the first has taken them.
            locked = Session.objects.select_for_update().get(pk=session.pk)
            _refuse_closed(locked)
            again = Registration.objects.filter(session=locked, idempotency_key=idempotency_key).first()
            if again is not None:
                return Registered(replayed(again, key=idempotency_key, **request), created=False)
            if household is not None:
                live = (
                    Registration.objects.filter(session=locked, household=household)
                    .exclude(status=RegistrationStatus.CANCELLED)
                    .first()
                )
                if live is not None:
                    return Registered(live, created=False)
            persons = adults + children
            if persons > locked.capacity:
                raise Conflict(
                    _("This session has %(count)s places in all.") % {"count": locked.capacity},
                    errors={"adults": [_("Too many persons for this session.")]},
                )
            someone_waits = locked.registrations.filter(status=RegistrationStatus.WAITING).exists()
            fits = places_taken(locked) + persons <= locked.capacity
            status = (
                RegistrationStatus.CONFIRMED if fits and not someone_waits else RegistrationStatus.WAITING
            )
            registration = Registration.objects.create(
                session=locked,
                household=household,
                class_name=class_name.strip()[:120] if household is None else "",
                adults=adults,
                children=children,
                status=status,
                waiting_since=now if status == RegistrationStatus.WAITING else None,
                registered_by=actor,
                idempotency_key=idempotency_key,
                request_fingerprint=fingerprint(**request),
            )
            audit(
                territory=locked.territory,
                actor=actor,
                action="activities.register",
                subject=f"registration:{registration.pk}",
                session=locked.pk,
                status=status,
                persons=persons,
            )
    except IntegrityError:
        won = Registration.objects.filter(session=session, idempotency_key=idempotency_key).first()
        if won is not None:
            return Registered(replayed(won, key=idempotency_key, **request), created=False)
        raise
    return Registered(registration, created=True)


def _serve_waiting_list(session: Session, now: datetime) -> list[Registration]:
    """Confirm the waiting registrations in order while their persons fit (the session's row is locked by the
    caller). Each one promoted is told by e-mail once the transaction commits."""
    free = session.capacity - places_taken(session)
    promoted: list[Registration] = []
    for waiting in session.registrations.filter(status=RegistrationStatus.WAITING).order_by(
        "waiting_since", "id"
    ):
        if waiting.places > free:
            break  # the first in line keeps its rank until its persons fit
        waiting.status = RegistrationStatus.CONFIRMED
        waiting.promoted_at = now
        waiting.save(update_fields=["status", "promoted_at"])
        free -= waiting.places
        promoted.append(waiting)
        audit(
            territory=session.territory,
            actor=None,
            action="activities.promote",
            subject=f"registration:{waiting.pk}",
            session=session.pk,
        )
    for registration in promoted:
        transaction.on_commit(partial(notifications.place_freed, registration.pk))
    return promoted


def registration_cancel(
    *, registration: Registration, actor: User | None, now: datetime | None = None
) -> Registration:
    """Cancel until the session's deadline (then a clear refusal); the places freed go to the waiting list, in
    order. Cancelling twice changes nothing."""
    now = now or timezone.now()
    with transaction.atomic():
        session = Session.objects.select_for_update().get(pk=registration.session_id)
        locked = Registration.objects.select_for_update().get(pk=registration.pk)
        if locked.status == RegistrationStatus.CANCELLED:
            return locked
        _refuse_closed(session)
        if now > session.registration_deadline:
            raise _deadline_passed(session, now, "cancel")
        was_confirmed = locked.status == RegistrationStatus.CONFIRMED
        locked.status = RegistrationStatus.CANCELLED
        locked.cancelled_at = now
        locked.save(update_fields=["status", "cancelled_at"])
        audit(
            territory=session.territory,
            actor=actor,
            action="activities.cancel",
            subject=f"registration:{locked.pk}",
            session=session.pk,
        )
        if was_confirmed:
            _serve_waiting_list(session, now)
    return locked


def session_capacity_set(
    *, session: Session, capacity: int, actor: User | None, now: datetime | None = None
) -> Session:
    """Change a session's places; more places serve the waiting list. Fewer than already confirmed is refused."""
    with transaction.atomic():
        locked = Session.objects.select_for_update().get(pk=session.pk)
        _refuse_closed(locked)
        taken = places_taken(locked)
        if not max(taken, 1) <= capacity <= 10_000:
            raise InvalidInput(
                _("%(count)s persons are already registered.") % {"count": taken},
                errors={"capacity": [_("At least the persons already registered.")]},
            )
        locked.capacity = capacity
        locked.save(update_fields=["capacity"])
        audit(
            territory=locked.territory,
            actor=actor,
            action="activities.session.capacity",
            subject=f"session:{locked.pk}",
            capacity=capacity,
        )
        _serve_waiting_list(locked, now or timezone.now())
    return locked


# --- attendance ---------------------------------------------------------------------------------------------------


def attendance_mark(*, registration: Registration, attended: bool, actor: User | None) -> Registration:
    """The organiser's tick at the session: present or absent. Until the session is closed; the same tick again
    changes nothing."""
    with transaction.atomic():
        session = Session.objects.select_for_update().get(pk=registration.session_id)
        locked = Registration.objects.select_for_update().get(pk=registration.pk)
        if session.closed_at is not None:
            raise Conflict(_("This session is closed: its attendance is a record."))
        if locked.status != RegistrationStatus.CONFIRMED:
            raise Conflict(_("Only a confirmed registration is present or absent."))
        if locked.attended is attended:
            return locked
        locked.attended = attended
        locked.save(update_fields=["attended"])
        audit(
            territory=session.territory,
            actor=actor,
            action="activities.attendance",
            subject=f"registration:{locked.pk}",
            attended=attended,
        )
    return locked


def walk_in_record(
    *,
    session: Session,
    actor: User | None,
    idempotency_key: str,
    adults: int = 0,
    children: int = 0,
    household: Household | None = None,
) -> Registration | WalkIn:
    """People who came without a confirmed registration: a household by its card, or a count of persons. A
    household registered after all is ticked present instead. Sent again under the same key, counts once."""
    request = {"session": session, "household": household, "adults": adults, "children": children}
    found = WalkIn.objects.filter(session=session, idempotency_key=idempotency_key).first()
    if found is not None:
        return replayed(found, key=idempotency_key, **request)
    if adults < 0 or children < 0 or not 1 <= adults + children <= MAX_PERSONS:
        raise InvalidInput(
            _("Count between 1 and %(count)s persons.") % {"count": MAX_PERSONS},
            errors={"adults": [_("At least one person.")]},
        )
    if household is not None and household.territory_id != session.territory_id:
        raise InvalidInput(
            _("This household is not a member of the territory."),
            errors={"household": [_("Not a member here.")]},
        )
    if household is not None:
        confirmed = session.registrations.filter(
            household=household, status=RegistrationStatus.CONFIRMED
        ).first()
        if confirmed is not None:
            return attendance_mark(registration=confirmed, attended=True, actor=actor)
    try:
        with transaction.atomic():
            locked = Session.objects.select_for_update().get(pk=session.pk)
            if locked.closed_at is not None:
                raise Conflict(_("This session is closed: its attendance is a record."))
            if locked.cancelled_at is not None:
                raise Conflict(_("This session was cancelled."))
            walk_in = WalkIn.objects.create(
                session=locked,
                household=household,
                adults=adults,
                children=children,
                recorded_by=actor,
                idempotency_key=idempotency_key,
                request_fingerprint=fingerprint(**request),
            )
            audit(
                territory=locked.territory,
                actor=actor,
                action="activities.walk_in",
                subject=f"session:{locked.pk}",
                household=household.pk if household else None,
                adults=adults,
                children=children,
            )
    except IntegrityError:
        won = WalkIn.objects.filter(session=session, idempotency_key=idempotency_key).first()
        if won is None:
            raise
        return replayed(won, key=idempotency_key, **request)
    return walk_in


def session_close(*, session: Session, actor: User | None, now: datetime | None = None) -> Session:
    """Close the session: attendance becomes a record (registrations not ticked count as absent). Closing twice
    changes nothing."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = Session.objects.select_for_update().get(pk=session.pk)
        if locked.closed_at is not None:
            return locked
        if locked.cancelled_at is not None:
            raise Conflict(_("This session was cancelled."))
        if timezone.localdate(now) < locked.date:
            raise Conflict(_("A session is closed on its day or after."))
        locked.registrations.filter(status=RegistrationStatus.CONFIRMED, attended__isnull=True).update(
            attended=False
        )
        locked.closed_at = now
        locked.closed_by = actor
        locked.save(update_fields=["closed_at", "closed_by"])
        audit(
            territory=locked.territory,
            actor=actor,
            action="activities.session.close",
            subject=f"session:{locked.pk}",
        )
    return locked


# --- reminders ----------------------------------------------------------------------------------------------------


def reminders_send(*, today: date | None = None, territory: Territory | None = None) -> int:
    """E-mail each household (or class) confirmed on a session of tomorrow, once: the registration is marked in
    the same transaction, and the e-mail leaves when it commits. A second run the same day sends nothing."""
    today = today or timezone.localdate()
    rows = Registration.objects.filter(
        session__date=today + timedelta(days=1),
        session__cancelled_at__isnull=True,
        status=RegistrationStatus.CONFIRMED,
        reminded_on__isnull=True,
    )
    if territory is not None:
        rows = rows.filter(session__territory=territory)
    sent = 0
    for pk in rows.values_list("pk", flat=True).order_by("pk"):
        with transaction.atomic():
            registration = (
                Registration.objects.select_for_update().filter(Q(pk=pk), reminded_on__isnull=True).first()
            )
            if registration is None:
                continue  # another run took it
            registration.reminded_on = today
            registration.save(update_fields=["reminded_on"])
            transaction.on_commit(partial(notifications.reminder, pk))
            sent += 1
    return sent


# --- volunteering (a module of its own) ---------------------------------------------------------------------------

from grenier.activities.services.volunteering import (  # noqa: E402
    MAX_SLOT_PLACES,
    SignedUp,
    hours_record,
    sign_up,
    slot_create,
    volunteering_cancel,
)
from grenier.activities.services.volunteering import places_left as slot_places_left  # noqa: E402

__all__ = [
    "MAX_SLOT_PLACES",
    "SignedUp",
    "hours_record",
    "sign_up",
    "slot_create",
    "slot_places_left",
    "volunteering_cancel",
]
