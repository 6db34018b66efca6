"""The printed documents: an invoice, a statement, a credit note and a delivery note are PDFs that say what they
are for (number, parties, lines, amounts, parts)."""

from __future__ import annotations

from datetime import date, timedelta

from grenier.supply import billing, documents
from grenier.supply.models import SupplyWeek

from ..pdf import pdf_text
from .conftest import Pial
from .test_billing import MONDAY, OCTOBER, fund, october


def issued(pial: Pial) -> dict[str, object]:
    october(pial)
    fund(pial, 10_000)
    billing.advance_grant(
        producer=pial.saules,
        amount_cents=1_000,
        monthly_deduction_cents=500,
        granted_on=date(2026, 9, 1),
        idempotency_key="a",
        actor=None,
    )
    docs = billing.invoices_issue(territory=pial.cast.territory, month=OCTOBER, actor=None)
    return {
        "school": next(d for d in docs if d.kitchen == pial.school),
        "saules": next(d for d in docs if d.producer == pial.saules),
    }


def test_a_kitchen_invoice_shows_parties_lines_and_the_price_parts(pial: Pial) -> None:
    pial.platform.siret = "88812345600019"
    pial.platform.address = "2 place du Marché, 31110 Luchon"
    pial.platform.save()
    school = issued(pial)["school"]
    text = pdf_text(documents.invoice_pdf(school))  # type: ignore[arg-type]
    for expected in (
        "PIAL-00002",
        "PIAL de la Vall",  # the issuer (accents are encoded by the font)
        "88812345600019",
        "21310329700016",  # the kitchen's SIRET
        "Carottes",
        "Poireaux",
        "Ferme des Saules",
        "9,5 kg",
        "20,90",  # 9,5 kg of carrots
        "32,05",  # producers' part
        "3,15",  # service fee
        "1,45",  # levy
        "36,65",  # total
        "5 kg *",  # billed as planned, and said so
    ):
        assert expected in text, expected


def test_a_statement_shows_the_deduction_and_the_net(pial: Pial) -> None:
    statement = issued(pial)["saules"]
    text = pdf_text(documents.invoice_pdf(statement))  # type: ignore[arg-type]
    reference = f"PIAL-P{pial.saules.pk}-00001"
    for expected in (reference, "12345678900011", "1,90", "18,05", "-5,00", "13,05"):
        assert expected in text, expected


def test_a_credit_note_names_what_it_corrects(pial: Pial) -> None:
    school = issued(pial)["school"]
    carrots = school.lines.get(product__name="Carottes")  # type: ignore[attr-defined]
    note = billing.credit_note_issue(
        invoice=school,  # type: ignore[arg-type]
        lines=[(carrots, 1_000)],
        reason="Cageot abime",
        idempotency_key="n",
        actor=None,
    )
    text = pdf_text(documents.invoice_pdf(note))
    for expected in (note.reference, "PIAL-00002", "Cageot abime", "-1 kg", "-2,20"):
        assert expected in text, expected


def test_a_delivery_note_lists_the_planned_lines_and_leaves_room_for_signatures(pial: Pial) -> None:
    october(pial)
    week = SupplyWeek.objects.get(territory=pial.cast.territory, monday=MONDAY)
    pdf = documents.delivery_note_pdf(week=week, producer=pial.saules, kitchen=pial.school, day=MONDAY)
    text = pdf_text(pdf)
    for expected in ("Carottes", "10 kg", "9,5 kg", "Radis", "Ferme des Saules", "21310329700016"):
        assert expected in text, expected
    assert "Poireaux" not in text  # the Pic's leeks come on Thursday, from another farm
    empty = documents.delivery_note_pdf(
        week=week, producer=pial.terrasses, kitchen=pial.school, day=MONDAY + timedelta(days=3)
    )
    assert "Carottes" not in pdf_text(empty)


def test_an_invoice_carries_the_vat_mention_its_due_date_and_the_late_payment_terms(pial: Pial) -> None:
    pial.platform.payment_terms_days = 20
    pial.platform.save(update_fields=["payment_terms_days"])
    docs = issued(pial)
    school, statement = docs["school"], docs["saules"]
    due = school.issued_on + timedelta(days=20)  # type: ignore[attr-defined]
    assert billing.due_on(school) == due  # type: ignore[arg-type]
    text = pdf_text(documents.invoice_pdf(school))  # type: ignore[arg-type]
    for expected in ("293 B du CGI", f"{due:%d/%m/%Y}", "L441-10", "40,00"):
        assert expected in text, expected

    # a statement is paid by the platform, a credit note is not to be paid: no terms on them
    carrots = school.lines.get(product__name="Carottes")  # type: ignore[attr-defined]
    note = billing.credit_note_issue(
        invoice=school,  # type: ignore[arg-type]
        lines=[(carrots, 1_000)],
        reason="Cageot abime",
        idempotency_key="n",
        actor=None,
    )
    note_text = pdf_text(documents.invoice_pdf(note))
    assert "293 B du CGI" in note_text and "L441-10" not in note_text
    statement_text = pdf_text(documents.invoice_pdf(statement))  # type: ignore[arg-type]
    assert "L441-10" not in statement_text and "293 B" not in statement_text
    assert billing.due_on(note) is None and billing.due_on(statement) is None  # type: ignore[arg-type]
