"""Which garden, pickup point, referral, subscription or funder a person acts for. Pages, API and commands ask here.

* A coordinator of the territory (``BASKETS_MANAGE``) acts for every garden, pickup point, referral and
  subscription of it; a garden's own ``coordinators`` are who its warnings are mailed to.
* A volunteer (``BASKETS_DISTRIBUTE``, the cashier role) checks off the sheets of the pickup points they serve
  (``PickupPoint.volunteers``) and no other.
* A social worker (``BASKETS_REFER``) sees only the referrals they made.
* A member household (``BASKETS_OWN``) sees its own subscriptions and payments.
* A funder's people see the statements of their own funders' agreements; coordinators and the committee see all.

Asking for something one does not act for answers "not found", like a territory one has no role in.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from grenier.baskets.models import (
    Agreement,
    BasketOffer,
    DistributionSheet,
    Garden,
    PickupPoint,
    Referral,
    Subscription,
)
from grenier.core import permissions
from grenier.core.errors import NotFound
from grenier.core.models import Household, Territory
from grenier.core.permissions import Action
from grenier.fund.models import Funder

if TYPE_CHECKING:
    from grenier.core.permissions import AnyUser


def manages(user: AnyUser, territory: Territory) -> bool:
    return permissions.can(user, territory, Action.BASKETS_MANAGE)


def gardens_of(user: AnyUser, territory: Territory) -> QuerySet[Garden]:
    if manages(user, territory):
        return Garden.objects.filter(territory=territory)
    return Garden.objects.none()


def garden_for(user: AnyUser, territory: Territory, garden_id: int) -> Garden:
    garden = gardens_of(user, territory).filter(pk=garden_id).first()
    if garden is None:
        raise NotFound(_("This garden does not exist or you do not act for it."))
    return garden


def offer_for(user: AnyUser, territory: Territory, garden: Garden, offer_id: int) -> BasketOffer:
    """An offer of ``garden`` (which ``garden_for`` already found ``user`` acts for)."""
    offer = BasketOffer.objects.filter(garden=garden, pk=offer_id).first()
    if offer is None or not manages(user, territory):
        raise NotFound(_("This offer does not exist or you do not act for its garden."))
    return offer


def pickup_point_for(user: AnyUser, territory: Territory, garden: Garden, point_id: int) -> PickupPoint:
    point = PickupPoint.objects.filter(garden=garden, pk=point_id).first()
    if point is None or not manages(user, territory):
        raise NotFound(_("This pickup point does not exist or you do not act for its garden."))
    return point


def agreement_for(user: AnyUser, territory: Territory, garden: Garden, agreement_id: int) -> Agreement:
    agreement = Agreement.objects.filter(garden=garden, pk=agreement_id).select_related("funder").first()
    if agreement is None or not manages(user, territory):
        raise NotFound(_("This agreement does not exist or you do not act for its garden."))
    return agreement


def pickup_points_of(user: AnyUser, territory: Territory) -> QuerySet[PickupPoint]:
    """The pickup points whose sheets ``user`` may check off."""
    if manages(user, territory):
        return PickupPoint.objects.filter(garden__territory=territory)
    if permissions.can(user, territory, Action.BASKETS_DISTRIBUTE):
        return PickupPoint.objects.filter(garden__territory=territory, volunteers__id=user.pk or 0).distinct()
    return PickupPoint.objects.none()


def sheet_for(user: AnyUser, territory: Territory, sheet_id: int) -> DistributionSheet:
    sheet = (
        DistributionSheet.objects.filter(pk=sheet_id, pickup_point__in=pickup_points_of(user, territory))
        .select_related("pickup_point__garden")
        .first()
    )
    if sheet is None:
        raise NotFound(_("This sheet does not exist or you do not serve its pickup point."))
    return sheet


def referrals_of(user: AnyUser, territory: Territory) -> QuerySet[Referral]:
    """Every referral for a coordinator; a social worker's own only; nothing for anyone else."""
    referrals = Referral.objects.filter(territory=territory)
    if manages(user, territory):
        return referrals
    if permissions.can(user, territory, Action.BASKETS_REFER):
        return referrals.filter(social_worker_id=user.pk or 0)
    return Referral.objects.none()


def referral_for(user: AnyUser, territory: Territory, referral_id: int) -> Referral:
    referral = (
        referrals_of(user, territory)
        .filter(pk=referral_id)
        .select_related("household", "garden", "social_worker", "membership")
        .first()
    )
    if referral is None:
        raise NotFound(_("This referral does not exist or is not yours."))
    return referral


def own_households(user: AnyUser, territory: Territory) -> QuerySet[Household]:
    """The households ``user`` is a person of, in ``territory`` (a member's own)."""
    if not permissions.can(user, territory, Action.BASKETS_OWN):
        return Household.objects.none()
    return Household.objects.filter(
        territory=territory, persons__user_id=user.pk or 0, left_on__isnull=True
    ).distinct()


def subscriptions_of(user: AnyUser, territory: Territory) -> QuerySet[Subscription]:
    if manages(user, territory):
        return Subscription.objects.filter(territory=territory)
    return Subscription.objects.filter(territory=territory, household__in=own_households(user, territory))


def subscription_for(user: AnyUser, territory: Territory, subscription_id: int) -> Subscription:
    subscription = (
        subscriptions_of(user, territory)
        .filter(pk=subscription_id)
        .select_related("household", "offer__garden", "pickup_point")
        .first()
    )
    if subscription is None:
        raise NotFound(_("This subscription does not exist or is not yours."))
    return subscription


def funders_of(user: AnyUser, territory: Territory) -> QuerySet[Funder]:
    """Funders whose statements ``user`` may read: all for coordinators and the committee, a funder's own."""
    if not permissions.can(user, territory, Action.BASKETS_FIGURES):
        return Funder.objects.none()
    if permissions.can(user, territory, Action.BASKETS_EVERY_FUNDER):
        return Funder.objects.filter(territory=territory)
    return Funder.objects.filter(territory=territory, members__id=user.pk or 0).distinct()


def funder_for(user: AnyUser, territory: Territory, funder_id: int) -> Funder:
    funder = funders_of(user, territory).filter(pk=funder_id).first()
    if funder is None:
        raise NotFound(_("This funder does not exist or you may not read its statements."))
    return funder
