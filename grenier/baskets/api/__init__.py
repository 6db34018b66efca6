"""API of the solidarity baskets, under ``/api/v1/baskets/``: offers, a household's own subscriptions, a social
worker's own referrals, distribution sheets and their check-off, funders' statements.

Money is integer cents. Who sees what is the pages' rule (``baskets.access``): a referral, subscription, sheet or
funder one does not act for answers "not found"; a role that may not use an endpoint answers 403.
"""

from __future__ import annotations

# The router's operations are registered as their modules are imported: in this order, the order of the OpenAPI
# document's paths (offers and subscriptions, referrals, sheets, payments and statements, reference data).
# isort: off
from grenier.baskets.api.common import router
from grenier.baskets.api import subscriptions, referrals, sheets, payments, reference
# isort: on

__all__ = ["payments", "reference", "referrals", "router", "sheets", "subscriptions"]
