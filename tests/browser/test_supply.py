"""The supply platform's week in a real browser, on a phone-sized screen: a grower declares what it will have, the
coordinator computes the plan and publishes it, the school's kitchen reads its deliveries and records what
arrived."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from grenier.supply import services
from grenier.supply.models import Availability, PlanLine, SupplyWeek, WeekStatus

from ..conftest import PASSWORD
from ..supply.conftest import Pial
from ..supply.conftest import pial as pial  # the fixture, shared with the page tests
from .conftest import expect_at_least, screenshot
from .test_journeys import _no_sideways_scroll, log_in


def _log_in_as(page, email: str) -> None:
    page.context.clear_cookies()
    log_in(page, email, PASSWORD)
    page.wait_for_url(re.compile(r"/t/vallee/$"))


def test_a_grower_declares_the_coordinator_publishes_and_the_kitchen_records_its_deliveries(
    page, pial: Pial
) -> None:
    territory, monday = pial.cast.territory, pial.monday
    week = services.week_ensure(territory=territory, monday=monday, actor=None)
    carrots, leeks, salad, radish = (pial.products[n] for n in ("carottes", "poireaux", "salade", "radis"))

    # the grower, on its phone
    _log_in_as(page, pial.cast["producer"].email)
    page.get_by_role("navigation", name="Principale").locator('a[href$="/supply/"]').click()
    expect(page.locator(f"#farm-{pial.saules.pk}")).to_be_visible()
    assert _no_sideways_scroll(page)
    screenshot(page, "supply-home-grower")
    page.locator(f'a[href$="/supply/weeks/{monday.isoformat()}/availability/{pial.saules.pk}/"]').click()
    assert page.locator(f'input[name="p{carrots.pk}-quantity"]').get_attribute("inputmode") == "decimal"
    page.locator(f'input[name="p{carrots.pk}-quantity"]').fill("40")
    page.locator(f'input[name="p{carrots.pk}-minimum_lot"]').fill("2,5")
    page.locator(f'input[name="p{leeks.pk}-quantity"]').fill("20")
    page.locator(f'input[name="p{salad.pk}-quantity"]').fill("60")
    page.locator(f'input[name="p{radish.pk}-quantity"]').fill("30")
    assert _no_sideways_scroll(page)
    screenshot(page, "supply-availability")
    page.locator("#save-availability").click()
    assert page.get_by_role("status").inner_text()
    declared = {a.product_id: a for a in Availability.objects.filter(week=week, producer=pial.saules)}
    assert (declared[carrots.pk].quantity, declared[carrots.pk].minimum_lot) == (40_000, 2_500)
    assert declared[salad.pk].quantity == 60 and declared[radish.pk].quantity == 30
    assert page.locator(f'input[name="p{carrots.pk}-minimum_lot"]').input_value() == "2,5"
    for farm, amounts in (
        (pial.pic, {"carottes": 20_000, "courgettes": 12_000}),
        (pial.terrasses, {"poireaux": 5_000}),
    ):
        for name, quantity in amounts.items():
            services.availability_declare(
                week=week, producer=farm, product=pial.products[name], quantity=quantity, actor=None
            )

    # the coordinator computes the plan and publishes it
    _log_in_as(page, pial.cast["coordinator"].email)
    page.goto(f"{page.base_url}/t/vallee/supply/")
    page.locator(f'a[href$="/supply/weeks/{monday.isoformat()}/"]').first.click()
    expect(page.locator("#balance")).to_be_visible()
    page.locator("#compute").click()
    assert page.locator("#proven").inner_text()
    week.refresh_from_db()
    assert week.status == WeekStatus.PLANNED
    expect_at_least(page.locator(".plan-item"), 5)  # each kitchen and product
    expect(page.locator("#farms tbody tr")).to_have_count(3)
    assert _no_sideways_scroll(page)
    screenshot(page, "supply-week-planned")
    page.locator("#publish-button").click()
    expect(page.locator("#publish-button")).to_have_count(0)
    assert SupplyWeek.objects.get(pk=week.pk).status == WeekStatus.PUBLISHED
    assert _no_sideways_scroll(page)
    screenshot(page, "supply-week-published")

    # the school's kitchen reads its deliveries and records what arrived
    _log_in_as(page, pial.cast["kitchen"].email)
    page.goto(f"{page.base_url}/t/vallee/supply/")
    page.locator(f'a[href$="/supply/weeks/{monday.isoformat()}/deliveries/{pial.school.pk}/"]').click()
    lines = list(
        PlanLine.objects.filter(week=week, kitchen=pial.school, quantity__gt=0)
        .select_related("product", "producer")
        .order_by("day", "producer__farm_name", "product__name")
    )
    expect(page.locator("section.delivery fieldset")).to_have_count(len(lines))
    assert _no_sideways_scroll(page)
    screenshot(page, "supply-deliveries")
    first = lines[0]
    delivery = page.locator(f"#delivery-{first.day.isoformat()}-{first.producer_id}")
    short = first.quantity // first.product.base_per_unit - 1
    delivery.locator(f'input[name="l{first.pk}-received"]').fill(str(short))
    delivery.locator(f'input[name="l{first.pk}-note"]').fill("Une cagette manquante")
    delivery.get_by_role("button").click()
    first.refresh_from_db()
    assert first.received_quantity == short * first.product.base_per_unit
    assert first.receipt_note == "Une cagette manquante"
    expect(page.locator(f"#line-{first.pk} .flag.short")).to_be_visible()
    assert _no_sideways_scroll(page)
    screenshot(page, "supply-deliveries-recorded")


def test_on_a_phone_a_refused_row_is_marked_and_the_plan_opens_kitchen_by_kitchen(page, pial: Pial) -> None:
    territory, monday = pial.cast.territory, pial.monday
    week = services.week_ensure(territory=territory, monday=monday, actor=None)
    salad, carrots = pial.products["salade"], pial.products["carottes"]

    _log_in_as(page, pial.cast["producer"].email)
    page.goto(f"{page.base_url}/t/vallee/supply/weeks/{monday.isoformat()}/availability/{pial.saules.pk}/")
    page.locator(f'input[name="p{salad.pk}-quantity"]').fill("10")
    page.locator(f'input[name="p{salad.pk}-minimum_lot"]').fill("20")
    page.locator(f'input[name="p{carrots.pk}-quantity"]').fill("40")
    page.locator("#save-availability").click()
    row = page.locator(f"#product-{salad.pk}")
    assert "has-error" in (row.get_attribute("class") or "")
    expect(row.locator(".field-error").first).to_be_visible()
    assert not Availability.objects.filter(week=week, producer=pial.saules).exists()
    assert _no_sideways_scroll(page)
    screenshot(page, "supply-availability-refused-row")

    for farm, amounts in (
        (pial.saules, {"carottes": 40_000, "poireaux": 20_000, "salade": 60, "radis": 30}),
        (pial.pic, {"carottes": 20_000, "courgettes": 12_000}),
    ):
        for name, quantity in amounts.items():
            services.availability_declare(
                week=week, producer=farm, product=pial.products[name], quantity=quantity, actor=None
            )
    services.plan_compute(week=week, actor=None)
    _log_in_as(page, pial.cast["coordinator"].email)
    page.goto(f"{page.base_url}/t/vallee/supply/weeks/{monday.isoformat()}/")
    fold = page.locator(f"#plan-kitchen-{pial.school.pk}")
    first_item = fold.locator(".plan-item").first
    expect(first_item).to_be_hidden()  # folded
    fold.locator("summary").click()
    expect(first_item).to_be_visible()
    assert _no_sideways_scroll(page)
    screenshot(page, "supply-week-kitchen-open")
