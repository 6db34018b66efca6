"""API of the supply platform (PIAL): the weekly cycle, money and EGalim shares.

Quantities are integers in the product's *base unit* (grams for a product sold by the kg, else pieces or bunches),
given beside the same quantity formatted in its sales unit (``quantity_text``: "12,5 kg"). Money is integer cents.

Who sees what of a week: a coordinator of the territory, or the coordinator of the week, all of it; a grower its
farms' availability, and their lines once the plan is published; a kitchen manager its kitchens' demand, and their
deliveries once published. A farm or kitchen one does not act for answers "not found".
"""

from __future__ import annotations

# The router's operations are registered as their modules are imported: in this order, the order of the OpenAPI
# document's paths (weeks, then the week's writes, money, EGalim).
# isort: off
from grenier.supply.api.common import router
from grenier.supply.api import weeks, plan, billing, egalim
# isort: on

__all__ = ["billing", "egalim", "plan", "router", "weeks"]
