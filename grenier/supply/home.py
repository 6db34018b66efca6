"""The supply platform's next actions on a person's territory home (``core.home``): a grower declares next week's
availability of each farm they act for; a kitchen enters next week's demand and records this week's deliveries."""

from __future__ import annotations

from datetime import timedelta

from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from grenier.core.home import NextAction, register
from grenier.core.models import Territory
from grenier.core.months import monday_of
from grenier.supply import access


@register
def supply_actions(request: HttpRequest, territory: Territory) -> list[NextAction]:
    this_monday = monday_of(timezone.localdate())
    next_monday = this_monday + timedelta(days=7)
    actions: list[NextAction] = []
    for farm in access.own_producers(request.user, territory):
        actions.append(
            NextAction(
                _("Declare next week's availability — %(farm)s") % {"farm": farm.farm_name},
                reverse("supply_availability", args=[territory.slug, next_monday.isoformat(), farm.pk]),
                primary=True,
            )
        )
    for kitchen in access.own_kitchens(request.user, territory):
        actions.append(
            NextAction(
                _("Enter next week's demand — %(kitchen)s") % {"kitchen": kitchen.name},
                reverse("supply_demand", args=[territory.slug, next_monday.isoformat(), kitchen.pk]),
                primary=True,
            )
        )
        actions.append(
            NextAction(
                _("Record this week's deliveries — %(kitchen)s") % {"kitchen": kitchen.name},
                reverse("supply_deliveries", args=[territory.slug, this_monday.isoformat(), kitchen.pk]),
            )
        )
    return actions
