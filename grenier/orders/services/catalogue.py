"""A producer's catalogue of a buying group."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from grenier.core.errors import InvalidInput, NotFound
from grenier.core.models import User
from grenier.core.services import audit
from grenier.orders.models import (
    CatalogueProduct,
    Unit,
)
from grenier.orders.services.common import _invalid
from grenier.supply.models import Producer

# --- catalogues ---------------------------------------------------------------------------------------------------


def product_save(
    *,
    producer: Producer,
    name: str,
    unit: str,
    price_cents: int,
    case_size: int = 1,
    stock: int | None = None,
    is_active: bool = True,
    product: CatalogueProduct | None = None,
    actor: User | None,
) -> CatalogueProduct:
    """Add a product to a producer's catalogue, or change one (``product``). Open cycles keep the prices they froze."""
    errors: dict[str, list[str]] = {}
    name = name.strip()
    if not name:
        errors["name"] = [_("A product needs a name.")]
    if unit not in Unit.values:
        errors["unit"] = [_("Unknown unit.")]
    if not isinstance(price_cents, int) or isinstance(price_cents, bool) or price_cents <= 0:
        errors["price_cents"] = [_("A price above zero, in cents.")]
    if not isinstance(case_size, int) or case_size < 1:
        errors["case_size"] = [_("At least one unit per case.")]
    if stock is not None and (not isinstance(stock, int) or stock < 0):
        errors["stock"] = [_("A stock must be zero or more units.")]
    if errors:
        raise InvalidInput(_("Some fields are not valid."), errors=errors)
    if product is not None and product.producer_id != producer.pk:
        raise NotFound(_("This product is not in this farm's catalogue."))
    with transaction.atomic():
        clash = CatalogueProduct.objects.filter(producer=producer, name=name)
        if product is not None:
            clash = clash.exclude(pk=product.pk)
        if clash.exists():
            raise _invalid("name", _("This catalogue already has a product of this name."))
        if product is None:
            product = CatalogueProduct(producer=producer)
        product.name = name
        product.unit = unit
        product.price_cents = price_cents
        product.case_size = case_size
        product.stock = stock
        product.is_active = is_active
        product.updated_at = timezone.now()
        product.save()
        audit(
            territory=producer.territory,
            actor=actor,
            action="orders.product.save",
            subject=f"product:{product.pk}",
            price_cents=price_cents,
        )
    return product
