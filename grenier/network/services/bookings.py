"""Resources an actor has and may share, and their bookings: asked for by another actor, accepted or refused by the
owner, never overlapping."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from grenier.core.errors import Conflict, InvalidInput
from grenier.core.idempotency import fingerprint, replayed
from grenier.core.models import User
from grenier.core.services import audit
from grenier.network.models import (
    HOLDING,
    Actor,
    Booking,
    BookingStatus,
    Resource,
    ResourceKind,
)

# --- resources and bookings ------------------------------------------------------------------------------------------


def resource_create(
    *,
    owner: Actor,
    kind: str,
    name: str,
    by: User | None,
    idempotency_key: str,
    description: str = "",
    shareable: bool = True,
    terms: str = "",
) -> Resource:
    """Record what ``owner`` has and may share. Sent again under the same key, answers the same resource."""
    request = {
        "owner": owner,
        "kind": kind,
        "name": name.strip(),
        "description": description.strip(),
        "shareable": shareable,
        "terms": terms.strip(),
    }
    existing = Resource.objects.filter(actor=owner, idempotency_key=idempotency_key).first()
    if existing is not None:
        return replayed(existing, key=idempotency_key, **request)
    errors: dict[str, list[str]] = {}
    if kind not in ResourceKind.values:
        errors["kind"] = [_("Choose a kind of resource.")]
    if not name.strip():
        errors["name"] = [_("A resource needs a name.")]
    elif Resource.objects.filter(actor=owner, name__iexact=name.strip()).exists():
        errors["name"] = [_("This actor already has a resource of this name.")]
    if errors:
        raise InvalidInput(_("The resource could not be recorded."), errors=errors)
    try:
        with transaction.atomic():
            resource = Resource.objects.create(
                actor=owner,
                kind=kind,
                name=name.strip()[:200],
                description=description.strip()[:2000],
                shareable=shareable,
                terms=terms.strip()[:300],
                idempotency_key=idempotency_key,
                request_fingerprint=fingerprint(**request),
            )
            audit(
                territory=owner.territory,
                actor=by,
                action="network.resource.create",
                subject=f"network-resource:{resource.pk}",
            )
    except IntegrityError:
        won = Resource.objects.filter(actor=owner, idempotency_key=idempotency_key).first()
        if won is None:
            raise
        return replayed(won, key=idempotency_key, **request)
    return resource


def _overlapping(
    resource: Resource, starts_on: date, ends_on: date, statuses: Iterable[str]
) -> Booking | None:
    return (
        Booking.objects.filter(
            resource=resource, status__in=list(statuses), starts_on__lte=ends_on, ends_on__gte=starts_on
        )
        .select_related("requester")
        .first()
    )


def _refuse_overlap(clash: Booking | None) -> None:
    if clash is not None:
        raise Conflict(
            _("The resource is already asked for or booked from %(start)s to %(end)s by %(who)s.")
            % {
                "start": clash.starts_on.strftime("%d/%m/%Y"),
                "end": clash.ends_on.strftime("%d/%m/%Y"),
                "who": clash.requester.name,
            },
            errors={"starts_on": [_("These dates overlap another booking.")]},
            extra={"booking": clash.pk},
        )


def booking_request(
    *,
    resource: Resource,
    requester: Actor,
    starts_on: date,
    ends_on: date,
    by: User | None,
    idempotency_key: str,
    note: str = "",
) -> Booking:
    """``requester`` asks for ``resource`` from ``starts_on`` to ``ends_on``; the owner accepts or refuses. Dates
    that overlap a booking waiting or accepted are refused. Sent again under the same key, answers the same one."""
    request = {
        "resource": resource,
        "requester": requester,
        "starts_on": starts_on,
        "ends_on": ends_on,
        "note": note.strip(),
    }
    existing = Booking.objects.filter(requester=requester, idempotency_key=idempotency_key).first()
    if existing is not None:
        return replayed(existing, key=idempotency_key, **request)
    errors: dict[str, list[str]] = {}
    if ends_on < starts_on:
        errors["ends_on"] = [_("The last day comes on or after the first.")]
    elif starts_on < timezone.localdate():
        errors["starts_on"] = [_("A booking starts today or later.")]
    elif (ends_on - starts_on).days > 366:
        errors["ends_on"] = [_("A booking lasts at most a year.")]
    if requester.pk == resource.actor_id:
        errors["requester"] = [_("An actor does not book its own resource.")]
    if requester.territory_id != resource.actor.territory_id:
        errors["requester"] = [_("Not an actor of this territory.")]
    if not resource.shareable:
        errors["resource"] = [_("Its owner does not share this resource.")]
    if errors:
        raise InvalidInput(_("The booking could not be asked for."), errors=errors)
    try:
        with transaction.atomic():
            # The race: two requests for overlapping dates at once. Both read no overlap, both insert. Locking
            # the resource's row makes the second wait for the first's commit, then see its booking.
            Resource.objects.select_for_update().get(pk=resource.pk)
            again = Booking.objects.filter(requester=requester, idempotency_key=idempotency_key).first()
            if again is not None:
                return replayed(again, key=idempotency_key, **request)
            _refuse_overlap(_overlapping(resource, starts_on, ends_on, HOLDING))
            booking = Booking.objects.create(
                resource=resource,
                requester=requester,
                starts_on=starts_on,
                ends_on=ends_on,
                note=note.strip()[:300],
                requested_by=by,
                idempotency_key=idempotency_key,
                request_fingerprint=fingerprint(**request),
            )
            audit(
                territory=requester.territory,
                actor=by,
                action="network.booking.request",
                subject=f"network-booking:{booking.pk}",
            )
    except IntegrityError:
        won = Booking.objects.filter(requester=requester, idempotency_key=idempotency_key).first()
        if won is None:
            raise
        return replayed(won, key=idempotency_key, **request)
    return booking


def booking_decide(*, booking: Booking, accept: bool, by: User, reason: str = "") -> Booking:
    """The owner accepts or refuses a waiting booking (refusing says why). Decided once: the same decision again
    changes nothing, another is refused."""
    status = BookingStatus.ACCEPTED if accept else BookingStatus.REFUSED
    if not accept and not reason.strip():
        raise InvalidInput(
            _("Say why the booking is refused."), errors={"reason": [_("The requester reads it.")]}
        )
    with transaction.atomic():
        Resource.objects.select_for_update().get(pk=booking.resource_id)
        locked = Booking.objects.select_for_update().get(pk=booking.pk)
        if locked.status == status:
            return locked
        if locked.status != BookingStatus.PENDING:
            raise Conflict(
                _("This booking was already decided: %(status)s.") % {"status": locked.get_status_display()}
            )
        if accept:
            _refuse_overlap(
                _overlapping(locked.resource, locked.starts_on, locked.ends_on, [BookingStatus.ACCEPTED])
            )
        locked.status = status
        locked.decided_by = by
        locked.decided_at = timezone.now()
        locked.reason = reason.strip()[:300]
        locked.save(update_fields=["status", "decided_by", "decided_at", "reason"])
        audit(
            territory=locked.requester.territory,
            actor=by,
            action=f"network.booking.{'accept' if accept else 'refuse'}",
            subject=f"network-booking:{locked.pk}",
        )
    return locked


def booking_withdraw(*, booking: Booking, by: User) -> Booking:
    """The requester withdraws its request, waiting or accepted, until the booking's first day: its dates are free
    again. Withdrawn again, it changes nothing; a refused booking, or one already under way, stays as it is."""
    with transaction.atomic():
        Resource.objects.select_for_update().get(pk=booking.resource_id)
        locked = Booking.objects.select_for_update().get(pk=booking.pk)
        if locked.status == BookingStatus.WITHDRAWN:
            return locked
        if locked.status not in HOLDING:
            raise Conflict(
                _("This booking was already decided: %(status)s.") % {"status": locked.get_status_display()}
            )
        if locked.starts_on <= timezone.localdate():
            raise Conflict(_("This booking has started: ask the owner to change it."))
        locked.status = BookingStatus.WITHDRAWN
        locked.decided_by = by
        locked.decided_at = timezone.now()
        locked.save(update_fields=["status", "decided_by", "decided_at"])
        audit(
            territory=locked.requester.territory,
            actor=by,
            action="network.booking.withdraw",
            subject=f"network-booking:{locked.pk}",
        )
    return locked
