"""A kitchen records last Monday's delivery after the month was invoiced (issue 13, item 5): the receipt is recorded,
and receiving less than was billed is its request for a credit note on that line, which the coordinator finds on
the invoice with the form filled in."""

from __future__ import annotations

import html
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.messages import get_messages
from django.test import Client

from grenier.core.models import AuditEvent
from grenier.ledger.selectors import ledger_check
from grenier.supply import billing, services
from grenier.supply.models import Invoice, InvoiceKind, PlanLine

from .conftest import Pial
from .test_pages import _iso, _published, _url

pytestmark = pytest.mark.django_db

MONDAY = date(2026, 11, 30)  # the last day of November, a Monday
NOVEMBER = date(2026, 11, 1)


@pytest.fixture
def invoiced(pial: Pial) -> PlanLine:
    """The week of Monday 30 November published; on Friday 4 December November is invoiced, Monday's line as planned."""
    _published(pial, MONDAY)
    with time_machine.travel(datetime(2026, 12, 1, 9, 0, tzinfo=ZoneInfo("Europe/Paris")), tick=False):
        billing.invoices_issue(territory=pial.cast.territory, month=NOVEMBER, actor=pial.cast["coordinator"])
    line = (
        PlanLine.objects.filter(week__monday=MONDAY, kitchen=pial.school, day=MONDAY, quantity__gt=0)
        .select_related("product", "producer")
        .order_by("pk")
        .first()
    )
    assert line is not None and line.received_quantity is None
    assert billing.credit_requested(line) is None
    return line


def _form(line: PlanLine, received_units: int) -> dict[str, str]:
    data = {"delivery": f"{line.day.isoformat()}-{line.producer_id}"}
    for other in PlanLine.objects.filter(
        week=line.week, kitchen=line.kitchen, day=line.day, producer=line.producer
    ):
        units = other.quantity // other.product.base_per_unit
        data[f"l{other.pk}-received"] = str(received_units if other.pk == line.pk else units)
    return data


def test_a_kitchen_records_an_invoiced_delivery_and_asks_for_the_credit_note(
    pial: Pial, invoiced: PlanLine, login
) -> None:
    line = invoiced
    unit = line.product.base_per_unit
    short = line.quantity // unit - 1
    with time_machine.travel(datetime(2026, 12, 4, 17, 0, tzinfo=ZoneInfo("Europe/Paris")), tick=False):
        kitchen: Client = login(pial.cast["kitchen"])
        url = _url("supply_deliveries", pial, _iso(MONDAY), pial.school.pk)
        response = kitchen.post(url, _form(line, short))
        assert response.status_code == 302
        said = [str(m) for m in get_messages(response.wsgi_request)]
        line.refresh_from_db()
        assert line.received_quantity == line.quantity - unit
        invoice_line, quantity = billing.credit_requested(line) or (None, 0)
        assert invoice_line is not None and quantity == unit
        assert any(invoice_line.invoice.reference in text and "avoir" in text for text in said), said
        event = AuditEvent.objects.filter(action="supply.receipt", subject=f"planline:{line.pk}").get()
        assert event.data["invoiced"] is True

        # The coordinator finds the request on the invoice, the quantity already typed, and issues the note.
        coordinator: Client = login(pial.cast["coordinator"])
        invoice = invoice_line.invoice
        page = html.unescape(coordinator.get(_url("supply_money_invoice", pial, invoice.pk)).content.decode())
        assert "La cuisine demande un avoir de 1 kg" in page
        rows = {
            row["field"]: row
            for row in coordinator.get(_url("supply_money_invoice", pial, invoice.pk)).context["credit_rows"]
        }
        row = rows[f"q{invoice_line.pk}"]
        assert row["requested"] and row["value"] == "1"
        assert all(not r["value"] for name, r in rows.items() if name != f"q{invoice_line.pk}")
        issued = coordinator.post(
            _url("supply_money_credit_note", pial, invoice.pk),
            {
                f"q{invoice_line.pk}": row["value"],
                "reason": "Livraison du 30/11 incomplète",
                "idempotency_key": "late-1",
            },
        )
        assert issued.status_code == 302
        note = Invoice.objects.get(corrects=invoice, kind=InvoiceKind.CREDIT_NOTE)
        assert note.lines.get().quantity == -unit
        assert billing.credit_requested(line) is None  # asked once, credited once
        assert ledger_check(pial.cast.territory).ok


def test_recording_what_was_billed_after_the_invoice_asks_nothing(pial: Pial, invoiced: PlanLine) -> None:
    line = invoiced
    services.receipt_record(line=line, received_quantity=line.quantity, actor=pial.cast["kitchen"])
    assert billing.credit_requested(line) is None
    services.receipt_record(line=line, received_quantity=line.quantity + 1_000, actor=pial.cast["kitchen"])
    assert billing.credit_requested(line) is None  # more than billed: recorded, nothing to credit


@pytest.mark.parametrize("who", ["producer", "committee", "member", "outsider", "nobody"])
def test_nobody_else_records_the_kitchens_delivery(pial: Pial, invoiced: PlanLine, login, who: str) -> None:
    url = _url("supply_deliveries", pial, _iso(MONDAY), pial.school.pk)
    response = login(pial.cast[who]).post(url, _form(invoiced, 0))
    assert response.status_code in {403, 404}
    assert login(pial.other_kitchen).post(url, _form(invoiced, 0)).status_code == 404
    invoiced.refresh_from_db()
    assert invoiced.received_quantity is None
