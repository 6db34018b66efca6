"""The points of sale of the common fund: created, approved (with the share of a purchase paid in credit),
suspended, and their cashiers."""

from __future__ import annotations

from datetime import date

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from grenier.core.errors import InvalidInput
from grenier.core.models import Territory, User
from grenier.core.services import audit
from grenier.fund.models import (
    Store,
    StoreStatus,
)


def store_create(
    *, territory: Territory, name: str, address: str = "", kind: str = "", actor: User | None
) -> Store:
    if not name.strip():
        raise InvalidInput(_("A store needs a name."), errors={"name": [_("This field is required.")]})
    store, _created = Store.objects.get_or_create(
        territory=territory, name=name.strip(), defaults={"address": address, "kind": kind}
    )
    return store


def store_approve(
    *, store: Store, coverage_percent: int = 100, on: date | None = None, actor: User | None
) -> Store:
    """Approve a point of sale: from now on it takes food-credit payments, covering ``coverage_percent`` of a purchase."""
    if not 1 <= coverage_percent <= 100:
        raise InvalidInput(
            _("Coverage is between 1 and 100 %."), errors={"coverage_percent": [_("Between 1 and 100.")]}
        )
    with transaction.atomic():
        locked = Store.objects.select_for_update().get(pk=store.pk)
        locked.status = StoreStatus.APPROVED
        locked.approved_on = on or timezone.localdate()
        locked.suspended_on = None
        locked.coverage_percent = coverage_percent
        locked.save(update_fields=["status", "approved_on", "suspended_on", "coverage_percent"])
        audit(
            territory=locked.territory, actor=actor, action="fund.store.approve", subject=f"store:{locked.pk}"
        )
    return locked


def store_suspend(*, store: Store, on: date | None = None, actor: User | None) -> Store:
    with transaction.atomic():
        locked = Store.objects.select_for_update().get(pk=store.pk)
        locked.status = StoreStatus.SUSPENDED
        locked.suspended_on = on or timezone.localdate()
        locked.save(update_fields=["status", "suspended_on"])
        audit(
            territory=locked.territory, actor=actor, action="fund.store.suspend", subject=f"store:{locked.pk}"
        )
    return locked


def store_cashier_add(*, store: Store, user: User, actor: User | None) -> None:
    from grenier.core.models import Role
    from grenier.core.services import role_grant

    store.cashiers.add(user)
    role_grant(user=user, territory=store.territory, role=Role.CASHIER, actor=actor)
