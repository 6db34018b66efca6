"""Reads about territories and households that are more than one line."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone

from grenier.core.models import (
    CHILD_AGE_LIMIT,
    Household,
    Role,
    Territory,
    TerritoryCount,
    TerritoryRole,
    User,
)


def household_match(q: str, prefix: str = "", *, email: bool = False, card_digits: int = 4) -> Q | None:
    """What a person typing ``q`` to find a household means: its name holds it (or its e-mail, with ``email``), or
    its card number holds its digits when there are at least ``card_digits`` of them; None for an empty search.
    ``prefix`` reaches the household from another model (``household__``)."""
    q = q.strip()
    if not q:
        return None
    match = Q(**{f"{prefix}name__icontains": q})
    if email:
        match |= Q(**{f"{prefix}email__icontains": q})
    digits = "".join(char for char in q if char.isdigit())
    if len(digits) >= max(card_digits, 1):
        match |= Q(**{f"{prefix}card_number__contains": digits})
    return match


def household_search(
    households: QuerySet[Household], *, q: str = "", active: bool | None = None
) -> QuerySet[Household]:
    if active is True:
        households = households.filter(left_on__isnull=True)
    elif active is False:
        households = households.filter(left_on__isnull=False)
    if (match := household_match(q, email=True)) is not None:
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
    """Counts only, never a person: what committee members and funders may read. Summed from the counts the
    database keeps by day (``TerritoryCount``): a few thousand rows, whatever the number of households."""
    today = timezone.localdate()
    month_start = today.replace(day=1)
    # Children as HouseholdPerson.is_child_on says: born after the day CHILD_AGE_LIMIT years ago (the 28th of
    # February for a 29th), or, with no birth date, marked as a child (counted on the last day there is).
    try:
        cutoff = today.replace(year=today.year - CHILD_AGE_LIMIT)
    except ValueError:
        cutoff = today.replace(year=today.year - CHILD_AGE_LIMIT, day=28)
    kind = TerritoryCount.Kind
    counts = {
        key: int(value or 0)
        for key, value in TerritoryCount.objects.filter(territory=territory)
        .aggregate(
            persons=Sum("n", filter=Q(kind=kind.PERSON_BORN)),
            children=Sum("n", filter=Q(kind=kind.PERSON_BORN, day__gt=cutoff)),
            households=Sum("n", filter=Q(kind=kind.HOUSEHOLD_JOINED)),
            joined=Sum("n", filter=Q(kind=kind.HOUSEHOLD_JOINED, day__gte=month_start)),
            left=Sum("n", filter=Q(kind=kind.HOUSEHOLD_LEFT)),
            left_month=Sum("n", filter=Q(kind=kind.HOUSEHOLD_LEFT, day__gte=month_start)),
        )
        .items()
    }
    roles = dict(
        TerritoryRole.objects.filter(territory=territory)
        .values_list("role")
        .annotate(n=Count("id"))
        .order_by()
    )
    return TerritoryFigures(
        households_active=counts["households"] - counts["left"],
        households_left=counts["left"],
        persons=counts["persons"],
        children=counts["children"],
        joined_this_month=counts["joined"],
        left_this_month=counts["left_month"],
        roles={role.value: roles.get(role.value, 0) for role in Role},
    )


def coordinators_of(territory: Territory) -> QuerySet[User]:
    return User.objects.filter(
        territory_roles__territory=territory, territory_roles__role=Role.COORDINATOR, is_active=True
    ).order_by("display_name", "email")
