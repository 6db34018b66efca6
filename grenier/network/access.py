"""Which of the map's objects a person reaches beyond the role grid. Pages, API and commands ask here.

* Everyone with a role in the territory reads the map (``NETWORK_VIEW``): actors, resources, cooperations and their
  history. A person's contact (name, phone, e-mail of an actor's contact person) only coordinators read.
* Coordinators (``NETWORK_MANAGE``) edit every actor and cooperation and answer every booking.
* An actor's people edit their actor, record its resources, ask for another's resource and answer the requests for
  their own. An actor's people are those named on it, and those of the row it is linked to: a store's cashiers, a
  funder's members, a farm's people, a kitchen's managers, a garden's or a buying group's coordinators — so nobody
  is typed twice there either.
* A booking is seen by the coordinators and the people of the two actors; anyone else is told it does not exist.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from grenier.core import permissions
from grenier.core.errors import Forbidden, NotFound
from grenier.core.models import Territory
from grenier.core.permissions import Action
from grenier.network.models import Actor, Booking, Cooperation, CooperationDocument, Resource

if TYPE_CHECKING:
    from grenier.core.permissions import AnyUser


def require_view(user: AnyUser, territory: Territory) -> None:
    permissions.require(user, territory, Action.NETWORK_VIEW)


def may_manage(user: AnyUser, territory: Territory) -> bool:
    return permissions.can(user, territory, Action.NETWORK_MANAGE)


def may_see_contacts(user: AnyUser, territory: Territory) -> bool:
    """A person's contact on an actor: coordinators only."""
    return permissions.can(user, territory, Action.NETWORK_MANAGE)


def own_actors(user: AnyUser, territory: Territory) -> QuerySet[Actor]:
    """The actors ``user`` is one of the people of (named, or through the row it is linked to)."""
    if not user.is_authenticated:
        return Actor.objects.none()
    uid = user.pk
    return (
        Actor.objects.filter(territory=territory)
        .filter(
            Q(people=uid)
            | Q(store__cashiers=uid)
            | Q(funder__members=uid)
            | Q(producer__users=uid)
            | Q(kitchen__managers=uid)
            | Q(garden__coordinators=uid)
            | Q(group__coordinators=uid)
        )
        .distinct()
    )


def acts_for(user: AnyUser, actor: Actor) -> bool:
    """``user`` edits ``actor`` and answers for it: a coordinator, or one of its people."""
    if may_manage(user, actor.territory):
        return True
    return own_actors(user, actor.territory).filter(pk=actor.pk).exists()


def require_acts_for(user: AnyUser, actor: Actor) -> None:
    if not acts_for(user, actor):
        raise Forbidden(_("Only the coordinators and this actor's own people may do this."))


def actor_for(user: AnyUser, territory: Territory, actor_id: int) -> Actor:
    require_view(user, territory)
    found = Actor.objects.filter(territory=territory, pk=actor_id).first()
    if found is None:
        raise NotFound(_("This actor does not exist."))
    return found


def cooperation_for(user: AnyUser, territory: Territory, cooperation_id: int) -> Cooperation:
    require_view(user, territory)
    found = Cooperation.objects.filter(territory=territory, pk=cooperation_id).first()
    if found is None:
        raise NotFound(_("This cooperation does not exist."))
    return found


def resource_for(user: AnyUser, territory: Territory, resource_id: int) -> Resource:
    require_view(user, territory)
    found = (
        Resource.objects.filter(actor__territory=territory, pk=resource_id).select_related("actor").first()
    )
    if found is None:
        raise NotFound(_("This resource does not exist."))
    return found


def bookings_of(user: AnyUser, territory: Territory) -> QuerySet[Booking]:
    """The bookings ``user`` sees: every one for a coordinator, else those asked by or of their actors."""
    rows = Booking.objects.filter(requester__territory=territory)
    if may_manage(user, territory):
        return rows
    mine = own_actors(user, territory).values("pk")
    return rows.filter(Q(requester__in=mine) | Q(resource__actor__in=mine))


def booking_for(user: AnyUser, territory: Territory, booking_id: int) -> Booking:
    require_view(user, territory)
    found = (
        bookings_of(user, territory)
        .filter(pk=booking_id)
        .select_related("resource__actor", "requester")
        .first()
    )
    if found is None:
        raise NotFound(_("This booking does not exist or you may not see it."))
    return found


def may_handle_documents(user: AnyUser, cooperation: Cooperation) -> bool:
    """A cooperation's documents (signed letters, agreements) are for the coordinators and the people of its actors;
    the rest of the territory reads the map, not the papers."""
    if may_manage(user, cooperation.territory):
        return True
    return cooperation.actors.filter(pk__in=own_actors(user, cooperation.territory).values("pk")).exists()


def document_for(user: AnyUser, cooperation: Cooperation, document_id: int) -> CooperationDocument:
    if not may_handle_documents(user, cooperation):
        raise Forbidden(
            _("Only the coordinators and the people of its actors see a cooperation's documents.")
        )
    found = cooperation.files.filter(pk=document_id).first()
    if found is None:
        raise NotFound(_("This document does not exist."))
    return found
