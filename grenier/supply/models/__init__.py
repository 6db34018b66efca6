"""The supply platform (PIAL): a group of growers jointly supplying collective kitchens.

Who and what: the platform of a territory, its kitchens, producers (farms) and products, the distances between farms
and kitchens. Contracts with price parts. The weekly cycle: demand, declared availability, the plan (its lines are
also the delivery lines: a kitchen records what it received on them), shortfalls. Money: invoices and credit notes
numbered without gaps per issuer, cash advances repaid by deduction; every amount is also a ledger entry.

Quantities are integers in a product's *base unit*: grams for a product sold by the kg, pieces, bunches. Money is
integer cents. Prices are cents per *sales unit* (per kg, per piece, per bunch).

The models live in modules by subject (``reference``, ``contracts``, ``weeks``, ``money``); every name is also here.
"""

from grenier.supply.models.contracts import (  # noqa: F401
    Contract,
    ContractLine,
    ContractStatus,
)
from grenier.supply.models.money import (  # noqa: F401
    Advance,
    AdvanceRepayment,
    Invoice,
    InvoiceKind,
    InvoiceLine,
    InvoiceSeries,
)
from grenier.supply.models.reference import (  # noqa: F401
    BASE_PER_UNIT,
    Distance,
    EgalimLabel,
    Kitchen,
    KitchenKind,
    Platform,
    Producer,
    ProducerShare,
    Product,
    ProductFamily,
    SalesUnit,
)
from grenier.supply.models.weeks import (  # noqa: F401
    Availability,
    Demand,
    DemandSource,
    PlanChange,
    PlanChangeReason,
    PlanLine,
    ProducerWeek,
    Shortfall,
    SupplyWeek,
    WeekStatus,
)
