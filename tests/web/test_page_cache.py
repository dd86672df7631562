"""The student dashboard is served again while nothing it shows has changed, and never after something has:
two app instances over one database stand for two server processes (a change made by one must show at once
on a page the other has kept)."""

from __future__ import annotations

import html
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.db import migrate
from app.services import games, rounds, students
from app.services.scenarios import load_shipped_scenarios
from app.settings import Settings
from app.web.main import create_app
from app.web.page_cache import PageCache
from tests.classroom import TWO_TEAMS, a_game

from .signed_in import hx_token
from .test_play import csrf, join


@dataclass
class Two:
    one: TestClient  # Ann's browser, served by process one
    two: TestClient  # Bo's browser (Ann's teammate), served by process two
    cy: TestClient  # Cy, on another team, served by process two
    game_id: int

    @property
    def pages(self) -> PageCache:
        cache: PageCache = self.one.app.state.pages  # type: ignore[attr-defined]
        return cache

    def dashboard(self) -> str:
        """Ann's dashboard, from process one."""
        response = self.one.get("/play")
        assert response.status_code == 200
        return html.unescape(response.text)

    def served_from_cache(self) -> bool:
        """Whether Ann's next dashboard comes from the cache."""
        hits = self.pages.hits
        assert self.one.get("/play").status_code == 200
        return self.pages.hits > hits


def app_over(url: str) -> FastAPI:
    return create_app(Settings(database_url=url))


@pytest.fixture
def two(empty_database_url: str) -> Iterator[Two]:
    migrate(empty_database_url)
    one, other = app_over(empty_database_url), app_over(empty_database_url)
    with Session(one.state.engine) as s:
        load_shipped_scenarios(s)
        game = a_game(s, name="Cache", seats=TWO_TEAMS, seed=3, team_size_max=3)
        gid, code = game.id or 0, game.join_code
    with TestClient(one) as ann, TestClient(other) as bo, TestClient(other) as cy:
        join(ann, code, "Ann", "Echo")
        join(bo, code, "Bo", "Echo")
        join(cy, code, "Cy", "Aurora AI")
        yield Two(ann, bo, cy, gid)


def save_draft(client: TestClient, price: str) -> None:
    page = client.get("/play/decide").text
    version = page.split('id="draft-version" name="version" value="')[1].split('"')[0]
    response = client.post("/play/decide", data={"version": version, "products.prices.consumer": price, **csrf(page)})
    assert response.status_code == 200


def test_a_dashboard_seen_twice_is_served_from_the_cache_and_is_the_same_page(two: Two) -> None:
    first = two.one.get("/play").text
    assert two.served_from_cache()
    assert two.one.get("/play").text == first
    fragment = two.one.get("/play", headers={"HX-Request": "true"}).text  # htmx asks for the content only: kept apart
    assert "<h1>Echo</h1>" in fragment and "<html" not in fragment
    assert "<html" in two.one.get("/play").text


def test_a_teammates_draft_saved_through_another_process_shows_at_once(two: Two) -> None:
    assert "No decision yet." in two.dashboard()
    save_draft(two.two, "3.1")
    assert not two.served_from_cache()
    assert "Your team has a draft (saved by Bo)." in two.dashboard()


def test_another_teams_draft_leaves_the_kept_page_in_use(two: Two) -> None:
    two.dashboard()
    save_draft(two.cy, "2.9")
    assert two.served_from_cache()


def test_a_resolved_round_a_rewind_and_a_new_teammate_show_at_once(two: Two) -> None:
    assert "Round 1 of" in two.dashboard()
    with Session(two.two.app.state.engine) as s:  # type: ignore[attr-defined]
        rounds.advance(s, two.game_id, 0)
    page = two.dashboard()
    assert "Round 2 of" in page and "Leaderboard and rivals after round 1" in page
    with Session(two.two.app.state.engine) as s:  # type: ignore[attr-defined]
        rounds.rewind(s, two.game_id, 1)
    assert "Round 1 of" in two.dashboard()
    with Session(two.two.app.state.engine) as s:  # type: ignore[attr-defined]
        game = games.get_game(s, two.game_id)
        echo = next(seat.id for seat in games.seats_of(s, game) if seat.company_name == "Echo")
        students.join(s, game, echo, "Dee")
    assert "<li>Dee</li>" in html.unescape(two.one.get("/play").text)


def test_a_student_removed_by_the_instructor_is_not_shown_the_kept_page(two: Two) -> None:
    two.dashboard()
    with Session(two.two.app.state.engine) as s:  # type: ignore[attr-defined]
        game = games.get_game(s, two.game_id)
        ann = next(student for student, _ in students.roster(s, game) if student.display_name == "Ann")
        students.remove_student(s, game, ann.id or 0)
    response = two.one.get("/play", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/join?signed_out=unknown"


def test_a_kept_page_travels_gzipped_to_browsers_that_accept_it_and_plain_to_others(two: Two) -> None:
    plain = two.one.get("/play", headers={"Accept-Encoding": "identity"})  # rendered and kept
    hits = two.pages.hits
    zipped = two.one.get("/play", headers={"Accept-Encoding": "gzip"})
    raw = two.one.get("/play", headers={"Accept-Encoding": "identity"})
    assert two.pages.hits == hits + 2
    assert zipped.headers["content-encoding"] == "gzip" and "Accept-Encoding" in zipped.headers["vary"]
    assert "content-encoding" not in raw.headers and raw.content == plain.content == zipped.content  # httpx decodes gzip
    assert len(zipped.content) > 2 * int(zipped.headers["content-length"])  # it was compressed on the wire


def test_a_browser_without_a_csrf_cookie_gets_a_fresh_page_with_the_token_it_is_given(two: Two) -> None:
    two.dashboard()
    two.one.cookies.delete("moatline_csrf")
    hits = two.pages.hits
    response = two.one.get("/play")
    assert response.cookies.get("moatline_csrf") and two.pages.hits == hits
    assert two.one.post("/play/decide/check", headers={"X-CSRF-Token": hx_token(response.text)}).status_code == 200


def test_the_welcome_box_is_not_kept(two: Two) -> None:
    assert "Keep these to come back" in two.one.get("/play", params={"welcome": 1}).text
    assert "Keep these to come back" not in two.one.get("/play").text
