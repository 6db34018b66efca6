"""The buying groups' printed documents (ReportLab, A4) and spreadsheets (CSV, semicolon-separated for French
spreadsheets): a purchase order per producer and a cycle's pickup list, one block per household."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from io import BytesIO

from django.utils import timezone
from django.utils.translation import gettext as _
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from grenier.core.money import format_cents
from grenier.orders.models import OrderCycle, unit_label
from grenier.orders.selectors import PayoutRow, PurchaseOrder, Receipt

WIDTH = A4[0] - 36 * mm
HEAD = colors.HexColor("#e6f0e8")


def _escape(text: str) -> str:
    return (text or "").replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _money(cents: int) -> str:
    """``format_cents`` with plain spaces: the PDF's standard fonts have no narrow no-break space."""
    return format_cents(cents).replace("\u202f", " ").replace("\u00a0", " ")


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


def _grid() -> TableStyle:
    return TableStyle(
        [
            ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
            ("BACKGROUND", (0, 0), (-1, 0), HEAD),
            ("FONTSIZE", (0, 0), (-1, -1), 9),
            ("ALIGN", (1, 0), (-1, -1), "RIGHT"),
            ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ]
    )


def purchase_order_filename(po: PurchaseOrder, extension: str) -> str:
    return f"bon-de-commande-{po.cycle.pk}-{po.producer.pk}.{extension}"


def _quantity(po_line: object) -> int:
    final = getattr(po_line, "final", None)
    return int(final if final is not None else getattr(po_line, "ordered", 0))


def purchase_order_pdf(po: PurchaseOrder, payouts: PayoutRow | None = None) -> bytes:
    styles = getSampleStyleSheet()
    cycle = po.cycle
    story: list[Flowable] = [
        Paragraph(_escape(_("Purchase order")), styles["Title"]),
        Paragraph(
            "<br/>".join(
                [
                    f"<b>{_escape(cycle.group.name)}</b> — {_escape(cycle.name)}",
                    _escape(_("To: %(farm)s") % {"farm": po.producer.farm_name}),
                    _escape(
                        _("Delivery on %(date)s at %(place)s")
                        % {"date": cycle.delivery_date.strftime("%d/%m/%Y"), "place": cycle.pickup_point.name}
                    ),
                    _escape(cycle.pickup_point.address),
                    _escape(
                        _("Closed on %(date)s")
                        % {"date": timezone.localtime(cycle.closed_at).strftime("%d/%m/%Y %H:%M")}
                        if cycle.closed_at
                        else _("Provisional: the cycle is still open.")
                    ),
                ]
            ),
            styles["Normal"],
        ),
        Spacer(1, 6 * mm),
    ]
    rows: list[list[str]] = [
        [_("Product"), _("Unit"), _("Quantity"), _("Cases"), _("Unit price"), _("Total")]
    ]
    for line in po.lines:
        qty = _quantity(line)
        cases, loose = divmod(qty, line.product.case_size)
        rows.append(
            [
                line.product.name,
                unit_label(line.product.unit, qty),
                str(qty),
                f"{cases}" + (f" + {loose}" if loose else "") if line.product.case_size > 1 else "",
                _money(line.product.price_cents),
                _money(qty * line.product.price_cents),
            ]
        )
    rows.append([_("Total, at the full price"), "", "", "", "", _money(po.total_cents)])
    table = Table(
        rows, colWidths=[WIDTH * 0.34, WIDTH * 0.1, WIDTH * 0.12, WIDTH * 0.12, WIDTH * 0.16, WIDTH * 0.16]
    )
    style = _grid()
    style.add("FONTNAME", (0, -1), (-1, -1), "Helvetica-Bold")
    table.setStyle(style)
    story.append(table)
    story.append(Spacer(1, 4 * mm))
    story.append(
        Paragraph(
            _escape(_("The producer is paid the full price; the group's solidarity tiers never change it.")),
            styles["Italic"],
        )
    )
    if payouts is not None and payouts.owed_cents:
        story.append(Spacer(1, 4 * mm))
        paid_rows: list[list[str]] = [[_("Paid on"), _("Paid by"), _("Reference"), _("Amount")]]
        for payout in payouts.payouts:
            paid_rows.append(
                [
                    timezone.localtime(payout.created_at).strftime("%d/%m/%Y"),
                    payout.get_method_display(),
                    payout.reference,
                    _money(payout.amount_cents),
                ]
            )
        paid_rows.append([_("Left to pay"), "", "", _money(payouts.left_cents)])
        paid = Table(paid_rows, colWidths=[WIDTH * 0.2, WIDTH * 0.25, WIDTH * 0.35, WIDTH * 0.2])
        paid_style = _grid()
        paid_style.add("FONTNAME", (0, -1), (-1, -1), "Helvetica-Bold")
        paid.setStyle(paid_style)
        story.append(
            KeepTogether([Paragraph(_escape(_("Payments to the producer")), styles["Heading3"]), paid])
        )
    return _build(_("Purchase order"), story)


def purchase_order_csv(po: PurchaseOrder) -> str:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow(
        [
            "groupement",
            "cycle",
            "producteur",
            "produit",
            "unite",
            "quantite",
            "colisage",
            "prix_unitaire_centimes",
            "total_centimes",
        ]
    )
    for line in po.lines:
        qty = _quantity(line)
        writer.writerow(
            [
                po.cycle.group.name,
                po.cycle.name,
                po.producer.farm_name,
                line.product.name,
                unit_label(line.product.unit, qty),
                qty,
                line.product.case_size,
                line.product.price_cents,
                qty * line.product.price_cents,
            ]
        )
    return out.getvalue()


def pickup_list_pdf(cycle: OrderCycle, receipts: Sequence[Receipt]) -> bytes:
    styles = getSampleStyleSheet()
    story: list[Flowable] = [
        Paragraph(_escape(_("Pickup list")), styles["Title"]),
        Paragraph(
            _escape(
                f"{cycle.group.name} — {cycle.name} — {cycle.pickup_point.name} — {cycle.delivery_date:%d/%m/%Y}"
            ),
            styles["Normal"],
        ),
        Spacer(1, 5 * mm),
    ]
    for receipt in receipts:
        rows: list[list[str]] = [["[  ] " + receipt.order.household.display_name, _("Quantity"), ""]]
        for line in receipt.delivered_lines:
            qty = line.final_quantity if line.final_quantity is not None else line.quantity
            rows.append(
                [
                    f"{line.cycle_product.name} ({line.cycle_product.producer.farm_name})",
                    str(qty),
                    unit_label(line.cycle_product.unit, qty),
                ]
            )
        rows.append(
            [
                _("To pay: %(due)s — already paid: %(paid)s")
                % {"due": _money(receipt.due_cents), "paid": _money(receipt.paid_cents)},
                "",
                "",
            ]
        )
        table = Table(rows, colWidths=[WIDTH * 0.7, WIDTH * 0.12, WIDTH * 0.18])
        style = _grid()
        style.add("FONTNAME", (0, 0), (0, 0), "Helvetica-Bold")
        table.setStyle(style)
        story.append(KeepTogether([table, Spacer(1, 4 * mm)]))
    if not receipts:
        story.append(Paragraph(_escape(_("No order in this cycle.")), styles["Normal"]))
    return _build(_("Pickup list"), story)


def pickup_list_csv(receipts: Sequence[Receipt]) -> str:
    """One row per product a household collects (``ligne`` = ``produit``, no amounts), then one ``total`` row per
    household with what it pays and has paid: summing the amount columns gives the cycle's totals."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow(
        [
            "foyer",
            "ligne",
            "produit",
            "producteur",
            "quantite",
            "unite",
            "a_payer_centimes",
            "paye_centimes",
            "retire",
        ]
    )
    for receipt in receipts:
        name = receipt.order.household.display_name
        for line in receipt.delivered_lines:
            qty = line.final_quantity if line.final_quantity is not None else line.quantity
            writer.writerow(
                [
                    name,
                    "produit",
                    line.cycle_product.name,
                    line.cycle_product.producer.farm_name,
                    qty,
                    unit_label(line.cycle_product.unit, qty),
                    "",
                    "",
                    "",
                ]
            )
        writer.writerow(
            [
                name,
                "total",
                "",
                "",
                "",
                "",
                receipt.due_cents,
                receipt.paid_cents,
                "oui" if receipt.collected else "non",
            ]
        )
    return out.getvalue()
