"""The territory's yearly report as a PDF: per theme, each indicator's figure for the year beside the year before,
its definition in small type. Small counts are always hidden (the document circulates)."""

from __future__ import annotations

from django.utils.translation import gettext as _
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.platypus import Flowable, Paragraph, Spacer

from grenier.core.models import Territory
from grenier.core.pdf import build, escape
from grenier.reports import selectors
from grenier.reports.disclosure import Figure, Status
from grenier.reports.format import number_text
from grenier.reports.registry import Indicator, Period


def _text(figure: Figure, indicator: Indicator) -> str:
    if figure.status == Status.HIDDEN:
        return _("hidden")
    if figure.status == Status.NOT_MEASURED:
        return _("not measured")
    return number_text(figure.value, indicator.unit)


def yearly_pdf(territory: Territory, year: int) -> bytes:
    """The report of ``territory`` for ``year``, small counts hidden whoever asks."""
    styles = getSampleStyleSheet()
    found = selectors.dashboard(territory, Period(year), exact=False)
    title = _("%(territory)s — indicators %(year)s") % {"territory": territory.name, "year": year}
    story: list[Flowable] = [Paragraph(escape(title), styles["Title"])]
    for theme, rows in found.themes:
        story.append(Paragraph(escape(str(theme.label)), styles["Heading2"]))
        for row in rows:
            indicator = row.indicator
            line = _("%(name)s: %(now)s (%(before_year)s: %(before)s)") % {
                "name": indicator.name,
                "now": _text(row.now, indicator),
                "before_year": year - 1,
                "before": _text(row.year_before, indicator),
            }
            story.append(Paragraph(escape(line), styles["Normal"]))
            story.append(Paragraph(escape(indicator.definition), styles["Italic"]))
            story.append(Spacer(0, 4))
    return build(title, story)
