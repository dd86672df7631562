"""What a student typed for a round that closed meanwhile goes into the open round's form, unsaved, and never
over a teammate's draft of that round."""

from __future__ import annotations

import html

from fastapi.testclient import TestClient
from sqlmodel import Session

from app.services import drafts, games, rounds

from .test_play import app_and_game, csrf, join

__all__ = ["app_and_game"]  # the fixture, used by name


def echo_draft(client: TestClient, gid: int, rnd: int) -> str | None:
    with Session(client.app.state.engine) as s:  # type: ignore[attr-defined]
        echo = next(seat for seat in games.seats_of(s, games.get_game(s, gid)) if seat.company_name == "Echo")
        row = drafts.draft_of(s, echo, rnd)
        return row.payload if row else None


def test_values_typed_for_a_closed_round_fill_the_next_rounds_form_unsaved(app_and_game: tuple[TestClient, int, str]) -> None:
    client, gid, code = app_and_game
    join(client, code, "Ann", "Echo")
    page = client.get("/play/decide").text
    with Session(client.app.state.engine) as s:  # type: ignore[attr-defined]
        rounds.advance(s, gid, 0)
    typed = {"version": "0", "round": "1", "products.marketing_musd": "55", **csrf(page)}
    carried = client.post("/play/decide/carry", data=typed)
    shown = html.unescape(carried.text)
    assert carried.status_code == 200 and "Decide round 2" in shown
    assert 'name="products.marketing_musd" value="55"' in shown
    assert 'name="round" value="2"' in shown and 'id="draft-version" name="version" value="0"' in shown
    assert 'data-carried="1"' in shown and "What you typed for round 1 is in this round's form." in shown
    assert echo_draft(client, gid, 2) is None, "nothing saved until the student saves"


def test_carried_values_never_overwrite_a_teammates_draft_of_the_new_round(app_and_game: tuple[TestClient, int, str]) -> None:
    client, gid, code = app_and_game
    join(client, code, "Ann", "Echo")
    bo = TestClient(client.app)
    join(bo, code, "Bo", "Echo")
    page = client.get("/play/decide").text
    with Session(client.app.state.engine) as s:  # type: ignore[attr-defined]
        rounds.advance(s, gid, 0)
    fresh = bo.get("/play/decide").text
    htmx = {"HX-Request": "true"}
    bo.post("/play/decide/autosave", data={"version": "0", "round": "2", "products.marketing_musd": "9", **csrf(fresh)}, headers=htmx)
    carried = html.unescape(client.post("/play/decide/carry", data={"version": "0", "round": "1", "products.marketing_musd": "55",
                                                                     **csrf(page)}).text)
    assert 'id="draft-version" name="version" value="0"' in carried and "saved by Bo" in carried
    clash = html.unescape(client.post("/play/decide/autosave", data={"version": "0", "round": "2", "products.marketing_musd": "55",
                                                                     **csrf(carried)}, headers=htmx).text)
    assert "Bo changed this decision" in clash and "keep what you typed" in clash
    assert '"marketing_musd":9.0' in (echo_draft(client, gid, 2) or "")
