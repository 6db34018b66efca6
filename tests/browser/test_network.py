"""The cooperation map in a real browser, on a phone-sized screen: a coordinator records a new cooperation at level 2
between a food-aid association and the town hall, six months later raises it to level 3 saying why, and sees the link
move on the graph (thicker, another colour) and among the links that rose this year."""

from __future__ import annotations

import importlib.util
import re
from datetime import timedelta
from pathlib import Path

import time_machine
from playwright.sync_api import expect

from grenier.network.models import Cooperation, LevelChange

from ..conftest import PASSWORD, TEST_NOW
from ..network.conftest import Map
from ..network.conftest import net as net  # the fixture, shared with the page tests
from .conftest import expect_at_least, screenshot
from .test_journeys import _no_sideways_scroll, log_in


def _link(page, m: Map):
    a, b = sorted([m.food_bank.pk, m.town_hall.pk])
    return page.locator(f'#graph line[data-a="{a}"][data-b="{b}"]')


def test_a_coordinator_raises_a_cooperation_and_sees_it_move(
    page, net: Map, pinned_clock: time_machine.Traveller
) -> None:
    slug = net.cast.territory.slug
    log_in(page, net.cast["coordinator"].email, PASSWORD)
    page.wait_for_url(re.compile(r"/t/vallee/$"))
    page.get_by_role("navigation", name="Principale").locator(f'a[href$="/t/{slug}/network/"]').click()
    expect(_link(page, net)).to_have_count(0)
    page.locator(f'a[href$="/t/{slug}/network/cooperations/new/"]').first.click()
    page.locator("#id_title").fill("Distribution solidaire du mercredi")
    page.get_by_label("Banque alimentaire de la Vallée").check()
    page.get_by_label("Mairie de la Vallée").check()
    page.locator("#id_sort").select_option("proximity")
    page.locator('input[name="level"][value="2"]').check()
    page.get_by_label("action sociale").check()
    assert _no_sideways_scroll(page)
    screenshot(page, "network-new-cooperation")
    page.locator("#save-cooperation").click()
    page.wait_for_url(re.compile(r"/network/cooperations/\d+/$"))
    assert "2 · " in page.locator("#level").inner_text()

    page.goto(page.base_url + f"/t/{slug}/network/")
    before = _link(page, net)
    assert before.get_attribute("data-level") == "2"
    width_before = float(before.get_attribute("stroke-width") or 0)
    colour_before = before.get_attribute("stroke")
    screenshot(page, "network-map-level-2")

    # six months later
    pinned_clock.move_to(TEST_NOW + timedelta(days=182))
    page.context.clear_cookies()  # the session did not last six months
    log_in(page, net.cast["coordinator"].email, PASSWORD)
    page.wait_for_url(re.compile(r"/t/vallee/$"))
    cooperation = Cooperation.objects.get(title="Distribution solidaire du mercredi")
    page.goto(page.base_url + f"/t/{slug}/network/cooperations/{cooperation.pk}/")
    page.locator("#id_level").select_option("3")
    page.locator("#id_reason").fill("La chambre froide est désormais partagée")
    assert _no_sideways_scroll(page)
    page.locator("#change-level").click()
    page.wait_for_url(re.compile(rf"/network/cooperations/{cooperation.pk}/$"))
    history = page.locator("#history tbody tr")
    expect(history).to_have_count(2)
    expect(history.nth(1)).to_contain_text("2 → 3")
    screenshot(page, "network-cooperation-history")
    changes = list(LevelChange.objects.filter(cooperation=cooperation).order_by("on"))
    assert [(c.level_from, c.level_to) for c in changes] == [(None, 2), (2, 3)]
    assert (changes[1].on - changes[0].on).days >= 181

    page.goto(page.base_url + f"/t/{slug}/network/")
    after = _link(page, net)
    assert after.get_attribute("data-level") == "3"
    assert float(after.get_attribute("stroke-width") or 0) > width_before
    assert after.get_attribute("stroke") != colour_before
    rose = page.locator("#moves li.rose")
    if (TEST_NOW + timedelta(days=182)).year == changes[1].on.year:
        assert "Distribution solidaire du mercredi" in rose.first.inner_text()
    assert _no_sideways_scroll(page)
    screenshot(page, "network-map-level-3")
    # the map as it stood before the change: the link at level 2 again
    page.goto(page.base_url + f"/t/{slug}/network/?until={changes[0].on.isoformat()}")
    assert _link(page, net).get_attribute("data-level") == "2"


def test_the_demo_s_map_reads_on_a_phone(page, demo_territory) -> None:
    from grenier.core import demo

    log_in(page, f"committee@{demo.DEMO_DOMAIN}")
    page.wait_for_url(re.compile(r"/t/[^/]+/$"))
    page.get_by_role("navigation", name="Principale").locator('a[href$="/network/"]').click()
    expect_at_least(page.locator("#graph line"), 30)
    expect_at_least(page.locator("#graph g.actor"), 40)
    expect_at_least(page.locator("#graph line[data-level='5']"), 1)
    expect_at_least(page.locator("#moves li"), 3)
    assert "06 " not in page.locator("#actors").inner_text()  # no person's contact for the committee
    assert _no_sideways_scroll(page)
    screenshot(page, "network-demo-map")


LEAFLET_CDN = "https://unpkg.com/leaflet@1.9.3/dist/"


def _leaflet_file(name: str) -> bytes:
    """The CDN's Leaflet 1.9.3, byte for byte: django-leaflet ships the same files (a test-only dependency, since
    the tests run without the Internet); the page checks them by their hash, so a different file would not run."""
    spec = importlib.util.find_spec("leaflet")
    assert spec is not None and spec.origin is not None
    return (Path(spec.origin).parent / "static" / "leaflet" / name).read_bytes()


def test_online_the_actors_are_on_openstreetmap_tiles_and_offline_the_page_stays_whole(
    page, demo_territory
) -> None:
    from grenier.core import demo
    from grenier.network.models import Actor

    def cdn(route) -> None:
        name = route.request.url.rsplit("/", 1)[-1]
        route.fulfill(
            status=200,
            body=_leaflet_file(name),
            content_type="text/css" if name.endswith(".css") else "application/javascript",
            headers={"Access-Control-Allow-Origin": "*"},
        )

    page.route(LEAFLET_CDN + "*", cdn)
    tiles: list[str] = []

    def tile(route) -> None:
        tiles.append(route.request.url)
        route.fulfill(status=204, body=b"")

    page.route("https://tile.openstreetmap.org/**", tile)
    log_in(page, f"committee@{demo.DEMO_DOMAIN}")
    page.wait_for_url(re.compile(r"/t/[^/]+/$"))
    page.get_by_role("navigation", name="Principale").locator('a[href$="/network/"]').click()
    box = page.locator("#tiles")
    box.wait_for(state="visible")
    located = Actor.objects.filter(latitude__isnull=False).count()  # the demo territory only
    assert located >= 10
    expect(page.locator("#tiles path.tile-actor")).to_have_count(located)
    expect_at_least(page.locator("#tiles path.tile-link"), 5)
    expect(page.locator("#tiles-offline")).to_be_hidden()
    assert tiles and all(url.endswith(".png") for url in tiles)
    page.locator("#tiles path.tile-actor").first.click(force=True)
    popup = page.locator(".leaflet-popup-content a")
    expect(popup).to_have_count(1)
    assert "/network/actors/" in (popup.get_attribute("href") or "")
    assert "OpenStreetMap" in page.locator(".leaflet-control-attribution").inner_text()
    assert _no_sideways_scroll(page)
    screenshot(page, "network-tiles")

    # offline: Leaflet cannot load; the graph and the list are all there, the map of places never shows
    page.unroute(LEAFLET_CDN + "*")
    page.route(LEAFLET_CDN + "*", lambda route: route.abort())
    page.reload()
    expect_at_least(page.locator("#graph g.actor"), 40)
    expect(page.locator("#tiles")).to_be_hidden()
    expect(page.locator("#tiles-offline")).to_be_visible()
