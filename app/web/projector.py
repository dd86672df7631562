"""The projector view: a full-screen leaderboard and market charts that update as rounds resolve."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response

from app.errors import GameNotFound
from app.services import games, history, rounds
from app.web.deps import SessionDep, SignedInInstructor
from app.web.templating import render

router = APIRouter()
REFRESH_SECONDS = 10


@router.get("/games/{game_id}/projector", name="projector")
def projector(request: Request, game_id: int, session: SessionDep, me: SignedInInstructor) -> Response:
    """Large type for the classroom screen; the board block polls, so it changes when a round resolves."""
    try:
        game = games.get_game(session, game_id)
    except GameNotFound:
        raise HTTPException(status_code=404) from None
    if game.instructor_id != me.id:
        raise HTTPException(status_code=404)
    latest = rounds.report_of(session, game, game.current_round) if game.current_round else None
    return render(request, "instructor/projector.html", {
        "game": game, "scenario": games.scenario_of(game), "latest": latest, "charts": history.market_charts(session, game),
        "refresh": REFRESH_SECONDS,
    })
