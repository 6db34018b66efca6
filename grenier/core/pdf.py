"""What Grenier's printed documents share (ReportLab, A4, the standard fonts): text made safe for a Paragraph, the
page margins and the table grid. The apps' ``documents.py`` lay out their own pages with these."""

from __future__ import annotations

from collections.abc import Sequence
from io import BytesIO

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, SimpleDocTemplate, TableStyle

WIDTH = A4[0] - 36 * mm  # the text's width between the margins
HEAD = colors.HexColor("#e6f0e8")


def plain(text: str) -> str:
    """The standard fonts have no narrow no-break space (French number and date formats use them)."""
    return (text or "").replace("\u202f", " ").replace("\u00a0", " ")


def escape(text: str) -> str:
    """Text for a ``Paragraph``, whose markup would read ``<`` and ``&``."""
    return plain(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def build(title: str, story: Sequence[Flowable]) -> bytes:
    """An A4 document with Grenier's margins, titled (the reader's window shows it), as bytes."""
    buffer = BytesIO()
    SimpleDocTemplate(
        buffer,
        pagesize=A4,
        title=plain(title),
        author="Grenier",
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=16 * mm,
        bottomMargin=16 * mm,
    ).build(list(story))
    return buffer.getvalue()


def grid(right_from: int | None = None) -> TableStyle:
    """A table with a thin grid, a shaded first row, and its columns from ``right_from`` aligned right."""
    commands: list[object] = [
        ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("FONTSIZE", (0, 0), (-1, -1), 9),
        ("BACKGROUND", (0, 0), (-1, 0), HEAD),
    ]
    if right_from is not None:
        commands.append(("ALIGN", (right_from, 0), (-1, -1), "RIGHT"))
    return TableStyle(commands)
