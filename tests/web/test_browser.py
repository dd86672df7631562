"""End to end in headless Chromium against a live server."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser, ViewportSize

pytestmark = pytest.mark.browser

PHONE: ViewportSize = {"width": 390, "height": 844}
DESKTOP: ViewportSize = {"width": 1366, "height": 900}


def test_a_visitor_follows_a_scenario_link_to_its_teaching_note(
    browser: Browser, live_server: str, screenshot_dir: Path
) -> None:
    page = browser.new_page(viewport=DESKTOP)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(live_server + "/")
    page.screenshot(path=screenshot_dir / "home-desktop.png", full_page=True)
    link = page.locator(".scenario-card__title a").first
    name = link.inner_text()
    link.click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", level=1).inner_text() == name
    assert page.get_by_role("heading", name="Learning objectives").is_visible()
    assert page.evaluate("typeof window.htmx") == "object"
    page.screenshot(path=screenshot_dir / "scenario-desktop.png", full_page=True)
    assert errors == []
    page.close()


def test_the_skip_link_is_the_first_stop_and_visible_on_focus(browser: Browser, live_server: str) -> None:
    page = browser.new_page(viewport=DESKTOP)
    page.goto(live_server + "/")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to main content")
    assert skip.evaluate("element => element === document.activeElement")
    assert skip.bounding_box() is not None and skip.bounding_box()["y"] >= 0  # type: ignore[index]
    page.close()


def test_the_scenario_page_fits_a_phone_without_sideways_scrolling(
    browser: Browser, live_server: str, screenshot_dir: Path
) -> None:
    page = browser.new_page(viewport=PHONE)
    page.goto(live_server + "/")
    page.screenshot(path=screenshot_dir / "home-phone.png", full_page=True)
    page.locator(".scenario-card__title a").first.click()
    page.wait_for_load_state()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.screenshot(path=screenshot_dir / "scenario-phone.png", full_page=True)
    page.close()


def test_a_visitor_picks_a_company_and_quarter_in_the_demo_game_with_the_keyboard(
    browser: Browser, live_server: str, screenshot_dir: Path
) -> None:
    page = browser.new_page(viewport=DESKTOP)
    page.goto(live_server + "/")
    page.locator(".scenario-card__title a").first.click()
    page.get_by_role("link", name="Demo game").click()
    page.wait_for_load_state()
    page.get_by_label("Quarter", exact=True).select_option(label="Round 2")
    company = page.get_by_label("Company", exact=True)
    company.focus()
    chosen = company.locator("option").nth(2).inner_text()
    company.select_option(label=chosen)
    page.get_by_role("button", name="Show").press("Enter")
    page.wait_for_load_state()
    assert page.get_by_role("heading", name=f"{chosen} in round 2").is_visible()
    assert page.get_by_role("table", name="Income statement, $M this quarter").is_visible()
    page.screenshot(path=screenshot_dir / "demo-desktop.png", full_page=True)
    phone = browser.new_page(viewport=PHONE)
    phone.goto(page.url)
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    phone.screenshot(path=screenshot_dir / "demo-phone.png", full_page=True)
    phone.close()
    page.close()
