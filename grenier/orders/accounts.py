"""The buying groups' ledger accounts (euros) and their sign rule.

A cycle's close writes one entry: each household's account takes minus what it pays at its tier, each producer's
account plus the full price of what it delivers, and the group's solidarity pot the difference (plus when the
households paying above the price brought more than the others were given, minus otherwise). So:

* ``orders:group:<g>:household:<h>`` — negative while the household owes its order; its payments bring it to 0.
* ``orders:group:<g>:producer:<p>`` — positive while the group owes the producer the full price of its goods.
* ``orders:group:<g>:pot`` — the solidarity pot, guarded: never below zero. A funder's cover adds to it.
* ``orders:group:<g>:fund`` — negative while the common fund owes the group the food credit its members paid
  with (the fund settles its store in euros).
* ``external:orders-payments`` (members' euros in), ``external:orders-covers`` (funders' covers in),
  ``external:orders-payouts`` (paid out to producers).

Producers always receive the full price: the pot carries the difference, and the pot may not go below zero.
"""

from __future__ import annotations

from grenier.core.models import Territory
from grenier.ledger import services as ledger
from grenier.ledger.models import Account, Unit

PAYMENTS_IN = "external:orders-payments"
COVERS_IN = "external:orders-covers"
PAYOUTS = "external:orders-payouts"


def pot_code(group_id: int) -> str:
    return f"orders:group:{group_id}:pot"


def household_code(group_id: int, household_id: int) -> str:
    return f"orders:group:{group_id}:household:{household_id}"


def producer_code(group_id: int, producer_id: int) -> str:
    return f"orders:group:{group_id}:producer:{producer_id}"


def fund_code(group_id: int) -> str:
    return f"orders:group:{group_id}:fund"


def pot_account(territory: Territory, group_id: int) -> Account:
    return ledger.account_ensure(
        territory=territory, code=pot_code(group_id), unit=Unit.EUR, guarded=True, name="Caisse de solidarité"
    )


def household_account(territory: Territory, group_id: int, household_id: int) -> Account:
    return ledger.account_ensure(
        territory=territory, code=household_code(group_id, household_id), unit=Unit.EUR
    )


def producer_account(territory: Territory, group_id: int, producer_id: int) -> Account:
    return ledger.account_ensure(
        territory=territory, code=producer_code(group_id, producer_id), unit=Unit.EUR
    )


def fund_account(territory: Territory, group_id: int) -> Account:
    return ledger.account_ensure(territory=territory, code=fund_code(group_id), unit=Unit.EUR)


def external(territory: Territory, code: str) -> Account:
    return ledger.account_ensure(territory=territory, code=code, unit=Unit.EUR)


def balance(territory: Territory, code: str) -> int:
    return (
        Account.objects.filter(territory=territory, code=code).values_list("balance_cents", flat=True).first()
        or 0
    )
