"""What a kitchen received on a delivery line."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from grenier.core.errors import Conflict
from grenier.core.models import User
from grenier.core.services import all_or_none, audit
from grenier.supply.models import (
    PlanLine,
    WeekStatus,
)
from grenier.supply.services.checks import _is_invoiced, _quantity, _subject


def receipt_record(*, line: PlanLine, received_quantity: int, note: str = "", actor: User | None) -> PlanLine:
    """The kitchen records what it received on a line of a published week (recording again overwrites, audited).

    What arrived is a fact whatever the billing: a line already invoiced (the month was invoiced before the kitchen
    recorded its last deliveries) is recorded too, and less than was billed is the kitchen's request for a credit
    note on that line (``billing.credit_requested``), shown to the coordinator on the invoice, form filled in."""
    _quantity(received_quantity, "received_quantity")
    with transaction.atomic():
        locked = PlanLine.objects.select_for_update().select_related("week__territory").get(pk=line.pk)
        if locked.week.status != WeekStatus.PUBLISHED:
            raise Conflict(_("Deliveries are recorded on a published plan."))
        invoiced = _is_invoiced(locked)
        before = locked.received_quantity
        locked.received_quantity = received_quantity
        locked.receipt_note = note.strip()[:300]
        locked.received_at = timezone.now()
        locked.received_by = actor
        locked.save(update_fields=["received_quantity", "receipt_note", "received_at", "received_by"])
        audit(
            territory=locked.week.territory,
            actor=actor,
            action="supply.receipt",
            subject=_subject(locked),
            before=before,
            after=received_quantity,
            invoiced=invoiced,
        )
    for name in ("received_quantity", "receipt_note", "received_at", "received_by"):
        setattr(line, name, getattr(locked, name))
    return locked


@dataclass(frozen=True)
class ReceiptItem:
    line: PlanLine
    received_quantity: int
    note: str = ""


def receipt_record_many(*, items: Sequence[ReceiptItem], actor: User | None) -> None:
    """What arrived on a delivery's lines, saved whole (:func:`receipt_record` for each), or none of it:
    ``ItemsRefused`` names every refused line by its index."""
    all_or_none(
        items,
        lambda item: receipt_record(
            line=item.line, received_quantity=item.received_quantity, note=item.note, actor=actor
        ),
    )
