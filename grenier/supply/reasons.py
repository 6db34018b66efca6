"""Why demand is left unmet, in words, from the reason code the planner and ``selectors.week_table`` give (the
optimiser's own ``reason`` text is English; these go through gettext). The one wording of the pages, the API and
the ``supply`` command."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext as _

from grenier.supply.models import Producer, Product
from grenier.supply.quantities import format_quantity


def reason_words(
    code: str, product: Product, numbers: dict[str, Any], farms: Mapping[int, Producer] | None = None
) -> str:
    """``numbers`` as ``selectors.TableRow.numbers``: the product's ``declared`` and ``asked`` totals of the week,
    the ``lots`` of the farms left out by their minimum lot and the ``farms`` a contract names. ``farms`` names
    those farms (read when not given)."""
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
        lots = list(numbers.get("lots", []))
        if farms is None:
            farms = Producer.objects.in_bulk([int(lot["producer"]) for lot in lots])
        named = ", ".join(
            _("%(farm)s (lot of %(lot)s)")
            % {
                "farm": farms[int(lot["producer"])].farm_name if int(lot["producer"]) in farms else "?",
                "lot": format_quantity(int(lot["minimum_lot"]), product),
            }
            for lot in lots
        )
        return _(
            "What is still asked is less than the minimum lot of the farms that have some left: %(lots)s."
        ) % {"lots": named or "—"}
    if code == "contract_farms":
        ids = [int(f) for f in numbers.get("farms", [])]
        known = farms if farms is not None and all(i in farms for i in ids) else Producer.objects.in_bulk(ids)
        named = ", ".join(sorted(known[i].farm_name for i in ids if i in known))
        return _(
            "The kitchen's contract names the farms that deliver it (%(farms)s): they have no more to send."
        ) % {"farms": named or "—"}
    if code == "below_step":
        return _("What is left is less than the planning step of this product (%(step)s).") % {
            "step": format_quantity(product.step, product)
        }
    if code == "solver_limit":
        return _("The solver stopped before proving the best plan.")
    if code == "changed":
        return _("The plan was changed after it was computed (by hand or after a shortfall).")
    if code == "not_planned":
        return _("The plan is not computed yet.")
    if code == "other":
        return _(
            "The most the declarations allow still leaves this unmet (minimum lots, farms named by contracts)."
        )
    return ""
