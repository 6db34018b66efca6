"""The funder's journey through the indicators, in a real browser on a phone-sized screen: from the home page to the
territory's dashboard, a year chosen, then the yearly report downloaded as a PDF bearing the territory's name."""

from __future__ import annotations

import re
from pathlib import Path

from django.utils import timezone
from playwright.sync_api import expect

from grenier.core import demo

from ..pdf import pdf_text
from ..reports.test_indicators_added import drawn
from .conftest import screenshot
from .test_journeys import _no_sideways_scroll, log_in


def test_a_funder_reads_a_year_of_indicators_and_downloads_its_pdf(page, demo_territory) -> None:
    year = timezone.localdate().year - 1  # the demo holds two years: the one before this one is whole
    log_in(page, f"funder@{demo.DEMO_DOMAIN}")
    page.wait_for_url(re.compile(r"/t/demo/$"))
    page.get_by_role("navigation", name="Principale").get_by_role("link", name="Indicateurs").click()
    page.wait_for_url(re.compile(r"/t/demo/reports/"))
    expect(page.locator("h1")).to_contain_text("Le territoire en chiffres")

    # the year before, the whole of it
    page.get_by_label("Année").select_option(str(year))
    page.get_by_label("Mois").select_option("")
    page.get_by_role("button", name="Afficher").click()
    page.wait_for_url(re.compile(rf"year={year}&month=$"))
    expect(page.locator("h1")).to_contain_text(str(year))
    # a funder reads the figures with small counts hidden, the added indicators among them
    expect(page.locator("#disclosure")).to_contain_text("masqués")
    expect(page.locator("#indicator-households_by_resources")).to_be_visible()
    expect(page.locator("#indicator-km_per_kg")).to_be_visible()
    link = page.locator("#yearly-pdf")
    expect(link).to_have_attribute("href", f"/t/demo/reports/{year}.pdf")
    assert _no_sideways_scroll(page)
    screenshot(page, "reports-funder-year")

    with page.expect_download() as download_info:
        link.click()
    download = download_info.value
    assert download.suggested_filename.endswith(f"{year}.pdf")
    content = Path(download.path()).read_bytes()
    assert content.startswith(b"%PDF-")
    text = pdf_text(content)
    assert drawn(demo.DEMO_NAME.split(" (")[0]) in text  # "Vallée du Grenier" in the title
    assert drawn(f"indicateurs {year}") in text
