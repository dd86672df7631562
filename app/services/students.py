"""Students: joining a game's team, coming back from another device, and what their company sees."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, col, func, select

from app.clock import aware, now
from app.engine.game import start
from app.engine.report import company_view
from app.engine.state import State
from app.engine.world import World
from app.errors import GameError, GameNotFound
from app.models import Game, Seat, Student
from app.services import throttle
from app.services.cache import cached
from app.services.games import row_by_id, scenario_of, seats_of
from app.services.rounds import played_rounds, results_key
from app.services.throttle import Limit

PIN_DIGITS = 6
LAST_SEEN_EVERY = timedelta(seconds=30)
MAX_NAME = 60
# Unicode categories no name may use: control, format (zero-width), surrogate, private, unassigned
INVISIBLE = frozenset({"Cc", "Cf", "Cs", "Co", "Cn"})
FIRST_SUFFIX = 2  # a second "Ann" in a game is "Ann 2"
# PIN guesses (app/services/throttle.py): one student's PIN is slowed to a guess every 5 minutes, a
# whole game to one a minute (1,440 a day: a 0.14% chance a day of finding any PIN), one address to
# one every 5 minutes across every game
PIN_BY_NAME = Limit("pin-name", free=5, first_wait=timedelta(seconds=2),
                    longest_wait=timedelta(minutes=5), window=timedelta(days=1))
PIN_BY_GAME = Limit("pin-game", free=20, first_wait=timedelta(seconds=1),
                    longest_wait=timedelta(minutes=1), window=timedelta(days=1))
PIN_BY_ADDRESS = Limit("pin-address", free=10, first_wait=timedelta(seconds=2),
                       longest_wait=timedelta(minutes=5), window=timedelta(days=1))
# join codes that open no game, per address: finding one of 1,000 live games among 32**6 codes at
# a try a minute takes two years; a class mistyping codes behind one address stays under 30 an hour
CODE_BY_ADDRESS = Limit("code-address", free=30, first_wait=timedelta(seconds=1),
                        longest_wait=timedelta(minutes=1), window=timedelta(hours=1))
WRONG_PIN = "That name and PIN do not match a student of this game."
REPLACED_BY_DEVICE = "device"
REPLACED_BY_INSTRUCTOR = "instructor"


@dataclass(frozen=True)
class Joined:
    student: Student
    token: str  # the secret behind the rejoin link; stored only as a hash


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def game_by_code(session: Session, code: str, client_ip: str | None = None) -> Game:
    """The game with this join code. From a browser (`client_ip`), codes that open no game are
    counted, and an address that tried too many waits (TooManyTries) before it may try another."""
    address = throttle.key_of(client_ip) if client_ip is not None else None
    if address is not None and (wait := throttle.retry_after(session, CODE_BY_ADDRESS, address)):
        raise throttle.TooManyTries(wait)
    game = session.exec(select(Game).where(Game.join_code == code.strip().upper())).first()
    if game is None:
        if address is not None:
            throttle.claim(session, [(CODE_BY_ADDRESS, address)])
        shown = code.strip().upper()
        raise GameNotFound(f"No game has the code {shown!r}. Check it with your instructor.")
    return game


def team_sizes(session: Session, game: Game) -> dict[int, int]:
    rows = session.exec(select(Student.seat_id, func.count()).where(Student.game_id == game.id).group_by(col(Student.seat_id)))
    return {seat_id: n for seat_id, n in rows if seat_id is not None}


def join(session: Session, game: Game, seat_id: int | None, display_name: str) -> Joined:
    """Put a student on a team; every problem comes back at once, keyed by field. A name another
    student of the game has already is numbered ("Ann 2"): the same answer as a free name gets."""
    problems = join_problems(session, game, seat_id, display_name)
    if problems:
        raise JoinError(problems)
    name = free_name(session, game, clean_name(display_name))
    student = Student(game_id=game.id or 0, seat_id=seat_id, display_name=name,
                      name_key=name_key(name), token_hash="", pin=_new_pin(), created_at=now(),
                      last_seen=now(), token_issued_at=now(), link_salt="")
    return _issue_token(session, student, new_link=True)


def _new_pin() -> str:
    return "".join(secrets.choice("0123456789") for _ in range(PIN_DIGITS))


class JoinError(GameError):
    def __init__(self, problems: dict[str, str]):
        super().__init__(" ".join(problems.values()))
        self.problems = problems


def clean_name(typed: str) -> str:
    """A name as shown: Unicode compatibility forms folded (NFKC), spaces collapsed."""
    return " ".join(unicodedata.normalize("NFKC", typed).split())


def name_key(typed: str) -> str:
    """A name as compared: ÉLODIE is élodie and full-width ＡＮＮ is Ann, on every database."""
    return " ".join(unicodedata.normalize("NFKC", clean_name(typed).casefold()).split())


def free_name(session: Session, game: Game, name: str) -> str:
    """The name itself if no student of the game has it, else the first free "name 2", "name 3"...
    A taken name is never refused, so the join form's answer tells no one which names exist."""
    taken = set(session.exec(select(Student.name_key).where(Student.game_id == game.id)))
    candidate, n = name, FIRST_SUFFIX
    while name_key(candidate) in taken:
        suffix = f" {n}"
        candidate, n = name[:MAX_NAME - len(suffix)].rstrip() + suffix, n + 1
    return candidate


def name_problem(typed: str) -> str:
    name = clean_name(typed)
    if not name:
        return "Enter the name your teammates know you by."
    if len(name) > MAX_NAME:
        return f"Keep your name under {MAX_NAME} characters."
    if any(unicodedata.category(c) in INVISIBLE for c in name):
        return ("Use only letters, digits, spaces and punctuation: "
                "your name has an invisible character.")
    return ""


def join_problems(session: Session, game: Game, seat_id: int | None, display_name: str) -> dict[str, str]:
    out: dict[str, str] = {}
    if problem := name_problem(display_name):
        out["display_name"] = problem
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


# --- students' tokens -----------------------------------------------------------------------------
# A student's browser (or script) holds a random token, stored as its sha256, that expires some days
# after it was issued and when the game ends. The rejoin link is another secret, derived from the
# server's key and the student's link salt: opening it issues a fresh token, so the link is never
# the live cookie, and it keeps working (on any device) until the game ends or the student rejoins
# with their PIN.

TOKEN_REFUSALS = {
    "expired": "This device's sign-in to your game has expired. Come back with your game's code, "
               "your name and your PIN, or open your rejoin link.",
    "ended": "Your game has ended, so its team pages are closed. Your instructor has the results.",
    "unknown": "This device is no longer signed in to a game: you were signed in on another device "
               "with your link or PIN, or your instructor took you out of the game. Come back with "
               "your game's code, your name and your PIN.",
}
LINK_MAC_BYTES = 24


def student_by_token(session: Session, token: str | None, lifetime: timedelta) -> Student | None:
    """The student a token belongs to, while it is unexpired and their game has not ended."""
    found = _token_holder(session, token)
    if found is None or _refusal(found[0], found[1], lifetime):
        return None
    student = found[0]
    if now() - aware(student.last_seen) > LAST_SEEN_EVERY:  # not a write on every request
        student.last_seen = now()
        session.add(student)
        session.commit()
        session.refresh(student)
    return student


def rejoin_with_pin(session: Session, game: Game, display_name: str, pin: str, client_ip: str,
                    at: datetime | None = None) -> Joined:
    """Come back on another device with the game code, your name and your PIN; issues a fresh secret
    link, and the device it replaces is told so on its next visit. Guesses are limited per student,
    per game and per address (TooManyTries); a wrong name and a wrong PIN get the same answer after
    the same work."""
    key = name_key(display_name)[:MAX_NAME * 4]
    by_name = throttle.key_of(game.id or 0, key)
    tried = throttle.claim(session, [(PIN_BY_NAME, by_name),
                                     (PIN_BY_GAME, throttle.key_of(game.id or 0)),
                                     (PIN_BY_ADDRESS, throttle.key_of(client_ip))], at)
    named = select(Student).where(Student.game_id == game.id, Student.name_key == key)
    student = session.exec(named).first()
    expected = student.pin if student else _new_pin()  # the same comparison for a name nobody has
    matches = secrets.compare_digest(expected.encode(), pin.strip().encode())
    if student is None or not matches:
        raise JoinError({"pin": WRONG_PIN})
    throttle.give_back(session, tried)
    throttle.forget(session, PIN_BY_NAME, by_name)
    token = _replace_token(student, REPLACED_BY_DEVICE, new_link=True)  # a PIN rejoin voids the old link
    session.add(student)
    session.commit()
    session.refresh(student)
    return Joined(student, token)


def token_refusal(session: Session, token: str | None, lifetime: timedelta) -> str:
    """Why a token opens nothing: a key of TOKEN_REFUSALS."""
    found = _token_holder(session, token)
    return (_refusal(found[0], found[1], lifetime) if found else "") or "unknown"


def _token_holder(session: Session, token: str | None) -> tuple[Student, Game] | None:
    if not token:
        return None
    query = (select(Student, Game).join(Game, col(Game.id) == col(Student.game_id))
             .where(Student.token_hash == hash_token(token)))
    row = session.exec(query).first()
    return (row[0], row[1]) if row else None


def _refusal(student: Student, game: Game, lifetime: timedelta) -> str:
    if game.status == "ended":
        return "ended"
    if now() >= aware(student.token_issued_at) + lifetime:
        return "expired"
    return ""


def rejoin_token(student: Student, secret: str) -> str:
    """The secret of the student's rejoin link: their id and a MAC of their link salt."""
    return f"{student.id}.{_link_mac(student, secret)}"


def _link_mac(student: Student, secret: str) -> str:
    message = f"rejoin:{student.id}:{student.link_salt}".encode()
    digest = hmac.new(secret.encode(), message, hashlib.sha256).digest()[:LINK_MAC_BYTES]
    return base64.urlsafe_b64encode(digest).decode()


def exchange_rejoin_link(session: Session, link: str, secret: str, lifetime: timedelta) -> Joined:
    """A fresh token for the student whose rejoin link this is (their other devices sign out)."""
    student = _link_holder(session, link, secret, lifetime)
    if student is None:
        raise GameError("That rejoin link is not valid any more. Use your game code, name and PIN.")
    if _game_status(session, student) == "ended":
        raise GameError(TOKEN_REFUSALS["ended"])
    token = _replace_token(student, REPLACED_BY_DEVICE)
    session.add(student)
    session.commit()
    session.refresh(student)
    return Joined(student, token)


def _link_holder(session: Session, link: str, secret: str, lifetime: timedelta) -> Student | None:
    """The student of a rejoin link. A link from before links were derived is the token itself: it
    works once, and only while that token is live (an expired cookie token renews nothing)."""
    sid, dot, mac = link.partition(".")
    if not dot:
        found = _token_holder(session, link)
        return found[0] if found and not _refusal(found[0], found[1], lifetime) else None
    student = row_by_id(session, Student, int(sid)) if sid.isdigit() else None
    if student is None:
        return None
    expected = _link_mac(student, secret)
    return student if hmac.compare_digest(mac.encode(), expected.encode()) else None


def _game_status(session: Session, student: Student) -> str:
    game = session.get(Game, student.game_id)
    return game.status if game else "ended"


def _issue_token(session: Session, student: Student, new_link: bool = False) -> Joined:
    """A fresh token for the student (the old one stops working); with new_link, a new link too."""
    token = secrets.token_urlsafe(24)
    student.token_hash, student.token_issued_at, student.last_seen = hash_token(token), now(), now()
    if new_link:
        student.link_salt = secrets.token_urlsafe(24)
    session.add(student)
    session.commit()
    session.refresh(student)
    return Joined(student, token)


def _replace_token(student: Student, by: str, new_link: bool = False) -> str:
    """A new secret for the student; the old one's hash is kept, so its browser can be told why."""
    token = secrets.token_urlsafe(24)
    student.replaced_token_hash, student.replaced_at = student.token_hash, now()
    student.replaced_by = by
    student.token_hash, student.token_issued_at, student.last_seen = hash_token(token), now(), now()
    if new_link:  # the old rejoin link stops working too
        student.link_salt = secrets.token_urlsafe(24)
    return token


def replaced_student(session: Session, token: str | None) -> Student | None:
    """The student whose old secret this is, since a PIN rejoin or a PIN reset replaced it."""
    if not token:
        return None
    replaced = select(Student).where(Student.replaced_token_hash == hash_token(token))
    return session.exec(replaced).first()


def student_in(session: Session, game: Game, student_id: int) -> Student:
    student = row_by_id(session, Student, student_id)
    if student is None or student.game_id != game.id:
        raise GameError("That student is not in this game.")
    return student


def reset_pin(session: Session, game: Game, student_id: int) -> Student:
    """The instructor gives a student a new PIN: the old PIN and all their devices stop working."""
    student = student_in(session, game, student_id)
    student.pin = _new_pin()
    _replace_token(student, REPLACED_BY_INSTRUCTOR, new_link=True)
    throttle.forget(session, PIN_BY_NAME, throttle.key_of(game.id or 0, student.name_key))
    session.add(student)
    session.commit()
    session.refresh(student)
    return student


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
