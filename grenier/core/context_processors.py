"""What the shared layout needs on every page: the current territory, the person's territories and navigation."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from grenier.core import permissions
from grenier.core.models import Role, Territory
from grenier.core.permissions import Action

SUPPLY_ACTIONS = (Action.SUPPLY_MANAGE, Action.SUPPLY_FIGURES, Action.SUPPLY_PRODUCE, Action.SUPPLY_KITCHEN)


def supply_can(request: HttpRequest, territory: Territory) -> dict[str, bool]:
    """What the person may do on the supply platform of ``territory`` (the supply pages' sub-navigation asks)."""
    user = request.user
    return {
        "manage": permissions.can(user, territory, Action.SUPPLY_MANAGE),
        "figures": permissions.can(user, territory, Action.SUPPLY_FIGURES),
        "produce": permissions.can(user, territory, Action.SUPPLY_PRODUCE),
        "kitchen": permissions.can(user, territory, Action.SUPPLY_KITCHEN),
    }


BASKETS_ACTIONS = (
    Action.BASKETS_MANAGE,
    Action.BASKETS_FIGURES,
    Action.BASKETS_REFER,
    Action.BASKETS_DISTRIBUTE,
    Action.BASKETS_OWN,
)
ORDERS_ACTIONS = (Action.ORDERS_MANAGE, Action.ORDERS_OWN, Action.ORDERS_SUPPLY)
ACTIVITIES_ACTIONS = (Action.ACTIVITIES_MANAGE, Action.ACTIVITIES_REGISTER, Action.ACTIVITIES_REFER)

# The main navigation, in the order its links are most used: (key, label, URL name, the actions that show it; any
# one of them is enough). ``None`` for the member's own household, which is a role, not an action.
TABS: tuple[tuple[str, Any, str, tuple[Action, ...] | None], ...] = (
    ("households", _("Households"), "household_list", (Action.LIST_HOUSEHOLDS,)),
    ("my_household", _("My household"), "my_household", None),
    ("my_credit", _("My credit"), "fund_my_credit", (Action.FUND_OWN_CREDIT,)),
    ("till", _("Till"), "fund_till", (Action.FUND_TAKE_PAYMENTS,)),
    ("fund", _("Common fund"), "fund_dashboard", (Action.FUND_VIEW_FIGURES,)),
    ("supply", _("Supply"), "supply_home", SUPPLY_ACTIONS),
    ("baskets", _("Baskets"), "baskets_home", BASKETS_ACTIONS),
    ("orders", _("Buying groups"), "orders_home", ORDERS_ACTIONS),
    ("waste", _("Biowaste"), "waste_home", (Action.WASTE_RECORD, Action.WASTE_FIGURES)),
    ("activities", _("Activities"), "activities_home", ACTIVITIES_ACTIONS),
    ("governance", _("Votes"), "governance_proposals", (Action.GOV_READ,)),
    ("network", _("Cooperation map"), "network_map", (Action.NETWORK_VIEW,)),
    ("reports", _("Indicators"), "reports_dashboard", (Action.REPORTS_VIEW,)),
)

# A social worker's way into a module they do not otherwise see: the referrals they made there.
REFERRER_TABS = {
    "fund": (Action.FUND_REFER, "fund_referrals"),
    "orders": (
        Action.BASKETS_REFER,
        "orders_referred",
    ),  # the buying-group tiers of the households they referred
}


def _shows(request: HttpRequest, territory: Territory, actions: tuple[Action, ...] | None) -> bool:
    if actions is None:
        return Role.MEMBER in permissions.roles_of(request.user, territory)
    return any(permissions.can(request.user, territory, action) for action in actions)


def navigation(request: HttpRequest, territory: Territory) -> list[dict[str, Any]]:
    """The links a person's roles give in ``territory`` (``TABS``), each shown only to those it opens for."""
    items: list[dict[str, Any]] = [
        {"label": _("Home"), "url": reverse("territory_home", args=[territory.slug]), "key": "home"}
    ]
    for key, label, url_name, actions in TABS:
        url = url_name
        if key in REFERRER_TABS and not _shows(request, territory, actions):
            action, url = REFERRER_TABS[key]
            if not permissions.can(request.user, territory, action):
                continue
        elif not _shows(request, territory, actions):
            continue
        items.append({"label": label, "url": reverse(url, args=[territory.slug]), "key": key})
    return items


def shell(request: HttpRequest) -> dict[str, Any]:
    territory: Territory | None = getattr(request, "territory", None)
    user = request.user
    if not user.is_authenticated:
        return {"current_territory": None, "my_territories": [], "nav_items": []}
    return {
        "current_territory": territory,
        "my_territories": list(permissions.territories_of(user)),
        "nav_items": navigation(request, territory) if territory else [],
        "nav_current": getattr(request, "nav_current", ""),
        "my_roles": sorted(permissions.roles_of(user, territory)) if territory else [],
        "supply_can": supply_can(request, territory) if territory else {},
    }
