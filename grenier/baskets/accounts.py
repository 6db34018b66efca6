"""The baskets' ledger accounts (euros). Sign rule, as the ledger's: a balance is what the account's owner holds
(positive) or owes (negative), seen from the garden's books; money from or to the outside is on ``external:``.

* ``baskets:garden:<id>``: the value of the baskets the garden gave out and someone owes or paid for (positive,
  growing): each basket due credits it with the member's part plus the agreements' parts. A short part (nobody
  covered it) is not credited: the garden carries it.
* ``baskets:member:<garden>:<household>``: negative while the household owes member parts; its payments bring it
  back towards zero (positive: paid ahead).
* ``baskets:agreement:<id>``: negative by what the funder owes under the agreement for baskets due.
* ``external:baskets-payments``: euros paid by members (cash, cheque, transfer).
* ``external:baskets-funders``: euros paid by funders for what their agreements owe (``FunderPayment``); each
  brings its agreements' accounts back towards zero.
* ``external:baskets-food-credit``: member parts paid in food credit at the garden's store; the common fund settles
  that store in euros (``fund.services.settle``).

Money is recorded **for each basket due** (when the sheet is generated), not only for each basket collected: the
basket was harvested and packed for the household, and an unclaimed one is owed all the same; an announced
absence is never due.
"""

from __future__ import annotations

from grenier.core.models import Territory
from grenier.ledger import services as ledger
from grenier.ledger.models import Account, Unit

PAYMENTS_IN = "external:baskets-payments"
FOOD_CREDIT_IN = "external:baskets-food-credit"
FUNDERS_IN = "external:baskets-funders"


def garden_code(garden_id: int) -> str:
    return f"baskets:garden:{garden_id}"


def member_code(garden_id: int, household_id: int) -> str:
    return f"baskets:member:{garden_id}:{household_id}"


def agreement_code(agreement_id: int) -> str:
    return f"baskets:agreement:{agreement_id}"


def account(territory: Territory, code: str) -> Account:
    return ledger.account_ensure(territory=territory, code=code, unit=Unit.EUR)


def accounts(territory: Territory, codes: set[str]) -> dict[str, Account]:
    """The accounts with these codes, created where missing (one read for the ones that exist)."""
    found = {a.code: a for a in Account.objects.filter(territory=territory, code__in=codes)}
    for code in codes - set(found):
        found[code] = account(territory, code)
    return found
