"""Students: joining a game's team, coming back from another device, and what their company sees."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlmodel import Session, col, func, select

from app.clock import aware, now
from app.engine.game import start
from app.engine.report import company_view
from app.engine.state import State
from app.engine.world import World
from app.errors import GameError, GameNotFound
from app.models import Game, Seat, Student
from app.services.cache import cached
from app.services.games import row_by_id, scenario_of, seats_of
from app.services.rounds import played_rounds, results_key

PIN_DIGITS = 6
LAST_SEEN_EVERY = timedelta(seconds=30)
MAX_NAME = 60


@dataclass(frozen=True)
class Joined:
    student: Student
    token: str  # the secret behind the rejoin link; stored only as a hash


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def game_by_code(session: Session, code: str) -> Game:
    game = session.exec(select(Game).where(Game.join_code == code.strip().upper())).first()
    if game is None:
        raise GameNotFound(f"No game has the code {code.strip().upper()!r}. Check it with your instructor.")
    return game


def team_sizes(session: Session, game: Game) -> dict[int, int]:
    rows = session.exec(select(Student.seat_id, func.count()).where(Student.game_id == game.id).group_by(col(Student.seat_id)))
    return {seat_id: n for seat_id, n in rows if seat_id is not None}


def join(session: Session, game: Game, seat_id: int | None, display_name: str) -> Joined:
    """Put a student on a team; every problem comes back at once, keyed by field."""
    problems = join_problems(session, game, seat_id, display_name)
    if problems:
        raise JoinError(problems)
    token = secrets.token_urlsafe(24)
    student = Student(game_id=game.id or 0, seat_id=seat_id, display_name=display_name.strip(), token_hash=hash_token(token),
                      pin="".join(secrets.choice("0123456789") for _ in range(PIN_DIGITS)), created_at=now(), last_seen=now())
    session.add(student)
    session.commit()
    session.refresh(student)
    return Joined(student, token)


class JoinError(GameError):
    def __init__(self, problems: dict[str, str]):
        super().__init__(" ".join(problems.values()))
        self.problems = problems


def join_problems(session: Session, game: Game, seat_id: int | None, display_name: str) -> dict[str, str]:
    out: dict[str, str] = {}
    name = display_name.strip()
    if not name:
        out["display_name"] = "Enter the name your teammates know you by."
    elif len(name) > MAX_NAME:
        out["display_name"] = f"Keep your name under {MAX_NAME} characters."
    elif session.exec(select(Student).where(Student.game_id == game.id, func.lower(Student.display_name) == name.lower())).first():
        out["display_name"] = f"Someone in this game is already called {name!r}; add an initial."
    seats = {s.id: s for s in seats_of(session, game) if s.persona is None}
    if seat_id not in seats:
        out["seat_id"] = "Choose your team."
    elif game.teams_locked:
        out["seat_id"] = "Your instructor has locked the teams; ask them to add you."
    elif team_sizes(session, game).get(seat_id or 0, 0) >= game.team_size_max:
        out["seat_id"] = f"{seats[seat_id].company_name} is full ({game.team_size_max} students); choose another team."
    if game.status == "ended":
        out["code"] = "This game has ended."
    return out


def student_by_token(session: Session, token: str | None) -> Student | None:
    if not token:
        return None
    student = session.exec(select(Student).where(Student.token_hash == hash_token(token))).first()
    if student is not None and now() - aware(student.last_seen) > LAST_SEEN_EVERY:  # not a write on every request
        student.last_seen = now()
        session.add(student)
        session.commit()
        session.refresh(student)
    return student



def rejoin_with_pin(session: Session, game: Game, display_name: str, pin: str) -> Joined:
    """Come back on another device with the game code, your name and your PIN; issues a fresh secret link."""
    student = session.exec(select(Student).where(Student.game_id == game.id, func.lower(Student.display_name) == display_name.strip().lower())).first()
    if student is None or not secrets.compare_digest(student.pin, pin.strip()):
        raise JoinError({"pin": "That name and PIN do not match a student of this game."})
    token = secrets.token_urlsafe(24)
    student.token_hash = hash_token(token)
    student.last_seen = now()
    session.add(student)
    session.commit()
    session.refresh(student)
    return Joined(student, token)


def seat_of(session: Session, student: Student) -> Seat:
    seat = session.get(Seat, student.seat_id) if student.seat_id is not None else None
    if seat is None:
        raise GameError("You are not on a team yet.")
    return seat


def teammates(session: Session, seat: Seat) -> list[Student]:
    return list(session.exec(select(Student).where(Student.seat_id == seat.id).order_by(col(Student.display_name))))


def company_state(session: Session, game: Game) -> tuple[World, State]:
    """The world and the state the coming round starts from (R=1), rebuilt from the game's record once per process."""

    def build() -> tuple[World, State]:
        world = World(scenario_of(game))
        played = played_rounds(session, game)
        return world, played[-1].after if played else start(world, game.seed)

    return cached(("state", *results_key(session, game)), build)


def overview(world: World, state: State, seat: Seat) -> dict[str, Any]:
    """The dashboard's view of a company in the state the coming round starts from."""
    return company_view(world, state, seat.company_index)


def move_student(session: Session, game: Game, student_id: int, seat_id: int | None) -> Student:
    """Put a student on another team (None: take them off every team); team sizes still hold."""
    student = row_by_id(session, Student, student_id)
    if student is None or student.game_id != game.id:
        raise GameError("That student is not in this game.")
    if seat_id is not None:
        seats = {s.id: s for s in seats_of(session, game) if s.persona is None}
        if seat_id not in seats:
            raise GameError("Choose a team of this game.")
        if seat_id != student.seat_id and team_sizes(session, game).get(seat_id, 0) >= game.team_size_max:
            raise GameError(f"{seats[seat_id].company_name} is full ({game.team_size_max} students).")
    student.seat_id = seat_id
    session.add(student)
    session.commit()
    session.refresh(student)
    return student


def remove_student(session: Session, game: Game, student_id: int) -> str:
    """Take a student out of the game: their links and PIN stop working; their team's decisions stay."""
    student = row_by_id(session, Student, student_id)
    if student is None or student.game_id != game.id:
        raise GameError("That student is not in this game.")
    name = student.display_name
    session.delete(student)
    session.commit()
    return name


def set_teams_locked(session: Session, game: Game, locked: bool) -> Game:
    game.teams_locked = locked
    session.add(game)
    session.commit()
    session.refresh(game)
    return game


def roster(session: Session, game: Game) -> list[tuple[Student, str]]:
    """Every student of the game with their team's company (or '' when on no team)."""
    names = {s.id: s.company_name for s in seats_of(session, game)}
    rows = session.exec(select(Student).where(Student.game_id == game.id).order_by(col(Student.display_name)))
    return [(s, names.get(s.seat_id or 0, "")) for s in rows]
