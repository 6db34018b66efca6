"""A referral to the common fund in a real browser, on a phone-sized screen: a social worker refers a family with
its consent from the fund's tab, the coordinator finds it on their home page and takes the family in, the social
worker then reads the family's card number on the referral."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from grenier.fund.models import FundReferral, ReferralStatus

from ..conftest import PASSWORD
from ..fund.conftest import Fund
from ..fund.conftest import fund as fund  # the fixture, shared with the page tests
from .conftest import screenshot
from .test_journeys import _no_sideways_scroll, log_in


def _log_in_as(page, email: str) -> None:
    page.context.clear_cookies()
    log_in(page, email, PASSWORD)
    page.wait_for_url(re.compile(r"/t/vallee/$"))


def test_a_family_is_referred_to_the_fund_and_taken_in(page, fund: Fund) -> None:
    slug = fund.cast.territory.slug

    # the social worker, on a phone: the fund's tab leads to their referrals
    _log_in_as(page, fund.cast["social_worker"].email)
    page.get_by_role("navigation", name="Principale").locator(f'a[href$="/t/{slug}/fund/referrals/"]').click()
    page.locator("#refer").click()
    page.locator("#id_name").fill("Foyer Ferrand")
    page.locator("#id_first_name").fill("Awa")
    page.locator("#id_persons").fill("3")
    page.locator("#send-referral").click()  # without the household's consent: refused, on the field
    expect(page.locator(".has-error #id_consent")).to_be_visible()
    assert not FundReferral.objects.exists()
    page.locator("#id_consent").check()
    assert _no_sideways_scroll(page)
    screenshot(page, "fund-referral")
    page.locator("#send-referral").click()
    referral = FundReferral.objects.get()
    page.wait_for_url(re.compile(rf"/fund/referrals/{referral.pk}/$"))
    assert page.locator("#status [data-status]").get_attribute("data-status") == "pending"
    expect(page.locator("#next-step")).to_be_visible()
    expect(page.locator("#confirm")).to_have_count(0)

    # the coordinator: their home says a referral waits, the referral's page takes the family in
    _log_in_as(page, fund.cast["coordinator"].email)
    page.locator(f'a[href$="/t/{slug}/fund/referrals/"]').first.click()
    page.locator(f'a[href$="/fund/referrals/{referral.pk}/"]').click()
    assert _no_sideways_scroll(page)
    screenshot(page, "fund-referral-decide")
    page.locator("#confirm").click()
    page.wait_for_url(re.compile(rf"/fund/referrals/{referral.pk}/$"))
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.CONFIRMED and referral.household is not None
    assert referral.household.persons.count() == 3 and referral.household.fund_joined_on is not None
    assert page.locator("#status [data-status]").get_attribute("data-status") == "confirmed"

    # the social worker reads the family's card number to give it
    _log_in_as(page, fund.cast["social_worker"].email)
    page.goto(f"{page.base_url}/t/{slug}/fund/referrals/{referral.pk}/")
    shown = page.locator("#card-number").inner_text().replace(" ", "")
    assert shown == referral.household.card_number
    screenshot(page, "fund-referral-taken-in")
