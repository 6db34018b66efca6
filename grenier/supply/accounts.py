"""The supply platform's ledger accounts (euros). Balances follow the ledger's sign rule: what the platform holds
or is owed is positive, money that came from or went to the outside is on ``external:`` accounts.

* ``supply:kitchen:<id>``: negative while a kitchen owes its invoices; paying brings it back to zero.
* ``supply:producer:<id>``: positive while the platform owes a producer its part; paying the statement empties it.
* ``supply:fees``: the intermediation service fees retained.
* ``supply:devfund``: the development fund (guarded: never below zero); levies in, advances out, repayments in.
* ``external:supply-payments`` (kitchens' payments in), ``external:supply-payouts`` (payments and advances out).
"""

from __future__ import annotations

from grenier.core.models import Territory
from grenier.ledger import services as ledger
from grenier.ledger.models import Account, Unit

FEES = "supply:fees"
DEVFUND = "supply:devfund"
PAYMENTS_IN = "external:supply-payments"
PAYOUTS = "external:supply-payouts"


def kitchen_code(kitchen_id: int) -> str:
    return f"supply:kitchen:{kitchen_id}"


def producer_code(producer_id: int) -> str:
    return f"supply:producer:{producer_id}"


def kitchen_account(territory: Territory, kitchen_id: int) -> Account:
    return ledger.account_ensure(territory=territory, code=kitchen_code(kitchen_id), unit=Unit.EUR)


def producer_account(territory: Territory, producer_id: int) -> Account:
    return ledger.account_ensure(territory=territory, code=producer_code(producer_id), unit=Unit.EUR)


def fees_account(territory: Territory) -> Account:
    return ledger.account_ensure(territory=territory, code=FEES, unit=Unit.EUR, name="Frais d'intermédiation")


def devfund_account(territory: Territory) -> Account:
    return ledger.account_ensure(
        territory=territory, code=DEVFUND, unit=Unit.EUR, guarded=True, name="Fonds de développement"
    )


def external(territory: Territory, code: str) -> Account:
    return ledger.account_ensure(territory=territory, code=code, unit=Unit.EUR)
