"""Which stores, payments and settlements a person may reach in the common fund, beyond the role grid of
``core.permissions``: a cashier acts for the stores they are a cashier of, and only those. Pages, API and commands
ask here, like ``supply.access``, ``baskets.access`` and ``orders.access``.

Asking for a payment of another store answers "not found".
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from grenier.core import permissions
from grenier.core.errors import Forbidden, InvalidInput, NotFound
from grenier.core.models import Territory
from grenier.core.permissions import Action
from grenier.fund.models import Payment, Settlement, Store

if TYPE_CHECKING:
    from grenier.core.permissions import AnyUser


def cashier_stores(user: AnyUser, territory: Territory) -> list[Store]:
    """The stores ``user`` takes payments at (none without the cashier's action)."""
    if not permissions.can(user, territory, Action.FUND_TAKE_PAYMENTS):
        return []
    return list(Store.objects.filter(territory=territory, cashiers=user.pk or 0).order_by("name"))


def cashier_store(user: AnyUser, territory: Territory, store_id: int | None) -> Store:
    """The one store a payment is taken at: ``store_id`` among the person's stores, or their only one."""
    permissions.require(user, territory, Action.FUND_TAKE_PAYMENTS)
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
