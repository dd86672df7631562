"""The attempt limiter in a real database (SQLite, and PostgreSQL where a test server is given)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from app.db import migrate
from app.models import Attempt
from app.services import throttle
from app.services.throttle import Limit, TooManyTries

GUESSES = Limit(
    "guess",
    free=3,
    first_wait=timedelta(seconds=2),
    longest_wait=timedelta(seconds=60),
    window=timedelta(hours=1),
)
OTHER = Limit(
    "other",
    free=1,
    first_wait=timedelta(seconds=10),
    longest_wait=timedelta(seconds=10),
    window=timedelta(hours=1),
)
START = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


@pytest.fixture
def session(empty_database_url: str, engine_for: Callable[[str], Engine]) -> Iterator[Session]:
    migrate(empty_database_url)
    with Session(engine_for(empty_database_url)) as s:
        yield s


def tries(session: Session, n: int, key: str = "k", at: datetime = START) -> datetime:
    """n tries, each as soon as it is let through; the time of the last."""
    for _ in range(n):
        at += throttle.retry_after(session, GUESSES, key, at) or timedelta(0)
        throttle.claim(session, [(GUESSES, key)], at)
    return at


def test_the_free_tries_need_no_wait_and_the_next_waits_the_first_delay(session: Session) -> None:
    last = tries(session, 3)
    assert throttle.retry_after(session, GUESSES, "k", last) == timedelta(seconds=2)
    with pytest.raises(TooManyTries) as refused:
        throttle.claim(session, [(GUESSES, "k")], last + timedelta(seconds=1))
    assert str(refused.value) == "Too many tries; wait 1 second." and refused.value.seconds == 1


def test_each_try_past_the_free_ones_doubles_the_wait_up_to_the_cap(session: Session) -> None:
    at = tries(session, 3)
    waits = []
    for _ in range(7):
        wait = throttle.retry_after(session, GUESSES, "k", at)
        assert wait is not None
        waits.append(int(wait.total_seconds()))
        at += wait
        throttle.claim(session, [(GUESSES, "k")], at)
    assert waits == [2, 4, 8, 16, 32, 60, 60]


def test_a_refused_try_is_not_counted_so_waiting_it_out_is_enough(session: Session) -> None:
    last = tries(session, 3)
    for second in range(1, 2 * 10):
        with pytest.raises(TooManyTries):
            throttle.claim(session, [(GUESSES, "k")], last + timedelta(seconds=second / 10))
    throttle.claim(session, [(GUESSES, "k")], last + timedelta(seconds=2))
    assert len(session.exec(select(Attempt)).all()) == 4


def test_keys_and_kinds_count_apart(session: Session) -> None:
    last = tries(session, 3, key="attacker")
    assert throttle.retry_after(session, GUESSES, "attacker", last) is not None
    assert throttle.retry_after(session, GUESSES, "owner", last) is None
    assert throttle.retry_after(session, OTHER, "attacker", last) is None
    throttle.claim(session, [(GUESSES, "owner"), (OTHER, "attacker")], last)


def test_a_try_waits_for_the_strictest_of_its_limits_and_then_counts_against_none(
    session: Session,
) -> None:
    throttle.claim(session, [(OTHER, "k")], START)
    with pytest.raises(TooManyTries) as refused:
        throttle.claim(session, [(GUESSES, "k"), (OTHER, "k")], START + timedelta(seconds=1))
    assert refused.value.seconds == 9
    assert throttle.retry_after(session, GUESSES, "k", START + timedelta(seconds=1)) is None
    assert len(session.exec(select(Attempt)).all()) == 1


def test_a_try_given_back_does_not_count(session: Session) -> None:
    for i in range(10):
        throttle.give_back(
            session, throttle.claim(session, [(GUESSES, "k")], START + timedelta(microseconds=i))
        )
    assert throttle.retry_after(session, GUESSES, "k", START + timedelta(seconds=1)) is None


def test_forgetting_a_key_clears_its_wait_but_not_other_keys(session: Session) -> None:
    tries(session, 4, key="owner")
    last = tries(session, 4, key="attacker")
    throttle.forget(session, GUESSES, "owner")
    assert throttle.retry_after(session, GUESSES, "owner", last) is None
    assert throttle.retry_after(session, GUESSES, "attacker", last) is not None


def test_tries_older_than_the_window_are_forgotten(session: Session) -> None:
    last = tries(session, 10)
    later = last + GUESSES.window + timedelta(seconds=1)
    assert throttle.retry_after(session, GUESSES, "k", later) is None
    throttle.claim(session, [(GUESSES, "k")], later)
    assert len(session.exec(select(Attempt)).all()) == 1


def test_waits_are_said_in_seconds_then_in_minutes_rounded_up() -> None:
    assert throttle.wait_words(timedelta(seconds=39.2)) == "40 seconds"
    assert throttle.wait_words(timedelta(seconds=119)) == "119 seconds"
    assert throttle.wait_words(timedelta(seconds=121)) == "3 minutes"


def test_keys_are_stored_as_hashes_not_as_what_they_count() -> None:
    key = throttle.key_of("ada@example.edu")
    assert len(key) == 64 and "ada" not in key and key != throttle.key_of("ada@example.edu", 1)
