"""Database engines and migrations: SQLite (WAL) for one machine, PostgreSQL via psycopg for more."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, event
from sqlalchemy.engine import make_url
from sqlmodel import create_engine

from app import revisions
from app.settings import PROJECT_ROOT

SQLITE_BUSY_TIMEOUT_MS = 30_000


def create_db_engine(url: str, **options: Any) -> Engine:
    """An engine for a SQLite or PostgreSQL URL, tuned for a small web app; `options` go to `create_engine`."""
    revisions.install()
    url = normalise_url(url)
    if url.startswith("sqlite"):
        return _sqlite_engine(url, **options)
    return create_engine(url, pool_pre_ping=True, **options)


def normalise_url(url: str) -> str:
    """Route plain postgres:// and postgresql:// URLs to the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url.removeprefix(prefix)
    return url


def _sqlite_engine(url: str, **options: Any) -> Engine:
    _make_sqlite_folder(url)
    engine = create_engine(url, connect_args={"check_same_thread": False}, **options)
    event.listen(engine, "connect", _tune_sqlite)
    return engine


def _make_sqlite_folder(url: str) -> None:
    database = make_url(url).database
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).parent.mkdir(parents=True, exist_ok=True)


def _tune_sqlite(dbapi_connection: Any, _record: object) -> None:
    """WAL lets readers run beside a writer; the busy timeout makes writers queue, not fail."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def alembic_config(url: str) -> Config:
    """Alembic's configuration for a database, independent of the current directory."""
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    config.attributes["database_url"] = url
    config.attributes["configure_logger"] = False
    return config


def migrate(url: str) -> None:
    """Bring a database to the newest schema (`alembic upgrade head`)."""
    command.upgrade(alembic_config(url), "head")
