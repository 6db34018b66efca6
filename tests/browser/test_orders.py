"""Buying groups in a real browser, on a phone: a member chooses a solidarity tier, orders in the open cycle of its
group, and sees what it pays and the solidarity pot."""

from __future__ import annotations

import re

from grenier.core.money import format_cents
from grenier.orders import rules
from grenier.orders.models import Order, OrderCycle

from .conftest import screenshot
from .test_journeys import _no_sideways_scroll, log_in

MEMBER = "member@demo.grenier.test"
GROUP = "Gourmands engagés du Centre"


def _figure(page, selector: str) -> str:
    return str(page.locator(selector).inner_text()).replace("\u202f", " ").replace("\u00a0", " ").strip()


def _plain(cents: int) -> str:
    return format_cents(cents).replace("\u202f", " ").replace("\u00a0", " ")


def test_a_member_orders_at_a_solidarity_tier_and_sees_the_pot_and_its_total(page, demo_territory) -> None:
    cycle = OrderCycle.objects.get(group__name=GROUP, closed_at__isnull=True)
    log_in(page, MEMBER)
    page.wait_for_url(re.compile(r"/t/demo/$"))
    page.locator('nav.main-nav a[href$="/orders/"]').click()
    assert _no_sideways_scroll(page)
    screenshot(page, "orders-home")

    # choose the solidarity tier (70 %) on the group's page
    page.locator("#open-cycles").get_by_role("link", name=re.compile(GROUP)).click()
    page.locator('a[href$="#my-tier"]').click()
    page.locator("#my-tier label.choice", has_text="70 %").locator("input").check()
    page.locator('#my-tier button[type="submit"]').first.click()
    page.wait_for_selector(".message")
    assert "70 %" in page.locator("#my-tier").inner_text()

    # order two loaves and a jar of honey
    page.goto(page.base_url + f"/t/demo/orders/cycles/{cycle.pk}/")
    pot_before = _figure(page, "#pot-after")
    bread = cycle.products.get(name="Pain de campagne 1 kg")
    honey = cycle.products.get(name="Miel de garrigue 500 g")
    page.locator(f"#id_quantity_{bread.pk}").fill("2")
    page.locator(f"#id_quantity_{honey.pk}").fill("1")
    screenshot(page, "orders-cycle-form")
    page.locator(".order-form button[type='submit']").click()
    page.wait_for_selector("#my-due")
    assert _no_sideways_scroll(page)
    screenshot(page, "orders-cycle-ordered")

    order = Order.objects.get(cycle=cycle, household__name="Foyer Lemoine")
    full = 2 * bread.price_cents + honey.price_cents
    due = rules.tier_amount(full, 70)
    assert order.tier_percent == 70
    assert _figure(page, "#my-full") == _plain(full)
    assert _figure(page, "#my-due") == _plain(due)
    assert _figure(page, "#my-pot") == _plain(full - due)  # what the pot gives this household
    assert _figure(page, "#pot-after") != pot_before  # the pot moved with the order

    # change it while the cycle is open: one loaf only
    page.locator(f"#id_quantity_{bread.pk}").fill("1")
    page.locator(".order-form button[type='submit']").click()
    page.wait_for_selector("#my-due")
    assert _figure(page, "#my-due") == _plain(rules.tier_amount(bread.price_cents + honey.price_cents, 70))


def test_a_social_worker_sets_the_tier_of_a_household_they_referred_on_a_phone(page, demo_territory) -> None:
    from grenier.baskets.models import Referral
    from grenier.orders.models import BuyingGroup, GroupMembership

    social = "social@demo.grenier.test"
    referral = (
        Referral.objects.filter(social_worker__email=social, household__left_on__isnull=True)
        .exclude(household__name="Foyer Lemoine")
        .order_by("pk")
        .first()
    )
    assert referral is not None
    group = BuyingGroup.objects.get(name=GROUP)
    log_in(page, social)
    page.wait_for_url(re.compile(r"/t/demo/$"))
    page.locator('nav.main-nav a[href$="/orders/referred/"]').click()
    assert _no_sideways_scroll(page)
    screenshot(page, "orders-referred")
    page.locator("#referred").get_by_role("link", name=referral.household.display_name).click()
    section = page.locator(f"#group-{group.pk}")
    section.locator("select").select_option(value=str(group.tiers.get(percent=70).pk))
    section.locator('button[type="submit"]').click()
    page.wait_for_selector(".message")
    assert _no_sideways_scroll(page)
    screenshot(page, "orders-referred-household")
    membership = GroupMembership.objects.get(group=group, household=referral.household)
    assert membership.tier.percent == 70 and membership.tier_source == "referral"
    assert membership.tier_set_by is not None and membership.tier_set_by.email == social
    assert "70 %" in page.locator(f"#group-{group.pk}").inner_text()

    # the coordinator pays a producer what the latest closed cycle owes it, on a phone
    from grenier.orders.models import OrderCycle as Cycle
    from grenier.orders.models import OrderLine, ProducerPayout

    page.context.clear_cookies()
    log_in(page, "coordinator@demo.grenier.test")
    page.wait_for_url(re.compile(r"/t/demo/$"))
    closed = Cycle.objects.filter(group=group, closed_at__isnull=False).order_by("-closes_at").first()
    assert closed is not None and not closed.payouts.exists()  # the demo leaves the latest cycle to pay
    page.goto(page.base_url + f"/t/demo/orders/cycles/{closed.pk}/")
    row = page.locator("#payouts tbody tr").first
    row.locator('button[type="submit"]').click()
    page.wait_for_selector(".message")
    assert _no_sideways_scroll(page)
    screenshot(page, "orders-cycle-payouts")
    payout = ProducerPayout.objects.get(cycle=closed)
    lines = OrderLine.objects.filter(
        order__cycle=closed, order__status="placed", cycle_product__producer=payout.producer
    ).select_related("cycle_product")
    assert payout.amount_cents == sum(
        (line.final_quantity or 0) * line.cycle_product.price_cents for line in lines
    )
