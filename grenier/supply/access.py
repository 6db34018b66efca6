"""Which farm or kitchen a person acts for, and who may coordinate a week. Pages, API and commands ask here.

A coordinator of the territory (``SUPPLY_MANAGE``) acts for every farm and kitchen. A producer acts for the farms
it is one of the people of; a kitchen manager for the kitchens it manages (a person's *own* farms and kitchens are
these, even for a coordinator: a grower's and a kitchen's home list them). A money document is read by a
coordinator, by the kitchen it invoices or by the farm it is the statement of. The *coordinator of the week* (one of the
growers, in rotation) may plan, adjust and publish that week only. Asking for a farm or kitchen one does not act for
answers "not found", like a territory one has no role in.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from grenier.core import permissions
from grenier.core.errors import Forbidden, NotFound
from grenier.core.models import Territory
from grenier.core.permissions import Action
from grenier.supply.models import Kitchen, Producer, SupplyWeek

if TYPE_CHECKING:
    from grenier.core.permissions import AnyUser


def producers_of(user: AnyUser, territory: Territory) -> QuerySet[Producer]:
    """The farms ``user`` acts for in ``territory``."""
    if permissions.can(user, territory, Action.SUPPLY_MANAGE):
        return Producer.objects.filter(territory=territory, on_platform=True)
    if permissions.can(user, territory, Action.SUPPLY_PRODUCE):
        return Producer.objects.filter(
            territory=territory, on_platform=True, users__id=user.pk or 0
        ).distinct()
    return Producer.objects.none()


def kitchens_of(user: AnyUser, territory: Territory) -> QuerySet[Kitchen]:
    """The kitchens ``user`` acts for in ``territory``."""
    if permissions.can(user, territory, Action.SUPPLY_MANAGE):
        return Kitchen.objects.filter(territory=territory)
    if permissions.can(user, territory, Action.SUPPLY_KITCHEN):
        return Kitchen.objects.filter(territory=territory, managers__id=user.pk or 0).distinct()
    return Kitchen.objects.none()


def own_producers(user: AnyUser, territory: Territory) -> QuerySet[Producer]:
    """The farms ``user`` is one of the people of (a coordinator acts for every farm but is not a grower)."""
    if not permissions.can(user, territory, Action.SUPPLY_PRODUCE):
        return Producer.objects.none()
    return Producer.objects.filter(territory=territory, on_platform=True, users__id=user.pk or 0).distinct()


def own_kitchens(user: AnyUser, territory: Territory) -> QuerySet[Kitchen]:
    """The kitchens ``user`` manages."""
    if not permissions.can(user, territory, Action.SUPPLY_KITCHEN):
        return Kitchen.objects.none()
    return Kitchen.objects.filter(territory=territory, managers__id=user.pk or 0).distinct()


def documents_scope(user: AnyUser, territory: Territory) -> Q:
    """Which of the territory's money documents ``user`` may read: a coordinator all of them, a kitchen manager its
    kitchens' invoices, a grower its farms' statements (a filter on ``Invoice``)."""
    if permissions.can(user, territory, Action.SUPPLY_MANAGE):
        return Q()
    return Q(kitchen__in=kitchens_of(user, territory), producer__isnull=True) | Q(
        producer__in=producers_of(user, territory)
    )


def producer_for(user: AnyUser, territory: Territory, producer_id: int) -> Producer:
    producer = producers_of(user, territory).filter(pk=producer_id).first()
    if producer is None:
        raise NotFound(_("This farm does not exist or you do not act for it."))
    return producer


def kitchen_for(user: AnyUser, territory: Territory, kitchen_id: int) -> Kitchen:
    kitchen = kitchens_of(user, territory).filter(pk=kitchen_id).first()
    if kitchen is None:
        raise NotFound(_("This kitchen does not exist or you do not act for it."))
    return kitchen


def may_coordinate(user: AnyUser, week: SupplyWeek) -> bool:
    """Plan, adjust and publish ``week``: a coordinator of the territory, or the week's coordinator."""
    if permissions.can(user, week.territory, Action.SUPPLY_MANAGE):
        return True
    return bool(user.is_authenticated and week.coordinator_id == user.pk)


def require_coordinate(user: AnyUser, week: SupplyWeek) -> None:
    permissions.require(user, week.territory, Action.VIEW_TERRITORY)
    if not may_coordinate(user, week):
        raise Forbidden(_("Only this week's coordinator or a coordinator of the territory may do this."))
