"""Registrations of a household or a school class, on a session or its waiting list, and their cancelling."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from grenier.activities.models import Audience, Registration, RegistrationStatus, Session
from grenier.activities.services import charges
from grenier.activities.services.places import MAX_PERSONS, places_taken, refuse_closed, serve_waiting_list
from grenier.baskets.models import GardenMembership
from grenier.core.errors import Conflict, InvalidInput
from grenier.core.idempotency import fingerprint, replayed
from grenier.core.models import Household, User
from grenier.core.services import audit
from grenier.orders.models import GroupMembership


def _deadline_passed(session: Session, what: str) -> Conflict:
    when = date_format(timezone.localtime(session.registration_deadline), "j F Y, H:i")
    if what == "cancel":
        detail = _(
            "Cancelling closed on %(when)s. If you cannot come, tell the organiser: the place will be marked "
            "absent."
        )
    else:
        detail = _("Registrations closed on %(when)s.")
    return Conflict(detail % {"when": when}, extra={"deadline": session.registration_deadline.isoformat()})


def _check_head_count(household: Household | None, class_name: str, adults: int, children: int) -> None:
    errors: dict[str, list[str]] = {}
    if adults < 0 or children < 0 or adults + children < 1:
        errors["adults"] = [_("Register at least one person.")]
    if adults + children > MAX_PERSONS:
        errors["adults"] = [
            ngettext(
                "At most %(count)s person in one registration.",
                "At most %(count)s persons in one registration.",
                MAX_PERSONS,
            )
            % {"count": MAX_PERSONS}
        ]
    if (household is None) == (not class_name.strip()):
        errors["household"] = [_("Register a household, or a class by its name.")]
    if errors:
        raise InvalidInput(_("The registration could not be recorded."), errors=errors)


def _check_audience(session: Session, household: Household) -> None:
    """A household of the territory, on a session open to it (a garden's or a group's members only)."""
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


def _check_registration(
    session: Session, household: Household | None, class_name: str, adults: int, children: int, now: datetime
) -> None:
    refuse_closed(session)
    if now > session.registration_deadline:
        raise _deadline_passed(session, "register")
    _check_head_count(household, class_name, adults, children)
    if household is None:
        if session.audience != Audience.SCHOOL:
            raise Conflict(_("This session is not for school classes."))
        return
    _check_audience(session, household)


@dataclass(frozen=True)
class Registered:
    registration: Registration
    created: bool  # False: the household (or this key) was already registered, nothing changed


def _already_registered(locked: Session, request: dict[str, Any], idempotency_key: str) -> Registered | None:
    """The registration this key (or this household, still registered or waiting) already made, if any."""
    again = Registration.objects.filter(session=locked, idempotency_key=idempotency_key).first()
    if again is not None:
        return Registered(replayed(again, key=idempotency_key, **request), created=False)
    if request["household"] is not None:
        live = (
            Registration.objects.filter(session=locked, household=request["household"])
            .exclude(status=RegistrationStatus.CANCELLED)
            .first()
        )
        if live is not None:
            return Registered(live, created=False)
    return None


def _status_for(locked: Session, persons: int) -> RegistrationStatus:
    """Confirmed if the persons fit and nobody waits (else they would jump the queue), waiting otherwise."""
    if persons > locked.capacity:
        raise Conflict(
            ngettext(
                "This session has %(count)s place in all.",
                "This session has %(count)s places in all.",
                locked.capacity,
            )
            % {"count": locked.capacity},
            errors={"adults": [_("Too many persons for this session.")]},
        )
    someone_waits = locked.registrations.filter(status=RegistrationStatus.WAITING).exists()
    fits = places_taken(locked) + persons <= locked.capacity
    return RegistrationStatus.CONFIRMED if fits and not someone_waits else RegistrationStatus.WAITING


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
    its registration back unchanged; the same key with another request is refused (``KeyReused``). On a session
    paid in food credit a confirmed household's part is taken from its wallet in the same transaction (a wallet
    short of it: ``NotEnoughCredit``, nothing recorded); a waiting one pays when it gets a place."""
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
            refuse_closed(locked)
            already = _already_registered(locked, request, idempotency_key)
            if already is not None:
                return already
            status = _status_for(locked, adults + children)
            registration = Registration.objects.create(
                session=locked,
                household=household,
                class_name=class_name.strip()[:120] if household is None else "",
                adults=adults,
                children=children,
                status=status,
                waiting_since=now if status == RegistrationStatus.WAITING else None,
                price_cents=locked.price_of(adults, children) if household is not None else 0,
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
                persons=adults + children,
            )
            if status == RegistrationStatus.CONFIRMED:
                charges.credit_charge(registration, locked, actor=actor, now=now)
    except IntegrityError:
        won = Registration.objects.filter(session=session, idempotency_key=idempotency_key).first()
        if won is not None:
            return Registered(replayed(won, key=idempotency_key, **request), created=False)
        raise
    return Registered(registration, created=True)


def registration_cancel(
    *, registration: Registration, actor: User | None, now: datetime | None = None
) -> Registration:
    """Cancel until the session's deadline (then a clear refusal); what the household paid is given back by a
    reversing entry; the places freed go to the waiting list, in order. Cancelling twice changes nothing."""
    now = now or timezone.now()
    with transaction.atomic():
        session = Session.objects.select_for_update().get(pk=registration.session_id)
        locked = Registration.objects.select_for_update().get(pk=registration.pk)
        if locked.status == RegistrationStatus.CANCELLED:
            return locked
        refuse_closed(session)
        if now > session.registration_deadline:
            raise _deadline_passed(session, "cancel")
        was_confirmed = locked.status == RegistrationStatus.CONFIRMED
        locked.status = RegistrationStatus.CANCELLED
        locked.cancelled_at = now
        locked.save(update_fields=["status", "cancelled_at"])
        charges.refund(locked, session, actor=actor)
        audit(
            territory=session.territory,
            actor=actor,
            action="activities.cancel",
            subject=f"registration:{locked.pk}",
            session=session.pk,
        )
        if was_confirmed:
            serve_waiting_list(session, now)
    return locked
