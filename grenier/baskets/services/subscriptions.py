"""Subscriptions: a household's basket at a pickup point, its absences, pauses and stop."""

from __future__ import annotations

from datetime import date, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from grenier.baskets.models import (
    Absence,
    BasketOffer,
    DistributionLine,
    Frequency,
    PickupPoint,
    Referral,
    ReferralStatus,
    Subscription,
)
from grenier.baskets.services.referrals import membership_ensure
from grenier.baskets.wording import in_sentence
from grenier.core.errors import Conflict, InvalidInput
from grenier.core.idempotency import fingerprint, replayed
from grenier.core.models import Household, User
from grenier.core.services import audit


def _next_weekday(day: date, weekday: int) -> date:
    return day + timedelta(days=(weekday - day.weekday()) % 7)


def subscription_create(
    *,
    household: Household,
    offer: BasketOffer,
    pickup_point: PickupPoint,
    frequency: Frequency,
    start_on: date,
    actor: User | None,
    idempotency_key: str | None = None,
) -> Subscription:
    """The household takes ``offer`` at ``pickup_point`` from ``start_on`` (moved to the offer's distribution day).

    The household becomes a member of the garden if it was not; the member's part is the one its referral set, if
    lower than the territory's cap."""
    garden = offer.garden
    territory = garden.territory
    request = {"offer": offer, "pickup_point": pickup_point, "frequency": frequency, "start_on": start_on}
    if idempotency_key:
        found = Subscription.objects.filter(household=household, idempotency_key=idempotency_key).first()
        if found is not None:
            return replayed(found, key=idempotency_key, **request)
    errors: dict[str, list[str]] = {}
    if household.territory_id != territory.pk or household.left_on is not None:
        errors["household"] = [_("Not a member household of this territory.")]
    if pickup_point.garden_id != garden.pk or not pickup_point.active:
        errors["pickup_point"] = [_("Not a pickup point of this garden.")]
    elif pickup_point.weekday != offer.weekday:
        errors["pickup_point"] = [_("This pickup point is not open on the offer's distribution day.")]
    if frequency not in Frequency.values:
        errors["frequency"] = [_("Every week or every other week.")]
    if not offer.active:
        errors["offer"] = [_("This offer takes no new subscriptions.")]
    first = _next_weekday(max(start_on, offer.season_start), offer.weekday)
    if first > offer.season_end:
        errors["start_on"] = [_("The season is over for this offer.")]
    if errors:
        raise InvalidInput(_("The subscription could not be recorded."), errors=errors)
    _refuse_second_basket(household, offer)
    referral = (
        Referral.objects.filter(
            garden=garden, household=household, member_share_bp__isnull=False, status=ReferralStatus.OPEN
        )
        .order_by("-created_at", "-id")
        .first()
    )
    try:
        with transaction.atomic():
            membership_ensure(garden=garden, household=household)
            subscription = Subscription.objects.create(
                territory=territory,
                household=household,
                offer=offer,
                pickup_point=pickup_point,
                frequency=frequency,
                start_on=first,
                member_share_bp=referral.member_share_bp if referral else None,
                idempotency_key=idempotency_key or None,
                request_fingerprint=fingerprint(**request) if idempotency_key else "",
            )
            audit(
                territory=territory,
                actor=actor,
                action="baskets.subscription.create",
                subject=f"subscription:{subscription.pk}",
                household=household.pk,
            )
    except IntegrityError as exc:
        if idempotency_key:
            found = Subscription.objects.filter(household=household, idempotency_key=idempotency_key).first()
            if found is not None:
                return replayed(found, key=idempotency_key, **request)
        raise Conflict(
            _("This household already has this basket."),
            errors={"offer": [_("Already subscribed: pause or stop the current subscription instead.")]},
        ) from exc
    return subscription


def _refuse_second_basket(household: Household, offer: BasketOffer) -> None:
    """One running basket per household and garden: the same offer again, or another offer of the same garden, is
    refused (the field says which); change the current one (pause, stop) instead."""
    current = (
        Subscription.objects.filter(
            household=household, offer__garden_id=offer.garden_id, stopped_on__isnull=True
        )
        .select_related("offer")
        .first()
    )
    if current is None:
        return
    if current.offer_id == offer.pk:
        raise Conflict(
            _("This household already has this basket."),
            errors={"offer": [_("Already subscribed: pause or stop the current subscription instead.")]},
        )
    raise Conflict(
        _("This household already has a basket at this garden (%(offer)s).") % {"offer": current.offer.name},
        errors={"household": [_("Already subscribed at this garden: stop the current basket first.")]},
    )


def _open(subscription: Subscription) -> Subscription:
    locked = Subscription.objects.select_for_update().get(pk=subscription.pk)
    if locked.stopped_on is not None:
        raise Conflict(_("This subscription is stopped."))
    return locked


def absence_add(*, subscription: Subscription, on: date, actor: User | None) -> Absence:
    """The household will not collect its basket on ``on``: no basket is due that day."""
    if on < timezone.localdate():
        raise InvalidInput(_("An absence must be announced ahead."), errors={"on": [_("This day is past.")]})
    if on.weekday() != subscription.offer.weekday:
        raise InvalidInput(
            _("This is not a distribution day."),
            errors={
                "on": [_("Pick a %(day)s.") % {"day": in_sentence(subscription.offer.get_weekday_display())}]
            },
        )
    with transaction.atomic():
        locked = _open(subscription)
        if DistributionLine.objects.filter(subscription=locked, on=on).exists():
            raise Conflict(
                _("The sheet of this day is already out: tell the pickup point's volunteers."),
                errors={"on": [_("Already on a distribution sheet.")]},
            )
        absence, created = Absence.objects.get_or_create(subscription=locked, on=on)
        if created:
            audit(
                territory=locked.territory,
                actor=actor,
                action="baskets.absence.add",
                subject=f"subscription:{locked.pk}",
                on=on.isoformat(),
            )
    return absence


def absence_remove(*, subscription: Subscription, on: date, actor: User | None) -> None:
    with transaction.atomic():
        deleted, _rows = Absence.objects.filter(
            subscription=subscription, on=on, on__gte=timezone.localdate()
        ).delete()
        if deleted:
            audit(
                territory=subscription.territory,
                actor=actor,
                action="baskets.absence.remove",
                subject=f"subscription:{subscription.pk}",
                on=on.isoformat(),
            )


def subscription_pause(
    *, subscription: Subscription, actor: User | None, on: date | None = None, until: date | None = None
) -> Subscription:
    """No basket from ``on`` (today by default) until resumed, or until ``until`` (baskets again from that day) if
    given. Pausing a paused subscription changes nothing."""
    on = max(on or timezone.localdate(), timezone.localdate())
    if until is not None and until <= on:
        raise InvalidInput(
            _("The pause must end after it starts."), errors={"until": [_("Pick a later day.")]}
        )
    with transaction.atomic():
        locked = _open(subscription)
        if locked.paused_from is None:
            locked.paused_from = on
            locked.resume_on = until
            locked.save(update_fields=["paused_from", "resume_on"])
            audit(
                territory=locked.territory,
                actor=actor,
                action="baskets.subscription.pause",
                subject=f"subscription:{locked.pk}",
            )
    return locked


def subscription_resume(*, subscription: Subscription, actor: User | None) -> Subscription:
    with transaction.atomic():
        locked = _open(subscription)
        if locked.paused_from is not None:
            locked.paused_from = None
            locked.resume_on = None
            locked.save(update_fields=["paused_from", "resume_on"])
            audit(
                territory=locked.territory,
                actor=actor,
                action="baskets.subscription.resume",
                subject=f"subscription:{locked.pk}",
            )
    return locked


def subscription_stop(
    *, subscription: Subscription, actor: User | None, on: date | None = None
) -> Subscription:
    """No basket from ``on`` on, for good: always possible. Stopping twice changes nothing."""
    on = max(on or timezone.localdate(), timezone.localdate())
    with transaction.atomic():
        locked = Subscription.objects.select_for_update().get(pk=subscription.pk)
        if locked.stopped_on is not None:
            return locked
        locked.stopped_on = max(on, locked.start_on)
        locked.save(update_fields=["stopped_on"])
        audit(
            territory=locked.territory,
            actor=actor,
            action="baskets.subscription.stop",
            subject=f"subscription:{locked.pk}",
        )
    return locked
