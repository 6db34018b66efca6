"""A session's places: counting those taken, refusing a session that is over, serving its waiting list. Shared by
the registrations and the sessions' capacity; the callers lock the session's row first."""

from __future__ import annotations

from datetime import datetime
from functools import partial

from django.db import transaction
from django.db.models import Sum
from django.utils.translation import gettext as _

from grenier.activities import notifications
from grenier.activities.models import Registration, RegistrationStatus, Session
from grenier.activities.services import charges
from grenier.core.errors import Conflict
from grenier.core.services import audit

MAX_PERSONS = 50  # in one household's registration, or one class


def places_taken(session: Session) -> int:
    """Persons confirmed on ``session`` (not those waiting, nor those counted at the door)."""
    total = session.registrations.filter(status=RegistrationStatus.CONFIRMED).aggregate(
        adults=Sum("adults"), children=Sum("children")
    )
    return (total["adults"] or 0) + (total["children"] or 0)


def refuse_closed(session: Session) -> None:
    if session.cancelled_at is not None:
        raise Conflict(_("This session was cancelled."))
    if session.closed_at is not None:
        raise Conflict(_("This session is over: its attendance is recorded."))


def _tell_short_once(waiting: Registration, now: datetime) -> None:
    """A household skipped for want of credit is told so once (after the commit), not at each place freed."""
    if waiting.short_credit_told_at is not None:
        return
    waiting.short_credit_told_at = now
    waiting.save(update_fields=["short_credit_told_at"])
    transaction.on_commit(partial(notifications.place_unpaid, waiting.pk))


def serve_waiting_list(session: Session, now: datetime) -> list[Registration]:
    """Confirm the waiting registrations in order while their persons fit (the session's row is locked by the
    caller). Each one promoted is told by e-mail once the transaction commits. On a session paid in food credit a
    household is charged as it is confirmed; one whose wallet is short stays waiting and the next in line is served
    (it would otherwise keep everyone behind it out); it is told so by e-mail, once. While no approved store
    receives the session's credit, nobody is served."""
    free = session.capacity - places_taken(session)
    promoted: list[Registration] = []
    for waiting in session.registrations.filter(status=RegistrationStatus.WAITING).order_by(
        "waiting_since", "id"
    ):
        if waiting.places > free:
            break  # the first in line keeps its rank until its persons fit
        try:
            with transaction.atomic():
                waiting.status = RegistrationStatus.CONFIRMED
                waiting.promoted_at = now
                waiting.save(update_fields=["status", "promoted_at"])
                charges.credit_charge(waiting, session, actor=None, now=now)
        except charges.NoPayeeStore:
            # No approved store receives the credit (its store suspended since): nobody can pay a place now; the
            # waiting list keeps its order until a coordinator names a store, or the price changes.
            waiting.status, waiting.promoted_at = RegistrationStatus.WAITING, None
            break
        except charges.NotEnoughCredit:
            waiting.status, waiting.promoted_at = RegistrationStatus.WAITING, None
            _tell_short_once(waiting, now)
            audit(
                territory=session.territory,
                actor=None,
                action="activities.promote.unpaid",
                subject=f"registration:{waiting.pk}",
                session=session.pk,
            )
            continue
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
