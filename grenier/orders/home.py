"""The buying groups' next actions on a person's territory home (``core.home``): a social worker sets the tier of
the households they referred."""

from __future__ import annotations

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _

from grenier.core import permissions
from grenier.core.home import NextAction, register
from grenier.core.models import Territory
from grenier.core.permissions import Action


@register
def orders_actions(request: HttpRequest, territory: Territory) -> list[NextAction]:
    if not permissions.can(request.user, territory, Action.BASKETS_REFER):
        return []
    return [
        NextAction(
            _("Buying-group tiers of the households I referred"),
            reverse("orders_referred", args=[territory.slug]),
        )
    ]
