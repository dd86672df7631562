"""Test helpers for games in a database: an instructor (with no usable password: tests skip argon2) and a game."""

from __future__ import annotations

import uuid
from typing import Any

from sqlmodel import Session

from app import clock
from app.models import Game, Instructor
from app.services.setup import GameSetup, create_game

TEAMS_AND_PERSONAS = (None, "safety_first", "price_disruptor", "incumbent", "fast_follower", "scale_maximalist")  # frontier-race
TWO_TEAMS = (None, "safety_first", "price_disruptor", "incumbent", None, "scale_maximalist")  # Aurora AI and Echo are teams


def an_instructor(session: Session, email: str | None = None) -> int:
    """A new instructor's id; the email is unique unless given."""
    person = Instructor(email=email or f"{uuid.uuid4().hex[:10]}@example.edu", display_name="Teacher", password_hash="x",
                        created_at=clock.now())
    session.add(person)
    session.commit()
    assert person.id is not None
    return person.id


def a_game(session: Session, **setup: Any) -> Game:
    """A game of frontier-race (unless `scenario_id` says otherwise) for a new instructor; `setup` fills `GameSetup`."""
    fields: dict[str, Any] = {"name": "Test class", "scenario_id": "frontier-race", **setup}
    return create_game(session, an_instructor(session), GameSetup(**fields))
