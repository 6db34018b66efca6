"""The territory's yearly report as a PDF: per theme, a table of its indicators (the indicator, its figure for the
year, its figure the year before), each indicator's definition in small type under its name. Small counts are always
hidden (the document circulates)."""

from __future__ import annotations

from django.utils.translation import gettext as _
from reportlab.lib import colors
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Paragraph, Spacer, Table

from grenier.core.models import Territory
from grenier.core.pdf import WIDTH, build, escape, grid
from grenier.reports import selectors
from grenier.reports.disclosure import Figure, Status
from grenier.reports.format import number_text
from grenier.reports.registry import Indicator, Period
from grenier.reports.selectors import Row

# the indicator's column takes what the two figures leave
FIGURE_WIDTH = 32 * mm


def _text(figure: Figure, indicator: Indicator) -> str:
    if figure.status == Status.HIDDEN:
        return _("hidden")
    if figure.status == Status.NOT_MEASURED:
        return _("not measured")
    return number_text(figure.value, indicator.unit)


def _table(rows: list[Row], year: int, name: ParagraphStyle, small: ParagraphStyle) -> Table:
    """One theme's indicators: a row each, its name over its definition in small type, then its two figures."""
    cells: list[list[object]] = [[_("Indicator"), str(year), str(year - 1)]]
    for row in rows:
        indicator = row.indicator
        cells.append(
            [
                [Paragraph(escape(indicator.name), name), Paragraph(escape(indicator.definition), small)],
                escape(_text(row.now, indicator)),
                escape(_text(row.year_before, indicator)),
            ]
        )
    table = Table(
        cells, colWidths=[WIDTH - 2 * FIGURE_WIDTH, FIGURE_WIDTH, FIGURE_WIDTH], repeatRows=1, hAlign="LEFT"
    )
    style = grid(right_from=1)
    style.add("VALIGN", (0, 0), (-1, -1), "TOP")
    table.setStyle(style)
    return table


def yearly_pdf(territory: Territory, year: int) -> bytes:
    """The report of ``territory`` for ``year``, small counts hidden whoever asks."""
    styles = getSampleStyleSheet()
    name = ParagraphStyle(
        "indicator", parent=styles["Normal"], fontName="Helvetica-Bold", fontSize=9, leading=11
    )
    small = ParagraphStyle(
        "definition", parent=styles["Normal"], fontSize=6.5, leading=8, textColor=colors.HexColor("#444444")
    )
    found = selectors.dashboard(territory, Period(year), exact=False)
    title = _("%(territory)s — indicators %(year)s") % {"territory": territory.name, "year": year}
    story: list[Flowable] = [Paragraph(escape(title), styles["Title"])]
    for theme, rows in found.themes:
        story.append(Paragraph(escape(str(theme.label)), styles["Heading2"]))
        story.append(_table(rows, year, name, small))
        story.append(Spacer(0, 4 * mm))
    return build(title, story)
