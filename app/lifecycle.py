"""Where a game stands and what it allows now: pure rules over a Game row, no SQL.

A game is open, paused or ended; its rounds are resolved one at a time; an optional practice round is
resolved, read, then wiped before round 1 starts for real.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from app.errors import GameError, RoundMoved
from app.models import Game
from app.scenario import PERSONAS

CARRY_ON = "carry_on"  # teams that do not submit carry on with last round's settings


def practice_over(game: Game) -> bool:
    """Whether the practice round has been resolved and the game waits for the instructor to start it for real
    (`finish_practice`): its results can be read, but nothing can be decided and no clock runs."""
    return game.practice_round and game.current_round == 1 and game.status != "ended"


def is_over(game: Game) -> bool:
    """Whether nothing is left to decide: the instructor ended the game, or every round has been played."""
    return game.status == "ended" or (game.current_round >= game.rounds and not practice_over(game))


def is_deciding(game: Game) -> bool:
    """Whether a round is open for the teams' decisions."""
    return not is_over(game) and not practice_over(game)


def why_not_advance(game: Game) -> str | None:
    """Why the game's next round cannot be resolved now, or None when it can."""
    if game.status == "ended":
        return "This game has ended."
    if practice_over(game):
        return "Finish the practice first: its results are wiped and round 1 starts for real."
    if game.current_round >= game.rounds:
        return "Every round of this game has been played."
    return None


def require_deciding(game: Game) -> None:
    """Refuse a decision while no round is open for one, saying why."""
    if game.status == "ended":
        raise GameError("This game has ended.")
    if practice_over(game):
        raise GameError("The practice round is over: your instructor will start the game for real in a moment.")
    if is_over(game):
        raise GameError("Every round of this game has been played.")


def require_round(game: Game, for_round: int | None) -> None:
    """Refuse a decision made for a round that is no longer the open one (None: the form did not say)."""
    open_round = game.current_round + 1
    if for_round is None or for_round == open_round:
        return
    happened = (f"round {for_round} has been resolved" if for_round < open_round
                else f"round {open_round} has been rewound")
    raise RoundMoved(f"While this page was open, {happened}: nothing was saved. "
                     f"Reload to decide round {open_round}.")


def next_deadline(game: Game, resolved: int, at: datetime) -> datetime | None:
    """When the round after `resolved` closes: `round_minutes` after `at` in a deadline game still open."""
    if game.advance_mode != "deadline" or game.status != "open" or resolved >= game.rounds:
        return None
    if not game.round_minutes:
        return None
    if game.practice_round and resolved == 1:  # no clock until the instructor starts the game for real
        return None
    return at + timedelta(minutes=game.round_minutes)


def absent_rule_problem(rule: str) -> str | None:
    """What is wrong with a rule for teams that do not submit, or None."""
    if rule == CARRY_ON or rule in PERSONAS:
        return None
    return f"Teams that do not submit either carry on or are played by a persona ({', '.join(PERSONAS)})."
