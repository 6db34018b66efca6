"""The pages issue 13 (item 11) found too long on a phone stay readable: on the demo, each is under ``LIMIT`` pixels
high at 390 px wide, its list a page at a time ("page x of y"), and nothing scrolls sideways.

``benchmarks/page_heights.py`` measures the same pages on the full served demo (450 households); this test builds a
smaller demo that still fills a page of every list (checked below), so it measures what a person sees there.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from grenier.baskets.models import Garden
from grenier.core import demo

from .test_journeys import log_in

LIMIT = 4_200  # px at 390 px wide; the pages measure 2,600 to 4,000 on the full demo (docs/PERFORMANCE.md)


@pytest.fixture
def fuller_demo(transactional_db: None, monkeypatch: pytest.MonkeyPatch) -> object:
    """The demo with enough households to fill a page of each list, and weeks enough of supply history to fill a page
    of the development fund's movements."""
    from grenier.supply import demo as supply_demo

    monkeypatch.setattr(supply_demo, "WEEKS", 20)
    return demo.build(log=lambda _line: None, household_count=60)


def _height(page: object, url: str) -> int:
    response = page.goto(url)  # type: ignore[attr-defined]
    assert response is not None and response.status == 200, url
    page.wait_for_load_state("load")  # type: ignore[attr-defined]
    expect(page.locator(".pagination, .pages"), f"{url}: the list does not fill a page").to_have_count(1)  # type: ignore[attr-defined]
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), url  # type: ignore[attr-defined]
    return int(page.evaluate("document.documentElement.scrollHeight"))  # type: ignore[attr-defined]


def test_the_long_pages_fit_a_phone_on_the_demo(page, fuller_demo) -> None:
    garden = Garden.objects.filter(territory=fuller_demo).order_by("pk").first()
    assert garden is not None
    base = page.base_url + "/t/demo"
    pages = {
        "coordinator": [
            f"/baskets/gardens/{garden.pk}/",
            "/baskets/referrals/",
            "/supply/development-fund/",
            "/households/",
            "/fund/settlements/",
        ],
        "social": ["/baskets/referrals/"],
    }
    heights: dict[str, int] = {}
    for who, paths in pages.items():
        page.context.clear_cookies()
        log_in(page, f"{who}@{demo.DEMO_DOMAIN}")
        page.wait_for_url("**/t/demo/")
        for path in paths:
            heights[f"{who} {path}"] = _height(page, base + path)
    too_long = {name: height for name, height in heights.items() if height > LIMIT}
    assert too_long == {}, heights
