"""Running a live game: deadlines, pause and end, events queued by the instructor, the console's team table."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from app.clock import aware, now
from app.errors import GameError
from app.lifecycle import next_deadline, require_deciding
from app.models import Game, InjectedEvent, Student, TeamDecision
from app.services.games import scenario_of, seats_of
from app.services.rounds import advance

EXTEND_MINUTES_MAX = 24 * 60
log = logging.getLogger("moatline.live")


def open_first_round(session: Session, game: Game) -> Game:
    """Start the clock of a deadline game's first round."""
    game.deadline_at = next_deadline(game, game.current_round, now())
    return _saved(session, game)


def extend_deadline(session: Session, game: Game, minutes: int) -> Game:
    if game.advance_mode != "deadline" or game.deadline_at is None:
        raise GameError("This round has no deadline to extend.")
    if not 1 <= minutes <= EXTEND_MINUTES_MAX:
        raise GameError("Extend by between 1 minute and a day.")
    game.deadline_at = aware(game.deadline_at) + timedelta(minutes=minutes)
    return _saved(session, game)


def set_status(session: Session, game: Game, status: str) -> Game:
    """Pause (the deadline clock stops and nothing resolves by itself), resume, or end the game."""
    if status not in {"open", "paused", "ended"}:
        raise GameError(f"Unknown game status {status!r}.")
    if game.status == "ended":
        raise GameError("This game has ended.")
    if status == "paused" and game.deadline_at is not None:
        game.round_seconds_left = max(0, int((aware(game.deadline_at) - now()).total_seconds()))
        game.deadline_at = None
    if status == "open" and game.status == "paused" and game.round_seconds_left is not None:
        game.deadline_at = now() + timedelta(seconds=game.round_seconds_left)
        game.round_seconds_left = None
    if status == "ended":
        game.deadline_at = None
    game.status = status
    return _saved(session, game)


def _saved(session: Session, game: Game) -> Game:
    session.add(game)
    session.commit()
    session.refresh(game)
    return game


def inject_event(session: Session, game: Game, event_index: int) -> InjectedEvent:
    """Queue an event from the scenario's catalogue for the coming round."""
    require_deciding(game)
    events = scenario_of(game).events
    if not 0 <= event_index < len(events):
        raise GameError("Choose an event from the scenario's catalogue.")
    rnd = game.current_round + 1
    found = session.exec(select(InjectedEvent).where(InjectedEvent.game_id == game.id, InjectedEvent.round == rnd,
                                                     InjectedEvent.event_index == event_index)).first()
    if found is not None:
        raise GameError(f"{events[event_index].title!r} is already set for round {rnd}.")
    row = InjectedEvent(game_id=game.id or 0, round=rnd, event_index=event_index)
    session.add(row)
    session.commit()
    session.refresh(row)
    return row


def queued_events(session: Session, game: Game) -> list[str]:
    events = scenario_of(game).events
    query = select(InjectedEvent).where(InjectedEvent.game_id == game.id,
                                        InjectedEvent.round == game.current_round + 1)
    return [events[r.event_index].title for r in session.exec(query)]


def due_games(session: Session, at: datetime | None = None) -> list[Game]:
    """Open deadline games whose round has run out of time."""
    query = select(Game).where(Game.advance_mode == "deadline", Game.status == "open",
                               col(Game.deadline_at).is_not(None))
    at = at or now()
    return [g for g in session.exec(query)
            if g.deadline_at is not None and aware(g.deadline_at) <= at and g.current_round < g.rounds]


def process_due(session: Session, at: datetime | None = None) -> list[int]:
    """Resolve every round whose deadline has passed (each exactly once, whichever process gets there first).
    One game's failure is logged with its id and never stops the others' clocks."""
    done = []
    for game_id in [g.id or 0 for g in due_games(session, at)]:
        try:
            done.append(_resolve_due(session, game_id))
        except GameError:  # another process got there first, or the game ended meanwhile
            session.rollback()
        except Exception:
            session.rollback()
            log.exception("game %s: its round could not be resolved at the deadline; other games carry on", game_id)
    return done


def _resolve_due(session: Session, game_id: int) -> int:
    game = session.get(Game, game_id)
    assert game is not None
    return advance(session, game_id, game.current_round).round


@dataclass(frozen=True)
class TeamStatus:
    seat_id: int
    company: str
    members: list[str]
    state: str  # "no decision" | "draft" | "submitted"
    version: int
    updated_by: str
    last_activity: datetime | None


def team_status(session: Session, game: Game) -> list[TeamStatus]:
    """For the console: each team's members, where its decision stands, and when anyone last did anything."""
    out = []
    for seat in seats_of(session, game):
        if seat.persona is not None:
            continue
        query = select(Student).where(Student.seat_id == seat.id).order_by(col(Student.display_name))
        members = list(session.exec(query))
        row = session.exec(select(TeamDecision).where(TeamDecision.seat_id == seat.id,
                                                      TeamDecision.round == game.current_round + 1)).first()
        moments = [aware(m.last_seen) for m in members] + ([aware(row.updated_at)] if row else [])
        state = "submitted" if row and row.submitted else "draft" if row else "no decision"
        out.append(TeamStatus(seat.id or 0, seat.company_name, [m.display_name for m in members], state,
                              row.version if row else 0, row.updated_by if row else "",
                              max(moments) if moments else None))
    return out
