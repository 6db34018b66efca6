"""Biowaste in a real browser, on a phone-sized screen: the school's kitchen manager finds the campaign from the
navigation, weighs a lunch service (kilograms typed the French way), is warned of an unusual figure and confirms it,
then reads grams per meal; the committee reads the same figures and may not weigh."""

from __future__ import annotations

import re
from datetime import date

from playwright.sync_api import expect

from grenier.waste.models import Campaign, Phase, Weighing

from ..conftest import PASSWORD
from ..waste.conftest import Kitchens, weigh
from ..waste.conftest import kitchens as kitchens  # the fixture, shared with the page tests
from .conftest import screenshot
from .test_journeys import _no_sideways_scroll, log_in


def _log_in_as(page, email: str) -> None:
    page.context.clear_cookies()
    log_in(page, email, PASSWORD)
    page.wait_for_url(re.compile(r"/t/vallee/$"))


def test_a_kitchen_agent_weighs_a_lunch_on_a_phone(page, kitchens: Kitchens) -> None:
    campaign = kitchens.autumn
    _log_in_as(page, kitchens.cast["kitchen"].email)
    page.get_by_role("navigation", name="Principale").locator('a[href$="/t/vallee/waste/"]').click()
    expect(page.locator(f"#kitchen-{kitchens.school.pk}")).to_be_visible()
    expect(page.locator(f"#kitchen-{kitchens.ehpad.pk}")).to_have_count(0)  # another kitchen's: not shown
    assert _no_sideways_scroll(page)
    screenshot(page, "waste-home")
    page.locator(f'a[href$="/waste/campaigns/{campaign.pk}/weigh/"]').first.click()
    # today is a day of the campaign and lunch its only service: both already chosen
    assert page.locator("#id_day").input_value() == "2026-11-25"
    assert page.locator('input[name="service"][value="lunch"]').is_checked()
    assert page.locator("#id_plate").get_attribute("inputmode") == "decimal"
    page.locator("#id_meals").fill("31")  # a typo: 31 meals for 21 kg on the plates
    page.locator("#id_preparation").fill("3,8")
    page.locator("#id_unserved").fill("7,25")
    page.locator("#id_plate").fill("21")
    page.locator("#id_bread").fill("1,2")
    assert _no_sideways_scroll(page)
    screenshot(page, "waste-weigh")
    page.locator("#save-weighing").click()
    # more than a kilogram a meal: refused on the field, nothing stored
    expect(page.locator(".has-error #id_plate")).to_be_visible()
    assert not Weighing.objects.exists()
    page.locator("#id_meals").fill("100")  # 332 g a meal: stored only once confirmed
    page.locator("#id_plate").fill("21")
    page.locator("#save-weighing").click()
    expect(page.locator("#confirm-box")).to_be_visible()
    assert not Weighing.objects.exists()
    screenshot(page, "waste-weigh-warning")
    page.locator("#id_meals").fill("312")
    page.locator("#save-weighing").click()  # corrected: usual again, recorded without confirming
    page.wait_for_url(re.compile(rf"/waste/campaigns/{campaign.pk}/$"))
    weighing = Weighing.objects.get()
    assert (
        weighing.meals,
        weighing.preparation_g,
        weighing.unserved_g,
        weighing.plate_g,
        weighing.bread_g,
    ) == (
        312,
        3_800,
        7_250,
        21_000,
        1_200,
    )
    assert not weighing.confirmed_unusual
    # 33,250 g for 312 meals: 106.57 g
    assert page.locator("#per-meal").inner_text().replace("\u00a0", " ") == "106,6 g"
    assert _no_sideways_scroll(page)
    screenshot(page, "waste-campaign")

    # the committee reads the figures, and has no button to weigh
    _log_in_as(page, kitchens.cast["committee"].email)
    page.goto(f"{page.base_url}/t/vallee/waste/campaigns/{campaign.pk}/")
    assert page.locator("#per-meal").inner_text().replace("\u00a0", " ") == "106,6 g"
    expect(page.locator("#weigh")).to_have_count(0)

    # an "after" campaign beside this one: the change per meal and a year, and the bars by kind
    after = Campaign.objects.create(
        territory=campaign.territory,
        kitchen=campaign.kitchen,
        name="Après, pain à la demande",
        phase=Phase.AFTER,
        starts_on=date(2026, 11, 23),
        ends_on=date(2026, 11, 24),
        services=["lunch"],
        compares_with=campaign,
        idempotency_key="browser-after",
    )
    weigh(after, date(2026, 11, 23), 320, preparation=3_000, unserved=4_000, plate=17_000, bread=600)
    page.goto(f"{page.base_url}/t/vallee/waste/campaigns/{after.pk}/")
    # 24,600 g for 320 meals (76.875 g) against 106.57 g: -29.7 g a meal
    assert page.locator("#change-per-meal").inner_text().replace("\u00a0", " ") == "\u221229,7 g"
    expect(page.locator("#compare-by-kind li")).to_have_count(4)
    assert _no_sideways_scroll(page)
    screenshot(page, "waste-comparison")
