"""Which kitchens' biowaste a person reaches. Pages, API and commands ask here.

A kitchen's managers (``Kitchen.managers``, with the kitchen role) record and read their own kitchens' campaigns,
weighings and deliveries; coordinators and the committee read every kitchen's, and record none; nobody else reads
any. Asking for a kitchen or a campaign one may not read answers "not found", like a territory one has no role in;
recording for a kitchen one only reads is refused (403).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from grenier.core import permissions
from grenier.core.errors import Forbidden, NotFound
from grenier.core.models import Territory
from grenier.core.permissions import Action
from grenier.supply.models import Kitchen, Producer
from grenier.waste.models import BiowasteDelivery, Campaign, Weighing

if TYPE_CHECKING:
    from grenier.core.permissions import AnyUser


def require_waste(user: AnyUser, territory: Territory) -> None:
    """404 without a role here; 403 for a role that neither records nor reads biowaste figures."""
    permissions.require(user, territory, Action.VIEW_TERRITORY)
    if not (
        permissions.can(user, territory, Action.WASTE_RECORD)
        or permissions.can(user, territory, Action.WASTE_FIGURES)
    ):
        raise Forbidden(_("Your role in this territory does not allow this."))


def kitchens_recording(user: AnyUser, territory: Territory) -> QuerySet[Kitchen]:
    """The kitchens ``user`` records biowaste for: those it manages."""
    if not permissions.can(user, territory, Action.WASTE_RECORD):
        return Kitchen.objects.none()
    return Kitchen.objects.filter(territory=territory, managers__id=user.pk or 0).distinct()


def kitchens_visible(user: AnyUser, territory: Territory) -> QuerySet[Kitchen]:
    """The kitchens whose biowaste ``user`` reads."""
    if permissions.can(user, territory, Action.WASTE_FIGURES):
        return Kitchen.objects.filter(territory=territory)
    return kitchens_recording(user, territory)


def may_record(user: AnyUser, kitchen: Kitchen) -> bool:
    return kitchens_recording(user, kitchen.territory).filter(pk=kitchen.pk).exists()


def campaigns_of(user: AnyUser, territory: Territory) -> QuerySet[Campaign]:
    return Campaign.objects.filter(territory=territory, kitchen__in=kitchens_visible(user, territory))


def deliveries_of(user: AnyUser, territory: Territory) -> QuerySet[BiowasteDelivery]:
    return BiowasteDelivery.objects.filter(territory=territory, kitchen__in=kitchens_visible(user, territory))


def kitchen_for(user: AnyUser, territory: Territory, kitchen_id: int) -> Kitchen:
    kitchen = kitchens_visible(user, territory).filter(pk=kitchen_id).first()
    if kitchen is None:
        raise NotFound(_("This kitchen does not exist or you do not act for it."))
    return kitchen


def kitchen_to_record(user: AnyUser, territory: Territory, kitchen_id: int) -> Kitchen:
    kitchen = kitchen_for(user, territory, kitchen_id)
    if not may_record(user, kitchen):
        raise Forbidden(_("Only the kitchen's managers record its biowaste."))
    return kitchen


def campaign_for(user: AnyUser, territory: Territory, campaign_id: int) -> Campaign:
    campaign = (
        campaigns_of(user, territory)
        .select_related("kitchen", "compares_with")
        .filter(pk=campaign_id)
        .first()
    )
    if campaign is None:
        raise NotFound(_("This campaign does not exist or you may not see it."))
    return campaign


def campaign_to_record(user: AnyUser, territory: Territory, campaign_id: int) -> Campaign:
    campaign = campaign_for(user, territory, campaign_id)
    if not may_record(user, campaign.kitchen):
        raise Forbidden(_("Only the kitchen's managers record its weighings."))
    return campaign


def weighing_to_record(user: AnyUser, territory: Territory, weighing_id: int) -> Weighing:
    """A weighing of a campaign ``user`` records for (to correct it): "not found" beyond what it reads."""
    weighing = (
        Weighing.objects.filter(campaign__in=campaigns_of(user, territory), pk=weighing_id)
        .select_related("campaign__kitchen", "campaign__territory")
        .first()
    )
    if weighing is None:
        raise NotFound(_("This weighing does not exist or you may not see it."))
    if not may_record(user, weighing.campaign.kitchen):
        raise Forbidden(_("Only the kitchen's managers record its weighings."))
    return weighing


def farms(territory: Territory) -> QuerySet[Producer]:
    """The platform's farms a kitchen may send its biowaste to."""
    return Producer.objects.filter(territory=territory, on_platform=True, left_on__isnull=True)
