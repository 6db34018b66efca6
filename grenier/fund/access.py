"""Which stores, payments, settlements and referrals a person may reach in the common fund, beyond the role grid of
``core.permissions``: a cashier acts for the stores they are a cashier of, and only those; a social worker sees the
referrals they made, and only those. Pages, API and commands ask here, like ``supply.access``,
``baskets.access`` and ``orders.access``.

Asking for a payment of another store answers "not found".
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING

from django.db import connection
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from grenier.core import bearer, permissions
from grenier.core.errors import Forbidden, InvalidInput, NotFound
from grenier.core.models import Territory
from grenier.core.permissions import Action
from grenier.fund.models import FundReferral, Payment, Settlement, Store

if TYPE_CHECKING:
    from grenier.core.permissions import AnyUser


def cashier_stores(user: AnyUser, territory: Territory) -> list[Store]:
    """The stores ``user`` takes payments at (none without the cashier's action)."""
    if not permissions.can(user, territory, Action.FUND_TAKE_PAYMENTS):
        return []
    return list(Store.objects.filter(territory=territory, cashiers=user.pk or 0).order_by("name"))


# A call with an API token reads the person's stores in the token's territory in the token's own statement
# (``core.bearer.read_with_token``, registered by ``FundConfig.ready``): a till's payment asks no query of its own
# for its store. Read at every call, like the roles: a cashier removed from a store a moment ago is refused there.
STORES_READ_WITH_TOKEN = "fund.cashier_stores"  # noqa: S105 - a column's name
_STORE_FIELDS = ("id", "territory_id", "name", "status", "coverage_percent")  # in the model's order


def stores_column(vendor: str, quote: Callable[[str], str]) -> str:
    """The SQL of the token's person's stores in the token's territory (``t``, the token's row), as JSON text:
    ``[[id, territory_id, name, status, coverage_percent], ...]``, or NULL (PostgreSQL) / ``[]`` (SQLite) for none."""
    cashiers = Store.cashiers.field
    column = {field.attname: quote(field.column) for field in Store._meta.concrete_fields}
    values = ", ".join(f"fs.{column[name]}" for name in _STORE_FIELDS)
    rows = {
        "postgresql": f"CAST(JSON_AGG(JSON_BUILD_ARRAY({values})) AS TEXT)",
        "sqlite": f"JSON_GROUP_ARRAY(JSON_ARRAY({values}))",
    }[vendor]
    return (
        f"SELECT {rows} FROM {quote(Store._meta.db_table)} fs "  # noqa: S608 - names from the models' metadata
        f"JOIN {quote(cashiers.m2m_db_table())} fc ON fc.{quote(cashiers.m2m_column_name())} = fs.{column['id']} "
        f"WHERE fc.{quote(cashiers.m2m_reverse_name())} = t.user_id AND fs.{column['territory_id']} = t.territory_id"
    )


def _stores_read_with_token(user: AnyUser, territory: Territory, store_id: int | None) -> list[Store] | None:
    """The person's stores (``store_id`` alone when given) as the token's statement read them in this call;
    ``None`` for a call without a token."""
    columns = bearer.columns_read_with(user, territory)
    if columns is None:
        return None
    stores = []
    for values in json.loads(columns[STORES_READ_WITH_TOKEN] or "[]"):
        if store_id is not None and values[0] != store_id:
            continue
        # the other fields are deferred: read from the database if something asks for them
        store = Store.from_db(connection.alias, list(_STORE_FIELDS), values)
        store.territory = territory  # the token's territory, the stores' own
        stores.append(store)
    return stores


def cashier_store(user: AnyUser, territory: Territory, store_id: int | None) -> Store:
    """The one store a payment is taken at: ``store_id`` among the person's stores, or their only one."""
    permissions.require(user, territory, Action.FUND_TAKE_PAYMENTS)
    stores = _stores_read_with_token(user, territory, store_id)
    if stores is None:
        stores = cashier_stores(user, territory)
    if store_id is not None:
        stores = [store for store in stores if store.pk == store_id]
        if not stores:
            raise NotFound(_("You are not a cashier of this store."))
    if not stores:
        raise Forbidden(_("You are not a cashier of any store in this territory."))
    if len(stores) > 1:
        raise InvalidInput(
            _("Say which store."), errors={"store": [_("You work at several stores: give its id.")]}
        )
    return stores[0]


def store_payment(user: AnyUser, territory: Territory, payment_id: int) -> Payment:
    """A payment taken at one of the person's stores; any other is "not found"."""
    permissions.require(user, territory, Action.FUND_TAKE_PAYMENTS)
    payment = (
        Payment.objects.filter(pk=payment_id, territory=territory, store__cashiers=user.pk or 0)
        .select_related("store", "household")
        .first()
    )
    if payment is None:
        raise NotFound(_("No payment of your store has this number."))
    return payment


def settlements_visible(
    user: AnyUser, territory: Territory, rows: QuerySet[Settlement]
) -> QuerySet[Settlement]:
    """Every settlement for those who manage the fund, a cashier's own stores' otherwise (403 for anyone else)."""
    if permissions.can(user, territory, Action.FUND_MANAGE):
        return rows
    permissions.require(user, territory, Action.FUND_TAKE_PAYMENTS)
    return rows.filter(store__cashiers=user.pk or 0)


def referrals_of(user: AnyUser, territory: Territory) -> QuerySet[FundReferral]:
    """The referrals ``user`` may see: every one for a coordinator, one's own for a social worker, none otherwise."""
    found = FundReferral.objects.filter(territory=territory)
    if permissions.can(user, territory, Action.FUND_MANAGE):
        return found
    if permissions.can(user, territory, Action.FUND_REFER):
        return found.filter(social_worker=user.pk or 0)
    return found.none()


def require_referrals(user: AnyUser, territory: Territory) -> None:
    """The referrals' pages: a coordinator or a social worker; 403 for another role, 404 without a role here."""
    if not (
        permissions.can(user, territory, Action.FUND_MANAGE)
        or permissions.can(user, territory, Action.FUND_REFER)
    ):
        permissions.require(user, territory, Action.FUND_REFER)


def referral_for(user: AnyUser, territory: Territory, referral_id: int) -> FundReferral:
    """One referral ``user`` may see; any other is "not found" (a social worker never learns of another's)."""
    require_referrals(user, territory)
    found = (
        referrals_of(user, territory)
        .filter(pk=referral_id)
        .select_related("household", "social_worker", "decided_by")
        .first()
    )
    if found is None:
        raise NotFound(_("No referral of yours has this number."))
    return found
