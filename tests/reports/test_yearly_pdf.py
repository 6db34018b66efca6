"""The territory's yearly report as a PDF: read by the dashboard's readers, small counts always hidden, no person."""

from __future__ import annotations

from typing import Any

import pytest
import time_machine

from grenier.core.models import Role

from ..fund.conftest import Fund
from ..pdf import pdf_text
from .test_access import NAMES, READERS

URL = "/t/vallee/reports/2026.pdf"


@pytest.mark.parametrize("who", [*[role.value for role in Role], "outsider"])
def test_who_reads_the_yearly_pdf(fund: Fund, login: Any, who: str) -> None:
    response = login(fund.cast[who]).get(URL)
    assert response.status_code == (200 if who in READERS else 404 if who == "outsider" else 403)


@time_machine.travel("2026-12-01 10:00 +0100", tick=False)
def test_the_pdf_shows_the_figures_hides_small_counts_and_no_person(fund: Fund, login: Any) -> None:
    response = login(fund.cast["coordinator"]).get(URL)
    assert response["Content-Type"] == "application/pdf"
    text = pdf_text(response.content)
    assert "dit alimentaire" in text  # "Crédit alimentaire émis"
    assert "indicateurs 2026" in text  # the title line
    # a table per theme: its header (indicator, the year, the year before), then a row per indicator
    assert "(Indicateur) Tj" in text and "(2026) Tj" in text and "(2025) Tj" in text
    assert text.count("(Indicateur) Tj") >= 5  # a table per theme (its header again on each new page)
    assert "(non mesur\\351) Tj" in text  # 2025: the fund had not run yet
    assert "200 " in text  # the credit issued: 20 000 cents
    assert "masqu" in text  # the two households reached are hidden, even for a coordinator
    for name in NAMES:
        assert name not in text


def test_the_dashboard_links_the_year_pdf_when_a_year_is_chosen(fund: Fund, login: Any) -> None:
    client = login(fund.cast["funder"])
    assert (
        'href="/t/vallee/reports/2026.pdf"' in client.get("/t/vallee/reports/?period=2026").content.decode()
    )
    assert ".pdf" not in client.get("/t/vallee/reports/?period=2026-11").content.decode()
