"""Basket offers, and a household's own subscriptions: taken, absences, paused, resumed, stopped."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from grenier.baskets import access, selectors, services
from grenier.baskets.api.common import _territory, router
from grenier.baskets.api.schemas import (
    DayIn,
    OfferOut,
    PickupPointOut,
    SubscriptionActionIn,
    SubscriptionIn,
    SubscriptionOut,
)
from grenier.baskets.models import BasketOffer, PickupPoint, Subscription
from grenier.core.auth import user_of
from grenier.core.errors import Forbidden, InvalidInput
from grenier.core.models import Household
from grenier.core.permissions import Action
from grenier.core.schemas import Day

# --- offers --------------------------------------------------------------------------------------------------------


@router.get("/baskets/offers", response=list[OfferOut], summary="Basket offers of the territory's gardens")
def offers(request: HttpRequest) -> list[OfferOut]:
    territory = _territory(
        request, Action.BASKETS_OWN, Action.BASKETS_REFER, Action.BASKETS_MANAGE, Action.BASKETS_DISTRIBUTE
    )
    cap = selectors.settings_of(territory).member_cap_bp
    found = BasketOffer.objects.filter(garden__territory=territory, active=True).select_related("garden")
    points: dict[int, list[PickupPoint]] = {}
    for point in PickupPoint.objects.filter(garden__territory=territory, active=True):
        points.setdefault(point.garden_id, []).append(point)
    return [
        OfferOut(
            id=o.pk,
            garden=o.garden.name,
            garden_id=o.garden_id,
            name=o.name,
            size=o.size,
            price_cents=o.price_cents,
            member_cap_cents=o.price_cents * cap // 10_000,
            season_start=o.season_start,
            season_end=o.season_end,
            weekday=o.weekday,
            pickup_points=[
                PickupPointOut(
                    id=p.pk, name=p.name, address=p.address, weekday=p.weekday, opens_at=p.opens_at
                )
                for p in points.get(o.garden_id, [])
                if p.weekday == o.weekday
            ],
        )
        for o in found
    ]


# --- subscriptions -------------------------------------------------------------------------------------------------


def _subscription_out(subscription: Subscription) -> SubscriptionOut:
    today = timezone.localdate()
    return SubscriptionOut(
        id=subscription.pk,
        household=subscription.household_id,
        offer=subscription.offer_id,
        offer_name=subscription.offer.name,
        pickup_point=subscription.pickup_point_id,
        pickup_point_name=subscription.pickup_point.name,
        frequency=subscription.frequency,
        start_on=subscription.start_on,
        paused_from=subscription.paused_from,
        stopped_on=subscription.stopped_on,
        member_share_bp=subscription.member_share_bp,
        next_baskets=[day for day, absent in selectors.next_baskets(subscription, today) if not absent],
        absences=list(subscription.absences.filter(on__gte=today).values_list("on", flat=True)),
        balance_cents=selectors.member_balance(subscription.offer.garden, subscription.household),
    )


@router.get(
    "/baskets/subscriptions",
    response=list[SubscriptionOut],
    summary="Subscriptions: one's own (all for a coordinator)",
)
def subscriptions(request: HttpRequest) -> list[SubscriptionOut]:
    territory = _territory(request, Action.BASKETS_OWN, Action.BASKETS_MANAGE)
    return [
        _subscription_out(s)
        for s in access.subscriptions_of(request.user, territory).select_related(
            "offer__garden", "pickup_point", "household"
        )
    ]


@router.post("/baskets/subscriptions", response={201: SubscriptionOut}, summary="Take a basket")
def subscription_create(request: HttpRequest, payload: SubscriptionIn) -> tuple[int, SubscriptionOut]:
    """A member household subscribes at a garden it is a member of; a coordinator subscribes any household."""
    territory = _territory(request, Action.BASKETS_OWN, Action.BASKETS_MANAGE)
    user = user_of(request)
    offer = (
        BasketOffer.objects.filter(garden__territory=territory, pk=payload.offer)
        .select_related("garden")
        .first()
    )
    if offer is None:
        raise InvalidInput(_("Unknown offer."), errors={"offer": [_("Nothing has this number here.")]})
    point = PickupPoint.objects.filter(garden=offer.garden, pk=payload.pickup_point).first()
    if point is None:
        raise InvalidInput(
            _("Unknown pickup point."), errors={"pickup_point": [_("Not a pickup point of this garden.")]}
        )
    if access.manages(user, territory):
        household = Household.objects.filter(territory=territory, pk=payload.household or 0).first()
        if household is None:
            raise InvalidInput(
                _("Unknown household."), errors={"household": [_("Nothing has this number here.")]}
            )
    else:
        own = access.own_households(user, territory).filter(
            garden_memberships__garden=offer.garden, garden_memberships__left_on__isnull=True
        )
        if payload.household is not None:
            own = own.filter(pk=payload.household)
        candidates = list(own[:2])
        if not candidates:
            raise Forbidden(_("Your household is not a member of this garden: ask a social worker."))
        if len(candidates) > 1:
            raise InvalidInput(
                _("Say which household."), errors={"household": [_("This field is required.")]}
            )
        household = candidates[0]
    subscription = services.subscription_create(
        household=household,
        offer=offer,
        pickup_point=point,
        frequency=payload.frequency,
        start_on=payload.start_on,
        actor=user,
        idempotency_key=payload.idempotency_key,
    )
    return 201, _subscription_out(subscription)


def _subscription(request: HttpRequest, subscription_id: int) -> Subscription:
    territory = _territory(request, Action.BASKETS_OWN, Action.BASKETS_MANAGE)
    return access.subscription_for(request.user, territory, subscription_id)


@router.get("/baskets/subscriptions/{subscription_id}", response=SubscriptionOut, summary="One subscription")
def subscription_detail(request: HttpRequest, subscription_id: int) -> SubscriptionOut:
    return _subscription_out(_subscription(request, subscription_id))


@router.post(
    "/baskets/subscriptions/{subscription_id}/absences",
    response=SubscriptionOut,
    summary="Announce an absence",
)
def absence_add(request: HttpRequest, subscription_id: int, payload: DayIn) -> SubscriptionOut:
    found = _subscription(request, subscription_id)
    services.absence_add(subscription=found, on=payload.on, actor=user_of(request))
    return _subscription_out(found)


@router.delete(
    "/baskets/subscriptions/{subscription_id}/absences/{on}",
    response=SubscriptionOut,
    summary="Withdraw an absence",
)
def absence_remove(request: HttpRequest, subscription_id: int, on: Day) -> SubscriptionOut:
    found = _subscription(request, subscription_id)
    services.absence_remove(subscription=found, on=on, actor=user_of(request))
    return _subscription_out(found)


@router.post(
    "/baskets/subscriptions/{subscription_id}/status",
    response=SubscriptionOut,
    summary="Pause, resume or stop",
)
def subscription_status(
    request: HttpRequest, subscription_id: int, payload: SubscriptionActionIn
) -> SubscriptionOut:
    found = _subscription(request, subscription_id)
    actor = user_of(request)
    if payload.action == "pause":
        found = services.subscription_pause(subscription=found, actor=actor)
    elif payload.action == "resume":
        found = services.subscription_resume(subscription=found, actor=actor)
    else:
        found = services.subscription_stop(subscription=found, actor=actor)
    return _subscription_out(
        Subscription.objects.select_related("offer__garden", "pickup_point", "household").get(pk=found.pk)
    )
