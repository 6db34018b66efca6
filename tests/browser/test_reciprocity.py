"""Volunteering rewarded, in a real browser on a phone-sized screen: the committee adopted a rule (2 hours give
20 € of food credit); the member gave 2 h 30 at a distribution and sees the reward due; the coordinator pays the
rewards due with the button and reads the month's figures; the member then sees what they earned."""

from __future__ import annotations

import re
from datetime import date

import time_machine
from playwright.sync_api import expect

from grenier.activities.models import ReciprocityReward

from ..activities.conftest import Volunteering
from ..activities.conftest import volunteering as volunteering  # the fixtures, shared with the page tests
from ..activities.conftest import workshop as workshop
from ..activities.test_reciprocity import CREDIT_RULE, _at, _give, _vote
from ..conftest import PASSWORD
from .conftest import screenshot
from .test_journeys import _no_sideways_scroll, log_in


def _log_in_as(page, email: str) -> None:
    page.context.clear_cookies()
    log_in(page, email, PASSWORD)
    page.wait_for_url(re.compile(r"/t/vallee/$"))


def test_a_volunteer_is_rewarded_once_and_sees_it(
    page, volunteering: Volunteering, pinned_clock: time_machine.Traveller
) -> None:
    cast = volunteering.cast
    slug = cast.territory.slug
    _vote(cast, CREDIT_RULE)
    _give(volunteering, cast["member"], cast.household, date(2026, 12, 3), 150)
    pinned_clock.move_to(_at(2026, 12, 10, 9))

    # the member: from Volunteer, their hours and the reward due
    _log_in_as(page, cast["member"].email)
    page.goto(f"{page.base_url}/t/{slug}/activities/volunteer/")
    page.locator("#rewards-link").click()
    page.wait_for_url(re.compile(rf"/t/{slug}/activities/volunteer/rewards/$"))
    expect(page.locator("#hours-given")).to_have_text("2 h 30")
    expect(page.locator("#due")).to_be_visible()
    expect(page.locator("#pay-rewards")).to_have_count(0)
    assert _no_sideways_scroll(page)
    screenshot(page, "activities-rewards-member")

    # the coordinator pays the rewards due, twice: once
    _log_in_as(page, cast["coordinator"].email)
    page.goto(f"{page.base_url}/t/{slug}/activities/volunteer/rewards/")
    page.locator("#pay-rewards").click()
    assert "1 contrepartie versée à 1 foyer (" in page.content()
    expect(page.locator("#pay-rewards")).to_have_count(0)  # nothing due any more
    assert ReciprocityReward.objects.count() == 1
    assert _no_sideways_scroll(page)
    screenshot(page, "activities-rewards-coordinator")
    page.goto(f"{page.base_url}/t/{slug}/activities/figures/?year=2026&month=12")
    expect(page.locator("#distribution-hours")).to_be_visible()
    assert _no_sideways_scroll(page)
    screenshot(page, "activities-figures")

    # the member sees what they earned
    _log_in_as(page, cast["member"].email)
    page.goto(f"{page.base_url}/t/{slug}/activities/volunteer/rewards/")
    assert "20,00" in page.locator("#earned").inner_text()
    expect(page.locator("#hours-rewarded")).to_have_text("2 h")
    screenshot(page, "activities-rewards-earned")
