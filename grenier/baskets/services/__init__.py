"""Every write of the solidarity baskets. Pages, API and CLI call these; each runs in one transaction with its audit
line, and moves money only through the ledger (``accounts.py`` for the accounts and their sign rule).

A package by subject: ``gardens`` (settings, gardens, offers, pickup points), ``agreements``, ``referrals``
(and memberships), ``subscriptions``, ``distributions`` (sheets), ``payments``, ``workshops``; ``common`` holds what
they share. Every public name is re-exported here, so callers import as before.
"""

from __future__ import annotations

from grenier.baskets.services.agreements import PRIORITY_MAX, agreement_create, agreement_update
from grenier.baskets.services.common import EARLIEST, LATEST, PERIOD_MAX_DAYS
from grenier.baskets.services.distributions import (
    REOPEN_DAYS,
    Generated,
    distribution_generate,
    line_check,
    sheet_close,
    sheet_reopen,
)
from grenier.baskets.services.gardens import (
    WARN_WEEKS_MAX,
    garden_create,
    garden_update,
    offer_create,
    offer_update,
    pickup_point_create,
    pickup_point_update,
    settings_set,
    volunteer_add,
)
from grenier.baskets.services.payments import funder_payment_record, household_by_card, member_payment_record
from grenier.baskets.services.referrals import (
    NewHousehold,
    membership_ensure,
    referral_create,
    referral_withdraw,
)
from grenier.baskets.services.subscriptions import (
    absence_add,
    absence_remove,
    subscription_create,
    subscription_pause,
    subscription_resume,
    subscription_stop,
)
from grenier.baskets.services.workshops import workshop_record

__all__ = [
    "EARLIEST",
    "LATEST",
    "PERIOD_MAX_DAYS",
    "PRIORITY_MAX",
    "REOPEN_DAYS",
    "WARN_WEEKS_MAX",
    "Generated",
    "NewHousehold",
    "absence_add",
    "absence_remove",
    "agreement_create",
    "agreement_update",
    "distribution_generate",
    "funder_payment_record",
    "garden_create",
    "garden_update",
    "household_by_card",
    "line_check",
    "member_payment_record",
    "membership_ensure",
    "offer_create",
    "offer_update",
    "pickup_point_create",
    "pickup_point_update",
    "referral_create",
    "referral_withdraw",
    "settings_set",
    "sheet_close",
    "sheet_reopen",
    "subscription_create",
    "subscription_pause",
    "subscription_resume",
    "subscription_stop",
    "volunteer_add",
    "workshop_record",
]
