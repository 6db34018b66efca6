"""

One module per subject: common (the decorators, the error summary), groups (home, a group and each of its
forms, one view per form), cycles (ordering, closing, covers, paying producers), documents (purchase orders,
pickup lists, a household's receipt), catalogues and referrals (a producer's catalogue, a social worker's tiers).
"""

from grenier.orders.views.catalogues import (  # noqa: F401
    catalogue,
    referred,
    referred_household,
    referrer_page,
)
from grenier.orders.views.common import (  # noqa: F401
    View,
    orders_page,
)
from grenier.orders.views.cycles import (  # noqa: F401
    cycle_close,
    cycle_cover,
    cycle_detail,
    order_cancel,
    producer_pay,
)
from grenier.orders.views.documents import (  # noqa: F401
    order_receipt,
    pickup_check,
    pickup_list,
    pickup_list_csv,
    pickup_list_pdf,
    purchase_order_csv,
    purchase_order_pdf,
)
from grenier.orders.views.groups import (  # noqa: F401
    group_card,
    group_cycle,
    group_detail,
    group_join,
    group_leave,
    group_member,
    group_point,
    group_tier,
    home,
    member_tier,
)
