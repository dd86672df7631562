"""Limits on tries at a secret, kept in the database so that every server process counts the same.

A limit is a soft lockout (OWASP ASVS 2.2.1): a few free tries, then each further try waits twice
as long after the one before, up to a cap, so no one locks an owner out for long.
A try is claimed before its secret is checked (its row is written first), so a burst of simultaneous
requests cannot all slip in under the limit; a try that succeeds is given back or clears its key.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlmodel import Session, col, func, select

from app import clock
from app.models import Attempt

KEY_SEPARATOR = "\x1f"
MAX_DOUBLINGS = 32  # far past any cap; keeps 2**n small
SECONDS_SHOWN_UP_TO = 120  # longer waits are said in minutes


@dataclass(frozen=True)
class Limit:
    """How many tries of one kind are free within `window`, and how the wait grows after them."""

    kind: str
    free: int
    first_wait: timedelta
    longest_wait: timedelta
    window: timedelta  # tries older than this are forgotten

    def wait_after(self, earlier: int) -> timedelta:
        """The wait a try needs after the latest of `earlier` tries in the window."""
        if earlier < self.free:
            return timedelta(0)
        doublings = min(earlier - self.free, MAX_DOUBLINGS)
        return min(self.first_wait * 2**doublings, self.longest_wait)


class TooManyTries(Exception):
    """A try refused without checking its secret, because one of its limits asks it to wait."""

    def __init__(self, wait: timedelta):
        self.wait, self.seconds = wait, whole_seconds(wait)
        super().__init__(f"Too many tries; wait {wait_words(wait)}.")


def whole_seconds(wait: timedelta) -> int:
    """A wait rounded up to whole seconds (at least one), as a Retry-After header gives it."""
    return max(1, math.ceil(wait.total_seconds()))


def wait_words(wait: timedelta) -> str:
    """'40 seconds', '1 second', '3 minutes': a wait as a person reads it, rounded up."""
    seconds = whole_seconds(wait)
    if seconds < SECONDS_SHOWN_UP_TO:
        return f"{seconds} second{'' if seconds == 1 else 's'}"
    minutes = math.ceil(seconds / 60)
    return f"{minutes} minutes"


def key_of(*parts: str | int) -> str:
    """The stored key of what a limit counts: a hash, so the table keeps no email, name, address."""
    return hashlib.sha256(KEY_SEPARATOR.join(str(p) for p in parts).encode()).hexdigest()


@dataclass(frozen=True)
class Claim:
    """The rows written for one try, one per limit it counts against."""

    ids: tuple[int, ...]


def claim(
    session: Session, counted: Sequence[tuple[Limit, str]], at: datetime | None = None
) -> Claim:
    """Count a try against each (limit, key), or raise TooManyTries with the longest wait (and count
    nothing)."""
    at = at or clock.now()
    rows = [_counted(session, limit, key, at) for limit, key in counted]
    session.commit()
    waits = [
        w
        for (limit, key), row in zip(counted, rows, strict=True)
        if (w := _left(limit, *_earlier(session, limit, key, at, before_id=row.id), at))
    ]
    if waits:
        give_back(session, Claim(tuple(r.id or 0 for r in rows)))
        raise TooManyTries(max(waits))
    return Claim(tuple(r.id or 0 for r in rows))


def give_back(session: Session, taken: Claim) -> None:
    """The try succeeded (or was refused): it does not count."""
    session.execute(delete(Attempt).where(col(Attempt.id).in_(taken.ids)))
    session.commit()


def forget(session: Session, limit: Limit, key: str) -> None:
    """Clear every try counted against this key (its owner proved who they are)."""
    session.execute(delete(Attempt).where(col(Attempt.kind) == limit.kind, col(Attempt.key) == key))
    session.commit()


def retry_after(
    session: Session, limit: Limit, key: str, at: datetime | None = None
) -> timedelta | None:
    """How long a new try against this key would have to wait now; None when it may go ahead."""
    at = at or clock.now()
    return _left(limit, *_earlier(session, limit, key, at, before_id=None), at)


def _counted(session: Session, limit: Limit, key: str, at: datetime) -> Attempt:
    session.execute(
        delete(Attempt).where(
            col(Attempt.kind) == limit.kind, col(Attempt.attempted_at) <= at - limit.window
        )
    )
    row = Attempt(kind=limit.kind, key=key, attempted_at=at)
    session.add(row)
    session.flush()
    return row


def _left(limit: Limit, earlier: int, latest: datetime | None, at: datetime) -> timedelta | None:
    if latest is None:
        return None
    left = clock.aware(latest) + limit.wait_after(earlier) - at
    return left if left > timedelta(0) else None


def _earlier(
    session: Session, limit: Limit, key: str, at: datetime, before_id: int | None
) -> tuple[int, datetime | None]:
    """How many tries count against this key in the window (before row `before_id`); the latest."""
    query = select(func.count(), func.max(Attempt.attempted_at)).where(
        col(Attempt.kind) == limit.kind,
        col(Attempt.key) == key,
        col(Attempt.attempted_at) > at - limit.window,
    )
    if before_id is not None:
        query = query.where(col(Attempt.id) < before_id)
    count, latest = session.exec(query).one()
    return int(count), latest
