"""Games and their seats, found by id: the lookups every other service starts from.

A game is its scenario snapshot, its seed, its seats and every resolved round's inputs (services/rounds.py);
set up in services/setup.py, decided in services/drafts.py, run live in services/live.py.
"""

from __future__ import annotations

from typing import TypeVar

from sqlmodel import Session, col, select

from app.errors import GameNotFound
from app.models import Game, Seat
from app.scenario import Scenario, parse_scenario
from app.scenario.schema import Scoring
from app.services.cache import cached

T = TypeVar("T")
ROW_ID_MAX = 2**31 - 1  # the largest id every table can hold (ids and versions are INTEGER on PostgreSQL)


def row_by_id(session: Session, table: type[T], row_id: int) -> T | None:
    """A row by its id; None for an id no table could hold (a typed-in 10**23), instead of a driver error."""
    return session.get(table, row_id) if 0 < row_id <= ROW_ID_MAX else None


def get_game(session: Session, game_id: int) -> Game:
    game = row_by_id(session, Game, game_id)
    if game is None:
        raise GameNotFound(f"There is no game {game_id}.")
    return game


def owned_game(session: Session, game_id: int, instructor_id: int) -> Game:
    """A game of this instructor's; anyone else's is GameNotFound, exactly as if it did not exist."""
    game = row_by_id(session, Game, game_id)
    if game is None or game.instructor_id != instructor_id:
        raise GameNotFound(f"There is no game {game_id}.")
    return game


def games_of(session: Session, instructor_id: int) -> list[Game]:
    """An instructor's games, newest first."""
    newest = (col(Game.created_at).desc(), col(Game.id).desc())
    return list(session.exec(select(Game).where(Game.instructor_id == instructor_id).order_by(*newest)))


def seats_of(session: Session, game: Game) -> list[Seat]:
    return list(session.exec(select(Seat).where(Seat.game_id == game.id).order_by(col(Seat.company_index))))


def scenario_of(game: Game) -> Scenario:
    """The game's own scenario: its snapshot, with the game's rounds and scorecard."""
    scenario = _parsed(game.scenario_version, game.scenario_text)
    scoring = Scoring.model_validate_json(game.scoring_json)
    return scenario.model_copy(update={"rounds": game.rounds, "scoring": scoring})


def _parsed(version: str, text: str) -> Scenario:
    """A scenario snapshot parsed once per process, kept in the byte-bounded cache (imports add new ones)."""
    return cached(("scenario", version), lambda: parse_scenario(text, f"scenario {version[:12]}"))
