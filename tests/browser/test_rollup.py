"""The network coordinator's journey on a phone: logged in, the roll-up of the network's territories is the home
page; for the households reached, each territory's figure and the network's, the family known on both sides
counted once, each row saying how it is combined; no sideways scroll; no territory's list of households."""

from __future__ import annotations

import re

from django.utils import timezone
from playwright.sync_api import expect

from grenier.core import demo
from grenier.core.models import Grouping
from grenier.reports import registry
from grenier.reports.format import number_text
from grenier.reports.registry import Period, Unit

from .conftest import screenshot
from .test_journeys import _no_sideways_scroll, log_in


def test_the_network_coordinator_reads_the_roll_up_on_a_phone(page, demo_territory) -> None:
    grouping = Grouping.objects.get(slug=demo.GROUPING_SLUG)
    territories = list(grouping.territories.order_by("name", "slug"))
    year = Period(timezone.localdate().year)
    reached = [int(registry.compute(t, year)["households_reached"].value or 0) for t in territories]
    assert all(reached)

    log_in(page, demo.GROUPING_LOGIN[0])
    page.wait_for_url(re.compile(rf"/groupings/{demo.GROUPING_SLUG}/reports/$"))
    expect(page.locator("h1")).to_contain_text(demo.GROUPING_NAME)
    expect(page.locator("#grouping-territories")).to_contain_text(demo.SECOND_NAME)

    households = page.locator("#indicator-households_reached")
    expect(households).to_be_visible()
    rows = households.locator("table.territories tr")
    expect(rows).to_have_count(len(territories))
    for index, (territory, value) in enumerate(zip(territories, reached, strict=True)):
        expect(rows.nth(index).locator("th")).to_have_text(territory.name)
        expect(rows.nth(index).locator(".part-value")).to_have_text(number_text(value, Unit.HOUSEHOLDS))
    # the committee member's family is known in both territories: the network counts it once
    expect(households.locator(".figure")).to_have_text(number_text(sum(reached) - 1, Unit.HOUSEHOLDS))
    expect(households.locator(".combine")).to_contain_text("compté une fois")
    expect(households.locator("table.territories caption")).to_have_text("Par territoire")
    # the rules, folded under one line so that the figures come first on a phone
    rules = page.locator("#how-combined")
    expect(rules.get_by_text("comptés une seule fois", exact=False)).to_be_hidden()
    rules.locator("summary").click()
    expect(rules.get_by_text("comptés une seule fois", exact=False)).to_be_visible()
    # every row says how it is combined
    expect(page.locator("article.indicator").nth(20)).to_be_attached()
    expect(page.locator("article.indicator:not(:has(.combine))")).to_have_count(0)
    expect(page.locator("#indicator-credit_issued .combine")).to_contain_text("additionné")
    assert _no_sideways_scroll(page)
    screenshot(page, "reports-network-rollup")

    # no territory's personal data: its households' list is not found
    response = page.goto(f"{page.base_url}/t/{demo.DEMO_SLUG}/households/")
    assert response is not None and response.status == 404
