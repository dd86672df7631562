"""Instructor accounts: sign up, sign in (soft-limited in the database), and sessions that sign-out
really revokes.

Passwords are hashed with argon2id (pwdlib's recommended settings). A session is a random token in a cookie; the
database keeps only its sha256, so a leaked table opens no session and deleting a row signs that browser out on
every server process at once.
"""

from __future__ import annotations

import gzip
import hashlib
import re
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path

from pwdlib import PasswordHash
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from app.clock import now
from app.models import Instructor, InstructorSession, PasswordReset
from app.services import throttle
from app.services.throttle import Limit

PASSWORD_MIN_LENGTH = 12
PASSWORD_MAX_LENGTH = 1024  # hashing is slow on purpose; a megabyte "password" would be a denial of service
# Django's list of 20,000 common passwords (BSD licence, app/data/common-passwords.LICENSE)
COMMON_PASSWORDS = Path(__file__).resolve().parents[1] / "data" / "common-passwords.txt.gz"
PADDING = "0123456789!?.*#$@&_-+ "  # what people add to a common password to pass a length rule
DISPLAY_NAME_MAX_LENGTH = 120
EMAIL_MAX_LENGTH = 254  # RFC 5321 path limit
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
SESSION_LIFETIME = timedelta(days=14)
# soft lockouts (app/services/throttle.py): an attacker slows an email down to one guess a minute,
# which its owner waits out in a minute at most; an address (a campus network shares one) is slowed
# only by its own failures
SIGN_IN_BY_EMAIL = Limit("sign-in-email", free=5, first_wait=timedelta(seconds=1),
                         longest_wait=timedelta(minutes=1), window=timedelta(hours=1))
SIGN_IN_BY_ADDRESS = Limit("sign-in-address", free=20, first_wait=timedelta(seconds=1),
                           longest_wait=timedelta(minutes=5), window=timedelta(hours=1))
SIGN_UP_BY_ADDRESS = Limit("sign-up-address", free=10, first_wait=timedelta(seconds=30),
                           longest_wait=timedelta(hours=1), window=timedelta(days=1))
HASHES_AT_ONCE = 4  # argon2id takes 64 MiB a hash: a burst of sign-ups must not take all memory
HASH_QUEUE_SECONDS = 10.0  # how long a sign-in waits for a hashing slot before it is told to retry


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
    """Refused without checking the password: this email or this address must wait a little."""

    def __init__(self, wait: timedelta):
        self.wait, self.seconds = wait, throttle.whole_seconds(wait)
        super().__init__(f"Too many attempts; wait {throttle.wait_words(wait)}.")


class EmailTaken(AccountError):
    """A sign-up for an email that has an account; answered as a new one, so it reveals nothing."""


class ServerBusy(AccountError):
    def __init__(self) -> None:
        super().__init__("Moatline is busy signing other people in; try again in a few seconds.")


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
def _hash_slots() -> threading.BoundedSemaphore:
    return threading.BoundedSemaphore(HASHES_AT_ONCE)


@contextmanager
def _hashing() -> Iterator[None]:
    """At most HASHES_AT_ONCE password hashes run at once in this process; others queue a while."""
    if not _hash_slots().acquire(timeout=HASH_QUEUE_SECONDS):
        raise ServerBusy()
    try:
        yield
    finally:
        _hash_slots().release()


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    """A hash to verify against when the email is unknown, so that a wrong email takes as long as a wrong password."""
    return _hasher().hash(secrets.token_urlsafe(16))


@lru_cache(maxsize=1)
def _common_passwords() -> frozenset[str]:
    with gzip.open(COMMON_PASSWORDS, "rt", encoding="utf-8") as listed:
        return frozenset(line.strip().casefold() for line in listed if line.strip())


# --- signing up ------------------------------------------------------------------------------------


def sign_up(session: Session, new: InstructorCreate, client_ip: str | None = None,
            at: datetime | None = None) -> Instructor:
    """A new instructor account. Raises SignUpRejected with every problem at its field,
    TooManyAttempts when this address (None: not from the web) signed up too often, and EmailTaken
    after the same work as a new account when the email has one, so that the two take as long."""
    problems = sign_up_problems(new)
    if problems:
        raise SignUpRejected(problems)
    counted = _count_sign_up(session, client_ip, at) if client_ip is not None else None
    try:
        with _hashing():
            password_hash = _hasher().hash(new.password)
    except ServerBusy:
        if counted is not None:
            throttle.give_back(session, counted)
        raise
    email = normalise_email(new.email)
    if session.exec(select(Instructor.id).where(Instructor.email == email)).first() is not None:
        raise EmailTaken()
    person = Instructor(email=email, display_name=new.display_name.strip(),
                        password_hash=password_hash, created_at=now())
    session.add(person)
    try:
        session.commit()
    except IntegrityError:  # the same email signed up a moment ago in another request
        session.rollback()
        raise EmailTaken() from None
    session.refresh(person)
    return person


def _count_sign_up(session: Session, client_ip: str, at: datetime | None) -> throttle.Claim:
    try:
        return throttle.claim(session, [(SIGN_UP_BY_ADDRESS, throttle.key_of(client_ip))], at)
    except throttle.TooManyTries as refused:
        raise TooManyAttempts(refused.wait) from None


def sign_up_problems(new: InstructorCreate) -> dict[str, str]:
    """What is wrong with a sign-up, by field; never whether the email has an account."""
    out = {"email": _email_problem(new.email), "display_name": _name_problem(new.display_name),
           "password": password_problem(new.password, new.email)}
    return {k: v for k, v in out.items() if v}


def _email_problem(email: str) -> str:
    email = normalise_email(email)
    if not email:
        return "Enter your email address."
    if len(email) > EMAIL_MAX_LENGTH or not EMAIL_PATTERN.match(email):
        return "Enter an email address like name@school.edu."
    return ""


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
    if len(set(password)) == 1:
        return "Use more than one character over and over: a repeated character is guessed at once."
    if _is_common(password):
        return "That is one of the most common passwords, which are guessed first; choose another."
    if _is_email(password, email):
        return "Do not use your email address as your password."
    return ""


def _is_common(password: str) -> bool:
    """On the bundled list, ignoring case, also without digits and symbols added at the end."""
    folded = password.strip().casefold()
    return folded in _common_passwords() or folded.rstrip(PADDING) in _common_passwords()


def _is_email(password: str, email: str) -> bool:
    folded, email = password.strip().casefold(), normalise_email(email).casefold()
    return bool(email) and folded in {email, email.partition("@")[0]}


# --- signing in ------------------------------------------------------------------------------------


def authenticate(session: Session, email: str, password: str, client_ip: str, at: datetime | None = None) -> Instructor:
    """The instructor with this email and password. Raises TooManyAttempts (without checking the
    password) while this email or this address must wait after recent failures, else
    WrongCredentials, which is then counted."""
    email = normalise_email(email)[:EMAIL_MAX_LENGTH]
    try:
        tried = throttle.claim(session, _sign_in_limits(email, client_ip), at)
    except throttle.TooManyTries as refused:
        raise TooManyAttempts(refused.wait) from None
    try:
        person, rehashed = _checked(session, email, password)
    except ServerBusy:
        throttle.give_back(session, tried)
        raise
    throttle.give_back(session, tried)
    _forget_failures(session, email, person, rehashed)
    return person


def _checked(session: Session, email: str, password: str) -> tuple[Instructor, str | None]:
    """The instructor if the password is theirs, and a new hash when the hash settings changed."""
    person = session.exec(select(Instructor).where(Instructor.email == email)).first()
    with _hashing():
        if person is None or len(password) > PASSWORD_MAX_LENGTH:
            _hasher().verify(password[:PASSWORD_MAX_LENGTH], _dummy_hash())
            raise WrongCredentials()
        valid, rehashed = _hasher().verify_and_update(password, person.password_hash)
    if not valid:
        raise WrongCredentials()
    return person, rehashed


def _sign_in_limits(email: str, client_ip: str) -> list[tuple[Limit, str]]:
    return [(SIGN_IN_BY_EMAIL, throttle.key_of(email)),
            (SIGN_IN_BY_ADDRESS, throttle.key_of(client_ip))]


def retry_after(session: Session, email: str, client_ip: str,
                at: datetime | None = None) -> timedelta | None:
    """How long until this email and this address may try again; None if they may now."""
    waits = [throttle.retry_after(session, limit, key, at) for limit, key in
             _sign_in_limits(normalise_email(email), client_ip)]
    return max((w for w in waits if w), default=None)


def _forget_failures(session: Session, email: str, person: Instructor, rehashed: str | None) -> None:
    """A success clears this email's failures (not the address's: one good account must not reset an attacker)."""
    throttle.forget(session, SIGN_IN_BY_EMAIL, throttle.key_of(email))
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
    throttle.forget(session, SIGN_IN_BY_EMAIL, throttle.key_of(person.email))
    _set_password(session, person, new, keep=None)
    return person


def _set_password(session: Session, person: Instructor, new: str, keep: str | None) -> None:
    person.password_hash = _hasher().hash(new)
    session.add(person)
    session.execute(delete(PasswordReset).where(col(PasswordReset.instructor_id) == person.id))
    close_every_session(session, person.id or 0, keep)
    session.refresh(person)
