"""Database tables. Every change here needs an Alembic migration in migrations/versions/."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

GAME_NAME_MAX = 120


class ScenarioRecord(SQLModel, table=True):
    """A shipped scenario file as loaded into the database; `version` is the sha256 of `text`."""

    __tablename__ = "scenario_record"

    id: str = Field(primary_key=True)
    name: str
    summary: str = Field(sa_type=Text)
    version: str = Field(max_length=64)
    text: str = Field(sa_type=Text)
    loaded_at: datetime = Field(sa_type=DateTime(timezone=True))


class Instructor(SQLModel, table=True):
    """Someone who runs games; signs in with an email and an argon2-hashed password."""

    __tablename__ = "instructor"

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=254, unique=True, index=True)
    display_name: str = Field(max_length=120)
    password_hash: str = Field(max_length=255)
    created_at: datetime = Field(sa_type=DateTime(timezone=True))


class Game(SQLModel, table=True):
    """A class's game: a snapshot of its scenario, its seed and its schedule. `current_round` counts rounds resolved."""

    __tablename__ = "game"

    id: int | None = Field(default=None, primary_key=True)
    instructor_id: int = Field(foreign_key="instructor.id", index=True)
    name: str = Field(max_length=GAME_NAME_MAX)
    scenario_id: str = Field(max_length=64)
    scenario_version: str = Field(max_length=64)
    scenario_text: str = Field(sa_type=Text)
    seed: int = Field(sa_type=BigInteger)
    rounds: int
    practice_round: bool = False
    advance_mode: str = Field(default="manual", max_length=16)  # manual | deadline
    round_minutes: int | None = None
    deadline_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    round_seconds_left: int | None = None  # a paused deadline round's remaining time
    current_round: int = 0
    status: str = Field(default="open", max_length=16)  # open | paused | ended
    join_code: str = Field(max_length=16, unique=True, index=True)
    absent_rule: str = Field(default="carry_on", max_length=32)  # carry_on or a persona name
    team_size_max: int = 5
    teams_locked: bool = False
    scoring_json: str = Field(sa_type=Text)
    created_at: datetime = Field(sa_type=DateTime(timezone=True))
    revision: int = Field(default=0, sa_column_kwargs={"server_default": "0"})  # see app/revisions.py


class Seat(SQLModel, table=True):
    """One company of a game: played by a team of students, or by a computer-run persona."""

    __tablename__ = "seat"
    __table_args__ = (UniqueConstraint("game_id", "company_index"),)

    id: int | None = Field(default=None, primary_key=True)
    game_id: int = Field(foreign_key="game.id", index=True)
    company_index: int
    company_name: str = Field(max_length=120)
    persona: str | None = Field(default=None, max_length=32)  # None: a team plays it
    aggressiveness: float = 0.5
    revision: int = Field(default=0, sa_column_kwargs={"server_default": "0"})  # see app/revisions.py


class Student(SQLModel, table=True):
    """A player: a display name in a game, on a team, with a secret token to come back from another device."""

    __tablename__ = "student"

    id: int | None = Field(default=None, primary_key=True)
    game_id: int = Field(foreign_key="game.id", index=True)
    seat_id: int | None = Field(default=None, foreign_key="seat.id", index=True)
    display_name: str = Field(max_length=60)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    pin: str = Field(max_length=8)
    created_at: datetime = Field(sa_type=DateTime(timezone=True))
    last_seen: datetime = Field(sa_type=DateTime(timezone=True))
    # the name as compared (NFKC, casefolded: app/services/students.py); one student a key a game
    name_key: str = Field(default="", max_length=240, index=True,
                          sa_column_kwargs={"server_default": ""})
    # the token a PIN rejoin or reset replaced, so that browser is told why it was signed out
    replaced_token_hash: str | None = Field(default=None, max_length=64, index=True)
    replaced_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    replaced_by: str | None = Field(default=None, max_length=16)  # device | instructor
    token_issued_at: datetime = Field(sa_type=DateTime(timezone=True))  # it expires some days after
    link_salt: str = Field(max_length=64)  # the rejoin link derives from it (services/students.py)


class TeamDecision(SQLModel, table=True):
    """A team's decision for one round: a draft until submitted; `version` guards against silent overwrites."""

    __tablename__ = "team_decision"
    __table_args__ = (UniqueConstraint("seat_id", "round"),)

    id: int | None = Field(default=None, primary_key=True)
    game_id: int = Field(foreign_key="game.id", index=True)
    seat_id: int = Field(foreign_key="seat.id", index=True)
    round: int
    payload: str = Field(sa_type=Text)  # Decision as JSON
    version: int = 1
    submitted: bool = False
    updated_by: str = Field(default="", max_length=60)
    updated_at: datetime = Field(sa_type=DateTime(timezone=True))


class RoundResult(SQLModel, table=True):
    """A resolved round: the inputs it was resolved with and its report (a cache the replay can rebuild and check)."""

    __tablename__ = "round_result"
    __table_args__ = (UniqueConstraint("game_id", "round"),)

    id: int | None = Field(default=None, primary_key=True)
    game_id: int = Field(foreign_key="game.id", index=True)
    round: int
    inputs: str = Field(sa_type=Text)  # JSON: team decisions by company and injected event indices
    report: str = Field(sa_type=Text)  # canonical JSON of the round report
    resolved_at: datetime = Field(sa_type=DateTime(timezone=True))


class InjectedEvent(SQLModel, table=True):
    """An event from the scenario's catalogue that an instructor queued for a round."""

    __tablename__ = "injected_event"
    __table_args__ = (UniqueConstraint("game_id", "round", "event_index"),)

    id: int | None = Field(default=None, primary_key=True)
    game_id: int = Field(foreign_key="game.id", index=True)
    round: int
    event_index: int


class InstructorSession(SQLModel, table=True):
    """A signed-in browser: the sha256 of a random cookie token, so signing out (deleting the row) really revokes it."""

    __tablename__ = "instructor_session"

    id: int | None = Field(default=None, primary_key=True)
    instructor_id: int = Field(foreign_key="instructor.id", index=True)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    created_at: datetime = Field(sa_type=DateTime(timezone=True))
    expires_at: datetime = Field(sa_type=DateTime(timezone=True), index=True)
    kind: str = Field(default="browser", max_length=8,  # browser | api
                      sa_column_kwargs={"server_default": "browser"})


class Attempt(SQLModel, table=True):
    """One counted try at a secret (a wrong PIN, a failed sign-in, a sign-up) for
    app/services/throttle.py, kept in the database so that every server process counts the same."""

    __tablename__ = "attempt"
    __table_args__ = (Index("ix_attempt_kind_key", "kind", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=32)  # which limit counts it
    key: str = Field(max_length=64)  # sha256 of what is counted: an address, an email, a name
    attempted_at: datetime = Field(sa_type=DateTime(timezone=True), index=True)


class PasswordReset(SQLModel, table=True):
    """A one-time link to set a new password: the sha256 of its token, valid until used or due."""

    __tablename__ = "password_reset"

    id: int | None = Field(default=None, primary_key=True)
    instructor_id: int = Field(foreign_key="instructor.id", index=True)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    created_at: datetime = Field(sa_type=DateTime(timezone=True))
    expires_at: datetime = Field(sa_type=DateTime(timezone=True), index=True)
