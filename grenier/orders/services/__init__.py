"""Every write of the buying groups. Pages, API and CLI call these; money moves only through the ledger.

Tiers set by a referral read ``baskets.Referral`` (the one dependency on the baskets app: a social worker's
referral of a household, with its consent).

Each function is keyword-only, runs in one transaction and leaves an audit line. Orders and payments take an
idempotency key: the same key again returns what the first call did. A closed cycle is never changed: every
service below refuses (``Conflict``, code ``cycle-closed``), and on PostgreSQL triggers refuse it too.

One module per part of a cycle's life: groups (tiers, pickup points, members), the catalogue, cycles (orders and
covers), the close, payments (households' payments, pickups, producers' payouts); names are read from here.
"""

from grenier.orders.services.catalogue import (  # noqa: F401
    product_save,
)
from grenier.orders.services.closing import (  # noqa: F401
    ClosePlan,
    ClosePreview,
    CloseResult,
    ProductPlan,
    close_due,
    close_plan,
    close_preview,
    cycle_close,
    cycle_delta,
    pot_balance,
    pot_balances,
)
from grenier.orders.services.common import (  # noqa: F401
    DEFAULT_TIERS,
    CloseEarly,
    CycleClosed,
    PotBelowZero,
)
from grenier.orders.services.cycles import (  # noqa: F401
    OrderResult,
    cover_record,
    cycle_open,
    order_cancel,
    order_place,
)
from grenier.orders.services.groups import (  # noqa: F401
    TierSetByReferral,
    coordinator_add,
    group_create,
    group_store_set,
    member_add_by_card,
    membership_join,
    membership_leave,
    pickup_point_create,
    tier_set,
    tier_set_by_referral,
)
from grenier.orders.services.payments import (  # noqa: F401
    paid_cents,
    payment_record,
    pickup_set,
    producer_owed_cents,
    producer_paid_cents,
    producer_pay,
)
