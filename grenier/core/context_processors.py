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


def navigation(request: HttpRequest, territory: Territory) -> list[dict[str, Any]]:
    """The links a person's roles give in ``territory``, in the order they are most used."""
    user = request.user
    items: list[dict[str, Any]] = [
        {"label": _("Home"), "url": reverse("territory_home", args=[territory.slug]), "key": "home"}
    ]
    if permissions.can(user, territory, Action.LIST_HOUSEHOLDS):
        items.append(
            {
                "label": _("Households"),
                "url": reverse("household_list", args=[territory.slug]),
                "key": "households",
            }
        )
    if Role.MEMBER in permissions.roles_of(user, territory):
        items.append(
            {
                "label": _("My household"),
                "url": reverse("my_household", args=[territory.slug]),
                "key": "my_household",
            }
        )
    if permissions.can(user, territory, Action.FUND_OWN_CREDIT):
        items.append(
            {
                "label": _("My credit"),
                "url": reverse("fund_my_credit", args=[territory.slug]),
                "key": "my_credit",
            }
        )
    if permissions.can(user, territory, Action.FUND_TAKE_PAYMENTS):
        items.append({"label": _("Till"), "url": reverse("fund_till", args=[territory.slug]), "key": "till"})
    if permissions.can(user, territory, Action.FUND_VIEW_FIGURES):
        items.append(
            {
                "label": _("Common fund"),
                "url": reverse("fund_dashboard", args=[territory.slug]),
                "key": "fund",
            }
        )
    if any(permissions.can(user, territory, action) for action in SUPPLY_ACTIONS):
        items.append(
            {
                "label": _("Supply"),
                "url": reverse("supply_home", args=[territory.slug]),
                "key": "supply",
            }
        )
    if any(
        permissions.can(user, territory, action)
        for action in (
            Action.BASKETS_MANAGE,
            Action.BASKETS_FIGURES,
            Action.BASKETS_REFER,
            Action.BASKETS_DISTRIBUTE,
            Action.BASKETS_OWN,
        )
    ):
        items.append(
            {
                "label": _("Baskets"),
                "url": reverse("baskets_home", args=[territory.slug]),
                "key": "baskets",
            }
        )
    if any(
        permissions.can(user, territory, action)
        for action in (Action.ORDERS_MANAGE, Action.ORDERS_OWN, Action.ORDERS_SUPPLY)
    ):
        items.append(
            {
                "label": _("Buying groups"),
                "url": reverse("orders_home", args=[territory.slug]),
                "key": "orders",
            }
        )
    elif permissions.can(user, territory, Action.BASKETS_REFER):
        # a social worker: the buying-group tiers of the households they referred
        items.append(
            {
                "label": _("Buying groups"),
                "url": reverse("orders_referred", args=[territory.slug]),
                "key": "orders",
            }
        )
    if permissions.can(user, territory, Action.GOV_READ):
        items.append(
            {
                "label": _("Votes"),
                "url": reverse("governance_proposals", args=[territory.slug]),
                "key": "governance",
            }
        )
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
