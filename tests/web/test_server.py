"""`serve`: migrate, load the scenarios, say where to open the app, then answer requests."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from app.db import create_db_engine
from app.services import rounds
from app.web.server import open_url

SERVE_TIMEOUT_S = 30.0


@pytest.fixture
def served(tmp_path: Path, unused_tcp_port: int) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """serve() in a child process, started in an empty folder with the default settings."""
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "MOATLINE_ENVIRONMENT"}}
    code = f"from app.web.server import serve; serve(port={unused_tcp_port})"
    process = subprocess.Popen([sys.executable, "-c", code], cwd=tmp_path, env=env, stdout=subprocess.PIPE, text=True)
    try:
        lines = (process.stdout.readline() + process.stdout.readline()) if process.stdout else ""
        yield process, lines
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_serve_says_where_to_open_the_app_and_answers_there(
    served: tuple[subprocess.Popen[str], str], unused_tcp_port: int, tmp_path: Path
) -> None:
    _, lines = served
    first, second = lines.splitlines()
    assert first == f"Open http://127.0.0.1:{unused_tcp_port} and create an instructor account to set up a game"
    assert second == "or sign in as demo@moatline.local with password moatline-demo to open a demo class (development only)"
    assert wait_for_health(f"http://127.0.0.1:{unused_tcp_port}/healthz") == {"status": "ok"}
    assert (tmp_path / "var" / "moatline.db").exists()


def wait_for_health(url: str) -> object:
    deadline = time.monotonic() + SERVE_TIMEOUT_S
    while True:
        try:
            return httpx.get(url, timeout=2).json()
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def test_a_wildcard_host_is_opened_on_localhost() -> None:
    assert open_url("0.0.0.0", 8000) == "http://127.0.0.1:8000"
    assert open_url("::1", 8000) == "http://[::1]:8000"


def test_a_new_installation_has_a_demo_class_to_sign_in_to_and_only_in_development(tmp_path: Path) -> None:
    from sqlmodel import Session, select

    from app.models import Game, Instructor
    from app.services import accounts
    from app.settings import Settings
    from app.web.server import prepare_database

    url = f"sqlite:///{tmp_path / 'demo.db'}"
    assert prepare_database(Settings(database_url=url)) == "demo@moatline.local"
    assert prepare_database(Settings(database_url=url)) == "demo@moatline.local"  # created once
    engine = create_db_engine(url)
    with Session(engine) as s:
        person = accounts.authenticate(s, "demo@moatline.local", "moatline-demo", "127.0.0.1")
        (game,) = s.exec(select(Game).where(Game.instructor_id == person.id)).all()
        assert game.current_round == 2 and rounds.verify(s, game.id or 0) == []
        assert len(s.exec(select(Instructor)).all()) == 1
    engine.dispose()
    production = f"sqlite:///{tmp_path / 'prod.db'}"
    assert prepare_database(Settings(database_url=production, environment="production", secret_key="x" * 48)) is None
