"""Students' names, PIN rejoins and PIN resets in real databases (SQLite, PostgreSQL if given)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
from alembic import command
from sqlalchemy import Engine, text
from sqlmodel import Session

from app.db import alembic_config, migrate
from app.models import Game, Student
from app.services import students
from app.services.scenarios import load_shipped_scenarios
from app.services.students import JoinError
from app.services.throttle import TooManyTries
from tests.classroom import TWO_TEAMS, a_game

HOME_IP = "192.0.2.10"
START = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


@pytest.fixture
def session(empty_database_url: str, engine_for: Callable[[str], Engine]) -> Iterator[Session]:
    migrate(empty_database_url)
    with Session(engine_for(empty_database_url)) as s:
        load_shipped_scenarios(s)
        yield s


@pytest.fixture
def game(session: Session) -> Game:
    return a_game(session, seats=TWO_TEAMS, seed=3, team_size_max=5)


def seat(session: Session, game: Game) -> int:
    return next(s.id or 0 for s in students.seats_of(session, game) if s.persona is None)


def test_names_are_one_name_whatever_their_case_or_unicode_form_on_every_database(
    session: Session, game: Game
) -> None:
    first = students.join(session, game, seat(session, game), "ÉLODIE").student
    second = students.join(session, game, seat(session, game), "  élodie ").student
    assert (first.display_name, second.display_name) == ("ÉLODIE", "élodie 2")
    back = students.rejoin_with_pin(session, game, "Élodie", first.pin, HOME_IP)
    assert back.student.id == first.id


def test_a_wrong_name_and_a_wrong_pin_get_the_same_answer(session: Session, game: Game) -> None:
    ann = students.join(session, game, seat(session, game), "Ann").student
    with pytest.raises(JoinError) as wrong_pin:
        students.rejoin_with_pin(
            session, game, "Ann", "000000" if ann.pin != "000000" else "111111", HOME_IP
        )
    with pytest.raises(JoinError) as unknown:
        students.rejoin_with_pin(session, game, "Nobody", ann.pin, HOME_IP)
    assert wrong_pin.value.problems == unknown.value.problems == {"pin": students.WRONG_PIN}


def test_a_students_pin_waits_after_five_wrong_guesses_and_the_right_one_then_clears_it(
    session: Session, game: Game
) -> None:
    ann = students.join(session, game, seat(session, game), "Ann").student
    for n in range(students.PIN_BY_NAME.free):
        with pytest.raises(JoinError):
            students.rejoin_with_pin(session, game, "Ann", "", f"198.51.100.{n}", START)
    with pytest.raises(TooManyTries) as refused:
        students.rejoin_with_pin(
            session, game, "Ann", ann.pin, HOME_IP, START + timedelta(seconds=1)
        )
    assert refused.value.seconds == 1
    students.rejoin_with_pin(session, game, "Ann", ann.pin, HOME_IP, START + timedelta(seconds=2))
    with pytest.raises(JoinError):  # a fresh count: a wrong PIN is answered, not refused
        students.rejoin_with_pin(session, game, "Ann", "", HOME_IP, START + timedelta(seconds=2))


def test_a_pin_rejoin_replaces_the_old_token_and_remembers_it(session: Session, game: Game) -> None:
    laptop = students.join(session, game, seat(session, game), "Ann")
    phone = students.rejoin_with_pin(session, game, "ann", laptop.student.pin, HOME_IP)
    assert students.student_by_token(session, laptop.token, timedelta(days=30)) is None
    replaced = students.replaced_student(session, laptop.token)
    assert (
        replaced is not None
        and replaced.id == laptop.student.id
        and replaced.replaced_by == "device"
    )
    assert students.replaced_student(session, phone.token) is None


def test_a_pin_reset_signs_every_device_out_and_only_the_new_pin_works(
    session: Session, game: Game
) -> None:
    laptop = students.join(session, game, seat(session, game), "Ann")
    old_pin = laptop.student.pin
    reset = students.reset_pin(session, game, laptop.student.id or 0)
    assert students.student_by_token(session, laptop.token, timedelta(days=30)) is None
    replaced = students.replaced_student(session, laptop.token)
    assert replaced is not None and replaced.replaced_by == "instructor"
    if reset.pin != old_pin:  # one reset in a million draws the same PIN again
        with pytest.raises(JoinError):
            students.rejoin_with_pin(session, game, "Ann", old_pin, HOME_IP)
    assert (
        students.rejoin_with_pin(session, game, "Ann", reset.pin, HOME_IP).student.id
        == laptop.student.id
    )


def test_resetting_the_pin_of_another_games_student_is_refused(
    session: Session, game: Game
) -> None:
    other = a_game(session, seats=TWO_TEAMS, seed=4)
    ann = students.join(session, other, seat(session, other), "Ann").student
    with pytest.raises(students.GameError, match="not in this game"):
        students.reset_pin(session, game, ann.id or 0)


ROWS_AT_0005 = {
    "instructor": {
        "id": 1,
        "email": "a@example.edu",
        "display_name": "A",
        "password_hash": "x",
        "created_at": START,
    },
    "game": {
        "id": 1,
        "instructor_id": 1,
        "name": "G",
        "scenario_id": "s",
        "scenario_version": "v",
        "scenario_text": "",
        "seed": 1,
        "rounds": 4,
        "practice_round": False,
        "advance_mode": "manual",
        "current_round": 0,
        "status": "open",
        "join_code": "ABCDEF",
        "absent_rule": "carry_on",
        "team_size_max": 5,
        "teams_locked": False,
        "scoring_json": "{}",
        "created_at": START,
    },
    "student": {
        "id": 1,
        "game_id": 1,
        "display_name": "ÉLODIE",
        "token_hash": "h",
        "pin": "123456",
        "created_at": START,
        "last_seen": START,
    },
}


def test_the_migration_gives_existing_students_their_name_key(
    empty_sqlite_url: str, engine_for: Callable[[str], Engine]
) -> None:
    command.upgrade(alembic_config(empty_sqlite_url), "0005")
    engine = engine_for(empty_sqlite_url)
    with engine.begin() as connection:
        for table, row in ROWS_AT_0005.items():
            columns, values = ", ".join(row), ", ".join(f":{k}" for k in row)
            connection.execute(text(f"INSERT INTO {table} ({columns}) VALUES ({values})"), row)
    migrate(empty_sqlite_url)
    with Session(engine) as s:
        student = s.get(Student, 1)
        assert student is not None and student.name_key == "élodie"
