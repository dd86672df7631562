"""No request that /openapi.json allows, or nearly allows, gets a server error: schemathesis fuzzes every
operation of the served app as a visitor, an instructor and a student (with their bearer tokens, their
cookies and a valid CSRF token, so requests get past the front door), mid-game, and fails on any 5xx with
the request to replay it.

Bounded to about a minute on SQLite (as long again on PostgreSQL, where the test server is set);
`MOATLINE_FUZZ_EXAMPLES=200` fuzzes deeper and `MOATLINE_FUZZ_SEED` picks other cases (a fixed seed by default, so
every run sends the same requests). The schema is loaded at import, as `@schema.parametrize()` needs it at
collection: schemathesis's fixture-based loader (`schemathesis.pytest.from_fixture`) fails on pytest 9.2."""

from __future__ import annotations

import os
import re
import tempfile
import threading
import zlib
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
import schemathesis
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from schemathesis.checks import not_a_server_error
from sqlmodel import Session

from app.services import rounds
from app.settings import Settings
from app.web.deps import SESSION_COOKIE, STUDENT_COOKIE
from app.web.main import create_app
from app.web.security import CSRF_COOKIE, CSRF_HEADER, binding_for, csrf_token_for, new_csrf_token

from ..conftest import _wait_until_started, free_port, prepared_database, sqlite_url, throwaway_postgres_database
from .signed_in import PASSWORD, create_game, sign_up
from .test_play import join

EXAMPLES = int(os.environ.get("MOATLINE_FUZZ_EXAMPLES", "12"))  # per operation and person: about a minute in all
SEED = int(os.environ.get("MOATLINE_FUZZ_SEED", "2026"))
PEOPLE = ["visitor", "instructor", "student"]
# Signing out would end the instructor's session (token and cookie) for every later case; the walk in
# test_robustness.py posts to it.
NOT_FUZZED = {"POST /signout"}
EMAIL = "ada@example.edu"


def _schema() -> schemathesis.schemas.BaseSchema:
    """The schema /openapi.json serves: it depends on the routes only, so an app over a database that is never
    opened gives the same."""
    unopened = sqlite_url(Path(tempfile.gettempdir()) / "moatline-schema-only")
    schema = schemathesis.openapi.from_dict(create_app(Settings(database_url=unopened)).openapi())
    schema.config.seed = SEED
    schema.config.generation.update(max_examples=EXAMPLES)
    schema.config.phases.update(phases=["examples", "coverage", "fuzzing"])
    schema.config.phases.coverage.unexpected_methods = set()  # a method a path lacks is the router's 405
    schema.config.output.sanitization.enabled = False  # the replay needs the test's own throwaway tokens
    return schema.exclude(func=lambda ctx: ctx.operation.label in NOT_FUZZED)


schema = _schema()


@dataclass
class Class:
    """A served game in its first real round, what each person sends, and the values that lead into the game."""

    database: str
    url: str
    http: requests.Session
    headers: dict[str, dict[str, str]]
    real: dict[str, str]


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def served_class(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Class]:
    with ExitStack() as stack:
        if request.param == "sqlite":
            url = sqlite_url(Path(tmp_path_factory.mktemp("fuzz")))
        else:
            url = stack.enter_context(throwaway_postgres_database(request.getfixturevalue("postgres_url"), "moatline_fuzz"))
        yield stack.enter_context(_served(request.param, Settings(database_url=prepared_database(url))))


@contextmanager
def _served(database: str, settings: Settings) -> Iterator[Class]:
    """The app served by uvicorn in a thread, with a game in its first real round."""
    app = create_app(settings)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="critical"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    _wait_until_started(server)
    try:
        with requests.Session() as http:
            yield Class(database, f"http://127.0.0.1:{port}", http, *_mid_game(app, settings))
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def _mid_game(app: FastAPI, settings: Settings) -> tuple[dict[str, dict[str, str]], dict[str, str]]:
    """A game with a student on a team and round 1 open; each person's headers; the game's real ids."""
    browser = TestClient(app)
    sign_up(browser, email=EMAIL)
    gid = create_game(browser)
    code = _found(r"/join/([A-Z2-9]{6})", browser.get(f"/games/{gid}").text)
    join(TestClient(app), code, "Ann", "Echo")
    with Session(app.state.engine) as s:
        rounds.advance(s, gid, 0)
    teacher = browser.post("/api/v1/token", json={"email": EMAIL, "password": PASSWORD}).json()["token"]
    student = browser.post("/api/v1/join", json={"code": code, "company": "Echo", "display_name": "Bo"}).json()["token"]
    csrf = new_csrf_token(settings.secret_key)

    def person(cookies: dict[str, str], token: str | None) -> dict[str, str]:
        cookie = "; ".join(f"{k}={v}" for k, v in {CSRF_COOKIE: csrf, **cookies}.items())
        bound = csrf_token_for(settings.secret_key, csrf, binding_for(cookies.get(SESSION_COOKIE), cookies.get(STUDENT_COOKIE)))
        return {CSRF_HEADER: bound, "Cookie": cookie, **({"Authorization": f"Bearer {token}"} if token else {})}

    session = browser.cookies[SESSION_COOKIE]  # a browser session (API tokens are no cookies)
    headers = {"visitor": person({}, None), "instructor": person({SESSION_COOKIE: session}, teacher),
               "student": person({STUDENT_COOKIE: student}, student)}
    seat = _found(r"/games/\d+/teams/(\d+)", browser.get(f"/games/{gid}/teams").text)
    real = {"game_id": str(gid), "code": code, "rnd": "1", "seat_id": seat, "token": student,
            "scenario_id": "frontier-race", "kind": "results.csv"}
    return headers, real


def _found(pattern: str, page: str) -> str:
    found = re.search(pattern, page)
    assert found, pattern
    return found.group(1)


@pytest.mark.parametrize("who", PEOPLE)
@schema.parametrize()
def test_no_request_gets_a_server_error(case: schemathesis.Case, who: str, served_class: Class) -> None:
    aimed = zlib.crc32(repr(sorted((case.path_parameters or {}).items())).encode()) % 2 == 0
    if aimed:  # half the cases lead into the real game (its id, code, seat, round), so they reach its pages
        case.path_parameters = {k: served_class.real.get(k, v) for k, v in (case.path_parameters or {}).items()}
    case.call_and_validate(base_url=served_class.url, session=served_class.http, headers=served_class.headers[who],
                           checks=[not_a_server_error], allow_redirects=False, timeout=30)
