"""The platform's printed documents (ReportLab, A4): a kitchen's invoice, a credit note, a producer's monthly
statement, and the delivery note a producer brings to a kitchen on a delivery day."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from io import BytesIO
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from grenier.core.money import format_cents
from grenier.supply import billing
from grenier.supply.models import (
    Invoice,
    InvoiceKind,
    Kitchen,
    PlanLine,
    Platform,
    Producer,
    SupplyWeek,
)
from grenier.supply.quantities import format_quantity, unit_label

WIDTH = A4[0] - 36 * mm
HEAD = colors.HexColor("#e6f0e8")


def _escape(text: str) -> str:
    return (text or "").replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _money(cents: int) -> str:
    """``format_cents`` with plain spaces: the PDF's standard fonts have no narrow no-break space."""
    return format_cents(cents).replace("\u202f", " ").replace("\u00a0", " ")


def _plain(text: str) -> str:
    return text.replace("\u202f", " ").replace("\u00a0", " ")


def _styles() -> dict[str, ParagraphStyle]:
    sheet = getSampleStyleSheet()
    small = ParagraphStyle("small", parent=sheet["Normal"], fontSize=8, leading=10)
    cell = ParagraphStyle("cell", parent=sheet["Normal"], fontSize=9, leading=11)
    return {
        "title": sheet["Title"],
        "h2": sheet["Heading2"],
        "normal": sheet["Normal"],
        "italic": sheet["Italic"],
        "small": small,
        "cell": cell,
    }


def _build(title: str, story: Sequence[Flowable]) -> bytes:
    buffer = BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        title=title,
        author="Grenier",
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=16 * mm,
        bottomMargin=16 * mm,
    )
    document.build(list(story))
    return buffer.getvalue()


def _grid(header_rows: int = 1, right_from: int | None = 1, extra: Sequence[Any] = ()) -> TableStyle:
    commands: list[Any] = [
        ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("FONTSIZE", (0, 0), (-1, -1), 9),
    ]
    if right_from is not None:
        commands.append(("ALIGN", (right_from, 0), (-1, -1), "RIGHT"))
    if header_rows:
        commands.append(("BACKGROUND", (0, 0), (-1, header_rows - 1), HEAD))
    commands.extend(extra)
    return TableStyle(commands)


def _party(label: str, name: str, siret: str, address: str, styles: dict[str, ParagraphStyle]) -> Paragraph:
    lines = [f"<b>{_escape(label)}</b>", _escape(name)]
    if address:
        lines.append(_escape(address))
    if siret:
        lines.append(_escape(_("SIRET %(siret)s") % {"siret": siret}))
    return Paragraph("<br/>".join(lines), styles["normal"])


def _parties(left: Paragraph, right: Paragraph) -> Table:
    return Table(
        [[left, right]],
        colWidths=[WIDTH / 2, WIDTH / 2],
        style=TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0)]),
    )


def _platform(invoice: Invoice) -> Platform:
    platform = Platform.objects.filter(territory_id=invoice.territory_id).first()
    return platform or Platform(territory_id=invoice.territory_id, name=invoice.territory.name)


def document_title(invoice: Invoice) -> str:
    if invoice.kind == InvoiceKind.CREDIT_NOTE:
        return _("Credit note")
    if invoice.producer_id is not None:
        return _("Monthly statement (self-billing)")
    return _("Invoice")


def invoice_pdf(invoice: Invoice) -> bytes:
    """A kitchen's invoice, a producer's statement, or a credit note on either."""
    styles = _styles()
    platform = _platform(invoice)
    is_statement = invoice.producer_id is not None
    title = document_title(invoice)
    issuer, customer = _invoice_parties(invoice, platform, is_statement, styles)
    due = billing.due_on(invoice, platform)
    facts = _invoice_facts(invoice, platform, due)
    rows, widths, any_planned = _invoice_rows(invoice, is_statement, styles)
    totals = _invoice_totals(invoice, is_statement)
    bold_last = [("FONTNAME", (0, len(totals) - 1), (-1, len(totals) - 1), "Helvetica-Bold")]

    story: list[Flowable] = [
        Paragraph(_escape(f"{title} {invoice.reference}"), styles["title"]),
        _parties(issuer, customer),
        Spacer(1, 5 * mm),
        Table(facts, colWidths=[45 * mm, WIDTH - 45 * mm], style=_grid(0, None)),
        Spacer(1, 5 * mm),
        Table(rows, colWidths=widths, style=_grid(1, 3), repeatRows=1),
        Spacer(1, 4 * mm),
        Table(totals, colWidths=[WIDTH - 40 * mm, 40 * mm], style=_grid(0, 1, bold_last)),
        Spacer(1, 5 * mm),
        *_invoice_notes(invoice, platform, is_statement, due, any_planned, styles),
    ]
    return _build(f"{title} {invoice.reference}", story)


def _invoice_parties(
    invoice: Invoice, platform: Platform, is_statement: bool, styles: dict[str, ParagraphStyle]
) -> tuple[Flowable, Flowable]:
    """Who issues the document and to whom: the platform and the kitchen, or (self-billed) the producer and the
    platform."""
    if is_statement:
        producer = invoice.producer
        assert producer is not None  # noqa: S101 - a statement always has its producer
        issuer = _party(
            _("Issued in the name of"),
            producer.legal_name or producer.farm_name,
            producer.siret,
            producer.address,
            styles,
        )
        customer = _party(_("To"), platform.name, platform.siret, platform.address, styles)
    else:
        kitchen = invoice.kitchen
        assert kitchen is not None  # noqa: S101 - a platform's invoice always has its kitchen
        issuer = _party(_("Issued by"), platform.name, platform.siret, platform.address, styles)
        customer = _party(_("Billed to"), kitchen.name, kitchen.siret, kitchen.address, styles)
    return issuer, customer


def _invoice_facts(invoice: Invoice, platform: Platform, due: date | None) -> list[list[str]]:
    facts = [
        [_("Number"), invoice.reference],
        [_("Issued on"), f"{invoice.issued_on:%d/%m/%Y}"],
        [_("Deliveries of"), f"{invoice.month:%m/%Y}"],
    ]
    if invoice.corrects_id is not None and invoice.corrects is not None:
        facts.append([_("Corrects"), invoice.corrects.reference])
        facts.append([_("Reason"), invoice.reason])
    if due is not None:
        facts.append([_("Due on"), f"{due:%d/%m/%Y}"])
        facts.append(
            [
                _("Payment terms"),
                _("%(days)s days from the date of issue") % {"days": platform.payment_terms_days},
            ]
        )
    if invoice.paid_at is not None:
        facts.append([_("Paid on"), f"{timezone.localtime(invoice.paid_at):%d/%m/%Y}"])
    return facts


def _invoice_rows(
    invoice: Invoice, is_statement: bool, styles: dict[str, ParagraphStyle]
) -> tuple[list[list[Any]], list[float], bool]:
    """The document's lines, the columns' widths, and whether a line was billed at the planned quantity."""
    other = _("Kitchen") if is_statement else _("Farm")
    rows: list[list[Any]] = [[_("Day"), _("Product"), other, _("Quantity"), _("Unit price"), _("Amount")]]
    any_planned = False
    lines = list(invoice.lines.select_related("product", "producer", "kitchen"))
    for line in lines:
        quantity = _plain(format_quantity(line.quantity, line.product))
        if line.billed_as_planned:
            quantity += " *"
            any_planned = True
        party = line.kitchen.name if is_statement else line.producer.farm_name
        rows.append(
            [
                f"{line.day:%d/%m}",
                Paragraph(_escape(line.product.name), styles["cell"]),
                Paragraph(_escape(party), styles["cell"]),
                quantity,
                f"{_money(line.unit_price_cents)} / {unit_label(line.product)}",
                _money(line.amount_cents),
            ]
        )
    widths = [16 * mm, 36 * mm, 40 * mm, 26 * mm, 31 * mm]
    widths.append(WIDTH - sum(widths))
    return rows, widths, any_planned


def _invoice_totals(invoice: Invoice, is_statement: bool) -> list[list[str]]:
    if is_statement:
        totals = [
            [_("Total of the deliveries (production cost and margin)"), _money(invoice.total_cents)],
            [_("Advance repayment deducted"), _money(-invoice.advance_deduction_cents)],
            [_("Net to pay to the producer"), _money(invoice.net_cents)],
        ]
    else:
        totals = [
            [_("Producers' part (production cost and margin)"), _money(invoice.producers_cents)],
            [_("Intermediation service fee"), _money(invoice.service_fee_cents)],
            [_("Development fund levy"), _money(invoice.levy_cents)],
            [_("Total"), _money(invoice.total_cents)],
        ]
    return totals


def _invoice_notes(
    invoice: Invoice,
    platform: Platform,
    is_statement: bool,
    due: date | None,
    any_planned: bool,
    styles: dict[str, ParagraphStyle],
) -> list[Flowable]:
    """The notes under the totals: the planned quantities' mark, self-billing or the prices' parts, VAT, payment
    terms and late penalties, and when it was generated."""
    notes: list[Flowable] = []
    if any_planned:
        notes.append(
            Paragraph(
                _escape(
                    _("* Billed at the planned quantity: no receipt had been recorded for this delivery.")
                ),
                styles["small"],
            )
        )
    if is_statement:
        notes.append(
            Paragraph(
                _escape(
                    _(
                        "Self-billing: drawn up by %(platform)s in the name and on behalf of the producer, who "
                        "accepts it. The service fee and the development fund levy are billed to the kitchens "
                        "by the platform and are not part of this statement."
                    )
                    % {"platform": platform.name}
                ),
                styles["small"],
            )
        )
    else:
        notes.append(
            Paragraph(
                _escape(
                    _(
                        "Unit prices are the contract's: production cost and margin paid to the producers, the "
                        "platform's intermediation service fee and the levy for the group's development fund."
                    )
                ),
                styles["small"],
            )
        )
        if platform.vat_mention:
            notes.append(Paragraph(_escape(platform.vat_mention), styles["small"]))
        if due is not None:
            notes.append(
                Paragraph(
                    _escape(
                        _(
                            "Payment due on %(due)s, no discount for early payment. Late payment: penalties at "
                            "%(times)s times the legal interest rate, and a fixed indemnity of %(indemnity)s for "
                            "recovery costs (French Commercial Code, art. L441-10 and D441-5)."
                        )
                        % {
                            "due": f"{due:%d/%m/%Y}",
                            "times": billing.LATE_PENALTY_LEGAL_RATE_MULTIPLE,
                            "indemnity": _money(billing.RECOVERY_INDEMNITY_CENTS),
                        }
                    ),
                    styles["small"],
                )
            )
    notes.append(
        Paragraph(
            _escape(_("Generated by Grenier on %(date)s.") % {"date": f"{timezone.localdate():%d/%m/%Y}"}),
            styles["small"],
        )
    )
    return notes


def delivery_lines(*, week: SupplyWeek, producer: Producer, kitchen: Kitchen, day: date) -> list[PlanLine]:
    return list(
        PlanLine.objects.filter(week=week, producer=producer, kitchen=kitchen, day=day)
        .select_related("product")
        .order_by("product__name", "pk")
    )


def delivery_note_pdf(*, week: SupplyWeek, producer: Producer, kitchen: Kitchen, day: date) -> bytes:
    """What ``producer`` brings ``kitchen`` on ``day``: the planned lines, a column to write what was received,
    and both signatures."""
    styles = _styles()
    platform = Platform.objects.filter(territory_id=week.territory_id).first()
    title = _("Delivery note")
    reference = f"BL-{day:%Y%m%d}-P{producer.pk}-K{kitchen.pk}"
    rows = _delivery_rows(week=week, producer=producer, kitchen=kitchen, day=day, styles=styles)
    widths = [60 * mm, 30 * mm, 30 * mm]
    widths.append(WIDTH - sum(widths))
    signature = Table(
        [
            [_("Delivered by (producer)"), _("Received by (kitchen)")],
            [_("Name, time and signature"), _("Name, time and signature")],
            ["", ""],
        ],
        colWidths=[WIDTH / 2, WIDTH / 2],
        rowHeights=[None, None, 24 * mm],
        style=_grid(1, None),
    )
    story: list[Flowable] = [
        Paragraph(_escape(f"{title} {reference}"), styles["title"]),
        _parties(
            _party(
                _("From"),
                producer.legal_name or producer.farm_name,
                producer.siret,
                producer.address,
                styles,
            ),
            _party(_("To"), kitchen.name, kitchen.siret, kitchen.address, styles),
        ),
        Spacer(1, 5 * mm),
        Table(
            [
                [_("Delivery day"), f"{day:%d/%m/%Y}"],
                [_("Week"), f"{week.monday:%G-W%V}"],
                [_("Platform"), platform.name if platform else week.territory.name],
            ],
            colWidths=[45 * mm, WIDTH - 45 * mm],
            style=_grid(0, None),
        ),
        Spacer(1, 5 * mm),
        Table(
            rows,
            colWidths=widths,
            rowHeights=[None] + [9 * mm] * (len(rows) - 1),
            style=_grid(1, 1, [("ALIGN", (3, 0), (3, -1), "LEFT")]),
            repeatRows=1,
        ),
        Spacer(1, 3 * mm),
        Paragraph(
            _escape(
                _(
                    "Write what was received in the Received column and any discrepancy (missing, damaged, "
                    "refused) in the note; the kitchen then records it on Grenier."
                )
            ),
            styles["small"],
        ),
        Spacer(1, 6 * mm),
        signature,
        Spacer(1, 4 * mm),
        Paragraph(
            _escape(_("Generated by Grenier on %(date)s.") % {"date": f"{timezone.localdate():%d/%m/%Y}"}),
            styles["small"],
        ),
    ]
    return _build(f"{title} {reference}", story)


def _delivery_rows(
    *, week: SupplyWeek, producer: Producer, kitchen: Kitchen, day: date, styles: dict[str, ParagraphStyle]
) -> list[list[Any]]:
    """The delivery note's table: each planned line, what was received and its note."""
    rows: list[list[Any]] = [[_("Product"), _("Planned"), _("Received"), _("Note")]]
    for line in delivery_lines(week=week, producer=producer, kitchen=kitchen, day=day):
        received = (
            _plain(format_quantity(line.received_quantity, line.product))
            if line.received_quantity is not None
            else ""
        )
        rows.append(
            [
                Paragraph(_escape(line.product.name), styles["cell"]),
                _plain(format_quantity(line.quantity, line.product)),
                received,
                Paragraph(_escape(line.receipt_note), styles["cell"]),
            ]
        )
    if len(rows) == 1:
        rows.append([_("Nothing planned for this day."), "", "", ""])
    return rows
