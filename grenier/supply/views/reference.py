"""The reference pages: kitchens, farms, products and contracts."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from grenier.core import permissions
from grenier.core.models import Territory
from grenier.core.permissions import Action
from grenier.core.views import territory_page
from grenier.supply import access, quantities, services
from grenier.supply.models import (
    Contract,
    ContractLine,
    EgalimLabel,
    Kitchen,
    Producer,
    ProducerShare,
    Product,
)
from grenier.supply.views.common import SUPPLY_ACTIONS, _can, _qty, _require


def _reference(request: HttpRequest, territory: Territory) -> dict[str, Any]:
    _require(request, territory, *SUPPLY_ACTIONS)
    return {
        "territory": territory,
        "may_manage": permissions.can(request.user, territory, Action.SUPPLY_MANAGE),
    }


def _labels(codes: list[str]) -> list[str]:
    return [str(EgalimLabel(code).label) if code in EgalimLabel.values else code for code in codes or []]


@territory_page(Action.VIEW_TERRITORY, nav="supply")
def kitchens(request: HttpRequest, territory: Territory) -> HttpResponse:
    context = _reference(request, territory)
    rows = Kitchen.objects.filter(territory=territory).prefetch_related("managers")
    return render(request, "supply/kitchens.html", {**context, "page": "kitchens", "kitchens": rows})


@territory_page(Action.VIEW_TERRITORY, nav="supply")
def producers(request: HttpRequest, territory: Territory) -> HttpResponse:
    context = _reference(request, territory)
    shares = {pk: float(s) for pk, s in services.shares_in_force(territory, timezone.localdate()).items()}
    raw: dict[int, int] = {}
    for share in ProducerShare.objects.filter(
        producer__territory=territory, valid_from__lte=timezone.localdate()
    ).order_by("producer_id", "-valid_from"):
        raw.setdefault(share.producer_id, share.share_bp)
    # the people of a farm are shown to the group and its coordinators, not to committee members or funders
    show_people = _can(request, territory, Action.SUPPLY_MANAGE, Action.SUPPLY_PRODUCE)
    rows = [
        {
            "producer": producer,
            "labels": _labels(producer.certifications),
            "share": round(shares.get(producer.pk, 0.0) * 100, 1),
            "agreed": raw.get(producer.pk, 0) / 100,
            "people": [p.get_full_name() or p.email for p in producer.users.all()] if show_people else [],
        }
        for producer in Producer.objects.filter(territory=territory, on_platform=True).prefetch_related(
            "users"
        )
    ]
    return render(
        request,
        "supply/producers.html",
        {**context, "page": "producers", "rows": rows, "show_people": show_people},
    )


@territory_page(Action.VIEW_TERRITORY, nav="supply")
def products(request: HttpRequest, territory: Territory) -> HttpResponse:
    context = _reference(request, territory)
    rows = [
        {"product": product, "labels": _labels(product.egalim_labels)}
        for product in Product.objects.filter(territory=territory)
    ]
    return render(request, "supply/products.html", {**context, "page": "products", "rows": rows})


def _visible_contracts(request: HttpRequest, territory: Territory) -> QuerySet[Contract]:
    """Every contract to the coordinators, the figures' readers and the growers; a kitchen its own."""
    contracts = Contract.objects.filter(territory=territory)
    if _can(request, territory, Action.SUPPLY_MANAGE, Action.SUPPLY_FIGURES, Action.SUPPLY_PRODUCE):
        return contracts
    return contracts.filter(kitchen__in=access.kitchens_of(request.user, territory))


@territory_page(Action.VIEW_TERRITORY, nav="supply")
def contracts(request: HttpRequest, territory: Territory) -> HttpResponse:
    context = _reference(request, territory)
    weekdays = [
        _("Monday"),
        _("Tuesday"),
        _("Wednesday"),
        _("Thursday"),
        _("Friday"),
        _("Saturday"),
        _("Sunday"),
    ]
    rows = []
    for contract in (
        _visible_contracts(request, territory)
        .select_related("kitchen")
        .prefetch_related(
            Prefetch("lines", queryset=ContractLine.objects.select_related("product")), "producers"
        )
    ):
        rows.append(
            {
                "contract": contract,
                "days": [weekdays[int(d)] for d in contract.delivery_weekdays if 0 <= int(d) <= 6],
                "producers": [p.farm_name for p in contract.producers.all()],
                "lines": [
                    {
                        "line": line,
                        "unit": quantities.unit_label(line.product),
                        "weekly": _qty(line.weekly_quantity, line.product),
                        "minimum": _qty(line.minimum_quantity, line.product),
                        "maximum": _qty(line.maximum_quantity, line.product)
                        if line.maximum_quantity is not None
                        else "",
                    }
                    for line in contract.lines.all()
                ],
            }
        )
    return render(request, "supply/contracts.html", {**context, "page": "contracts", "rows": rows})
