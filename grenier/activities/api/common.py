"""What the activities API's operations share: the router, the sessions' and registrations' bodies."""

from __future__ import annotations

from ninja import Router

from grenier.activities.api.schemas import RegistrationOut, SessionOut
from grenier.activities.models import Registration, Session

router = Router(tags=["activities"])


def session_out(session: Session) -> SessionOut:
    """``session`` read through ``selectors.with_places``."""
    audience_row = session.audience_garden or session.audience_group
    return SessionOut(
        id=session.pk,
        activity=session.activity.title,
        activity_id=session.activity_id,
        kind=str(session.activity.kind),
        date=session.date,
        starts_at=session.starts_at,
        ends_at=session.ends_at,
        where=session.where,
        capacity=session.capacity,
        places_left=int(getattr(session, "left", 0)),
        waiting=int(getattr(session, "waiting", 0)),
        audience=session.audience,
        audience_name=str(audience_row) if audience_row is not None else "",
        accessibility=session.accessibility,
        paid_in=session.paid_in,
        price_adult_cents=session.price_adult_cents,
        price_child_cents=session.price_child_cents,
        payee_store_id=session.activity.payee_store_id,
        payee_store=str(session.activity.payee_store or ""),
        registration_deadline=session.registration_deadline,
        cancelled=session.cancelled_at is not None,
        closed=session.closed_at is not None,
    )


def registration_out(registration: Registration) -> RegistrationOut:
    return RegistrationOut(
        id=registration.pk,
        session_id=registration.session_id,
        household_id=registration.household_id,
        household=registration.who,
        adults=registration.adults,
        children=registration.children,
        status=registration.status,
        attended=registration.attended,
        price_cents=registration.price_cents,
        paid_in=registration.session.paid_in,
        paid_at=registration.charged_at,
        refunded=registration.refund_entry_id is not None,
        created_at=registration.created_at,
    )
