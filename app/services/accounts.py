"""Instructor accounts: sign up, sign in (rate-limited in the database), and sessions that sign-out really revokes.

Passwords are hashed with argon2id (pwdlib's recommended settings). A session is a random token in a cookie; the
database keeps only its sha256, so a leaked table opens no session and deleting a row signs that browser out on
every server process at once.
"""

from __future__ import annotations

import hashlib
import math
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from pwdlib import PasswordHash
from sqlalchemy import ColumnElement, delete
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from app.clock import aware, now
from app.models import Instructor, InstructorSession, PasswordReset, SignInAttempt

PASSWORD_MIN_LENGTH = 10
PASSWORD_MAX_LENGTH = 1024  # hashing is slow on purpose; a megabyte "password" would be a denial of service
DISPLAY_NAME_MAX_LENGTH = 120
EMAIL_MAX_LENGTH = 254  # RFC 5321 path limit
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
SESSION_LIFETIME = timedelta(days=14)
ATTEMPT_WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_EMAIL = 5
MAX_FAILURES_PER_IP = 20  # higher: a campus network puts many instructors behind one address


class AccountError(Exception):
    """Something about an account that cannot be done, in words to show the person."""


class SignUpRejected(AccountError):
    """What is wrong with a sign-up, by form field (email, display_name, password)."""

    def __init__(self, problems: dict[str, str]):
        super().__init__(" ".join(problems.values()))
        self.problems = problems


class WrongCredentials(AccountError):
    def __init__(self) -> None:
        super().__init__("That email and password do not match an account.")


class TooManyAttempts(AccountError):
    """Sign-in refused without checking the password until enough failures leave the window."""

    def __init__(self, wait: timedelta):
        self.minutes = max(1, math.ceil(wait.total_seconds() / 60))
        unit = "minute" if self.minutes == 1 else "minutes"
        super().__init__(f"Too many attempts; try again in {self.minutes} {unit}.")


@dataclass(frozen=True)
class InstructorCreate:
    """What someone types to sign up."""

    email: str
    display_name: str
    password: str


def normalise_email(email: str) -> str:
    """Emails compare without case or surrounding spaces: Ada@Example.edu is ada@example.edu."""
    return email.strip().lower()


@lru_cache(maxsize=1)
def _hasher() -> PasswordHash:
    return PasswordHash.recommended()


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    """A hash to verify against when the email is unknown, so that a wrong email takes as long as a wrong password."""
    return _hasher().hash(secrets.token_urlsafe(16))


# --- signing up ------------------------------------------------------------------------------------


def sign_up(session: Session, new: InstructorCreate) -> Instructor:
    """A new instructor account; raises SignUpRejected with every problem at its field."""
    problems = sign_up_problems(session, new)
    if problems:
        raise SignUpRejected(problems)
    person = Instructor(email=normalise_email(new.email), display_name=new.display_name.strip(),
                        password_hash=_hasher().hash(new.password), created_at=now())
    session.add(person)
    try:
        session.commit()
    except IntegrityError:  # the same email signed up a moment ago in another request
        session.rollback()
        raise SignUpRejected({"email": _taken_message()}) from None
    session.refresh(person)
    return person


def sign_up_problems(session: Session, new: InstructorCreate) -> dict[str, str]:
    out = {"email": _email_problem(session, new.email), "display_name": _name_problem(new.display_name),
           "password": password_problem(new.password, new.email)}
    return {k: v for k, v in out.items() if v}


def _email_problem(session: Session, email: str) -> str:
    email = normalise_email(email)
    if not email:
        return "Enter your email address."
    if len(email) > EMAIL_MAX_LENGTH or not EMAIL_PATTERN.match(email):
        return "Enter an email address like name@school.edu."
    if session.exec(select(Instructor.id).where(Instructor.email == email)).first() is not None:
        return _taken_message()
    return ""


def _taken_message() -> str:
    return "An account with this email already exists; sign in instead."


def _name_problem(name: str) -> str:
    if not name.strip():
        return "Enter the name your students will see."
    if len(name.strip()) > DISPLAY_NAME_MAX_LENGTH:
        return f"Use at most {DISPLAY_NAME_MAX_LENGTH} characters."
    return ""


def password_problem(password: str, email: str = "") -> str:
    """What is wrong with a new password (sign-up, change, reset), or "" when it may be used."""
    if len(password) < PASSWORD_MIN_LENGTH:
        return f"Use at least {PASSWORD_MIN_LENGTH} characters (you typed {len(password)})."
    if len(password) > PASSWORD_MAX_LENGTH:
        return f"Use at most {PASSWORD_MAX_LENGTH} characters."
    return ""


# --- signing in ------------------------------------------------------------------------------------


def authenticate(session: Session, email: str, password: str, client_ip: str, at: datetime | None = None) -> Instructor:
    """The instructor with this email and password. Raises TooManyAttempts (without checking the password) after
    too many recent failures for this email or this address, else WrongCredentials, which is then counted."""
    at = at or now()
    email = normalise_email(email)[:EMAIL_MAX_LENGTH]
    wait = retry_after(session, email, client_ip, at)
    if wait is not None:
        raise TooManyAttempts(wait)
    person = session.exec(select(Instructor).where(Instructor.email == email)).first()
    if person is None or len(password) > PASSWORD_MAX_LENGTH:
        _hasher().verify(password[:PASSWORD_MAX_LENGTH], _dummy_hash())
        _record_failure(session, email, client_ip, at)
        raise WrongCredentials()
    valid, rehashed = _hasher().verify_and_update(password, person.password_hash)
    if not valid:
        _record_failure(session, email, client_ip, at)
        raise WrongCredentials()
    _forget_failures(session, email, person, rehashed)
    return person


def retry_after(session: Session, email: str, client_ip: str, at: datetime) -> timedelta | None:
    """How long until this email and this address may try again; None if they may now."""
    since = at - ATTEMPT_WINDOW
    by_email = _failure_times(session, col(SignInAttempt.email) == normalise_email(email), since)
    by_ip = _failure_times(session, col(SignInAttempt.client_ip) == client_ip, since)
    waits = [w for w in (_wait(by_email, MAX_FAILURES_PER_EMAIL, at), _wait(by_ip, MAX_FAILURES_PER_IP, at)) if w]
    return max(waits) if waits else None


def _failure_times(session: Session, who: ColumnElement[bool], since: datetime) -> list[datetime]:
    rows = session.exec(select(SignInAttempt.attempted_at).where(who, col(SignInAttempt.attempted_at) > since)
                        .order_by(col(SignInAttempt.attempted_at)))
    return [aware(t) for t in rows]


def _wait(failures: list[datetime], limit: int, at: datetime) -> timedelta | None:
    """Blocked while `limit` failures lie in the window: until the one that brings the count under it leaves."""
    if len(failures) < limit:
        return None
    return failures[len(failures) - limit] + ATTEMPT_WINDOW - at


def _record_failure(session: Session, email: str, client_ip: str, at: datetime) -> None:
    session.execute(delete(SignInAttempt).where(col(SignInAttempt.attempted_at) <= at - ATTEMPT_WINDOW))
    session.add(SignInAttempt(email=email, client_ip=client_ip[:64], attempted_at=at))
    session.commit()


def _forget_failures(session: Session, email: str, person: Instructor, rehashed: str | None) -> None:
    """A success clears this email's failures (not the address's: one good account must not reset an attacker)."""
    session.execute(delete(SignInAttempt).where(col(SignInAttempt.email) == email))
    if rehashed is not None:  # the recommended hash settings changed since this password was set
        person.password_hash = rehashed
        session.add(person)
    session.commit()
    session.refresh(person)



# --- sessions and API tokens ----------------------------------------------------------------------
# A browser's session and a script's API token are rows of one table told apart by `kind`: a token
# is accepted only as what it was issued as: an API token is no session cookie, and the other way.

BROWSER = "browser"
API = "api"


def open_session(session: Session, instructor_id: int, at: datetime | None = None,
                 kind: str = BROWSER) -> str:
    """A new session for a signed-in instructor; returns the token for the cookie (the database keeps its hash)."""
    at = at or now()
    session.execute(delete(InstructorSession).where(col(InstructorSession.expires_at) <= at))
    token = secrets.token_urlsafe(32)
    session.add(InstructorSession(instructor_id=instructor_id, token_hash=token_hash(token), created_at=at,
                                  expires_at=at + SESSION_LIFETIME, kind=kind))
    session.commit()
    return token


def open_api_token(session: Session, instructor_id: int, at: datetime | None = None) -> str:
    """A bearer token for the JSON API, which no browser accepts as a session cookie."""
    return open_session(session, instructor_id, at, kind=API)


def instructor_for(session: Session, token: str, at: datetime | None = None,
                   kind: str = BROWSER) -> Instructor | None:
    """The instructor a session token (with kind=API: an API token) belongs to, while it is open."""
    query = (select(Instructor)
             .join(InstructorSession, col(InstructorSession.instructor_id) == col(Instructor.id))
             .where(col(InstructorSession.token_hash) == token_hash(token),
                    col(InstructorSession.kind) == kind,
                    col(InstructorSession.expires_at) > (at or now())))
    return session.exec(query).first()


def close_session(session: Session, token: str) -> None:
    """Sign a browser out (or revoke an API token): its row goes, so it opens nothing any more."""
    session.execute(delete(InstructorSession).where(col(InstructorSession.token_hash) == token_hash(token)))
    session.commit()


def close_every_session(session: Session, instructor_id: int, keep: str | None = None) -> None:
    """Sign out everywhere: every session and API token of the instructor goes (but `keep`'s)."""
    query = delete(InstructorSession).where(col(InstructorSession.instructor_id) == instructor_id)
    if keep is not None:
        query = query.where(col(InstructorSession.token_hash) != token_hash(keep))
    session.execute(query)
    session.commit()


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# --- changing and resetting a password ------------------------------------------------------------

RESET_LIFETIME = timedelta(minutes=60)
RESET_EMAIL_EVERY = timedelta(minutes=5)  # a form anyone can post must not flood someone's inbox


class PasswordRejected(AccountError):
    """What is wrong with a password change or reset, by form field (current, password)."""

    def __init__(self, problems: dict[str, str]):
        super().__init__(" ".join(problems.values()))
        self.problems = problems


class ResetLinkInvalid(AccountError):
    def __init__(self) -> None:
        super().__init__("This reset link has expired or has been used already. Ask for a new one.")


def change_password(session: Session, person: Instructor, current: str, new: str, client_ip: str,
                    keep: str | None = None) -> None:
    """Set a new password after checking the current one (counted like a sign-in, so that it cannot
    be guessed from a stolen session); every other session and API token goes, `keep`'s stays."""
    try:
        authenticate(session, person.email, current, client_ip)
    except WrongCredentials:
        raise PasswordRejected({"current": "That is not your current password."}) from None
    problem = password_problem(new, person.email)
    if problem:
        raise PasswordRejected({"password": problem})
    _set_password(session, person, new, keep)


def issue_reset(session: Session, email: str, at: datetime | None = None,
                every: timedelta | None = None) -> str | None:
    """A one-time reset token for the account with this email (None when there is none, or when
    `every` has not passed since the last one); the database keeps its hash."""
    at = at or now()
    found = select(Instructor).where(Instructor.email == normalise_email(email))
    person = session.exec(found).first()
    if person is None or person.id is None:
        return None
    session.execute(delete(PasswordReset).where(col(PasswordReset.expires_at) <= at))
    if every is not None and _reset_since(session, person.id, at - every):
        session.commit()
        return None
    token = secrets.token_urlsafe(32)
    session.add(PasswordReset(instructor_id=person.id, token_hash=token_hash(token), created_at=at,
                              expires_at=at + RESET_LIFETIME))
    session.commit()
    return token


def _reset_since(session: Session, instructor_id: int, since: datetime) -> bool:
    query = select(PasswordReset.id).where(PasswordReset.instructor_id == instructor_id,
                                           col(PasswordReset.created_at) > since)
    return session.exec(query).first() is not None


def reset_holder(session: Session, token: str, at: datetime | None = None) -> Instructor | None:
    """Whose password a reset token may set, while it is unused and unexpired."""
    query = (select(Instructor)
             .join(PasswordReset, col(PasswordReset.instructor_id) == col(Instructor.id))
             .where(PasswordReset.token_hash == token_hash(token),
                    col(PasswordReset.expires_at) > (at or now())))
    return session.exec(query).first()


def reset_password(session: Session, token: str, new: str,
                   at: datetime | None = None) -> Instructor:
    """Set a new password with a reset token, once: every reset link, session and API token of the
    account is revoked, and its sign-in failures forgotten."""
    person = reset_holder(session, token, at)
    if person is None:
        raise ResetLinkInvalid()
    problem = password_problem(new, person.email)
    if problem:
        raise PasswordRejected({"password": problem})
    session.execute(delete(SignInAttempt).where(col(SignInAttempt.email) == person.email))
    _set_password(session, person, new, keep=None)
    return person


def _set_password(session: Session, person: Instructor, new: str, keep: str | None) -> None:
    person.password_hash = _hasher().hash(new)
    session.add(person)
    session.execute(delete(PasswordReset).where(col(PasswordReset.instructor_id) == person.id))
    close_every_session(session, person.id or 0, keep)
    session.refresh(person)
