"""A producer's catalogue, through the API."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.translation import gettext as _

from grenier.api import territory_of
from grenier.core.auth import user_of
from grenier.core.errors import NotFound
from grenier.orders import access, services
from grenier.orders.api.common import router
from grenier.orders.api.outputs import _product_out
from grenier.orders.api.schemas import CatalogueProductIn, CatalogueProductOut
from grenier.orders.models import (
    CatalogueProduct,
)


@router.get(
    "/orders/farms/{producer_id}/products", response=list[CatalogueProductOut], summary="A farm's catalogue"
)
def catalogue(request: HttpRequest, producer_id: int) -> list[CatalogueProductOut]:
    territory = territory_of(request)
    producer = access.producer_for(request.user, territory, producer_id)
    return [
        _product_out(p) for p in CatalogueProduct.objects.filter(producer=producer).select_related("producer")
    ]


@router.post(
    "/orders/farms/{producer_id}/products",
    response={201: CatalogueProductOut},
    summary="Add a product to a farm's catalogue (the farm's producer, or a coordinator)",
)
def product_create(
    request: HttpRequest, producer_id: int, payload: CatalogueProductIn
) -> tuple[int, CatalogueProductOut]:
    territory = territory_of(request)
    producer = access.producer_for(request.user, territory, producer_id)
    product = services.product_save(producer=producer, actor=user_of(request), **payload.dict())
    return 201, _product_out(product)


@router.put(
    "/orders/products/{product_id}", response=CatalogueProductOut, summary="Change a catalogue product"
)
def product_update(request: HttpRequest, product_id: int, payload: CatalogueProductIn) -> CatalogueProductOut:
    territory = territory_of(request)
    access.require_any(request.user, territory)
    product = CatalogueProduct.objects.filter(
        pk=product_id, producer__in=access.producers_of(request.user, territory)
    ).first()
    if product is None:
        raise NotFound(_("This product does not exist or you do not act for its farm."))
    saved = services.product_save(
        producer=product.producer, product=product, actor=user_of(request), **payload.dict()
    )
    return _product_out(saved)
