"""Instructor accounts in a real database (SQLite, and PostgreSQL where a test server is given)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta

import pytest
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher
from sqlalchemy import Engine
from sqlmodel import Session, select

from app.db import migrate
from app.models import Attempt, Instructor, InstructorSession
from app.services import accounts
from app.services.accounts import (
    EmailTaken,
    InstructorCreate,
    SignUpRejected,
    TooManyAttempts,
    WrongCredentials,
)

PASSWORD = "correct horse battery"
HOME_IP = "192.0.2.10"
ADA = "ada@example.edu"


@pytest.fixture(autouse=True)
def cheap_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    """argon2id at its smallest settings: these tests count tries (a real hash takes 0.3 s)."""
    cheap = PasswordHash((Argon2Hasher(time_cost=1, memory_cost=1024, parallelism=1),))
    monkeypatch.setattr(accounts, "_hasher", lambda: cheap)
    monkeypatch.setattr(accounts, "_dummy_hash", lambda: cheap.hash("not anyone's password"))


@pytest.fixture
def engine(empty_database_url: str, engine_for: Callable[[str], Engine]) -> Iterator[Engine]:
    migrate(empty_database_url)
    yield engine_for(empty_database_url)


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with Session(engine) as s:
        yield s


def ada(email: str = "ada@example.edu", name: str = "Ada Lovelace", password: str = PASSWORD) -> InstructorCreate:
    return InstructorCreate(email=email, display_name=name, password=password)


def test_a_password_is_stored_only_as_an_argon2id_hash(session: Session) -> None:
    person = accounts.sign_up(session, ada())
    assert person.password_hash.startswith("$argon2id$") and PASSWORD not in person.password_hash


def test_emails_are_stored_and_matched_without_case_or_spaces(session: Session) -> None:
    accounts.sign_up(session, ada(email="  Ada@Example.EDU "))
    assert accounts.authenticate(session, "ADA@example.edu", PASSWORD, HOME_IP).display_name == "Ada Lovelace"
    with pytest.raises(EmailTaken):
        accounts.sign_up(session, ada(email="ada@example.edu", password="another long passphrase"))
    assert accounts.authenticate(session, ADA, PASSWORD, HOME_IP)  # the account is untouched


def test_every_sign_up_problem_is_reported_at_its_field_at_once(session: Session) -> None:
    with pytest.raises(SignUpRejected) as rejected:
        accounts.sign_up(session, InstructorCreate(email="not-an-email", display_name="  ", password="short"))
    assert rejected.value.problems == {
        "email": "Enter an email address like name@school.edu.",
        "display_name": "Enter the name your students will see.",
        "password": "Use at least 12 characters (you typed 5).",
    }
    assert session.exec(select(Instructor)).all() == []


def test_a_wrong_password_and_an_unknown_email_get_the_same_answer(session: Session) -> None:
    accounts.sign_up(session, ada())
    with pytest.raises(WrongCredentials) as wrong_password:
        accounts.authenticate(session, "ada@example.edu", "not the password", HOME_IP)
    with pytest.raises(WrongCredentials) as unknown_email:
        accounts.authenticate(session, "bob@example.edu", PASSWORD, HOME_IP)
    assert str(wrong_password.value) == str(unknown_email.value)


def guess_when_let(session: Session, address: str, at: datetime) -> datetime:
    """A wrong password for Ada as soon as the limits let it through; the time it was made."""
    at += accounts.retry_after(session, ADA, address, at) or timedelta(0)
    with pytest.raises(WrongCredentials):
        accounts.authenticate(session, ADA, "guess", address, at)
    return at


def test_after_five_failures_an_email_waits_a_second_doubling_up_to_a_minute(
    session: Session,
) -> None:
    accounts.sign_up(session, ada())
    at, waits = accounts.now(), []
    for n in range(12):
        at = guess_when_let(session, f"198.51.100.{n}", at)
        wait = accounts.retry_after(session, ADA, "203.0.113.9", at)
        waits.append(int(wait.total_seconds()) if wait else 0)
    assert waits == [0, 0, 0, 0, 1, 2, 4, 8, 16, 32, 60, 60]
    with pytest.raises(TooManyAttempts) as blocked:
        accounts.authenticate(session, ADA, PASSWORD, "203.0.113.9", at + timedelta(seconds=20))
    assert str(blocked.value) == "Too many attempts; wait 40 seconds."
    assert blocked.value.seconds == 40


def test_someone_guessing_all_day_keeps_the_owner_out_for_a_minute_at_most(
    session: Session,
) -> None:
    accounts.sign_up(session, ada())
    at = accounts.now()
    for n in range(30):  # the attacker guesses the moment each wait ends, well past the cap
        at = guess_when_let(session, f"198.51.100.{n}", at)
    wait = accounts.retry_after(session, ADA, HOME_IP, at)
    assert wait is not None and wait <= accounts.SIGN_IN_BY_EMAIL.longest_wait
    assert accounts.authenticate(session, ADA, PASSWORD, HOME_IP, at + wait)
    assert accounts.retry_after(session, ADA, HOME_IP, at + wait) is None


def test_a_blocked_attempt_is_not_counted_so_the_wait_does_not_grow(session: Session) -> None:
    start = accounts.now()
    for second in range(5):
        with pytest.raises(WrongCredentials):
            accounts.authenticate(session, ADA, "guess", HOME_IP, start + timedelta(seconds=second))
    for tenths in (41, 43, 45):
        with pytest.raises(TooManyAttempts):
            at = start + timedelta(seconds=tenths / 10)
            accounts.authenticate(session, ADA, "guess", HOME_IP, at)
    by_email = select(Attempt).where(Attempt.kind == accounts.SIGN_IN_BY_EMAIL.kind)
    assert len(session.exec(by_email).all()) == 5


def test_one_address_trying_many_emails_is_slowed_while_other_addresses_are_not(
    session: Session,
) -> None:
    start = accounts.now()
    for n in range(accounts.SIGN_IN_BY_ADDRESS.free):
        with pytest.raises(WrongCredentials):
            accounts.authenticate(session, f"user{n}@example.edu", "guess", HOME_IP, start)
    with pytest.raises(TooManyAttempts):
        accounts.authenticate(session, "someone.new@example.edu", "guess", HOME_IP, start)
    with pytest.raises(WrongCredentials):
        accounts.authenticate(session, "someone.new@example.edu", "guess", "203.0.113.9", start)


def test_sign_ups_from_one_address_are_slowed_after_ten_a_day(session: Session) -> None:
    start = accounts.now()
    for n in range(accounts.SIGN_UP_BY_ADDRESS.free):
        accounts.sign_up(session, ada(email=f"user{n}@example.edu"), HOME_IP, start)
    one_more = ada(email="one.more@example.edu")
    with pytest.raises(TooManyAttempts) as refused:
        accounts.sign_up(session, one_more, HOME_IP, start + timedelta(seconds=10))
    assert refused.value.seconds == 20
    with pytest.raises(EmailTaken):  # an existing email counts as a new one: the answers are alike
        accounts.sign_up(session, ada(email="user0@example.edu"), "203.0.113.9", start)
    assert accounts.sign_up(session, one_more, "203.0.113.10", start)


def test_a_successful_sign_in_clears_the_failures_of_that_email(session: Session) -> None:
    accounts.sign_up(session, ada())
    for _ in range(4):
        with pytest.raises(WrongCredentials):
            accounts.authenticate(session, "ada@example.edu", "guess", HOME_IP)
    accounts.authenticate(session, "ada@example.edu", PASSWORD, HOME_IP)
    with pytest.raises(WrongCredentials):
        accounts.authenticate(session, "ada@example.edu", "guess", HOME_IP)  # a fifth failure, but the count restarted
    assert accounts.authenticate(session, "ada@example.edu", PASSWORD, HOME_IP)


def test_a_session_token_finds_its_instructor_until_closed(session: Session) -> None:
    person = accounts.sign_up(session, ada())
    assert person.id is not None
    token = accounts.open_session(session, person.id)
    found = accounts.instructor_for(session, token)
    assert found is not None and found.id == person.id
    assert session.exec(select(InstructorSession.token_hash)).one() == accounts.token_hash(token) != token
    accounts.close_session(session, token)
    assert accounts.instructor_for(session, token) is None


def test_a_session_expires_after_its_lifetime(session: Session) -> None:
    person = accounts.sign_up(session, ada())
    assert person.id is not None
    start = accounts.now()
    token = accounts.open_session(session, person.id, start)
    assert accounts.instructor_for(session, token, start + accounts.SESSION_LIFETIME - timedelta(minutes=1)) is not None
    assert accounts.instructor_for(session, token, start + accounts.SESSION_LIFETIME) is None
    assert accounts.instructor_for(session, "a-token-nobody-was-given") is None


REPEATED = "Use more than one character over and over: a repeated character is guessed at once."
COMMON = "That is one of the most common passwords, which are guessed first; choose another."
NOT_THE_EMAIL = "Do not use your email address as your password."


@pytest.mark.parametrize(("password", "email", "problem"), [
    ("          ", ADA, "Use at least 12 characters (you typed 10)."),
    ("1234567890", ADA, "Use at least 12 characters (you typed 10)."),
    ("aaaaaaaaaaaaaaaa", ADA, REPEATED),
    ("            ", ADA, REPEATED),
    ("Q1W2E3R4T5Y6", ADA, COMMON),
    ("password1234!", ADA, COMMON),
    ("Ada.Lovelace@Example.edu", "ada.lovelace@example.edu", NOT_THE_EMAIL),
    ("Ada.Lovelace.1815", "ada.lovelace.1815@example.edu", NOT_THE_EMAIL),
])
def test_each_weak_password_is_refused_with_its_own_reason(password: str, email: str,
                                                           problem: str) -> None:
    assert accounts.password_problem(password, email) == problem


def test_a_long_uncommon_password_is_accepted() -> None:
    assert accounts.password_problem(PASSWORD, "ada@example.edu") == ""


def test_sign_ins_beyond_the_hashes_that_may_run_at_once_are_told_to_retry_and_not_counted(
        session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(accounts, "HASH_QUEUE_SECONDS", 0)
    slots = accounts._hash_slots()
    for _ in range(accounts.HASHES_AT_ONCE):
        assert slots.acquire(timeout=0)
    try:
        with pytest.raises(accounts.ServerBusy):
            accounts.authenticate(session, "ada@example.edu", PASSWORD, HOME_IP)
        with pytest.raises(accounts.ServerBusy):
            accounts.sign_up(session, ada(), HOME_IP)
    finally:
        for _ in range(accounts.HASHES_AT_ONCE):
            slots.release()
    assert session.exec(select(Attempt)).all() == []
    assert session.exec(select(Instructor)).all() == []
