"""The money documents read: a territory's, a kitchen's, a producer's, what was retained by month."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db.models import QuerySet, Sum
from django.utils.translation import gettext as _

from grenier.core.errors import NotFound
from grenier.core.models import Territory
from grenier.supply.access import documents_scope
from grenier.supply.models import (
    Invoice,
    Kitchen,
    Producer,
)


def documents(territory: Territory) -> QuerySet[Invoice]:
    return (
        Invoice.objects.filter(territory=territory)
        .select_related("kitchen", "producer", "corrects")
        .order_by("-issued_on", "-pk")
    )


def kitchen_invoices(kitchen: Kitchen) -> QuerySet[Invoice]:
    """A kitchen's invoices and credit notes, latest first."""
    return documents(kitchen.territory).filter(kitchen=kitchen)


def producer_statements(producer: Producer) -> QuerySet[Invoice]:
    """A producer's statements and their credit notes, latest first."""
    return documents(producer.territory).filter(producer=producer)


@dataclass(frozen=True)
class Retained:
    month: date
    service_fee_cents: int
    levy_cents: int
    billed_cents: int


def retained_by_month(territory: Territory) -> list[Retained]:
    """Per month, what the kitchens' invoices (less credit notes) retained: service fees and levies."""
    rows = (
        Invoice.objects.filter(territory=territory, kitchen__isnull=False)
        .values("month")
        .annotate(fee=Sum("service_fee_cents"), levy=Sum("levy_cents"), billed=Sum("total_cents"))
        .order_by("-month")
    )
    return [Retained(row["month"], row["fee"] or 0, row["levy"] or 0, row["billed"] or 0) for row in rows]


def documents_for(user: Any, territory: Territory) -> QuerySet[Invoice]:
    """The documents a person may read (:func:`grenier.supply.access.documents_scope`)."""
    return documents(territory).filter(documents_scope(user, territory))


def document_for(user: Any, territory: Territory, invoice_id: int) -> Invoice:
    invoice = documents_for(user, territory).filter(pk=invoice_id).first()
    if invoice is None:
        raise NotFound(_("No invoice you may read has this number."))
    return invoice
