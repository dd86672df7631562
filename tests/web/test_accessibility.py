"""Every page of the app, checked by axe-core in Chromium mid-game (a round resolved, so charts, leaderboards
and reports are on screen): no serious or critical violation anywhere, for visitors, instructors and students."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from .axe import serious_violations
from .test_classroom import DESKTOP, PHONE, join, resolve, set_up_game

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = pytest.mark.browser

PUBLIC = ["/", "/scenarios/frontier-race", "/scenarios/product-builders/demo", "/signin", "/signup", "/join", "/join/{code}",
          "/no-such-page", "/scenarios/no-such-scenario", "/reset", "/join?signed_out=expired"]
INSTRUCTOR = ["/games", "/account", "/games/new", "/games/{game}", "/games/{game}/advance", "/games/{game}/rewind", "/games/{game}/join-screen",
              "/games/{game}/projector", "/games/{game}/teams/{seat}", "/games/{game}/teams/{seat}/decision",
              "/games/{game}/teams/{seat}/results/1"]
STUDENT = ["/play", "/play/decide", "/play/results/1"]


NOT_FOUND = {"/no-such-page", "/scenarios/no-such-scenario"}


def sweep(page: Page, base: str, paths: list[str], ids: dict[str, str]) -> dict[str, list[str]]:
    """Each page's serious violations (a page that does not answer as expected counts as one)."""
    found = {}
    for path in paths:
        response = page.goto(base + path.format(**ids))
        page.wait_for_load_state("networkidle")
        expected = 404 if path in NOT_FOUND else 200
        if response is None or response.status != expected:
            found[path] = [f"answered {response.status if response else 'nothing'}, not {expected}"]
        elif violations := serious_violations(page):
            found[path] = violations
    return found


def test_no_page_has_a_serious_accessibility_violation(browser: Browser, live_server: str, screenshot_dir: Path) -> None:
    console = browser.new_context(viewport=DESKTOP).new_page()  # type: ignore[arg-type]
    code = set_up_game(console, live_server)
    ann = join(browser, live_server, code, "Ann", "Echo")
    resolve(console, 1)
    game = re.search(r"/games/(\d+)", console.url)
    seat = re.search(r"/teams/(\d+)\"", console.content())
    assert game and seat
    ids = {"code": code, "game": game.group(1), "seat": seat.group(1)}

    visitor = browser.new_context(viewport=DESKTOP).new_page()  # type: ignore[arg-type]
    visitor.set_content('<html lang="en"><title>A bad page</title><main><input></main></html>')
    assert serious_violations(visitor), "axe-core runs and flags an unlabelled field"
    found = sweep(visitor, live_server, PUBLIC, ids)
    found |= sweep(console, live_server, INSTRUCTOR, ids)
    console.goto(live_server + "/games/{game}/teams/{seat}/decision".format(**ids))
    console.screenshot(path=screenshot_dir / "instructor-team-draft-desktop.png", full_page=True)
    console.goto(live_server + "/games/{game}/teams/{seat}".format(**ids))
    console.screenshot(path=screenshot_dir / "instructor-team-dashboard-desktop.png", full_page=True)
    found |= sweep(ann, live_server, STUDENT, ids)
    phone = browser.new_context(viewport=PHONE, storage_state=ann.context.storage_state()).new_page()  # type: ignore[arg-type]
    found |= {f"{path} (phone)": v for path, v in sweep(phone, live_server, STUDENT, ids).items()}

    visitor.goto(live_server + "/signin")  # a form whose token is gone: the "form has expired" page
    visitor.context.clear_cookies()
    visitor.get_by_label("Email").fill("someone@example.edu")
    visitor.get_by_label("Password").fill("whatever-it-is")
    visitor.get_by_role("button", name="Sign in").click()
    visitor.get_by_role("heading", name="This form has expired").wait_for()
    if violations := serious_violations(visitor):
        found["403 form expired"] = violations
    assert found == {}
    for context in {console.context, ann.context, visitor.context, phone.context}:
        context.close()
