"""Why demand is left unmet, in words, from the reason code the planner and ``selectors.week_table`` give (the
optimiser's own ``reason`` text is English; these go through gettext). Used by the API and the ``supply`` command."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from grenier.supply.models import Product
from grenier.supply.quantities import format_quantity


def reason_words(code: str, product: Product, numbers: dict[str, Any]) -> str:
    """``numbers`` as ``selectors.TableRow.numbers``: the product's ``declared`` and ``asked`` totals of the week."""
    if code == "not_declared":
        return _("No farm declared any this week.")
    if code == "not_enough_declared":
        return _(
            "Not enough declared: %(declared)s available for %(asked)s asked (all kitchens and days)."
        ) % {
            "declared": format_quantity(int(numbers.get("declared", 0)), product),
            "asked": format_quantity(int(numbers.get("asked", 0)), product),
        }
    if code == "minimum_lots":
        return _("What is still asked is below the minimum lot of the farms that have some left.")
    if code == "solver_limit":
        return _("The solver stopped before proving the best plan.")
    if code == "changed":
        return _("The plan was changed by hand or after a shortfall.")
    if code == "not_planned":
        return _("The week has not been planned yet.")
    if code == "other":
        return _("Sharing the volume fairly between farms and their minimum lots together left this unmet.")
    return ""
