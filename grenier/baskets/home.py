"""The solidarity baskets' next actions on a person's territory home (``core.home``): a member household sees its
next basket; a social worker refers a household and follows the referrals they made, with how many still wait for a
basket. (Other referrals, to the common fund for one, are their own app's provider: each adds its buttons.)"""

from __future__ import annotations

from django.db.models import Exists, OuterRef
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from grenier.baskets import access, selectors
from grenier.baskets.models import Referral, ReferralStatus, Subscription
from grenier.baskets.wording import in_sentence
from grenier.core import permissions
from grenier.core.home import NextAction, register
from grenier.core.models import Territory
from grenier.core.permissions import Action


@register
def baskets_actions(request: HttpRequest, territory: Territory) -> list[NextAction]:
    actions = _next_baskets(request, territory)
    if not permissions.can(request.user, territory, Action.BASKETS_REFER):
        return actions
    actions.append(
        NextAction(
            _("Refer a household to a solidarity basket"),
            reverse("baskets_referral_new", args=[territory.slug]),
            primary=True,
        )
    )
    waiting = waiting_referrals(territory, request.user.pk)
    label = (
        ngettext(
            "My referrals: %(count)s household waits for a basket",
            "My referrals: %(count)s households wait for a basket",
            waiting,
        )
        % {"count": waiting}
        if waiting
        else _("My referrals")
    )
    actions.append(NextAction(label, reverse("baskets_referrals", args=[territory.slug])))
    return actions


def waiting_referrals(territory: Territory, social_worker_id: int | None) -> int:
    """How many of the social worker's open referrals wait for a basket (``selectors.referral_status`` says
    ``member``: the household still in the territory, no basket ever taken at that garden), in one query."""
    return (
        Referral.objects.filter(
            territory=territory,
            social_worker_id=social_worker_id,
            status=ReferralStatus.OPEN,
            household__left_on__isnull=True,
        )
        .exclude(
            Exists(
                Subscription.objects.filter(
                    household_id=OuterRef("household_id"), offer__garden_id=OuterRef("garden_id")
                )
            )
        )
        .count()
    )


def _next_baskets(request: HttpRequest, territory: Territory) -> list[NextAction]:
    """A member household's next basket at each garden it takes one at."""
    today = timezone.localdate()
    subscriptions = Subscription.objects.filter(
        household__in=access.own_households(request.user, territory), stopped_on__isnull=True
    ).select_related("offer__garden", "pickup_point")
    actions = []
    for subscription in subscriptions.order_by("pk"):
        coming = [day for day, absent in selectors.next_baskets(subscription, today, count=4) if not absent]
        if coming:
            actions.append(
                NextAction(
                    _("My next basket: %(day)s at %(point)s")
                    % {
                        "day": in_sentence(date_format(coming[0], "l j F")),
                        "point": subscription.pickup_point.name,
                    },
                    reverse("baskets_mine", args=[territory.slug]),
                )
            )
    return actions
