"""Pages of the supply platform (PIAL): the weekly cycle for growers, kitchen managers and the coordinators.

A grower declares what its farm will have and reads what to deliver; a kitchen manager enters its demand and records
what arrived; the coordinator of the week computes the plan, adjusts it and publishes it. Every page resolves the
territory through ``territory_page``; which farm or kitchen a person acts for, and who may coordinate a week, is
answered by ``supply.access`` (not acting for a farm or kitchen answers 404, like another territory; a role that
does not allow the page answers 403). Services decide and refuse; the pages show their refusals.
"""

from __future__ import annotations

from grenier.supply.views.common import SUPPLY_ACTIONS, _kg, _receipt_words, parse_monday
from grenier.supply.views.declarations import availability, demand, shortfall
from grenier.supply.views.deliveries import deliveries
from grenier.supply.views.home import FarmWeek, home, week_to_coordinate
from grenier.supply.views.reference import contracts, kitchens, producers, products
from grenier.supply.views.week import (
    plan_compute,
    plan_line,
    plan_line_add,
    plan_publish,
    week,
    week_coordinator,
)

__all__ = [
    "SUPPLY_ACTIONS",
    "FarmWeek",
    "_kg",
    "_receipt_words",
    "availability",
    "contracts",
    "deliveries",
    "demand",
    "home",
    "kitchens",
    "parse_monday",
    "plan_compute",
    "plan_line",
    "plan_line_add",
    "plan_publish",
    "producers",
    "products",
    "shortfall",
    "week",
    "week_coordinator",
    "week_to_coordinate",
]
