"""The printable monthly programme (PDF, A4): a month of a territory's sessions grouped by day, each with its
time, what it is, where, who may come, its price and the places left, to pin up at a garden or hand out at a pickup point.
Nobody is named on it, like on the public calendar."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from itertools import groupby

from django.utils.formats import date_format
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from reportlab.lib.styles import ParagraphStyle, StyleSheet1, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, KeepTogether, Paragraph, Spacer, Table

from grenier.activities import selectors
from grenier.activities.models import Session
from grenier.activities.wording import audience_text, places_left_text, price_text
from grenier.core.models import Territory
from grenier.core.pdf import WIDTH, build, escape, grid

COLUMNS = [0.13, 0.33, 0.24, 0.30]  # time, what, where, who, price and places


def _session_row(session: Session, today: date, small: ParagraphStyle) -> list[object]:
    what = f"<b>{escape(session.activity.title)}</b><br/>{escape(str(session.activity.kind))}"
    if session.accessibility:
        what += f"<br/><i>{escape(session.accessibility)}</i>"
    places = _("Session past") if session.date < today else places_left_text(selectors.places_left(session))
    return [
        f"{session.starts_at:%H:%M}\u2013{session.ends_at:%H:%M}",
        Paragraph(what, small),
        Paragraph(escape(session.where), small),
        Paragraph(
            f"{escape(audience_text(session))}<br/>{escape(capfirst(price_text(session)))}<br/>"
            f"<b>{escape(places)}</b>",
            small,
        ),
    ]


def _day(day: date, sessions: Sequence[Session], today: date, styles: StyleSheet1) -> Flowable:
    small = ParagraphStyle("small", parent=styles["Normal"], fontSize=9, leading=11)
    rows: list[list[object]] = [[_("Time"), _("Activity"), _("Place"), _("Who may come")]]
    rows += [_session_row(session, today, small) for session in sessions]
    table = Table(rows, colWidths=[WIDTH * share for share in COLUMNS], style=grid(), repeatRows=1)
    heading = Paragraph(escape(date_format(day, "l j F").capitalize()), styles["Heading3"])
    return KeepTogether([heading, table, Spacer(1, 3 * mm)])


def programme_pdf(territory: Territory, month: date, sessions: Sequence[Session], today: date) -> bytes:
    """``sessions`` (read through ``selectors.with_places``, in order) of the month starting ``month``."""
    styles = getSampleStyleSheet()
    title = _("Programme · %(month)s · %(name)s") % {
        "month": date_format(month, "F Y"),
        "name": territory.name,
    }
    story: list[Flowable] = [
        Paragraph(escape(title), styles["Title"]),
        Paragraph(
            escape(_("Workshops, farm visits and shared meals. To register: Grenier, or ask the organiser.")),
            styles["Normal"],
        ),
        Spacer(1, 4 * mm),
    ]
    for day, rows in groupby(sessions, key=lambda session: session.date):
        story.append(_day(day, list(rows), today, styles))
    if not sessions:
        story.append(Paragraph(escape(_("No session planned this month.")), styles["Normal"]))
    return build(title, story)
