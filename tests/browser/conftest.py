"""A real Chromium (Debian's), driven by Playwright for Python. Skips with a message where none is installed,
unless GRENIER_REQUIRE_BROWSER=1 (as in CI), where a missing browser is a failure."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in this thread; the test's own database calls are still synchronous.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"


def _chromium() -> str | None:
    for candidate in (os.environ.get("GRENIER_CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium")):
        if candidate and Path(candidate).exists():
            return candidate
    return None


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    path = _chromium()
    if path is None:
        message = "No Chromium found (apt-get install chromium): browser tests need a real browser."
        if os.environ.get("GRENIER_REQUIRE_BROWSER") == "1":
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import expect, sync_playwright

    # `expect` waits as long as any other step may: a busy CI machine renders a page in seconds, not milliseconds
    expect.set_options(timeout=10_000)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: object, live_server: object) -> Iterator[object]:
    context = browser.new_context(locale="fr-FR", viewport={"width": 390, "height": 844})  # type: ignore[attr-defined]
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.base_url = live_server.url  # type: ignore[attr-defined]
    yield page
    context.close()


@pytest.fixture
def demo_territory(transactional_db: None, monkeypatch: pytest.MonkeyPatch) -> object:
    from grenier.core import demo
    from grenier.supply import demo as supply_demo

    monkeypatch.setattr(
        supply_demo, "WEEKS", 3
    )  # a short history of supply weeks: the journeys need only this one
    return demo.build(log=lambda _line: None, household_count=12)


def screenshot(page: object, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)  # type: ignore[attr-defined]


def expect_at_least(locator: object, count: int) -> None:
    """Waits, as Playwright's `expect` does, until the locator matches at least `count` elements: reading
    `.count()` right after a click can read the new page before it has been parsed."""
    from playwright.sync_api import expect

    expect(locator.nth(count - 1)).to_be_attached()  # type: ignore[attr-defined]
