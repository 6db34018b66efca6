"""Every write of the supply platform's weekly cycle and reference data. Pages, API and CLI call these.

Each service is keyword-only, runs in one transaction and leaves an audit line. Permission is the callers' job
(:mod:`grenier.supply.access`); services check the input (``InvalidInput`` with field names) and the state of the
week (``Conflict``). Quantities are integers in the product's base unit (grams for kg products).

The week's life: ``week_ensure`` (OPEN, demand from the contracts' schedule) → ``demand_set`` /
``availability_declare`` → ``plan_compute`` (PLANNED; any later change of demand or availability sends it back to
OPEN) → ``plan_line_set`` (hand adjustments) → ``plan_publish`` (PUBLISHED; ProducerWeek rows carry each farm's gap
to its share) → ``shortfall_report`` (re-plan: the most demand met, then the fewest delivery lines changed, then
the least volume moved) and ``receipt_record``.
"""

from __future__ import annotations

from grenier.supply.services.deliveries import ReceiptItem, receipt_record, receipt_record_many
from grenier.supply.services.plan import plan_compute, plan_line_set, plan_publish
from grenier.supply.services.problem import (
    DEFAULT_KM,
    SOLVER_TIME_LIMIT,
    Problem,
    km_between,
    named_farms,
    shares_in_force,
    week_problem,
    week_shares,
)
from grenier.supply.services.reference import (
    contract_create,
    contract_line_set,
    contract_lines_in_force,
    distance_set,
    kitchen_create,
    platform_ensure,
    producer_create,
    producer_leave,
    producer_person_add,
    product_create,
    share_set,
)
from grenier.supply.services.shortfall import shortfall_report
from grenier.supply.services.weeks import (
    AvailabilityItem,
    DemandItem,
    availability_declare,
    availability_declare_many,
    demand_set,
    demand_set_many,
    schedule_split,
    week_coordinator_set,
    week_ensure,
)

__all__ = [
    "DEFAULT_KM",
    "SOLVER_TIME_LIMIT",
    "AvailabilityItem",
    "DemandItem",
    "Problem",
    "ReceiptItem",
    "availability_declare",
    "availability_declare_many",
    "contract_create",
    "contract_line_set",
    "contract_lines_in_force",
    "demand_set",
    "demand_set_many",
    "distance_set",
    "kitchen_create",
    "km_between",
    "named_farms",
    "plan_compute",
    "plan_line_set",
    "plan_publish",
    "platform_ensure",
    "producer_create",
    "producer_leave",
    "producer_person_add",
    "product_create",
    "receipt_record",
    "receipt_record_many",
    "schedule_split",
    "share_set",
    "shares_in_force",
    "shortfall_report",
    "week_coordinator_set",
    "week_ensure",
    "week_problem",
    "week_shares",
]
