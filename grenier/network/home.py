"""The cooperation map's next actions on a person's territory home (``core.home``): booking requests waiting for the
answer of an actor's people, cooperations Grenier proposes waiting for a coordinator's confirmation."""

from __future__ import annotations

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import ngettext

from grenier.core import permissions
from grenier.core.home import NextAction, register
from grenier.core.models import Territory
from grenier.core.permissions import Action
from grenier.network import access
from grenier.network.models import Booking, BookingStatus, Cooperation, CooperationStatus


@register
def network_actions(request: HttpRequest, territory: Territory) -> list[NextAction]:
    user = request.user
    if not permissions.can(user, territory, Action.NETWORK_VIEW):
        return []
    actions: list[NextAction] = []
    waiting = Booking.objects.filter(
        status=BookingStatus.PENDING, resource__actor__in=access.own_actors(user, territory).values("pk")
    ).order_by("starts_on", "id")
    first = waiting.first()
    if first is not None:
        count = waiting.count()
        actions.append(
            NextAction(
                ngettext(
                    "%(count)d request to lend a resource waits for your answer",
                    "%(count)d requests to lend a resource wait for your answer",
                    count,
                )
                % {"count": count},
                reverse("network_resource", args=[territory.slug, first.resource_id]),
            )
        )
    if access.may_manage(user, territory):
        proposed = Cooperation.objects.filter(territory=territory, status=CooperationStatus.PROPOSED).count()
        if proposed:
            actions.append(
                NextAction(
                    ngettext(
                        "%(count)d cooperation Grenier runs waits for your confirmation",
                        "%(count)d cooperations Grenier runs wait for your confirmation",
                        proposed,
                    )
                    % {"count": proposed},
                    reverse("network_known", args=[territory.slug]),
                )
            )
    return actions
