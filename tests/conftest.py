"""Shared fixtures: migrated databases, a live server, headless Chromium, PostgreSQL.

Chromium and PostgreSQL tests skip when those are missing, except in CI (env CI set),
where a missing dependency fails the run instead of hiding tests.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import pytest
import uvicorn
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlmodel import Session

from app.db import create_db_engine, migrate
from app.services.scenarios import load_shipped_scenarios
from app.settings import Settings
from app.web.main import create_app

if TYPE_CHECKING:
    from playwright.sync_api import Browser

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SERVER_START_TIMEOUT_S = 15.0


def unavailable(reason: str) -> NoReturn:
    """Skip a test whose dependency is missing, but fail in CI, where it must be present."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI is set, so this fails instead of skipping)")
    pytest.skip(reason)


def sqlite_url(folder: Path) -> str:
    return f"sqlite:///{folder / 'moatline.db'}"


def prepared_database(url: str) -> str:
    """Migrate a database and load the shipped scenarios into it."""
    migrate(url)
    engine = create_db_engine(url)
    with Session(engine) as session:
        load_shipped_scenarios(session)
    engine.dispose()
    return url


@pytest.fixture
def empty_sqlite_url(tmp_path: Path) -> str:
    """A SQLite database file that does not exist yet."""
    return sqlite_url(tmp_path)


@pytest.fixture
def prepared_sqlite_url(tmp_path: Path) -> str:
    """A migrated SQLite database with the shipped scenarios loaded."""
    return prepared_database(sqlite_url(tmp_path))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_database_url(request: pytest.FixtureRequest) -> str:
    """An empty database of each supported kind (the PostgreSQL one needs a test server)."""
    return str(request.getfixturevalue(f"empty_{request.param}_url"))


@pytest.fixture
def engine_for() -> Iterator[Callable[[str], Engine]]:
    """Make engines with Moatline's settings for URLs; dispose of them after the test."""
    engines: list[Engine] = []

    def make(url: str) -> Engine:
        engines.append(create_db_engine(url))
        return engines[-1]

    yield make
    for engine in engines:
        engine.dispose()


# --- PostgreSQL -------------------------------------------------------------


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """The test server's URL from MOATLINE_TEST_POSTGRES_URL, checked to answer."""
    url = os.environ.get("MOATLINE_TEST_POSTGRES_URL")
    if not url:
        unavailable("MOATLINE_TEST_POSTGRES_URL is not set (see .ci/run for a throwaway server)")
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as exc:  # any driver error means: no usable server
        pytest.fail(f"MOATLINE_TEST_POSTGRES_URL is set but the server does not answer: {exc}")
    finally:
        engine.dispose()
    return url


@pytest.fixture
def empty_postgres_url(postgres_url: str) -> Iterator[str]:
    """A brand-new, empty PostgreSQL database for one test, dropped afterwards."""
    with throwaway_postgres_database(postgres_url) as url:
        yield url


@contextmanager
def throwaway_postgres_database(server_url: str, prefix: str = "moatline_t") -> Iterator[str]:
    """A new, empty database on the test PostgreSQL server, dropped when the block ends."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


# --- Live server and browser ------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def unused_tcp_port() -> int:
    """A 127.0.0.1 port nothing listens on right now."""
    return free_port()


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app served by uvicorn in a thread on a free port, over a migrated SQLite database."""
    url = prepared_database(sqlite_url(tmp_path_factory.mktemp("live")))
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(Settings(database_url=url)), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    _wait_until_started(server)
    LIVE_DATABASES.append(url)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


LIVE_DATABASES: list[str] = []  # the live server's database, once it runs


@pytest.fixture(autouse=True)
def _fresh_attempt_limits(request: pytest.FixtureRequest) -> Iterator[None]:
    """Each browser test starts with no attempts counted: every browser connects from 127.0.0.1, so the
    per-address limits (ten sign-ups a day) would otherwise carry one test's sign-ups into the next."""
    if "live_server" in request.fixturenames:
        request.getfixturevalue("live_server")
        engine = create_db_engine(LIVE_DATABASES[-1])
        with engine.begin() as connection:
            connection.execute(text("DELETE FROM attempt"))
        engine.dispose()
    yield


def _wait_until_started(server: uvicorn.Server) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    while not server.started:
        if time.monotonic() > deadline:
            pytest.fail("the live server did not start in time")
        time.sleep(0.02)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Debian's Chromium driven by Playwright (Playwright's own browser download is not used)."""
    executable = shutil.which("chromium")
    if executable is None:
        unavailable("Chromium is not installed (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture(scope="session")
def screenshot_dir(pytestconfig: pytest.Config) -> Path:
    """screenshots/ at the project root (git-ignored), for people to look at."""
    folder = pytestconfig.rootpath / "screenshots"
    folder.mkdir(exist_ok=True)
    return folder
