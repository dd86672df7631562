"""Revision counters: every service that changes what a team's pages show moves a counter that those pages'
cache reads, and changes no page shows (another team's draft for my seat, a student's last-seen time) do not."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from app import clock, errors, models
from app.db import migrate
from app.engine.decisions import Decision
from app.models import Seat, Student
from app.revisions import MarksReader, StudentMarks
from app.services import drafts, games, live, rounds, students
from app.services.students import hash_token
from app.settings import Settings
from tests.classroom import a_game


@pytest.fixture
def engine(empty_database_url: str, engine_for: Callable[[str], Engine]) -> Iterator[Engine]:
    migrate(empty_database_url)
    yield engine_for(empty_database_url)


@dataclass
class Class:
    engine: Engine
    game_id: int
    team_a: int  # seat ids
    team_b: int
    ann: str  # tokens: Ann and Bob on team A, Cy on team B
    bob: str
    cy: str

    def marks(self, token: str) -> StudentMarks:
        found = MarksReader(self.engine).marks(hash_token(token))
        assert found is not None
        return found


@pytest.fixture
def klass(engine: Engine) -> Class:
    with Session(engine) as s:
        seats = (None, None, "price_disruptor", "incumbent", "fast_follower", "scale_maximalist")
        game = a_game(s, seats=seats, seed=5, practice_round=True, team_size_max=3)
        a, b = [seat.id or 0 for seat in games.seats_of(s, game)[:2]]
        tokens = [students.join(s, game, seat, name).token for seat, name in [(a, "Ann"), (a, "Bob"), (b, "Cy")]]
        return Class(engine, game.id or 0, a, b, *tokens)


def moved(k: Class, change: Callable[[Session, models.Game], object]) -> dict[str, bool]:
    """Which of Ann's counters (her game's, her seat's) and Cy's seat counter the change moves."""
    before = k.marks(k.ann), k.marks(k.cy)
    with Session(k.engine) as s:
        change(s, games.get_game(s, k.game_id))
    after = k.marks(k.ann), k.marks(k.cy)
    return {"game": after[0].game_revision != before[0].game_revision,
            "team_a": after[0].seat_revision != before[0].seat_revision,
            "team_b": after[1].seat_revision != before[1].seat_revision}


def seat(s: Session, seat_id: int) -> Seat:
    found = s.get(Seat, seat_id)
    assert found is not None
    return found


def draft(k: Class, version: int = 0) -> Callable[[Session, models.Game], object]:
    def save(s: Session, game: models.Game) -> object:
        return drafts.save_draft(s, game, seat(s, k.team_a), Decision.model_validate({"products": {"prices": {"consumer": 4.0}}}),
                                version, "Ann")
    return save


GAME_ONLY = {"game": True, "team_a": False, "team_b": False}
TEAM_A_ONLY = {"game": False, "team_a": True, "team_b": False}
LIFETIME = Settings().student_token_lifetime


def test_a_draft_saved_or_edited_moves_only_its_own_teams_counter(klass: Class) -> None:
    assert moved(klass, draft(klass)) == TEAM_A_ONLY  # a new draft (ORM insert)
    assert moved(klass, draft(klass, 1)) == TEAM_A_ONLY  # an edit with a version check (a Core UPDATE)
    assert moved(klass, lambda s, g: drafts.set_submitted(s, g, seat(s, klass.team_a), True)) == TEAM_A_ONLY
    assert moved(klass, lambda s, g: drafts.set_submitted(s, g, seat(s, klass.team_a), False)) == TEAM_A_ONLY


def test_a_refused_stale_edit_moves_nothing(klass: Class) -> None:
    moved(klass, draft(klass))
    with pytest.raises(errors.StaleDraft):
        moved(klass, draft(klass, 7))
    assert moved(klass, lambda s, g: None) == {"game": False, "team_a": False, "team_b": False}


def test_resolving_rewinding_and_finishing_the_practice_round_move_the_games_counter(klass: Class) -> None:
    assert moved(klass, lambda s, g: rounds.advance(s, klass.game_id, 0))["game"]
    assert moved(klass, lambda s, g: rounds.rewind(s, klass.game_id, 1))["game"]
    moved(klass, lambda s, g: rounds.advance(s, klass.game_id, 0))
    assert moved(klass, lambda s, g: rounds.finish_practice(s, g))["game"]


def test_the_instructors_controls_move_the_games_counter(klass: Class) -> None:
    assert moved(klass, lambda s, g: live.inject_event(s, g, 0)) == GAME_ONLY
    assert moved(klass, lambda s, g: live.set_status(s, g, "paused")) == GAME_ONLY
    assert moved(klass, lambda s, g: live.set_status(s, g, "open")) == GAME_ONLY
    assert moved(klass, lambda s, g: students.set_teams_locked(s, g, True)) == GAME_ONLY
    assert moved(klass, lambda s, g: live.set_status(s, g, "ended")) == GAME_ONLY


def test_joining_moving_and_removing_students_move_the_teams_they_touch(klass: Class) -> None:
    assert moved(klass, lambda s, g: students.join(s, g, klass.team_a, "Dee")) == TEAM_A_ONLY
    bob = students.student_by_token(Session(klass.engine), klass.bob, LIFETIME)
    assert bob is not None and bob.id is not None
    assert moved(klass, lambda s, g: students.move_student(s, g, bob.id or 0, klass.team_b)) == {"game": False, "team_a": True, "team_b": True}
    assert moved(klass, lambda s, g: students.remove_student(s, g, bob.id or 0)) == {"game": False, "team_a": False, "team_b": True}


def test_a_student_coming_back_only_updates_last_seen_and_moves_no_counter(klass: Class) -> None:
    def long_ago(s: Session, game: models.Game) -> None:
        ann = students.student_by_token(s, klass.ann, LIFETIME)
        assert ann is not None
        ann.last_seen = clock.now() - timedelta(hours=1)
        s.add(ann)
        s.commit()

    long_ago_moves = moved(klass, long_ago)
    assert long_ago_moves == {"game": False, "team_a": False, "team_b": False}
    before = klass.marks(klass.ann)
    assert moved(klass, lambda s, g: students.student_by_token(s, klass.ann, LIFETIME)) == {"game": False, "team_a": False, "team_b": False}
    assert klass.marks(klass.ann).last_seen > before.last_seen  # the visit was recorded


def test_marks_name_the_student_and_their_team_and_nobody_for_an_unknown_token(klass: Class) -> None:
    ann, cy = klass.marks(klass.ann), klass.marks(klass.cy)
    assert ann.seat_id == klass.team_a and cy.seat_id == klass.team_b and ann.student_id != cy.student_id
    assert MarksReader(klass.engine).marks(hash_token("not-a-token")) is None
    with Session(klass.engine) as s:
        assert s.get(Student, ann.student_id) is not None
