"""A workshop in a real browser, on a phone-sized screen: a member finds next week's cooking workshop from the
Activities tab and registers the family (two adults, a child); on the day the organiser ticks them present on a
phone and closes the session; the next day the member sees, in their history, that they came."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import time_machine
from playwright.sync_api import expect

from grenier.activities.models import Registration, RegistrationStatus

from ..activities.conftest import Workshop
from ..activities.conftest import workshop as workshop  # the fixture, shared with the page tests
from ..conftest import PASSWORD
from .conftest import screenshot
from .test_journeys import _no_sideways_scroll, log_in

PARIS = ZoneInfo("Europe/Paris")


def _log_in_as(page, email: str) -> None:
    page.context.clear_cookies()
    log_in(page, email, PASSWORD)
    page.wait_for_url(re.compile(r"/t/vallee/$"))


def test_a_family_registers_comes_and_sees_it_in_its_history(
    page, workshop: Workshop, pinned_clock: time_machine.Traveller
) -> None:
    w = workshop
    slug = w.cast.territory.slug

    # the member, on a phone: the Activities tab, the workshop, two adults and a child
    _log_in_as(page, w.cast["member"].email)
    page.get_by_role("navigation", name="Principale").locator(f'a[href$="/t/{slug}/activities/"]').click()
    page.locator(f"#session-{w.session.pk} a").click()
    assert page.locator("#places-left").get_attribute("data-left") == "10"
    page.locator("#id_adults").fill("2")
    page.locator("#id_children").fill("1")
    assert _no_sideways_scroll(page)
    screenshot(page, "activities-session")
    page.locator("#register").click()
    page.wait_for_url(re.compile(rf"/t/{slug}/activities/mine/$"))
    registration = Registration.objects.get()
    assert (registration.adults, registration.children, registration.status) == (
        2,
        1,
        RegistrationStatus.CONFIRMED,
    )
    expect(page.locator(f"#registration-{registration.pk}")).to_be_visible()
    assert _no_sideways_scroll(page)
    screenshot(page, "activities-mine")

    # the day of the workshop: the organiser ticks the family present on a phone and closes the session
    pinned_clock.move_to(datetime(2026, 12, 2, 14, 30, tzinfo=PARIS))
    _log_in_as(page, w.cast["producer"].email)
    page.goto(f"{page.base_url}/t/{slug}/activities/organise/")
    page.locator(f"#organised-{w.session.pk} a.button").click()
    page.locator(f"#registration-{registration.pk} button[value='1']").click()
    page.wait_for_url(re.compile(rf"/attendance/#registration-{registration.pk}$"))
    expect(page.locator(f"#registration-{registration.pk}.collected")).to_be_visible()
    assert _no_sideways_scroll(page)
    screenshot(page, "activities-attendance")
    page.locator("#close-session").click()
    expect(page.locator("#closed")).to_be_visible()
    registration.refresh_from_db()
    assert registration.attended is True

    # the next day, the member's history says they came
    pinned_clock.move_to(datetime(2026, 12, 3, 9, 0, tzinfo=PARIS))
    _log_in_as(page, w.cast["member"].email)
    page.goto(f"{page.base_url}/t/{slug}/activities/mine/")
    expect(page.locator(f"#past-{registration.pk} .attendance")).to_have_text("venu")
    assert _no_sideways_scroll(page)
    screenshot(page, "activities-history")
