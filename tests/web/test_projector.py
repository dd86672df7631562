"""The projector view: large leaderboard and market charts for the classroom screen, for the game's own instructor only."""

from __future__ import annotations

import html

from fastapi.testclient import TestClient
from sqlmodel import Session

from app.services import games, rounds

from .signed_in import create_game, post_form, sign_up


def test_the_projector_shows_the_join_code_then_the_leaderboard_and_charts_once_a_round_resolves(client: TestClient) -> None:
    sign_up(client)
    gid = create_game(client)
    page = html.unescape(client.get(f"/games/{gid}/projector").text)
    with Session(client.app.state.engine) as s:  # type: ignore[attr-defined]
        game = games.get_game(s, gid)
        code = game.join_code
        assert f"/join/{code}" in page and "appears when round 1 is resolved" in page
        rounds.advance(s, gid, 0)
        report = rounds.report_of(s, game, 1)
    page = html.unescape(client.get(f"/games/{gid}/projector").text)
    assert "Leaderboard after round 1" in page and 'hx-trigger="every 10s"' in page
    assert '<p class="round-status big">Round 2 of 12 is open.</p>' in page
    post_form(client, f"/games/{gid}/control", {"action": "pause"}, from_page=f"/games/{gid}")
    assert "Round 2 of 12 is open. The game is paused." in html.unescape(client.get(f"/games/{gid}/projector").text)
    leader = report["market"]["scoreboard"][0]
    assert f"{leader['company']}</th><td class=\"num\">{leader['score']:.1f}" in page
    for title in ("Balanced scorecard", "Share of all tokens bought", "Capability of what each company sells"):
        assert title in page
    assert "Open weights" in page


def test_another_instructor_or_a_stranger_cannot_open_the_projector(client: TestClient) -> None:
    sign_up(client)
    gid = create_game(client)
    stranger = TestClient(client.app)
    assert stranger.get(f"/games/{gid}/projector", follow_redirects=False).status_code in {302, 303}
    other = TestClient(client.app)
    sign_up(other, email="grace@example.edu", name="Grace Hopper")
    assert other.get(f"/games/{gid}/projector").status_code == 404
