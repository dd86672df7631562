"""Containing a leaked password or token: API tokens kept apart from browser sessions, sign out
everywhere, password change, one-time reset links (services on SQLite and PostgreSQL, and the CLI
that prints a link)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select
from typer.testing import CliRunner

from app.cli import cli
from app.db import create_db_engine, migrate
from app.models import Instructor, PasswordReset
from app.services import accounts
from app.services.accounts import (
    InstructorCreate,
    PasswordRejected,
    ResetLinkInvalid,
    WrongCredentials,
)
from app.settings import get_settings

PASSWORD = "correct horse battery"
NEW_PASSWORD = "a different staple"
HOME_IP = "192.0.2.10"


@pytest.fixture
def session(empty_database_url: str, engine_for: Callable[[str], Engine]) -> Iterator[Session]:
    migrate(empty_database_url)
    with Session(engine_for(empty_database_url)) as s:
        yield s


def ada(session: Session) -> Instructor:
    return accounts.sign_up(session, InstructorCreate("ada@example.edu", "Ada Lovelace", PASSWORD))


def test_an_api_token_opens_no_browser_session_and_a_session_cookie_is_no_api_token(
    session: Session,
) -> None:
    person = ada(session)
    api, browser = (
        accounts.open_api_token(session, person.id or 0),
        accounts.open_session(session, person.id or 0),
    )
    assert accounts.instructor_for(session, api, kind=accounts.API) is not None
    assert accounts.instructor_for(session, api) is None
    assert accounts.instructor_for(session, browser) is not None
    assert accounts.instructor_for(session, browser, kind=accounts.API) is None


def test_signing_out_everywhere_closes_every_session_and_api_token_of_that_instructor_only(
    session: Session,
) -> None:
    person = ada(session)
    other = accounts.sign_up(session, InstructorCreate("bo@example.edu", "Bo", PASSWORD))
    tokens = [
        accounts.open_session(session, person.id or 0),
        accounts.open_api_token(session, person.id or 0),
    ]
    others = accounts.open_session(session, other.id or 0)
    accounts.close_every_session(session, person.id or 0)
    assert accounts.instructor_for(session, tokens[0]) is None
    assert accounts.instructor_for(session, tokens[1], kind=accounts.API) is None
    assert accounts.instructor_for(session, others) is not None


def test_changing_the_password_needs_the_current_one_and_signs_out_every_other_browser(
    session: Session,
) -> None:
    person = ada(session)
    here, elsewhere = (accounts.open_session(session, person.id or 0) for _ in range(2))
    api = accounts.open_api_token(session, person.id or 0)
    with pytest.raises(PasswordRejected) as wrong:
        accounts.change_password(session, person, "not it", NEW_PASSWORD, HOME_IP, here)
    assert wrong.value.problems == {"current": "That is not your current password."}
    with pytest.raises(PasswordRejected) as short:
        accounts.change_password(session, person, PASSWORD, "short", HOME_IP, here)
    assert short.value.problems["password"] == accounts.password_problem("short")
    accounts.change_password(session, person, PASSWORD, NEW_PASSWORD, HOME_IP, here)
    assert accounts.instructor_for(session, here) is not None
    assert accounts.instructor_for(session, elsewhere) is None
    assert accounts.instructor_for(session, api, kind=accounts.API) is None
    assert accounts.authenticate(session, "ada@example.edu", NEW_PASSWORD, HOME_IP).id == person.id
    with pytest.raises(WrongCredentials):
        accounts.authenticate(session, "ada@example.edu", PASSWORD, HOME_IP)


def test_a_reset_link_sets_a_new_password_once_and_signs_out_everything(session: Session) -> None:
    person = ada(session)
    browser = accounts.open_session(session, person.id or 0)
    token = accounts.issue_reset(session, "Ada@Example.edu ")
    assert token is not None
    assert (
        session.exec(select(PasswordReset.token_hash)).one() == accounts.token_hash(token) != token
    )
    holder = accounts.reset_holder(session, token)
    assert holder is not None and holder.id == person.id
    accounts.reset_password(session, token, NEW_PASSWORD)
    assert accounts.authenticate(session, "ada@example.edu", NEW_PASSWORD, HOME_IP).id == person.id
    assert accounts.instructor_for(session, browser) is None
    with pytest.raises(ResetLinkInvalid):
        accounts.reset_password(session, token, "yet another password")


def test_a_reset_link_expires_after_its_lifetime(session: Session) -> None:
    ada(session)
    issued = accounts.now()
    token = accounts.issue_reset(session, "ada@example.edu", issued)
    assert token is not None
    assert (
        accounts.reset_holder(
            session, token, issued + accounts.RESET_LIFETIME - timedelta(minutes=1)
        )
        is not None
    )
    assert accounts.reset_holder(session, token, issued + accounts.RESET_LIFETIME) is None
    with pytest.raises(ResetLinkInvalid):
        accounts.reset_password(session, token, NEW_PASSWORD, issued + accounts.RESET_LIFETIME)


def test_a_reset_keeps_the_password_rule_and_the_link_stays_usable_after_a_refused_password(
    session: Session,
) -> None:
    ada(session)
    token = accounts.issue_reset(session, "ada@example.edu")
    assert token is not None
    with pytest.raises(PasswordRejected) as short:
        accounts.reset_password(session, token, "short")
    assert short.value.problems == {
        "password": accounts.password_problem("short", "ada@example.edu")
    }
    assert accounts.reset_password(session, token, NEW_PASSWORD).email == "ada@example.edu"


def test_no_reset_is_issued_for_an_unknown_email_nor_twice_within_the_email_interval(
    session: Session,
) -> None:
    ada(session)
    assert accounts.issue_reset(session, "nobody@example.edu") is None
    at = accounts.now()
    every = accounts.RESET_EMAIL_EVERY
    assert accounts.issue_reset(session, "ada@example.edu", at, every) is not None
    assert accounts.issue_reset(session, "ada@example.edu", at + every / 2, every) is None
    assert accounts.issue_reset(session, "ada@example.edu", at + every * 2, every) is not None


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'reset.db'}"
    migrate(url)
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("MOATLINE_PUBLIC_URL", "https://moatline.school.edu")
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()


def test_the_cli_prints_a_one_time_reset_link_on_the_sites_address(database: str) -> None:
    engine = create_db_engine(database)
    with Session(engine) as s:
        ada(s)
    printed = CliRunner().invoke(cli, ["account", "reset", "ada@example.edu"])
    assert printed.exit_code == 0, printed.output
    assert "works once, within 60 minutes" in printed.output
    link = printed.output.strip().splitlines()[-1]
    assert link.startswith("https://moatline.school.edu/reset/")
    with Session(engine) as s:
        assert accounts.reset_holder(s, link.rsplit("/", 1)[1]) is not None
    engine.dispose()


def test_the_cli_says_when_no_instructor_has_the_email(database: str) -> None:
    printed = CliRunner().invoke(cli, ["account", "reset", "nobody@example.edu"])
    assert (
        printed.exit_code == 2
        and "no instructor has the email 'nobody@example.edu'" in printed.output
    )
