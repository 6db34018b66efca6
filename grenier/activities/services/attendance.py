"""Attendance at a session: the organiser's ticks, the people who came without registering, and the close that
makes it a record."""

from __future__ import annotations

from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from grenier.activities.models import Registration, RegistrationStatus, Session, WalkIn
from grenier.activities.services.places import MAX_PERSONS
from grenier.core.errors import Conflict, InvalidInput
from grenier.core.idempotency import fingerprint, replayed
from grenier.core.models import Household, User
from grenier.core.services import audit


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


def _check_walk_in(session: Session, household: Household | None, adults: int, children: int) -> None:
    if adults < 0 or children < 0 or not 1 <= adults + children <= MAX_PERSONS:
        raise InvalidInput(
            ngettext(
                "Count between 1 and %(count)s person.", "Count between 1 and %(count)s persons.", MAX_PERSONS
            )
            % {"count": MAX_PERSONS},
            errors={"adults": [_("At least one person.")]},
        )
    if household is not None and household.territory_id != session.territory_id:
        raise InvalidInput(
            _("This household is not a member of the territory."),
            errors={"household": [_("Not a member here.")]},
        )


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
    _check_walk_in(session, household, adults, children)
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
