"""Solidarity baskets in a real browser, on a phone-sized screen: a social worker refers a family with its
consent, the garden's coordinator subscribes it and prepares the week's sheets, a volunteer checks the family's
basket off at the pickup point and closes the sheet."""

from __future__ import annotations

import re
from datetime import timedelta

from playwright.sync_api import expect

from grenier.baskets import services
from grenier.baskets.models import (
    Agreement,
    DistributionLine,
    FunderPayment,
    LineStatus,
    PickupPoint,
    Referral,
    Subscription,
)

from ..baskets.conftest import Baskets
from ..baskets.conftest import baskets as baskets  # the fixture, shared with the page tests
from ..conftest import PASSWORD
from .conftest import screenshot
from .test_journeys import _no_sideways_scroll, log_in


def _log_in_as(page, email: str) -> None:
    page.context.clear_cookies()
    log_in(page, email, PASSWORD)
    page.wait_for_url(re.compile(r"/t/vallee/$"))


def test_a_family_is_referred_subscribed_and_collects_its_basket(page, baskets: Baskets) -> None:
    slug = baskets.territory.slug

    # the social worker, on a phone
    _log_in_as(page, baskets.cast["social_worker"].email)
    page.get_by_role("navigation", name="Principale").locator(f'a[href$="/t/{slug}/baskets/"]').click()
    page.locator("#refer").click()
    page.locator("#id_name").fill("Foyer Benhamou")
    page.locator("#id_first_name").fill("Yasmina")
    page.locator("#id_persons").fill("4")
    page.locator("#id_phone").fill("06 11 22 33 44")
    page.locator("#id_consent").check()
    assert _no_sideways_scroll(page)
    screenshot(page, "baskets-referral")
    page.locator("#send-referral").click()
    referral = Referral.objects.get(household__name="Foyer Benhamou")
    page.wait_for_url(re.compile(rf"/baskets/referrals/{referral.pk}/$"))
    assert page.locator("#status [data-status]").get_attribute("data-status") == "member"
    assert referral.social_worker == baskets.cast["social_worker"] and referral.household.persons.count() == 4

    # the coordinator subscribes the family and prepares the week of its first basket
    _log_in_as(page, baskets.cast["coordinator"].email)
    page.goto(f"{page.base_url}/t/{slug}/baskets/referrals/")
    page.locator(f'a[href$="/baskets/referrals/{referral.pk}/"]').click()
    page.locator("#subscribe-household").click()
    assert page.locator("#id_household").input_value() == str(referral.household_id)
    page.locator("#id_offer").select_option(str(baskets.large.pk))
    page.locator("#id_pickup_point").select_option(str(baskets.halle.pk))
    # from the latest distribution day, so that its sheet can be checked off and closed today
    page.locator("#id_start_on").fill(baskets.thursday.isoformat())
    assert _no_sideways_scroll(page)
    page.locator("#subscribe").click()
    subscription = Subscription.objects.get(household=referral.household)
    assert subscription.start_on == baskets.thursday
    page.goto(f"{page.base_url}/t/{slug}/baskets/gardens/{baskets.garden.pk}/")
    expect(page.locator("#forecast")).to_be_visible()
    page.locator("#id_day").fill(subscription.start_on.isoformat())
    page.locator("#generate").click()
    line = DistributionLine.objects.get(subscription=subscription)
    assert (line.price_cents, line.member_part_cents) == (2_200, 660)
    assert _no_sideways_scroll(page)
    screenshot(page, "baskets-garden")

    # the volunteer of the pickup point checks the basket off on a phone, then closes the sheet
    _log_in_as(page, baskets.cast["cashier"].email)
    page.get_by_role("navigation", name="Principale").locator(f'a[href$="/t/{slug}/baskets/"]').click()
    page.locator(f'a[href$="/baskets/sheets/{line.sheet_id}/"]').first.click()
    row = page.locator(f"#line-{line.pk}")
    assert "Foyer Benhamou" in row.inner_text()
    assert _no_sideways_scroll(page)
    screenshot(page, "baskets-sheet")
    row.get_by_role("button").click()
    line.refresh_from_db()
    assert line.status == LineStatus.COLLECTED and line.checked_by == baskets.cast["cashier"]
    expect(page.locator(f"#line-{line.pk} [aria-pressed=true]")).to_be_visible()
    page.locator("#close-sheet").click()
    expect(page.locator("#closed")).to_be_visible()
    others = DistributionLine.objects.filter(sheet_id=line.sheet_id).exclude(pk=line.pk)
    assert all(other.status == LineStatus.UNCLAIMED for other in others)
    screenshot(page, "baskets-sheet-closed")


def test_a_coordinator_sets_up_a_pickup_point_an_agreement_and_a_funder_s_payment(
    page, baskets: Baskets
) -> None:
    slug, garden = baskets.territory.slug, baskets.garden
    services.distribution_generate(garden=garden, day=baskets.thursday, actor=None)
    _log_in_as(page, baskets.cast["coordinator"].email)
    page.goto(f"{page.base_url}/t/{slug}/baskets/gardens/{garden.pk}/")

    # a new pickup point, served by the territory's cashier
    page.locator("#point-new").click()
    page.locator("#id_name").fill("Marché couvert")
    page.locator("#id_address").fill("Place du Marché")
    page.locator("#id_weekday").select_option("3")
    page.locator("#id_opens_at").fill("17:30")
    page.locator(f'input[name="volunteers"][value="{baskets.cast["cashier"].pk}"]').check()
    assert _no_sideways_scroll(page)
    screenshot(page, "baskets-point-new")
    page.locator("#save").click()
    page.wait_for_url(re.compile(rf"/baskets/gardens/{garden.pk}/$"))
    point = PickupPoint.objects.get(name="Marché couvert")
    assert list(point.volunteers.all()) == [baskets.cast["cashier"]]

    # an agreement with both a share and an amount is refused on the form, then recorded with a share
    page.locator("#agreement-new").click()
    page.locator("#id_funder").select_option(str(baskets.department.pk))
    page.locator("#id_name").fill("Convention Ville")
    page.locator("#id_share_percent").fill("10")
    page.locator("#id_amount_per_basket").fill("2")
    page.locator("#id_budget").fill("1 200")
    page.locator("#id_starts_on").fill(baskets.thursday.isoformat())
    page.locator("#id_ends_on").fill((baskets.thursday + timedelta(weeks=12)).isoformat())
    page.locator("#save").click()
    expect(page.locator(".field.has-error #id_share_percent")).to_have_count(1)
    assert not Agreement.objects.filter(name="Convention Ville").exists()
    page.locator("#id_amount_per_basket").fill("")
    assert _no_sideways_scroll(page)
    screenshot(page, "baskets-agreement-new")
    page.locator("#save").click()
    page.wait_for_url(re.compile(rf"/baskets/gardens/{garden.pk}/$"))
    agreement = Agreement.objects.get(name="Convention Ville")
    assert (agreement.share_bp, agreement.budget_cents) == (1_000, 120_000)

    # the department paid its part of this week's baskets
    page.goto(
        f"{page.base_url}/t/{slug}/baskets/statements/?funder={baskets.department.pk}&start=2020-01-01&end={baskets.thursday.isoformat()}"
    )
    page.locator("#funder-payment").click()
    assert page.locator("#left").get_attribute("data-cents") == "750"
    page.locator("#id_amount").fill("7,50")
    page.locator("#id_reference").fill("VIR-DEP-01")
    assert _no_sideways_scroll(page)
    screenshot(page, "baskets-funder-payment")
    page.locator("#record-funder-payment").click()
    assert page.locator("#left").get_attribute("data-cents") == "0"
    payment = FunderPayment.objects.get()
    assert (payment.amount_cents, payment.reference) == (750, "VIR-DEP-01")
