"""The fund's rules as pure functions: suggested contribution by means, allocation by household composition.

Kept apart from the database so the monthly run, the pages and the projection all compute them the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from django.utils.translation import gettext as _

from grenier.core.models import HouseholdPerson, consumption_units


@dataclass(frozen=True)
class Composition:
    persons: int
    children: int  # under the rule's age limit
    units_x10: int  # consumption units times 10 (1.8 → 18)


def composition(persons: Sequence[HouseholdPerson], on: date, child_age_limit: int = 14) -> Composition:
    children = sum(1 for person in persons if _is_child(person, on, child_age_limit))
    units = consumption_units(list(persons), on)
    return Composition(persons=len(persons), children=children, units_x10=int(units * 10))


def _is_child(person: HouseholdPerson, on: date, limit: int) -> bool:
    if person.birth_date is None:
        return person.is_child
    born = person.birth_date
    years = on.year - born.year - ((on.month, on.day) < (born.month, born.day))
    return years < limit


def suggested_contribution_cents(
    *,
    brackets: Sequence[Sequence[int | None]],
    minimum_cents: int,
    resources_cents: int | None,
    units_x10: int,
) -> int:
    """The bracket of the household's monthly resources per consumption unit; never below the minimum.

    Unknown resources suggest the minimum: nobody is asked more for not declaring.
    """
    if resources_cents is None:
        return minimum_cents
    per_unit = resources_cents * 10 // max(units_x10, 1)
    for up_to, suggested in brackets:
        if up_to is None or per_unit <= up_to:
            return max(int(suggested or 0), minimum_cents)
    return max(int(brackets[-1][1] or 0), minimum_cents)


def allocation_cents(
    *, base_cents: int, per_additional_person_cents: int, per_child_cents: int, composition: Composition
) -> int:
    """Base for the household + per additional person + extra per child under the age limit."""
    if composition.persons == 0:
        return 0
    return (
        base_cents
        + per_additional_person_cents * (composition.persons - 1)
        + per_child_cents * composition.children
    )


def validate_brackets(brackets: Sequence[Sequence[int | None]]) -> list[str]:
    """What is wrong with a scale's brackets, in words; empty when they are right."""
    problems: list[str] = []
    if not brackets:
        return [_("A scale needs at least one bracket.")]
    previous = -1
    for index, bracket in enumerate(brackets):
        if len(bracket) != 2:
            problems.append(_("Bracket %(n)s must be [up to, suggested].") % {"n": index + 1})
            continue
        up_to, suggested = bracket
        if suggested is None or not isinstance(suggested, int) or suggested < 0:
            problems.append(
                _("Bracket %(n)s: the suggested contribution must be a whole number of cents, zero or more.")
                % {"n": index + 1}
            )
        if up_to is None:
            if index != len(brackets) - 1:
                problems.append(_("Only the last bracket may be open-ended."))
            continue
        if not isinstance(up_to, int) or up_to <= previous:
            problems.append(_("Bracket %(n)s: bounds must increase.") % {"n": index + 1})
        else:
            previous = up_to
    if brackets and len(brackets[-1]) == 2 and brackets[-1][0] is not None:
        problems.append(_("The last bracket must be open-ended (no upper bound)."))
    return problems
