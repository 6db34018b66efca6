"""Reads about territories and households that are more than one line."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from grenier.core.models import (
    CHILD_AGE_LIMIT,
    Household,
    HouseholdPerson,
    Role,
    Territory,
    TerritoryRole,
    User,
)


def household_search(
    households: QuerySet[Household], *, q: str = "", active: bool | None = None
) -> QuerySet[Household]:
    if active is True:
        households = households.filter(left_on__isnull=True)
    elif active is False:
        households = households.filter(left_on__isnull=False)
    q = q.strip()
    if q:
        digits = "".join(char for char in q if char.isdigit())
        match = Q(name__icontains=q) | Q(email__icontains=q)
        if len(digits) >= 4:
            match |= Q(card_number__contains=digits)
        households = households.filter(match)
    return households.prefetch_related("persons").order_by("name", "id")


@dataclass(frozen=True)
class TerritoryFigures:
    households_active: int
    households_left: int
    persons: int
    children: int
    joined_this_month: int
    left_this_month: int
    roles: dict[str, int]


def territory_figures(territory: Territory) -> TerritoryFigures:
    """Counts only, never a person: what committee members and funders may read."""
    today = timezone.localdate()
    month_start = today.replace(day=1)
    counts = Household.objects.filter(territory=territory).aggregate(
        active=Count("id", filter=Q(left_on__isnull=True)),
        left=Count("id", filter=Q(left_on__isnull=False)),
        joined=Count("id", filter=Q(joined_on__gte=month_start)),
        left_month=Count("id", filter=Q(left_on__gte=month_start)),
    )
    # Counted by the database, as HouseholdPerson.is_child_on says: born after the day CHILD_AGE_LIMIT years ago
    # (the 28th of February for a 29th), or, with no birth date, marked as a child.
    try:
        cutoff = today.replace(year=today.year - CHILD_AGE_LIMIT)
    except ValueError:
        cutoff = today.replace(year=today.year - CHILD_AGE_LIMIT, day=28)
    persons = HouseholdPerson.objects.filter(
        household__territory=territory, household__left_on__isnull=True
    ).aggregate(
        n=Count("id"),
        children=Count("id", filter=Q(birth_date__gt=cutoff) | Q(birth_date__isnull=True, is_child=True)),
    )
    roles = dict(
        TerritoryRole.objects.filter(territory=territory)
        .values_list("role")
        .annotate(n=Count("id"))
        .order_by()
    )
    return TerritoryFigures(
        households_active=counts["active"],
        households_left=counts["left"],
        persons=persons["n"],
        children=persons["children"],
        joined_this_month=counts["joined"],
        left_this_month=counts["left_month"],
        roles={role.value: roles.get(role.value, 0) for role in Role},
    )


def coordinators_of(territory: Territory) -> QuerySet[User]:
    return User.objects.filter(
        territory_roles__territory=territory, territory_roles__role=Role.COORDINATOR, is_active=True
    ).order_by("display_name", "email")
