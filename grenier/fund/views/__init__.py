"""Pages of the common fund: the till (cashier, on a phone), a household's credit and statement, and the
coordinator's pages (figures, runs and rules, stores, settlements, grants, projection).

Every page resolves the territory and checks the permission through ``territory_page``; services decide.

A package by the people the pages are for: ``till``, ``member``, ``figures``, ``manage`` and ``referrals``; every
view is also named here.
"""

from grenier.fund.views.figures import (  # noqa: F401
    dashboard,
    projection,
)
from grenier.fund.views.manage import (  # noqa: F401
    grants,
    rule_set,
    runs,
    settlement_paid,
    settlement_pdf,
    settlements,
    settlements_csv,
    store_approve,
    store_suspend,
    stores,
)
from grenier.fund.views.member import (  # noqa: F401
    my_code,
    my_contribution,
    my_credit,
)
from grenier.fund.views.referrals import (  # noqa: F401
    referral_detail,
    referral_list,
    referral_new,
)
from grenier.fund.views.till import (  # noqa: F401
    receipt,
    refund,
    till,
)
