"""Helpers for web tests of instructor pages: read the CSRF token, sign up, create a game."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

import httpx
from fastapi.testclient import TestClient

PASSWORD = "correct horse battery"
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
HX_TOKEN = re.compile(r'"X-CSRF-Token": "([^"]+)"')


def csrf_of(page: str) -> str:
    found = TOKEN.search(page)
    assert found, "the page has no csrf_token field"
    return found.group(1)


def csrf_token_of(client: TestClient, path: str = "/") -> str:
    """The CSRF token a page gives this browser now (bound to its session: not the cookie)."""
    return hx_token(client.get(path).text)


def hx_token(page: str) -> str:
    """The CSRF token a page puts on its htmx requests."""
    found = HX_TOKEN.search(page)
    assert found, "the page has no hx-headers token"
    return found.group(1)


def post_form(client: TestClient, path: str, data: dict[str, str], from_page: str | None = None) -> httpx.Response:
    """POST a form as a browser would: with the CSRF token of the page it came from."""
    page = client.get(from_page or path).text
    return client.post(path, data={**data, "csrf_token": csrf_of(page)})


def sign_up(client: TestClient, email: str = "ada@example.edu", name: str = "Ada Lovelace", password: str = PASSWORD) -> None:
    """Sign up, then sign in (signing up never signs in: that would tell the email was new)."""
    response = post_form(client, "/signup", {"email": email, "display_name": name, "password": password})
    assert response.status_code == 200 and "Your account is ready" in response.text, response.text
    response = post_form(client, "/signin", {"email": email, "password": password})
    assert response.status_code == 200 and response.url.path == "/games", response.text


def new_game_form(client: TestClient, scenario: str = "frontier-race") -> dict[str, str]:
    """The fields of the new-game form as the page prefills them."""
    page = client.get("/games/new", params={"scenario": scenario}).text
    return FormFields.of(page)


def create_game(client: TestClient, name: str = "Strategy 501", teams: tuple[int, ...] = (0, 4), **changes: str) -> int:
    """Create a frontier-race game with team seats at the given company indices; the console's game id."""
    fields = new_game_form(client)
    seats = {k: ("team" if int(k.removeprefix("seat_")) in teams else "price_disruptor") for k in fields if k.startswith("seat_")}
    response = client.post("/games/new", data={**fields, **seats, "name": name, **changes})
    assert response.status_code == 200, text_of(response.text)
    found = re.fullmatch(r"/games/(\d+)", response.url.path)
    assert found, response.url
    return int(found.group(1))


def text_of(page: str) -> str:
    return html.unescape(page)


class FormFields(HTMLParser):
    """The name=value pairs a browser would submit from a page's first POST form (checked boxes, selected options)."""

    def __init__(self) -> None:
        super().__init__()
        self.values: dict[str, str] = {}
        self._select: str | None = None
        self._forms = 0

    @classmethod
    def of(cls, page: str) -> dict[str, str]:
        parser = cls()
        parser.feed(page)
        return parser.values

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and a.get("method") == "post" and "signout" not in a.get("action", ""):
            self._forms += 1
        if self._forms != 1:
            return
        if tag == "input" and "name" in a:
            if a.get("type") in {"checkbox", "radio"}:
                if "checked" in a:
                    self.values[a["name"]] = a.get("value") or "on"
            else:
                self.values[a["name"]] = a.get("value", "")
        elif tag == "select":
            self._select = a.get("name")
        elif tag == "option" and self._select and ("selected" in a or self._select not in self.values):
            self.values[self._select] = a.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None
        if tag == "form" and self._forms == 1:
            self._forms = 2
