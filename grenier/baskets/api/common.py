"""What the baskets API's operations share: the router, and the call's territory for the roles allowed."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router

from grenier.api import territory_of
from grenier.core import permissions
from grenier.core.errors import Forbidden
from grenier.core.models import Territory
from grenier.core.permissions import Action

router = Router(tags=["baskets"])


# --- helpers -------------------------------------------------------------------------------------------------------


def _territory(request: HttpRequest, *actions: Action) -> Territory:
    """The call's territory (404 with no role there), then 403 unless a role allows one of ``actions``."""
    territory = territory_of(request)
    permissions.require(request.user, territory, Action.VIEW_TERRITORY)
    if not any(permissions.can(request.user, territory, action) for action in actions):
        raise Forbidden(_("Your role in this territory does not allow this."))
    return territory
