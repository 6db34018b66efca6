"""API of the buying groups, under ``/api/v1/orders/``: catalogues, cycles (the open ones of a member's groups),
placing, changing and cancelling an order (member), closing a cycle, funders' covers, members' payments, the pickup
list and its check-off, adding a household by its card number (the group's coordinators), purchase orders and what
the producer was paid (a producer its own), tiers set by a social worker for the households they referred. Parse,
ask ``access``, call one service; the same permissions as the pages.

One module per subject, imported in this order (the order of the OpenAPI document's paths): common (the
router), schemas (every request and response body), outputs (rows to bodies), catalogues, cycles (orders, the close,
purchase orders), payments (payouts, receipts, payments, covers, pickups), members (by card, tiers of referred
households).
"""

from __future__ import annotations

# The router's operations are registered as their modules are imported: in this order, the order of the OpenAPI
# document's paths.
# isort: off
from grenier.orders.api.common import router
from grenier.orders.api import catalogues, cycles, payments, members
# isort: on

__all__ = ["catalogues", "cycles", "members", "payments", "router"]
