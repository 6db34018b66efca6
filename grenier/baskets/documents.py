"""The baskets' printed documents (ReportLab, A4): a pickup point's distribution sheet to tick by hand, and a
funder's statement for a period."""

from __future__ import annotations

from collections.abc import Sequence

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from reportlab.lib.styles import StyleSheet1, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Paragraph, Spacer, Table

from grenier.baskets.models import DistributionLine, DistributionSheet, LineStatus
from grenier.baskets.selectors import Statement
from grenier.core.money import format_cents
from grenier.core.pdf import WIDTH
from grenier.core.pdf import build as _build
from grenier.core.pdf import escape as _escape
from grenier.core.pdf import grid as _grid
from grenier.core.pdf import plain as _plain


def _money(cents: int) -> str:
    return _plain(format_cents(cents))


def sheet_pdf(sheet: DistributionSheet, lines: Sequence[DistributionLine]) -> bytes:
    styles = getSampleStyleSheet()
    point = sheet.pickup_point
    title = _("Distribution sheet")
    marks: dict[str, str] = {LineStatus.COLLECTED: "X", LineStatus.UNCLAIMED: "—", LineStatus.DUE: ""}
    rows = [[_("Household"), _("Basket"), _("Collected"), _("Signature")]]
    rows += [
        [
            Paragraph(_escape(line.household.display_name), styles["Normal"]),
            _escape(line.offer.name),
            marks[line.status],
            "",
        ]
        for line in lines
    ]
    story: list[Flowable] = [
        Paragraph(_escape(title), styles["Title"]),
        Paragraph(
            _escape(
                f"{point.garden.name} · {point.name} · {date_format(sheet.on, 'l j F Y')} · {point.opens_at:%H:%M}"
            ),
            styles["Heading2"],
        ),
        Paragraph(_escape(point.address), styles["Normal"]),
        Spacer(1, 6 * mm),
        Table(
            rows,
            colWidths=[WIDTH * 0.4, WIDTH * 0.25, WIDTH * 0.12, WIDTH * 0.23],
            style=_grid(),
            repeatRows=1,
        ),
        Spacer(1, 4 * mm),
        Paragraph(_escape(_("%(n)s baskets.") % {"n": len(lines)}), styles["Normal"]),
    ]
    return _build(title, story)


def _statement_summary(statement: Statement, styles: StyleSheet1) -> list[list[object]]:
    """The statement's first table: one row per agreement (baskets, due, paid, left, budget left), then the total."""
    summary: list[list[object]] = [
        [
            _("Agreement"),
            _("Garden"),
            _("Baskets"),
            _("Due for the period"),
            _("Paid"),
            _("Left to pay"),
            _("Budget left"),
        ]
    ]
    for row in statement.agreements:
        a = row.agreement
        summary.append(
            [
                Paragraph(_escape(a.name), styles["Normal"]),
                Paragraph(_escape(a.garden.name), styles["Normal"]),
                str(row.baskets),
                _money(row.funded_cents),
                _money(row.paid_cents),
                _money(row.left_cents),
                _money(a.left_cents),
            ]
        )
    summary.append(
        [
            _("Total"),
            "",
            str(statement.baskets),
            _money(statement.funded_cents),
            _money(statement.paid_cents),
            _money(statement.left_cents),
            "",
        ]
    )
    return summary


def _statement_payments(statement: Statement, styles: StyleSheet1) -> list[Flowable]:
    """The payments the funder made in the period, if any: a heading and their table."""
    if not statement.payments:
        return []
    paid = [[_("Received on"), _("For the baskets of"), _("Reference"), _("Amount")]] + [
        [
            date_format(p.received_on, "j F Y"),
            f"{date_format(p.period_start, 'j F Y')} - {date_format(p.period_end, 'j F Y')}",
            Paragraph(_escape(p.reference), styles["Normal"]),
            _money(p.amount_cents),
        ]
        for p in statement.payments
    ]
    return [
        Spacer(1, 5 * mm),
        Paragraph(_escape(_("Payments received")), styles["Heading3"]),
        Table(paid, repeatRows=1, style=_grid(right_from=3)),
    ]


def statement_pdf(statement: Statement) -> bytes:
    styles = getSampleStyleSheet()
    title = _("Co-financing statement")
    story: list[Flowable] = [
        Paragraph(_escape(title), styles["Title"]),
        Paragraph(
            _escape(
                f"{statement.funder.name} · {date_format(statement.start, 'j F Y')} - "
                f"{date_format(statement.end, 'j F Y')}"
            ),
            styles["Heading2"],
        ),
        Spacer(1, 4 * mm),
    ]
    story.append(Table(_statement_summary(statement, styles), repeatRows=1, style=_grid(right_from=2)))
    for row in statement.agreements:
        if not row.by_month:
            continue
        story += [Spacer(1, 5 * mm), Paragraph(_escape(row.agreement.name), styles["Heading3"])]
        months = [[_("Month"), _("Baskets"), _("Amount")]] + [
            [date_format(month, "F Y"), str(n), _money(cents)] for month, n, cents in row.by_month
        ]
        story.append(
            Table(
                months,
                repeatRows=1,
                style=_grid(right_from=1),
                colWidths=[WIDTH * 0.4, WIDTH * 0.2, WIDTH * 0.3],
            )
        )
    story += _statement_payments(statement, styles)
    story += [
        Spacer(1, 6 * mm),
        Paragraph(
            _escape(
                _("Printed on %(date)s by Grenier.") % {"date": date_format(timezone.localdate(), "j F Y")}
            ),
            styles["Italic"],
        ),
    ]
    return _build(title, story)


# --- the statement as CSV: one table per file -----------------------------------------------------------------------

STATEMENT_CSV_PARTS = ("baskets", "agreements", "payments")


def euros_csv(cents: int) -> str:
    """Cents as a French spreadsheet reads a number of euros: ``1234,56`` (no grouping, no sign of the currency)."""
    sign = "-" if cents < 0 else ""
    euros, rest = divmod(abs(int(cents)), 100)
    return f"{sign}{euros},{rest:02d}"


def statement_csv_rows(statement: Statement, part: str) -> list[list[object]]:
    """One table of a funder's statement, header first, amounts in euros: ``baskets`` (per agreement, day and
    pickup point), ``agreements`` (due, paid and budget per agreement) or ``payments`` (the funder's payments
    counted for the period)."""
    if part == "baskets":
        rows: list[list[object]] = [
            [_("agreement"), _("garden"), _("date"), _("pickup point"), _("baskets"), _("amount (€)")]
        ]
        for row in statement.agreements:
            for day, point, count, cents in row.by_day:
                rows.append(
                    [
                        row.agreement.name,
                        row.agreement.garden.name,
                        day.isoformat(),
                        point,
                        count,
                        euros_csv(cents),
                    ]
                )
        return rows
    if part == "agreements":
        rows = [
            [
                _("agreement"),
                _("garden"),
                _("baskets"),
                _("due for the period (€)"),
                _("paid for the period (€)"),
                _("left to pay (€)"),
                _("budget (€)"),
                _("budget used since the start (€)"),
                _("budget left (€)"),
            ]
        ]
        for row in statement.agreements:
            a = row.agreement
            rows.append(
                [
                    a.name,
                    a.garden.name,
                    row.baskets,
                    euros_csv(row.funded_cents),
                    euros_csv(row.paid_cents),
                    euros_csv(row.left_cents),
                    euros_csv(a.budget_cents),
                    euros_csv(a.spent_cents),
                    euros_csv(a.left_cents),
                ]
            )
        return rows
    if part == "payments":
        rows = [[_("received on"), _("for the baskets from"), _("to"), _("amount (€)"), _("reference")]]
        for p in statement.payments:
            rows.append(
                [
                    p.received_on.isoformat(),
                    p.period_start.isoformat(),
                    p.period_end.isoformat(),
                    euros_csv(p.amount_cents),
                    p.reference,
                ]
            )
        return rows
    raise ValueError(part)
