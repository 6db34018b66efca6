"""The activities' next actions on a person's territory home (``core.home``): a member household's next session,
a school's classes, an organiser's sessions to run."""

from __future__ import annotations

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _

from grenier.activities import access
from grenier.activities.models import Audience
from grenier.core import permissions
from grenier.core.home import NextAction, register
from grenier.core.models import Territory
from grenier.core.permissions import Action


@register
def activities_actions(request: HttpRequest, territory: Territory) -> list[NextAction]:
    user = request.user
    actions: list[NextAction] = []
    if permissions.can(user, territory, Action.ACTIVITIES_REGISTER):
        actions.append(
            NextAction(_("Workshops and visits"), reverse("activities_home", args=[territory.slug]))
        )
    if permissions.can(user, territory, Action.ACTIVITIES_CLASS):
        actions.append(
            NextAction(
                _("Register a class"),
                reverse("activities_home", args=[territory.slug]) + f"?audience={Audience.SCHOOL.value}",
                primary=True,
            )
        )
    if access.managed_activities(user, territory).exists() and not access.manages_all(user, territory):
        actions.append(
            NextAction(_("The activities I run"), reverse("activities_organise", args=[territory.slug]))
        )
    return actions
