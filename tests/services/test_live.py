"""Running a live game: deadlines resolve rounds on time and once, pause keeps the clock, events can be injected."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from app import clock, lifecycle
from app.db import migrate
from app.engine.decisions import Decision
from app.errors import GameError
from app.services import drafts, games, live, rounds
from app.web.deadlines import resolve_due
from tests.classroom import TEAMS_AND_PERSONAS, a_game


@pytest.fixture
def engine(empty_database_url: str, engine_for: Callable[[str], Engine]) -> Iterator[Engine]:
    migrate(empty_database_url)
    yield engine_for(empty_database_url)


def deadline_game(engine: Engine, minutes: int = 10) -> int:
    with Session(engine) as s:
        game = a_game(s, name="Weekly", seats=TEAMS_AND_PERSONAS, seed=4, advance_mode="deadline", round_minutes=minutes)
        return game.id or 0


def test_a_round_resolves_at_its_deadline_exactly_once_and_the_next_clock_starts(engine: Engine) -> None:
    gid = deadline_game(engine)
    with Session(engine) as s:
        game = games.get_game(s, gid)
        assert game.deadline_at is not None
        deadline = clock.aware(game.deadline_at)
        assert live.process_due(s, deadline - timedelta(seconds=1)) == []
        assert live.process_due(s, deadline + timedelta(seconds=1)) == [1]
        assert live.process_due(s) == []  # a second process, at the real time, finds nothing left to resolve
        game = games.get_game(s, gid)
        assert game.current_round == 1 and game.deadline_at is not None and clock.aware(game.deadline_at) > deadline


def test_the_server_clock_resolves_overdue_rounds(engine: Engine) -> None:
    gid = deadline_game(engine)
    with Session(engine) as s:
        game = games.get_game(s, gid)
        game.deadline_at = clock.now() - timedelta(minutes=1)
        s.add(game)
        s.commit()
    assert resolve_due(engine) == [1]
    assert resolve_due(engine) == []


def test_pausing_stops_the_clock_and_resuming_gives_back_the_time_left(engine: Engine) -> None:
    gid = deadline_game(engine, minutes=30)
    with Session(engine) as s:
        game = live.set_status(s, games.get_game(s, gid), "paused")
        assert game.deadline_at is None and 29 * 60 <= (game.round_seconds_left or 0) <= 30 * 60
        assert live.process_due(s, clock.now() + timedelta(hours=2)) == []
        game = live.set_status(s, game, "open")
        left = (clock.aware(game.deadline_at) - clock.now()).total_seconds() if game.deadline_at else 0
        assert 29 * 60 <= left <= 30 * 60


def test_extending_a_deadline_moves_it_and_ending_a_game_stops_all_play(engine: Engine) -> None:
    gid = deadline_game(engine)
    with Session(engine) as s:
        game = games.get_game(s, gid)
        before = clock.aware(game.deadline_at) if game.deadline_at else None
        game = live.extend_deadline(s, game, 15)
        assert before is not None and game.deadline_at is not None and clock.aware(game.deadline_at) - before == timedelta(minutes=15)
        with pytest.raises(GameError, match="between 1 minute"):
            live.extend_deadline(s, game, 0)
        game = live.set_status(s, game, "ended")
        with pytest.raises(GameError, match="ended"):
            drafts.save_draft(s, game, games.seats_of(s, game)[0], Decision(), 0, "Ann")
        with pytest.raises(GameError, match="ended"):
            live.inject_event(s, game, 0)
        assert live.process_due(s, clock.now() + timedelta(days=1)) == []


def test_an_injected_event_strikes_in_the_coming_round_and_is_recorded_for_replay(engine: Engine) -> None:
    gid = deadline_game(engine)
    with Session(engine) as s:
        game = games.get_game(s, gid)
        events = games.scenario_of(game).events
        recession = next(i for i, e in enumerate(events) if e.kind == "recession")
        live.inject_event(s, game, recession)
        with pytest.raises(GameError, match="already set"):
            live.inject_event(s, game, recession)
        assert live.queued_events(s, game) == [events[recession].title]
        result = rounds.advance(s, gid, 0)
        assert json.loads(result.inputs)["injected"] == [recession]
        assert f"{events[recession].title}." in json.loads(result.report)["market"]["news"]
        assert rounds.verify(s, gid) == []


def test_a_practice_round_is_played_then_wiped_and_the_game_starts_for_real(engine: Engine) -> None:
    with Session(engine) as s:
        game = a_game(s, name="Practice", seats=TEAMS_AND_PERSONAS, seed=4, practice_round=True)
        gid = game.id or 0
        team = games.seats_of(s, game)[0]
        with pytest.raises(GameError, match="Resolve the practice round first"):
            rounds.finish_practice(s, game)
        drafts.save_draft(s, game, team, Decision(), 0, "Ann")
        drafts.set_submitted(s, game, team, True)
        rounds.advance(s, gid, 0)
        waiting = games.get_game(s, gid)
        assert lifecycle.practice_over(waiting) and not lifecycle.is_deciding(waiting) and not lifecycle.is_over(waiting)
        with pytest.raises(GameError, match="The practice round is over"):
            drafts.save_draft(s, waiting, team, Decision(), 0, "Ann")
        with pytest.raises(GameError, match="Finish the practice first"):
            rounds.advance(s, gid, 1)
        game = rounds.finish_practice(s, waiting)
        assert game.current_round == 0 and not game.practice_round
        assert drafts.draft_of(s, team, 1) is None, "practice decisions do not carry into the real game"
        with pytest.raises(GameError, match="no practice round"):
            rounds.finish_practice(s, game)
        assert rounds.advance(s, gid, 0).round == 1


def test_no_clock_runs_between_the_practice_and_the_real_game(engine: Engine) -> None:
    with Session(engine) as s:
        game = a_game(s, name="Timed practice", seats=TEAMS_AND_PERSONAS, seed=4, practice_round=True, advance_mode="deadline",
                      round_minutes=15)
        gid = game.id or 0
        assert game.deadline_at is not None
        assert live.process_due(s, clock.aware(game.deadline_at) + timedelta(seconds=1)) == [1]  # the practice resolves on time
        waiting = games.get_game(s, gid)
        assert waiting.deadline_at is None and live.process_due(s, clock.now() + timedelta(days=1)) == []
        started = rounds.finish_practice(s, waiting)
        assert started.deadline_at is not None and clock.aware(started.deadline_at) > clock.now() + timedelta(minutes=14)


def test_a_game_whose_round_cannot_resolve_is_logged_and_every_other_games_clock_carries_on(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    broken, healthy = deadline_game(engine), deadline_game(engine)
    real_advance = live.advance

    def advance(session: Session, game_id: int, expected_round: int) -> object:
        if game_id == broken:
            raise OverflowError("cannot convert float infinity to integer")
        return real_advance(session, game_id, expected_round)

    monkeypatch.setattr(live, "advance", advance)
    with Session(engine) as s:
        assert live.process_due(s, clock.now() + timedelta(hours=1)) == [1]
        assert games.get_game(s, healthy).current_round == 1 and games.get_game(s, broken).current_round == 0
    assert f"game {broken}:" in caplog.text and "OverflowError" in caplog.text
