"""Sessions of an activity: their creation (when, where, how many places, who may come, until when one registers),
a change of their places, which serves the waiting list, and a change of their price until someone has paid it. A
session is priced in food credit only when an approved store receives its activity's credit (``charges``)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from functools import partial
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from grenier.activities import notifications
from grenier.activities.models import (
    MAX_PRICE_CENTS,
    Activity,
    Audience,
    PaidIn,
    Registration,
    RegistrationStatus,
    Session,
)
from grenier.activities.services import charges
from grenier.activities.services.places import places_taken, refuse_closed, serve_waiting_list
from grenier.activities.wording import price_text
from grenier.baskets.models import Garden, PickupPoint
from grenier.core.errors import Conflict, InvalidInput
from grenier.core.idempotency import fingerprint, replayed
from grenier.core.models import Territory, User
from grenier.core.money import format_cents
from grenier.core.services import audit
from grenier.orders.models import BuyingGroup
from grenier.supply.models import Kitchen, Producer

Place = Garden | PickupPoint | Producer | Kitchen


def default_deadline(day: date) -> datetime:
    """Registrations close the day before at noon (Paris time), unless the organiser says otherwise."""
    return timezone.make_aware(datetime.combine(day - timedelta(days=1), time(12, 0)))


def _audience_errors(
    audience: Audience | str, audience_garden: Garden | None, audience_group: BuyingGroup | None
) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if audience not in Audience.values:
        errors["audience"] = [_("Choose who may come.")]
    if (audience == Audience.GARDEN) != (audience_garden is not None):
        errors["audience_garden"] = [
            _("Name the garden whose members may come (and only for that audience).")
        ]
    if (audience == Audience.GROUP) != (audience_group is not None):
        errors["audience_group"] = [_("Name the group whose members may come (and only for that audience).")]
    return errors


def _price_errors(request: dict[str, Any]) -> dict[str, list[str]]:
    """A free session has no price; a priced one a price for an adult or a child (at most ``MAX_PRICE_CENTS``
    each), and is not for school classes (a class is not charged)."""
    paid_in = request.get("paid_in", PaidIn.FREE)
    adult, child = request.get("price_adult_cents", 0), request.get("price_child_cents", 0)
    errors: dict[str, list[str]] = {}
    if paid_in not in PaidIn.values:
        errors["paid_in"] = [_("Free, in euros or in food credit.")]
        return errors
    for field, cents in (("price_adult_cents", adult), ("price_child_cents", child)):
        if type(cents) is not int or not 0 <= cents <= MAX_PRICE_CENTS:
            errors[field] = [_("Between 0 and %(max)s.") % {"max": format_cents(MAX_PRICE_CENTS)}]
    if errors:
        return errors
    if paid_in == PaidIn.FREE and (adult or child):
        errors["paid_in"] = [_("A free session has no price: choose how it is paid.")]
    elif paid_in != PaidIn.FREE and not (adult or child):
        errors["price_adult_cents"] = [_("Give the price for an adult or a child, or make the session free.")]
    elif paid_in != PaidIn.FREE and request["audience"] == Audience.SCHOOL:
        errors["paid_in"] = [_("School classes are not charged: a session for them is free.")]
    return errors


def _check_session(territory: Territory, request: dict[str, Any]) -> None:
    """Refuse a session that ends before it starts, has no places, no place or a place of another territory, or
    closes its registrations after it starts."""
    day, starts_at, place = request["day"], request["starts_at"], request["place"]
    errors: dict[str, list[str]] = {}
    if request["ends_at"] <= starts_at:
        errors["ends_at"] = [_("A session ends after it starts.")]
    if not 1 <= request["capacity"] <= 10_000:
        errors["capacity"] = [_("Between 1 and 10,000 places.")]
    errors |= _audience_errors(request["audience"], request["audience_garden"], request["audience_group"])
    owners = [
        request["audience_garden"],
        request["audience_group"],
        place.garden if isinstance(place, PickupPoint) else place,
    ]
    if any(row is not None and row.territory_id != territory.pk for row in owners):
        errors["place"] = [_("This place belongs to another territory.")]
    if place is None and not request["address"]:
        errors["address"] = [_("Say where: an address or a place of Grenier.")]
    if request["deadline"] > timezone.make_aware(datetime.combine(day, starts_at)):
        errors["registration_deadline"] = [_("Registrations close before the session starts.")]
    _refuse(errors | _price_errors(request))


def _refuse(errors: dict[str, list[str]]) -> None:
    if errors:
        # One reason alone is the message (the page shows it on its field); several, a summary above them.
        only = next(iter(errors.values()))[0] if len(errors) == 1 else None
        raise InvalidInput(only or _("The session could not be recorded."), errors=errors)


def _place_fields(place: Place | None) -> dict[str, Place | None]:
    """The session's one place column set, the others empty."""
    return {
        "place_garden": place if isinstance(place, Garden) else None,
        "place_pickup_point": place if isinstance(place, PickupPoint) else None,
        "place_producer": place if isinstance(place, Producer) else None,
        "place_kitchen": place if isinstance(place, Kitchen) else None,
    }


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
    paid_in: PaidIn | str = PaidIn.FREE,
    price_adult_cents: int = 0,
    price_child_cents: int = 0,
) -> Session:
    """A session of ``activity``, free or at a member's part per adult and per child paid in euros or food credit
    (``charges``). Sent again under the same key, answers the same session."""
    deadline = registration_deadline or default_deadline(day)
    request: dict[str, Any] = {
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
    if str(paid_in) != PaidIn.FREE or price_adult_cents or price_child_cents:
        # Priced only: a free session's fingerprint stays the one recorded before sessions had prices.
        request |= {
            "paid_in": str(paid_in),
            "price_adult_cents": price_adult_cents,
            "price_child_cents": price_child_cents,
        }
    found = Session.objects.filter(activity=activity, idempotency_key=idempotency_key).first()
    if found is not None:
        return replayed(found, key=idempotency_key, **request)
    _check_session(activity.territory, request)
    if str(paid_in) == PaidIn.CREDIT:
        charges.payee_store(activity)
    try:
        with transaction.atomic():
            session = Session.objects.create(
                activity=activity,
                territory=activity.territory,
                date=day,
                starts_at=starts_at,
                ends_at=ends_at,
                address=address.strip()[:300],
                **_place_fields(place),
                capacity=capacity,
                audience=str(audience),
                audience_garden=audience_garden,
                audience_group=audience_group,
                accessibility=accessibility.strip()[:500],
                registration_deadline=deadline,
                paid_in=str(paid_in),
                price_adult_cents=price_adult_cents,
                price_child_cents=price_child_cents,
                created_by=actor,
                idempotency_key=idempotency_key,
                request_fingerprint=fingerprint(**request),
            )
            audit(
                territory=activity.territory,
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


def session_capacity_set(
    *, session: Session, capacity: int, actor: User | None, now: datetime | None = None
) -> Session:
    """Change a session's places; more places serve the waiting list. Fewer than already confirmed is refused."""
    with transaction.atomic():
        locked = Session.objects.select_for_update().get(pk=session.pk)
        refuse_closed(locked)
        taken = places_taken(locked)
        if not max(taken, 1) <= capacity <= 10_000:
            raise InvalidInput(
                ngettext(
                    "%(count)s person is already registered.",
                    "%(count)s persons are already registered.",
                    taken,
                )
                % {"count": taken},
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
        serve_waiting_list(locked, now or timezone.now())
    return locked


def _repriced(session: Session) -> list[Registration]:
    """The session's live household registrations with their part at the session's (new) price; refused when one
    already paid (what it paid would disagree with the price), or when food credit would be owed on a place
    already confirmed (credit is taken when a place is confirmed, never afterwards without the household)."""
    live = list(
        session.registrations.filter(household__isnull=False).exclude(status=RegistrationStatus.CANCELLED)
    )
    paid = sum(1 for row in live if row.charge_entry_id is not None)
    if paid:
        raise Conflict(
            ngettext(
                "%(count)s household has already paid this session: its price can no longer change, or what "
                "was paid would disagree with it.",
                "%(count)s households have already paid this session: its price can no longer change, or what "
                "was paid would disagree with it.",
                paid,
            )
            % {"count": paid},
            errors={"paid_in": [_("Already paid by a household.")]},
        )
    for row in live:
        row.price_cents = session.price_of(row.adults, row.children)
    owing = sum(1 for row in live if row.status == RegistrationStatus.CONFIRMED and row.price_cents > 0)
    if session.paid_in == PaidIn.CREDIT and owing:
        raise Conflict(
            ngettext(
                "%(count)s household already has its place without paying: food credit is taken when a place "
                "is confirmed, so this session cannot ask for it now. Ask for euros at the session instead.",
                "%(count)s households already have their places without paying: food credit is taken when a "
                "place is confirmed, so this session cannot ask for it now. Ask for euros at the session instead.",
                owing,
            )
            % {"count": owing},
            errors={"paid_in": [_("Households already hold places without paying.")]},
        )
    return live


def session_price_set(
    *,
    session: Session,
    paid_in: PaidIn | str,
    price_adult_cents: int,
    price_child_cents: int,
    actor: User | None,
    now: datetime | None = None,
) -> Session:
    """Change a session's price while nobody has paid it: the registrations not cancelled take their part at the new
    price (a waiting household pays it when it gets its place; euros are paid at the session), and the waiting list
    is served (a cheaper price may now fit a waiting household's credit). After a payment: ``Conflict``. Setting the
    price it has changes nothing, so a retry is harmless."""
    with transaction.atomic():
        locked = Session.objects.select_for_update().select_related("territory").get(pk=session.pk)
        refuse_closed(locked)
        asked = (str(paid_in), price_adult_cents, price_child_cents)
        before = (locked.paid_in, locked.price_adult_cents, locked.price_child_cents)
        if asked == before:
            return locked
        _refuse(
            _price_errors(
                {
                    "paid_in": asked[0],
                    "price_adult_cents": price_adult_cents,
                    "price_child_cents": price_child_cents,
                    "audience": locked.audience,
                }
            )
        )
        if asked[0] == PaidIn.CREDIT:
            charges.payee_store(locked.activity)
        before_text = price_text(locked)
        parts_before = dict(
            locked.registrations.filter(household__isnull=False)
            .exclude(status=RegistrationStatus.CANCELLED)
            .values_list("pk", "price_cents")
        )
        locked.paid_in, locked.price_adult_cents, locked.price_child_cents = asked
        live = _repriced(locked)
        locked.save(update_fields=["paid_in", "price_adult_cents", "price_child_cents"])
        Registration.objects.bulk_update(live, ["price_cents"])
        audit(
            territory=locked.territory,
            actor=actor,
            action="activities.session.price",
            subject=f"session:{locked.pk}",
            paid_in=asked[0],
            price_adult_cents=price_adult_cents,
            price_child_cents=price_child_cents,
            before=list(before),
        )
        for row in live:  # told once, when this change commits; a household whose part and means stay, not
            if row.price_cents != parts_before.get(row.pk) or asked[0] != before[0]:
                transaction.on_commit(
                    partial(notifications.price_changed, row.pk, before_text, parts_before.get(row.pk, 0))
                )
        serve_waiting_list(locked, now or timezone.now())
    return locked
