"""Resolving rounds: advance (atomically and once), rewind, finish the practice, read and verify reports.

A game's state is never stored: its scenario, seed and every resolved round's inputs replay it exactly, so
stored reports are a cache that `verify` rebuilds and compares.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from app import revisions
from app.clock import now
from app.engine.decisions import Decision
from app.engine.game import GameRecord, PlayedRound, RoundInput, replay
from app.engine.report import dumps, round_report, view_for
from app.engine.world import World
from app.errors import GameError, RoundAlreadyResolved
from app.lifecycle import CARRY_ON, absent_rule_problem, next_deadline, why_not_advance
from app.models import Game, InjectedEvent, RoundResult, TeamDecision
from app.services.cache import cached
from app.services.games import get_game, scenario_of, seats_of

log = logging.getLogger("moatline.rounds")


def record_of(session: Session, game: Game, extra: RoundInput | None = None) -> GameRecord:
    """The engine's record of the game: its resolved rounds' inputs, plus one more round if given."""
    seats = seats_of(session, game)
    query = select(RoundResult).where(RoundResult.game_id == game.id).order_by(col(RoundResult.round))
    rounds = [round_input_from_json(json.loads(r.inputs)) for r in session.exec(query)]
    if extra is not None:
        rounds.append(extra)
    return GameRecord(scenario_of(game), game.seed, tuple(s.persona for s in seats), tuple(rounds),
                      tuple(s.aggressiveness for s in seats))


def round_input_from_json(data: dict[str, Any]) -> RoundInput:
    decisions = {k: Decision.model_validate(v) for k, v in data["decisions"].items()}
    return RoundInput(decisions=decisions, injected_events=tuple(data["injected"]),
                      stand_ins=dict(data["stand_ins"]))


def inputs_json(given: RoundInput) -> str:
    return json.dumps({"decisions": {k: v.model_dump(mode="json") for k, v in given.decisions.items()},
                       "injected": list(given.injected_events), "stand_ins": given.stand_ins}, sort_keys=True)


def next_round_input(session: Session, game: Game) -> RoundInput:
    """What the coming round will be resolved with: submitted decisions, stand-ins for the rest, queued events."""
    rnd = game.current_round + 1
    decisions, stand_ins = {}, {}
    for seat in seats_of(session, game):
        if seat.persona is not None:
            continue
        row = session.exec(select(TeamDecision).where(TeamDecision.seat_id == seat.id,
                                                      TeamDecision.round == rnd)).first()
        decision = _readable(row) if row is not None and row.submitted else None
        if decision is not None:
            decisions[seat.company_name] = decision
        elif game.absent_rule != CARRY_ON:
            stand_ins[seat.company_name] = game.absent_rule
    events = session.exec(select(InjectedEvent).where(InjectedEvent.game_id == game.id, InjectedEvent.round == rnd))
    return RoundInput(decisions=decisions, injected_events=tuple(sorted(e.event_index for e in events)),
                      stand_ins=stand_ins)


def _readable(row: TeamDecision) -> Decision | None:
    """A submitted decision, or None (the team counts as absent) for one that a bound set since refuses."""
    try:
        return Decision.model_validate_json(row.payload)
    except ValidationError:
        log.warning("game %s: %s's submitted decision is outside today's bounds; it counts as absent",
                    row.game_id, row.seat_id)
        return None


def advance(session: Session, game_id: int, expected_round: int, absent_rule: str | None = None) -> RoundResult:
    """Resolve the round after `expected_round`, exactly once: the result and the game's new round are saved
    in one transaction, which fails if anyone resolved it first. A crash leaves the previous round intact.
    `absent_rule`, if given, is what happens to teams that did not submit, from this round on."""
    if absent_rule is not None:
        if problem := absent_rule_problem(absent_rule):
            raise GameError(problem)
        game = get_game(session, game_id)
        game.absent_rule = absent_rule
        session.add(game)
        session.flush()  # committed with the round, or rolled back with it
    return advance_with(session, game_id, expected_round, None)


def advance_with(session: Session, game_id: int, expected_round: int, given: RoundInput | None) -> RoundResult:
    """`advance`, with the round's inputs given (as when an archive is imported) or gathered from the teams."""
    game = get_game(session, game_id)
    if game.current_round != expected_round:
        raise RoundAlreadyResolved(f"Round {expected_round + 1} has already been resolved.")
    if refusal := why_not_advance(game):
        raise GameError(refusal)
    given = given if given is not None else next_round_input(session, game)
    world = World(scenario_of(game))
    played = replay(record_of(session, game, given), world)
    result = RoundResult(game_id=game_id, round=expected_round + 1, inputs=inputs_json(given),
                         report=dumps(round_report(world, played[-1])), resolved_at=now())
    try:
        session.add(result)
        moved = session.execute(
            update(Game).where(col(Game.id) == game_id, col(Game.current_round) == expected_round)
            .values(current_round=expected_round + 1, deadline_at=next_deadline(game, expected_round + 1, now())))
        if moved.rowcount != 1:  # type: ignore[attr-defined]
            raise RoundAlreadyResolved(f"Round {expected_round + 1} has already been resolved.")
        revisions.bump(session, games=[game_id])
        session.commit()
    except (IntegrityError, RoundAlreadyResolved):
        session.rollback()
        raise RoundAlreadyResolved(f"Round {expected_round + 1} has already been resolved.") from None
    session.refresh(result)
    return result


def rewind(session: Session, game_id: int, expected_round: int | None = None) -> int:
    """Discard the last resolved round's results; its decisions go back to being drafts. Returns the round undone.
    With `expected_round` (the round the person saw), a second click or a second instructor rewinds nothing more."""
    game = get_game(session, game_id)
    rnd = game.current_round
    if expected_round is not None and rnd < expected_round:
        raise RoundAlreadyResolved(f"Round {expected_round} has already been rewound.")
    if expected_round is not None and rnd > expected_round:
        raise RoundAlreadyResolved(f"Round {rnd} was resolved since you looked; nothing was rewound.")
    if rnd == 0:
        raise GameError("No round has been resolved yet.")
    moved = session.execute(update(Game).where(col(Game.id) == game_id, col(Game.current_round) == rnd)
                            .values(current_round=rnd - 1, deadline_at=next_deadline(game, rnd - 1, now())))
    if moved.rowcount != 1:  # type: ignore[attr-defined]
        session.rollback()
        raise RoundAlreadyResolved("The game moved on while rewinding; try again.")
    session.execute(delete(RoundResult).where(col(RoundResult.game_id) == game_id, col(RoundResult.round) == rnd))
    revisions.bump(session, games=[game_id])
    decided = select(TeamDecision).where(TeamDecision.game_id == game_id, TeamDecision.round == rnd)
    for row in session.exec(decided):
        row.submitted = False
        session.add(row)
    session.commit()
    return rnd


def finish_practice(session: Session, game: Game) -> Game:
    """End a practice round: its results and decisions are wiped and the game starts for real at round 1
    (same seed, so the practice taught the pages, not the dice)."""
    if not game.practice_round:
        raise GameError("This game has no practice round.")
    if game.current_round != 1:
        raise GameError("Resolve the practice round first.")
    rewind(session, game.id or 0, 1)
    session.execute(delete(TeamDecision).where(col(TeamDecision.game_id) == game.id, col(TeamDecision.round) == 1))
    session.execute(delete(InjectedEvent).where(col(InjectedEvent.game_id) == game.id, col(InjectedEvent.round) == 1))
    revisions.bump(session, games=[game.id or 0])
    fresh = get_game(session, game.id or 0)
    fresh.practice_round = False
    session.add(fresh)
    session.commit()
    session.refresh(fresh)
    return fresh


def played_rounds(session: Session, game: Game) -> list[PlayedRound]:
    return replay(record_of(session, game), World(scenario_of(game)))


def results_key(session: Session, game: Game) -> tuple[Any, ...]:
    """Identifies the game's resolved rounds exactly (ids and resolution times), for caching what derives
    from them."""
    query = (select(RoundResult.id, RoundResult.resolved_at).where(RoundResult.game_id == game.id)
             .order_by(col(RoundResult.round)))
    return (game.id, game.scenario_version, game.seed, *((i, str(t)) for i, t in session.exec(query)))


def report_of(session: Session, game: Game, rnd: int) -> dict[str, Any]:
    """A resolved round's stored report (parsed once per process; do not mutate it)."""
    query = select(RoundResult.id, RoundResult.resolved_at).where(RoundResult.game_id == game.id,
                                                                 RoundResult.round == rnd)
    found = session.exec(query).first() if 0 < rnd <= game.rounds else None
    if found is None:
        raise GameError(f"Round {rnd} has not been resolved.")
    result_id, resolved_at = found

    def load() -> dict[str, Any]:
        text = session.exec(select(RoundResult.report).where(RoundResult.id == result_id)).one()
        parsed: dict[str, Any] = json.loads(text)
        return parsed

    return cached(("report", result_id, str(resolved_at)), load)


def team_report(session: Session, game: Game, rnd: int, company: str) -> dict[str, Any]:
    """A resolved round's report as one company sees it: its own books, the rivals' public pages."""
    return view_for(report_of(session, game, rnd), company)


@dataclass(frozen=True)
class Difference:
    round: int
    path: str
    stored: object
    replayed: object

    def __str__(self) -> str:
        return f"round {self.round}: {self.path}: stored {self.stored!r}, replayed {self.replayed!r}"


def verify(session: Session, game_id: int) -> list[Difference]:
    """Replay a stored game from its scenario, seed and decisions; every stored result that differs."""
    game = get_game(session, game_id)
    world = World(scenario_of(game))
    played = replay(record_of(session, game), world)
    query = select(RoundResult).where(RoundResult.game_id == game_id).order_by(col(RoundResult.round))
    out: list[Difference] = []
    for row, p in zip(session.exec(query), played, strict=True):
        out += _differences(row.round, "", json.loads(row.report), json.loads(dumps(round_report(world, p))))
    return out


def _differences(rnd: int, path: str, a: object, b: object) -> list[Difference]:
    if isinstance(a, dict) and isinstance(b, dict):
        keys = sorted(set(a) | set(b))
        return [d for k in keys for d in _differences(rnd, f"{path}.{k}", a.get(k), b.get(k))]
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        pairs = enumerate(zip(a, b, strict=True))
        return [d for i, (x, y) in pairs for d in _differences(rnd, f"{path}[{i}]", x, y)]
    return [] if a == b else [Difference(rnd, path or "(report)", a, b)]
