"""Revision counters: what lets a rendered page be served again without being rebuilt.

Every change to a game's rows moves a counter in the database. A change to what only one team's pages show
(its decision drafts, its members) moves that seat's `seat.revision`; any other change to the game (a round
resolved or rewound, a deadline, a pause, an injected event, a seat) moves `game.revision`. A team's page
rendered while both counters stood at known values shows exactly what it would show now if neither has moved
since. The counters live in the database, so every server process sees every other's changes.

The rule is applied at every ORM flush (`_count_changes`, installed by `install`, which `app.db.create_db_engine`
calls), so no service has to remember it. The few Core UPDATE and DELETE statements that bypass the ORM call
`bump` themselves (tests/services/test_revisions.py
checks every service that changes a game).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, bindparam, event, select, update
from sqlalchemy import inspect as inspect_row
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.orm import UOWTransaction

from app.clock import aware
from app.models import Game, InjectedEvent, RoundResult, Seat, Student, TeamDecision

GAME_ROWS = (Game, Seat, RoundResult, InjectedEvent)  # rows every team's pages may show
SEAT_ROWS = (TeamDecision, Student)  # rows only their own team's pages show
UNSHOWN_CHANGES: dict[type, frozenset[str]] = {Student: frozenset({"last_seen"})}  # no page shows these


def bump(session: OrmSession, games: Iterable[int] = (), seats: Iterable[int] = ()) -> None:
    """Move the counters of these games and seats, inside the session's transaction."""
    game_ids, seat_ids = sorted(set(games)), sorted(set(seats))
    connection = session.connection()
    if game_ids:
        table = Game.__table__  # type: ignore[attr-defined]
        connection.execute(update(table).where(table.c.id.in_(game_ids)).values(revision=table.c.revision + 1))
    if seat_ids:
        table = Seat.__table__  # type: ignore[attr-defined]
        connection.execute(update(table).where(table.c.id.in_(seat_ids)).values(revision=table.c.revision + 1))


def install() -> None:
    """Apply the rule to every session's flushes (once, however often it is called)."""
    if not event.contains(OrmSession, "after_flush", _count_changes):
        event.listen(OrmSession, "after_flush", _count_changes)


def _count_changes(session: OrmSession, _flush: UOWTransaction) -> None:
    games: set[int] = set()
    seats: set[int] = set()
    for row in [*session.new, *session.dirty, *session.deleted]:
        if isinstance(row, GAME_ROWS + SEAT_ROWS) and _shows_a_change(session, row):
            _touched_by(row, games, seats)
    if games or seats:
        bump(session, games, seats)


def _shows_a_change(session: OrmSession, row: Any) -> bool:
    if row in session.new or row in session.deleted:
        return True
    changed = {attr.key for attr in inspect_row(row).attrs if attr.history.has_changes()}
    return bool(changed - UNSHOWN_CHANGES.get(type(row), frozenset()))


def _touched_by(row: Any, games: set[int], seats: set[int]) -> None:
    if isinstance(row, Game):
        if row.id is not None:
            games.add(row.id)
    elif isinstance(row, (Seat, RoundResult, InjectedEvent)):
        games.add(row.game_id)
    else:
        # a student who moves team changes both teams' pages; one on no team, the game's
        for seat_id in {row.seat_id, *inspect_row(row).attrs.seat_id.history.deleted}:
            if seat_id is None:
                games.add(row.game_id)
            else:
                seats.add(seat_id)


# --- reading the counters --------------------------------------------------------------------------


@dataclass(frozen=True)
class StudentMarks:
    """Who a student token belongs to, and the counters of their game and seat right now."""

    student_id: int
    seat_id: int | None
    last_seen: datetime
    game_revision: int
    seat_revision: int | None

    @property
    def revisions(self) -> tuple[int, int | None, int, int | None]:
        """Equal before and after only if nothing a team page shows has changed for this student."""
        return self.student_id, self.seat_id, self.game_revision, self.seat_revision


_MARKS = (select(Student.id, Student.seat_id, Student.last_seen, Game.revision, Seat.revision)  # type: ignore[call-overload]
          .join(Game, Game.id == Student.game_id)
          .outerjoin(Seat, Seat.id == Student.seat_id)
          .where(Student.token_hash == bindparam("token_hash")))


class MarksReader:
    """Reads a student's marks with one indexed query through the driver directly (no ORM), on its engine's own
    pool (no contention with the pages' connections): cheap enough to run before every cached page. Blocking:
    call it from a thread (app/web/page_cache.py gives it a deadline). Thread-safe: each read checks out its own
    connection."""

    def __init__(self, engine: Engine):
        self.engine = engine
        compiled = _MARKS.compile(dialect=engine.dialect)
        self.sql = str(compiled)
        self.positional = compiled.positiontup or None

    def marks(self, token_hash: str) -> StudentMarks | None:
        params: Any = {"token_hash": token_hash}
        if self.positional:
            params = [params[name] for name in self.positional]
        connection = self.engine.raw_connection()
        try:
            cursor = connection.cursor()
            cursor.execute(self.sql, params)
            rows = cursor.fetchall()
            cursor.close()
        finally:
            connection.close()
        if not rows:
            return None
        student_id, seat_id, last_seen, game_revision, seat_revision = rows[0]
        seen = datetime.fromisoformat(last_seen) if isinstance(last_seen, str) else last_seen
        return StudentMarks(student_id, seat_id, aware(seen), game_revision, seat_revision)

    def close(self) -> None:
        self.engine.dispose()
