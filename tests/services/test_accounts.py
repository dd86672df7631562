"""Instructor accounts in a real database (SQLite, and PostgreSQL where a test server is given)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from app.db import migrate
from app.models import Instructor, InstructorSession, SignInAttempt
from app.services import accounts
from app.services.accounts import InstructorCreate, SignUpRejected, TooManyAttempts, WrongCredentials

PASSWORD = "correct horse battery"
HOME_IP = "192.0.2.10"


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
    with pytest.raises(SignUpRejected) as rejected:
        accounts.sign_up(session, ada(email="ada@example.edu"))
    assert rejected.value.problems == {"email": "An account with this email already exists; sign in instead."}


def test_every_sign_up_problem_is_reported_at_its_field_at_once(session: Session) -> None:
    with pytest.raises(SignUpRejected) as rejected:
        accounts.sign_up(session, InstructorCreate(email="not-an-email", display_name="  ", password="short"))
    assert rejected.value.problems == {
        "email": "Enter an email address like name@school.edu.",
        "display_name": "Enter the name your students will see.",
        "password": "Use at least 10 characters (you typed 5).",
    }
    assert session.exec(select(Instructor)).all() == []


def test_a_wrong_password_and_an_unknown_email_get_the_same_answer(session: Session) -> None:
    accounts.sign_up(session, ada())
    with pytest.raises(WrongCredentials) as wrong_password:
        accounts.authenticate(session, "ada@example.edu", "not the password", HOME_IP)
    with pytest.raises(WrongCredentials) as unknown_email:
        accounts.authenticate(session, "bob@example.edu", PASSWORD, HOME_IP)
    assert str(wrong_password.value) == str(unknown_email.value)


def test_five_failures_for_one_email_block_it_for_the_rest_of_fifteen_minutes(session: Session) -> None:
    accounts.sign_up(session, ada())
    start = accounts.now()
    for minute in range(5):
        with pytest.raises(WrongCredentials):
            accounts.authenticate(session, "ada@example.edu", "guess", f"198.51.100.{minute}", start + timedelta(minutes=minute))
    with pytest.raises(TooManyAttempts) as blocked:
        accounts.authenticate(session, "ada@example.edu", PASSWORD, "203.0.113.9", start + timedelta(minutes=5))
    assert str(blocked.value) == "Too many attempts; try again in 10 minutes."
    assert accounts.authenticate(session, "ada@example.edu", PASSWORD, HOME_IP, start + timedelta(minutes=15, seconds=1))


def test_a_blocked_attempt_is_not_counted_so_the_wait_does_not_grow(session: Session) -> None:
    start = accounts.now()
    for _ in range(5):
        with pytest.raises(WrongCredentials):
            accounts.authenticate(session, "ada@example.edu", "guess", HOME_IP, start)
    for minutes in (1, 2, 3):
        with pytest.raises(TooManyAttempts):
            accounts.authenticate(session, "ada@example.edu", "guess", HOME_IP, start + timedelta(minutes=minutes))
    assert len(session.exec(select(SignInAttempt)).all()) == 5


def test_one_address_trying_many_emails_is_blocked_too(session: Session) -> None:
    start = accounts.now()
    for n in range(accounts.MAX_FAILURES_PER_IP):
        with pytest.raises(WrongCredentials):
            accounts.authenticate(session, f"user{n}@example.edu", "guess", HOME_IP, start)
    with pytest.raises(TooManyAttempts):
        accounts.authenticate(session, "someone.new@example.edu", "guess", HOME_IP, start + timedelta(minutes=1))
    with pytest.raises(WrongCredentials):
        accounts.authenticate(session, "someone.new@example.edu", "guess", "203.0.113.9", start + timedelta(minutes=1))


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
