"""Who may see and do what, per territory and role. Every page and API endpoint asks this module.

Two answers are distinguished on purpose:

* a person with no role at all in a territory is told it does not exist (404), so territories and their
  contents do not leak;
* a person with a role there but not the right one is refused (403).

Personal data of a household is visible only to the coordinators of its territory and to the household's own
persons. Committee members and funders see aggregated figures only.

A grouping of territories (a network, a département: ``Grouping``) has roles of its own (``GroupingRole``,
``GROUPING_GRANTS``): its coordinators read the indicators of its territories, each and together, with small
counts hidden, and nothing else. A grouping gives no role in its territories, so every territory page (a
household, a list of them) answers them 404 as to anyone without a role there. A person with no role in a grouping
is told it does not exist (404).
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import TYPE_CHECKING

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from grenier.core.errors import Forbidden, NotFound
from grenier.core.models import Grouping, GroupingRole, Household, Role, Territory, TerritoryRole

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from grenier.core.models import User

    AnyUser = User | AnonymousUser


class Action(StrEnum):
    """Things a role may do in a territory. Later modules add theirs here, so the whole policy reads in one place."""

    VIEW_TERRITORY = "territory.view"
    VIEW_AGGREGATES = "territory.aggregates"  # counts and sums, never a person
    LIST_HOUSEHOLDS = "households.list"  # names and contacts of every household
    MANAGE_HOUSEHOLDS = "households.manage"  # create, leave on someone's behalf
    VIEW_OWN_HOUSEHOLD = "household.own"
    MANAGE_ROLES = "roles.manage"
    # the common fund
    FUND_VIEW_FIGURES = "fund.figures"  # balance, outstanding credit, spending by store: aggregated only
    FUND_MANAGE = "fund.manage"  # rules, monthly run, stores, settlements, grants
    FUND_TAKE_PAYMENTS = "fund.pay"  # at a store the person is a cashier of
    FUND_OWN_CREDIT = "fund.own"  # a household's own credit and statement
    FUND_REFER = "fund.refer"  # refer a household to the fund with its consent; see one's own referrals only
    # governance: proposing and voting depend on membership of a body, checked by governance.services
    GOV_READ = "governance.read"  # proposals, results and the decision log: every person of the territory
    GOV_MANAGE = "governance.manage"  # close a due vote, retry a failed effect, manage bodies
    # the supply platform (PIAL): which farm or kitchen a person acts for is checked by supply.access
    SUPPLY_FIGURES = "supply.figures"  # development fund, volumes, EGalim shares: aggregated only
    SUPPLY_MANAGE = "supply.manage"  # kitchens, producers, contracts, any week's plan, invoices, advances
    SUPPLY_PRODUCE = "supply.produce"  # a producer's own availability, plan lines, shortfalls, statements
    SUPPLY_KITCHEN = "supply.kitchen"  # a kitchen's own demand, deliveries, receipts, invoices, EGalim
    # solidarity baskets: which garden or pickup point a person works for is checked by baskets.access
    BASKETS_FIGURES = "baskets.figures"  # baskets, parts paid, statements: aggregated (a funder: its own)
    BASKETS_EVERY_FUNDER = "baskets.funders"  # every funder's statements, not only one's own
    BASKETS_MANAGE = "baskets.manage"  # gardens, offers, agreements, subscriptions, distributions, payments
    BASKETS_REFER = "baskets.refer"  # refer a household with its consent; see one's own referrals only
    BASKETS_DISTRIBUTE = "baskets.distribute"  # check off a distribution sheet at a pickup point one serves
    BASKETS_OWN = "baskets.own"  # a household's own subscription, absences and payments
    # buying groups: which group a person coordinates or belongs to is checked by orders.access
    ORDERS_MANAGE = "orders.manage"  # groups, catalogues, cycles, purchase orders, the solidarity pot
    ORDERS_OWN = "orders.own"  # a household's own orders in the groups it belongs to
    ORDERS_SUPPLY = "orders.supply"  # a producer's own catalogue and purchase orders
    # biowaste: which kitchen a person records for is checked by waste.access
    WASTE_RECORD = "waste.record"  # a kitchen's own campaigns, weighings and biowaste deliveries
    WASTE_FIGURES = "waste.figures"  # every kitchen's campaigns and figures, read only
    # activities (workshops, visits, school sessions): which activity a person runs is checked by activities.access
    ACTIVITIES_MANAGE = "activities.manage"  # kinds, every activity and session, every registration
    ACTIVITIES_REGISTER = "activities.register"  # register one's own household, see one's own registrations
    ACTIVITIES_REFER = "activities.refer"  # register a household one follows as a social worker
    ACTIVITIES_CLASS = "activities.class"  # register a class on a school session, see one's own classes' only
    # the cooperation map: which actor a person acts for (edits, answers bookings for) is checked by network.access
    NETWORK_VIEW = "network.view"  # the map, actors, resources, cooperations (never a person's contact)
    NETWORK_MANAGE = "network.manage"  # every actor, cooperation and level change; a person's contacts
    # indicators: the territory's figures over a period, never a household (small counts hidden: reports.disclosure)
    REPORTS_VIEW = "reports.view"  # the dashboard, the definitions, the indicators' API, CSV and open data
    REPORTS_EXACT = "reports.exact"  # small counts shown exactly (those who already see every household)
    # groupings of territories: their roles are held in the grouping (GROUPING_GRANTS), never in a territory
    GROUPING_REPORTS = "grouping.reports"  # each indicator per territory and across them, small counts hidden


_EVERY_ROLE = frozenset({Action.VIEW_TERRITORY, Action.GOV_READ, Action.NETWORK_VIEW})

GRANTS: dict[Role, frozenset[Action]] = {
    Role.COORDINATOR: _EVERY_ROLE
    | {
        Action.VIEW_AGGREGATES,
        Action.LIST_HOUSEHOLDS,
        Action.MANAGE_HOUSEHOLDS,
        Action.MANAGE_ROLES,
        Action.FUND_VIEW_FIGURES,
        Action.FUND_MANAGE,
        Action.GOV_MANAGE,
        Action.SUPPLY_FIGURES,
        Action.SUPPLY_MANAGE,
        Action.BASKETS_FIGURES,
        Action.BASKETS_EVERY_FUNDER,
        Action.BASKETS_MANAGE,
        Action.BASKETS_DISTRIBUTE,
        Action.ORDERS_MANAGE,
        Action.WASTE_FIGURES,
        Action.ACTIVITIES_MANAGE,
        Action.NETWORK_MANAGE,
        Action.REPORTS_VIEW,
        Action.REPORTS_EXACT,
    },
    Role.COMMITTEE: _EVERY_ROLE
    | {
        Action.VIEW_AGGREGATES,
        Action.FUND_VIEW_FIGURES,
        Action.SUPPLY_FIGURES,
        Action.BASKETS_FIGURES,
        Action.BASKETS_EVERY_FUNDER,
        Action.WASTE_FIGURES,
        Action.REPORTS_VIEW,
    },
    Role.MEMBER: _EVERY_ROLE
    | {
        Action.VIEW_OWN_HOUSEHOLD,
        Action.FUND_OWN_CREDIT,
        Action.BASKETS_OWN,
        Action.ORDERS_OWN,
        Action.ACTIVITIES_REGISTER,
    },
    Role.CASHIER: _EVERY_ROLE | {Action.FUND_TAKE_PAYMENTS, Action.BASKETS_DISTRIBUTE},
    Role.PRODUCER: _EVERY_ROLE | {Action.SUPPLY_PRODUCE, Action.ORDERS_SUPPLY},
    Role.KITCHEN: _EVERY_ROLE | {Action.SUPPLY_KITCHEN, Action.WASTE_RECORD},
    Role.SOCIAL_WORKER: _EVERY_ROLE | {Action.BASKETS_REFER, Action.FUND_REFER, Action.ACTIVITIES_REFER},
    Role.FUNDER: _EVERY_ROLE
    | {
        Action.VIEW_AGGREGATES,
        Action.FUND_VIEW_FIGURES,
        Action.SUPPLY_FIGURES,
        Action.BASKETS_FIGURES,
        Action.REPORTS_VIEW,
    },
    # a school or a teacher: the calendar, its own classes' registrations; never a household
    Role.SCHOOL: _EVERY_ROLE | {Action.ACTIVITIES_CLASS},
}

GROUPING_GRANTS: dict[GroupingRole.Role, frozenset[Action]] = {
    GroupingRole.Role.COORDINATOR: frozenset({Action.GROUPING_REPORTS}),
}

_CACHE_ATTR = "_grenier_roles"


def roles_of(user: AnyUser, territory: Territory) -> frozenset[Role]:
    """The roles ``user`` holds in ``territory``, read once per user object (so once per request)."""
    if not user.is_authenticated or not user.is_active:
        return frozenset()
    cache: dict[int, frozenset[Role]] | None = getattr(user, _CACHE_ATTR, None)
    if cache is None:
        cache = {}
        for territory_id, role in TerritoryRole.objects.filter(user=user).values_list("territory_id", "role"):
            cache[territory_id] = cache.get(territory_id, frozenset()) | {Role(role)}
        setattr(user, _CACHE_ATTR, cache)
    return cache.get(territory.pk, frozenset())


def remember_roles(user: AnyUser, pairs: str | None) -> None:
    """Cache on this user object the roles its caller read in its own statement (the API's token look-up), as
    ``territory_id:role`` pairs joined by commas (``3:cashier,5:member``): ``roles_of`` reads no more."""
    cache: dict[int, frozenset[Role]] = {}
    for pair in (pairs or "").split(","):
        if pair:
            territory_id, role = pair.split(":", 1)
            cache[int(territory_id)] = cache.get(int(territory_id), frozenset()) | {Role(role)}
    setattr(user, _CACHE_ATTR, cache)


def forget_roles(user: AnyUser) -> None:
    """Drop the cached roles (after a grant or revoke on this user object)."""
    if hasattr(user, _CACHE_ATTR):
        delattr(user, _CACHE_ATTR)


def territories_of(user: AnyUser) -> QuerySet[Territory]:
    if not user.is_authenticated or not user.is_active:
        return Territory.objects.none()
    return Territory.objects.filter(roles__user=user).distinct().order_by("name")


def can(user: AnyUser, territory: Territory, action: Action) -> bool:
    return any(action in GRANTS[role] for role in roles_of(user, territory))


def require(user: AnyUser, territory: Territory, action: Action) -> None:
    """Raise ``NotFound`` if ``user`` has no role in ``territory``, ``Forbidden`` if none of its roles allows."""
    roles = roles_of(user, territory)
    if not roles:
        raise NotFound(_("This territory does not exist or you have no access to it."))
    if not any(action in GRANTS[role] for role in roles):
        raise Forbidden(_("Your role in this territory does not allow this."))


def territory_for(user: AnyUser, slug: str) -> Territory:
    """The territory named ``slug`` if ``user`` holds a role there; otherwise ``NotFound``, whether it exists or not."""
    territory = Territory.objects.filter(slug=slug).first()
    if territory is None or not roles_of(user, territory):
        raise NotFound(_("This territory does not exist or you have no access to it."))
    return territory


def is_person_of(user: AnyUser, household: Household) -> bool:
    return bool(user.is_authenticated and household.persons.filter(user_id=user.pk).exists())


def can_view_household(user: AnyUser, household: Household) -> bool:
    if can(user, household.territory, Action.LIST_HOUSEHOLDS):
        return True
    return can(user, household.territory, Action.VIEW_OWN_HOUSEHOLD) and is_person_of(user, household)


def household_for(user: AnyUser, territory: Territory, household_id: int) -> Household:
    """The household if ``user`` may see it; ``NotFound`` otherwise (its existence is personal too)."""
    require(user, territory, Action.VIEW_TERRITORY)
    household = Household.objects.filter(territory=territory, pk=household_id).first()
    if household is None or not can_view_household(user, household):
        raise NotFound(_("This household does not exist or you may not see it."))
    return household


def require_may_leave(user: AnyUser, household: Household) -> None:
    """Leaving is free: a household's own persons may always leave; coordinators may record it for them."""
    if can(user, household.territory, Action.MANAGE_HOUSEHOLDS):
        return
    if is_person_of(user, household):
        return
    raise Forbidden(_("Only the household itself or a coordinator may record that it leaves."))


def visible_households(user: AnyUser, territory: Territory) -> QuerySet[Household]:
    """Households whose personal data ``user`` may read in ``territory``."""
    if can(user, territory, Action.LIST_HOUSEHOLDS):
        return Household.objects.filter(territory=territory)
    if can(user, territory, Action.VIEW_OWN_HOUSEHOLD):
        return Household.objects.filter(territory=territory, persons__user_id=user.pk or 0).distinct()
    return Household.objects.none()


def grouping_roles_of(user: AnyUser, grouping: Grouping) -> frozenset[GroupingRole.Role]:
    """The roles ``user`` holds in ``grouping`` (none gives any role in its territories)."""
    if not user.is_authenticated or not user.is_active:
        return frozenset()
    return frozenset(
        GroupingRole.Role(role)
        for role in GroupingRole.objects.filter(user=user, grouping=grouping).values_list("role", flat=True)
    )


def can_in_grouping(user: AnyUser, grouping: Grouping, action: Action) -> bool:
    return any(action in GROUPING_GRANTS[role] for role in grouping_roles_of(user, grouping))


def require_in_grouping(user: AnyUser, grouping: Grouping, action: Action) -> None:
    """``NotFound`` if ``user`` has no role in ``grouping``, ``Forbidden`` if none of its roles allows ``action``."""
    roles = grouping_roles_of(user, grouping)
    if not roles:
        raise NotFound(_("This grouping does not exist or you have no access to it."))
    if not any(action in GROUPING_GRANTS[role] for role in roles):
        raise Forbidden(_("Your role in this grouping does not allow this."))


_SLUG = re.compile(r"[-a-zA-Z0-9_]{1,60}")  # a slug (``Grouping.slug``): anything else is looked up nowhere


def grouping_for(user: AnyUser, slug: str, action: Action) -> Grouping:
    """The grouping named ``slug`` if ``user`` may do ``action`` there; ``NotFound`` (no role, whether it exists or
    not) or ``Forbidden`` otherwise."""
    grouping = Grouping.objects.filter(slug=slug).first() if _SLUG.fullmatch(slug) else None
    if grouping is None:
        raise NotFound(_("This grouping does not exist or you have no access to it."))
    require_in_grouping(user, grouping, action)
    return grouping


def groupings_of(user: AnyUser) -> QuerySet[Grouping]:
    if not user.is_authenticated or not user.is_active:
        return Grouping.objects.none()
    return Grouping.objects.filter(roles__user=user).distinct().order_by("name")
