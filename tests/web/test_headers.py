"""Every response carries the hardening headers, errors included: a script-tight CSP, no framing, no sniffing,
a same-origin referrer, and `no-store` on everything that is not a static file."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

import httpx
import pytest
from fastapi.responses import Response
from fastapi.testclient import TestClient
from sqlmodel import Session
from starlette.types import Scope

from app.services import rounds
from app.settings import Settings
from app.web.headers import CONTENT_SECURITY_POLICY, headers_for
from app.web.main import create_app

from .signed_in import PASSWORD, create_game, sign_up
from .test_accessibility import INSTRUCTOR, PUBLIC, STUDENT
from .test_classroom import DESKTOP, join, resolve, set_up_game, type_and_autosave

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

SCRIPT_TAG = re.compile(r"<script(?![^>]*\ssrc=)[^>]*>", re.IGNORECASE)
INLINE_HANDLER = re.compile(r"\son[a-z]+\s*=|\shx-on[:-]|\sstyle\s*=|<style", re.IGNORECASE)


def hardened(response: httpx.Response, cache: str = "no-store") -> None:
    headers = response.headers
    assert headers["content-security-policy"] == CONTENT_SECURITY_POLICY, response.request.url
    assert headers["x-frame-options"] == "DENY" and headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "same-origin"
    assert headers.get_list("cache-control") == [cache], (response.request.url, headers.get_list("cache-control"))


@pytest.fixture
def console(prepared_sqlite_url: str) -> Iterator[tuple[TestClient, int]]:
    """A signed-in instructor's client and a game with one resolved round (so exports exist)."""
    app = create_app(Settings(database_url=prepared_sqlite_url))
    with TestClient(app) as client:
        sign_up(client)
        gid = create_game(client)
        with Session(app.state.engine) as s:
            rounds.advance(s, gid, 0)
        yield client, gid


def test_the_policy_allows_only_this_sites_files_and_no_framing() -> None:
    for part in ("default-src 'self'", "script-src 'self'", "style-src 'self'", "object-src 'none'", "base-uri 'self'",
                 "form-action 'self'", "frame-ancestors 'none'"):
        assert part in CONTENT_SECURITY_POLICY
    assert "unsafe" not in CONTENT_SECURITY_POLICY


@pytest.mark.parametrize("path", ["/", "/scenarios/frontier-race", "/signin", "/join", "/docs", "/openapi.json",
                                  "/no-such-page", "/api/v1/games", "/play"])
def test_public_pages_api_answers_and_errors_are_hardened_and_never_stored(client: TestClient, path: str) -> None:
    hardened(client.get(path, follow_redirects=False))


def test_the_console_student_pages_exports_and_the_api_are_never_stored(console: tuple[TestClient, int]) -> None:
    client, gid = console
    for path in (f"/games/{gid}", "/games", f"/games/{gid}/join-screen", f"/games/{gid}/export/results.csv",
                 f"/games/{gid}/export/results.xlsx", f"/games/{gid}/export/archive.json"):
        response = client.get(path)
        assert response.status_code == 200, path
        hardened(response)
    token = client.post("/api/v1/token", json={"email": "ada@example.edu", "password": PASSWORD}).json()["token"]
    auth = {"Authorization": f"Bearer {token}"}
    for path in ("/api/v1/games", f"/api/v1/games/{gid}", f"/api/v1/games/{gid}/export/archive.json"):
        response = client.get(path, headers=auth)
        assert response.status_code == 200, path
        hardened(response)


def test_a_403_from_the_csrf_check_and_a_422_are_hardened(client: TestClient) -> None:
    refused = client.post("/signin", data={"email": "x@example.edu", "password": "nope"})
    invalid = client.post("/api/v1/token", json={"email": 3})
    assert (refused.status_code, invalid.status_code) == (403, 422)
    hardened(refused)
    hardened(invalid)


def test_a_server_error_carries_every_header_and_a_routes_own_cache_header_is_replaced(prepared_sqlite_url: str) -> None:
    app = create_app(Settings(database_url=prepared_sqlite_url))

    def broken() -> None:
        raise RuntimeError("a bug")

    app.add_api_route("/broken", broken)
    app.add_api_route("/cached", lambda: Response("kept?", headers={"Cache-Control": "public, max-age=86400"}))
    with TestClient(app, raise_server_exceptions=False) as client:
        error, cached = client.get("/broken"), client.get("/cached")
    assert (error.status_code, cached.status_code) == (500, 200)
    hardened(error)
    hardened(cached)


def test_static_files_may_be_kept_by_the_browser_and_are_revalidated(client: TestClient) -> None:
    for path in ("/static/app.css", "/static/time.js", "/static/vendor/htmx/htmx.min.js"):
        response = client.get(path)
        assert response.status_code == 200 and response.headers.get("etag"), path
        hardened(response, cache="no-cache")
    assert client.get("/static/app.css", headers={"If-None-Match": response.headers["etag"]}).status_code in {200, 304}


def test_a_hook_can_add_headers_per_request() -> None:
    def hsts(scope: Scope) -> list[tuple[str, str]]:
        return [("strict-transport-security", "max-age=1")] if scope.get("scheme") == "https" else []

    assert ("strict-transport-security", "max-age=1") in headers_for({"path": "/games", "scheme": "https"}, hsts)
    assert ("cache-control", "no-store") in headers_for({"path": "/games", "scheme": "http"}, hsts)
    assert not any(name == "strict-transport-security" for name, _ in headers_for({"path": "/", "scheme": "http"}, hsts))


def test_no_template_has_inline_script_style_or_event_handlers(client: TestClient) -> None:
    for path in ("/", "/scenarios/frontier-race", "/scenarios/frontier-race/demo", "/signin", "/signup", "/join", "/docs"):
        page = client.get(path).text
        assert not SCRIPT_TAG.search(page) and not INLINE_HANDLER.search(page), path


# --- in Chromium: the policy blocks nothing the app itself uses --------------------------------------

WATCH_VIOLATIONS = """window.__violations = [];
document.addEventListener("securitypolicyviolation", e => window.__violations.push(
  `${e.violatedDirective} ${e.blockedURI || "inline"} at ${location.pathname}`));"""


def watched(page: Page) -> list[str]:
    """Violations the page reports from now on: its `securitypolicyviolation` events and console errors."""
    seen: list[str] = []
    page.add_init_script(WATCH_VIOLATIONS)
    page.on("console", lambda m: seen.append(m.text) if "Content Security Policy" in m.text else None)
    return seen


def violations(page: Page, seen: list[str]) -> list[str]:
    return [*seen, *page.evaluate("window.__violations || []")]


@pytest.mark.browser
def test_no_page_breaks_the_policy_and_htmx_charts_times_and_the_docs_still_work(browser: Browser, live_server: str) -> None:
    console = browser.new_context(viewport=DESKTOP).new_page()  # type: ignore[arg-type]
    console_seen = watched(console)
    code = set_up_game(console, live_server, round_minutes=45)
    ann = join(browser, live_server, code, "Ann", "Echo")
    ann_seen = watched(ann)
    resolve(console, 1)
    game = re.search(r"/games/(\d+)", console.url)
    seat = re.search(r"/teams/(\d+)\"", console.content())
    assert game and seat
    ids = {"code": code, "game": game.group(1), "seat": seat.group(1)}
    found: dict[str, list[str]] = {}
    for page, seen, paths in ((console, console_seen, [*PUBLIC, *INSTRUCTOR]), (ann, ann_seen, STUDENT)):
        for path in paths:
            page.goto(live_server + path.format(**ids))
            page.wait_for_load_state("networkidle")
            found[path] = violations(page, seen)
            seen.clear()

    console.goto(live_server + f"/games/{ids['game']}")
    assert ":" in console.locator("time").first.inner_text(), "time.js ran"
    console.wait_for_timeout(5500)  # the team table's htmx poll swaps once
    found["console poll"] = violations(console, console_seen)
    ann.goto(live_server + "/play")
    ann.locator(".chart .uplot").first.wait_for()  # uPlot drew the charts
    ann.goto(live_server + "/play/decide")
    type_and_autosave(ann, "products.marketing_musd", "4")  # htmx check and autosave swap their parts
    assert "Saved." in ann.locator("#draft-status").inner_text()
    found["decide swaps"] = violations(ann, ann_seen)
    console.goto(live_server + "/docs")
    console.get_by_text("/api/v1/games/{game_id}/decision").first.wait_for()  # Swagger UI read the schema
    found["docs"] = violations(console, console_seen)
    assert {path: v for path, v in found.items() if v} == {}
    assert not console.evaluate("document.querySelectorAll('style').length"), "no <style> element was injected"
    for page in (console, ann):
        page.context.close()


@pytest.mark.browser
def test_after_signing_out_back_does_not_show_the_console_again(browser: Browser, live_server: str) -> None:
    console = browser.new_context(viewport=DESKTOP).new_page()  # type: ignore[arg-type]
    code = set_up_game(console, live_server)
    assert console.locator(".join-code").is_visible()
    console.get_by_role("button", name="Sign out").click()
    console.wait_for_url(live_server + "/")
    console.go_back()
    console.wait_for_load_state()
    assert code not in console.content() and "/signin" in console.url, console.url
    console.context.close()
