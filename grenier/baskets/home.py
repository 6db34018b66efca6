"""The solidarity baskets' next actions on a person's territory home (``core.home``): a social worker refers a
household and follows the referrals they made."""

from __future__ import annotations

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _

from grenier.core import permissions
from grenier.core.home import NextAction, register
from grenier.core.models import Territory
from grenier.core.permissions import Action


@register
def baskets_actions(request: HttpRequest, territory: Territory) -> list[NextAction]:
    if not permissions.can(request.user, territory, Action.BASKETS_REFER):
        return []
    return [
        NextAction(
            _("Refer a household to a solidarity basket"),
            reverse("baskets_referral_new", args=[territory.slug]),
            primary=True,
        ),
        NextAction(_("My referrals"), reverse("baskets_referrals", args=[territory.slug])),
    ]
