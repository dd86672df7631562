"""What a student can reach (pages, htmx fragments, the API, exports) never shows the game's seed,
its join code or another team's private books: those are the instructor's."""

from __future__ import annotations

import html
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.services import games, rounds
from app.settings import Settings
from app.web.main import create_app
from tests.classroom import TWO_TEAMS, a_game

from .signed_in import csrf_token_of
from .test_play import join

SEED = 86753091
MY_TEAM, RIVAL_TEAM = "Echo", "Aurora AI"


@dataclass
class Played:
    ann: TestClient
    game_id: int
    code: str
    bearer: dict[str, str]


@pytest.fixture
def played(prepared_sqlite_url: str) -> Iterator[Played]:
    app = create_app(Settings(database_url=prepared_sqlite_url))
    with Session(app.state.engine) as s:
        game = a_game(s, name="Secrets", seats=TWO_TEAMS, seed=SEED, team_size_max=3)
        gid, code = game.id or 0, game.join_code
    with TestClient(app) as ann:
        join(ann, code, "Ann", MY_TEAM)
        answer = ann.post(
            "/api/v1/join", json={"code": code, "company": MY_TEAM, "display_name": "Bo"}
        )
        bearer = {"Authorization": f"Bearer {answer.json()['token']}"}
        with Session(app.state.engine) as s:
            rounds.advance(s, gid, 0)
        yield Played(ann, gid, code, bearer)


def student_responses(p: Played) -> dict[str, str]:
    """Every page, fragment, API answer and export a student can ask for, by what was asked."""
    hx = {"HX-Request": "true", "X-CSRF-Token": csrf_token_of(p.ann, "/play/decide")}
    pages = [
        "/play",
        "/play?welcome=1",
        "/play/decide",
        "/play/results/1",
        "/play/round-watch?seen=0",
        "/play/decide/status",
        f"/games/{p.game_id}/export/archive.json",
        f"/games/{p.game_id}",
    ]
    out = {path: p.ann.get(path).text for path in pages}
    out["POST /play/decide/check"] = p.ann.post("/play/decide/check", headers=hx).text
    api = [
        "/api/v1/games",
        f"/api/v1/games/{p.game_id}",
        f"/api/v1/games/{p.game_id}/decision",
        f"/api/v1/games/{p.game_id}/reports/1",
        f"/api/v1/games/{p.game_id}/export/archive.json",
        f"/api/v1/games/{p.game_id}/export/results.csv",
    ]
    out |= {f"API {path}": p.ann.get(path, headers=p.bearer).text for path in api}
    return {k: html.unescape(v) for k, v in out.items()}


def test_no_student_response_shows_the_seed_or_the_join_code(played: Played) -> None:
    leaks = [
        what
        for what, body in student_responses(played).items()
        if str(SEED) in body or played.code in body
    ]
    assert leaks == []


def test_the_api_gives_a_student_the_game_without_seed_or_code_and_no_exports(
    played: Played,
) -> None:
    game = played.ann.get(f"/api/v1/games/{played.game_id}", headers=played.bearer).json()
    assert game["seed"] is None and game["join_code"] is None
    export = played.ann.get(
        f"/api/v1/games/{played.game_id}/export/archive.json", headers=played.bearer
    )
    assert export.status_code == 404


def test_a_student_sees_only_the_public_page_of_other_teams(played: Played) -> None:
    report = played.ann.get(
        f"/api/v1/games/{played.game_id}/reports/1", headers=played.bearer
    ).json()
    assert set(report["companies"][MY_TEAM]) >= {"public", "private"}
    assert all(set(v) == {"public"} for name, v in report["companies"].items() if name != MY_TEAM)
    with Session(played.ann.app.state.engine) as s:  # type: ignore[attr-defined]
        full = rounds.report_of(s, games.get_game(s, played.game_id), 1)
    mine = set(full["companies"][MY_TEAM]["private"]["summary"])
    rivals = {
        line
        for name, v in full["companies"].items()
        if name != MY_TEAM
        for line in v["private"]["summary"]
    }
    secret_lines = rivals - mine
    assert secret_lines, "rivals' private summaries exist to look for"
    for what, body in student_responses(played).items():
        assert not [line for line in secret_lines if line in body], what
