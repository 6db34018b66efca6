"""What the activities' pages share: the page decorator, the sub-navigation's flags, rendering."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from grenier.activities import access
from grenier.core import permissions
from grenier.core.models import Territory
from grenier.core.permissions import Action
from grenier.core.views import territory_page

activities_page = territory_page(Action.VIEW_TERRITORY, nav="activities")
"""404 without a role here; every role sees the territory's sessions."""

organiser_page = territory_page(nav="activities", check=access.require_organiser)
"""404 without a role here; 403 for someone who neither coordinates nor runs an activity."""

registrant_page = territory_page(nav="activities", check=access.require_registrant)
"""404 without a role here; 403 for a role that registers nobody and runs no activity."""


def render_page(request: HttpRequest, territory: Territory, template: str, **context: Any) -> HttpResponse:
    user = request.user
    context.update(
        territory=territory,
        may_manage=access.manages_all(user, territory),
        may_organise=access.manages_all(user, territory)
        or access.managed_activities(user, territory).exists(),
        may_register=any(
            permissions.can(user, territory, action)
            for action in (
                Action.ACTIVITIES_REGISTER,
                Action.ACTIVITIES_REFER,
                Action.ACTIVITIES_MANAGE,
                Action.ACTIVITIES_CLASS,
            )
        ),
    )
    return render(request, f"activities/{template}", context)
