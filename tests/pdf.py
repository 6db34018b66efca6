"""What a test reads of a PDF made by ReportLab: that it is whole, and the text drawn on its pages."""

from __future__ import annotations

import base64
import re
import zlib


def pdf_text(pdf: bytes) -> str:
    """The text drawn on the pages: ReportLab's streams are ASCII85 then Flate encoded."""
    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")
    texts = []
    for match in re.finditer(rb"stream\r?\n(.*?)endstream", pdf, re.S):
        data = match.group(1).strip()
        data = data[:-2] if data.endswith(b"~>") else data
        texts.append(zlib.decompress(base64.a85decode(data)).decode("latin-1"))
    return "\n".join(texts)
