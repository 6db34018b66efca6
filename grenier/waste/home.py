"""Biowaste's next action on a person's territory home (``core.home``): a kitchen's manager weighs today's service
of each campaign under way in a kitchen they manage (one tap from the home to the weighing form)."""

from __future__ import annotations

from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from grenier.core.home import NextAction, register
from grenier.core.models import Territory
from grenier.waste import access
from grenier.waste.models import Campaign


@register
def waste_actions(request: HttpRequest, territory: Territory) -> list[NextAction]:
    today = timezone.localdate()
    running = Campaign.objects.filter(
        kitchen__in=access.kitchens_recording(request.user, territory),
        starts_on__lte=today,
        ends_on__gte=today,
    ).select_related("kitchen")
    return [
        NextAction(
            _("Weigh today's service — %(kitchen)s") % {"kitchen": campaign.kitchen.name},
            reverse("waste_weigh", args=[territory.slug, campaign.pk]),
            primary=True,
        )
        for campaign in running
    ]
