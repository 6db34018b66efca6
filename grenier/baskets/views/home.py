"""The baskets' home: gardens, this week, what waits for the person."""

from __future__ import annotations

from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from grenier.baskets import access, selectors
from grenier.baskets.models import Subscription
from grenier.baskets.views.common import BASKET_ACTIONS, _can, _render, _require
from grenier.core import permissions
from grenier.core.auth import user_of
from grenier.core.models import Territory
from grenier.core.permissions import Action
from grenier.core.views import territory_page


@territory_page(Action.VIEW_TERRITORY, nav="baskets")
def home(request: HttpRequest, territory: Territory) -> HttpResponse:
    _require(request, territory, *BASKET_ACTIONS)
    user = user_of(request)
    today = timezone.localdate()
    found = list(access.gardens_of(user, territory).order_by("name"))
    forecasts = selectors.budget_forecasts(found, today)
    active = dict(
        Subscription.objects.filter(offer__garden__in=found, stopped_on__isnull=True)
        .values_list("offer__garden_id")
        .annotate(n=Count("id"))
        .values_list("offer__garden_id", "n")
    )
    gardens = [
        {
            "garden": garden,
            "first_short": forecasts[garden.pk].first_short,
            "subscriptions": active.get(garden.pk, 0),
        }
        for garden in found
    ]
    points = access.pickup_points_of(user, territory)
    sheets = (
        list(selectors.sheets_for_points(points, today)) if _can(request, territory)["distribute"] else []
    )
    referrals = list(access.referrals_of(user, territory).select_related("household", "garden")[:5])
    own = list(
        access.subscriptions_of(user, territory).filter(stopped_on__isnull=True).select_related("offer")
        if permissions.can(user, territory, Action.BASKETS_OWN) and not access.manages(user, territory)
        else []
    )
    return _render(
        request,
        territory,
        "home.html",
        "home",
        gardens=gardens,
        sheets=sheets,
        referrals=referrals,
        own=own,
    )
