"""The common fund's ledger accounts in a territory: the euros held, the outside world (contributions, grants,
stores paid), the food credit issued, each household's credit wallet (guarded) and each store's credit received."""

from __future__ import annotations

from datetime import timedelta

from grenier.core.models import Household, Territory
from grenier.fund.models import (
    Store,
)
from grenier.ledger import services as ledger
from grenier.ledger.models import Account, Unit

FUND_EUR = "fund:eur"
CONTRIBUTIONS = "external:contributions"
GRANTS = "external:grants"
STORES_PAID = "external:stores"
CREDIT_ISSUER = "fund:credit-issued"
CODE_ATTEMPTS = 5
CODE_LOCK = timedelta(minutes=15)


def fund_account(territory: Territory) -> Account:
    return ledger.account_ensure(
        territory=territory, code=FUND_EUR, unit=Unit.EUR, guarded=True, name="Caisse (euros)"
    )


def _external(territory: Territory, code: str) -> Account:
    return ledger.account_ensure(territory=territory, code=code, unit=Unit.EUR)


def credit_issuer(territory: Territory) -> Account:
    return ledger.account_ensure(
        territory=territory, code=CREDIT_ISSUER, unit=Unit.CREDIT, name="Crédit émis"
    )


def household_credit_code(household_id: int) -> str:
    return f"household:{household_id}:credit"


def household_credit(household: Household) -> Account:
    return ledger.account_ensure(
        territory=household.territory,
        code=household_credit_code(household.pk),
        unit=Unit.CREDIT,
        guarded=True,
    )


def _store_credit_code(store_id: int) -> str:
    return f"store:{store_id}:credit"


def store_credit(store: Store) -> Account:
    # Not guarded: a refund after the month was settled leaves the store owing credit, netted next settlement.
    return ledger.account_ensure(
        territory=store.territory, code=_store_credit_code(store.pk), unit=Unit.CREDIT
    )
