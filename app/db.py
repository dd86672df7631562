"""Database engines and migrations: SQLite (WAL) for one machine, PostgreSQL via psycopg for more."""

from __future__ import annotations

import asyncio
import logging
import math
import os
import socket
import threading
import time
import weakref
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, event
from sqlalchemy.engine import make_url
from sqlmodel import create_engine

from app import revisions
from app.settings import PROJECT_ROOT

SQLITE_BUSY_TIMEOUT_MS = 30_000  # SQLite writers queue for the lock rather than fail
# The pool rule. A request holds at most one pooled connection at a time, but it may hold it while it waits
# for a thread: the lookup of who is calling hands its connection back before the route's trip, and sessions
# close in threads of their own (app/web/deps.py), yet a sync route's session stays open while FastAPI checks
# its response model in another trip. So the pool is sized from the requests in flight, not from the threads:
# with room for every request a process works on (app/web/overload.py caps them) plus the connections used
# beside requests (the deadline clock, two health checks), no thread ever waits for a connection, so none can
# wait for one held by a request that waits for a thread: no deadlock, no 30 s pool timeout. Threads fewer
# than requests in flight just queue, holding nothing.
CONNECTIONS_BESIDE_REQUESTS = 4
POOL_TIMEOUT_S = 5.0  # by the rule nothing waits for a connection unless the database itself hangs
WATCHDOG_GRACE_S = 1.0  # past the statement timeout: the server's own timeout answers first when it can
WATCHDOG_ROUND_S = 0.25
WATCHED_DIALECT_CALLS = ("do_commit", "do_rollback")  # besides statements and pings: what may wait on the server
PING_DEADLINE_S = 2.0  # a pre-ping is a trivial query: a server silent this long is not answering
T = TypeVar("T")
log = logging.getLogger("moatline.db")


def pool_for(max_in_flight: int) -> dict[str, Any]:
    """`create_db_engine` options for a process working on at most `max_in_flight` requests at once (the rule)."""
    return {"pool_size": max_in_flight + CONNECTIONS_BESIDE_REQUESTS, "max_overflow": 0,
            "pool_timeout": POOL_TIMEOUT_S}


@dataclass(frozen=True)
class Timeouts:
    """How long PostgreSQL may take to accept a connection and to run one statement; a statement timeout of 0
    sends none (for a pooler that refuses the `options` startup parameter). SQLite writers wait for the lock
    SQLITE_BUSY_TIMEOUT_MS instead."""

    connect_s: int
    statement_s: float

    def connect_args(self) -> dict[str, Any]:
        if self.statement_s <= 0:
            return {"connect_timeout": self.connect_s}
        return {"connect_timeout": self.connect_s, "options": f"-c statement_timeout={round(1000 * self.statement_s)}"}

    @property
    def watched_s(self) -> float:
        """How long the watchdog lets a statement wait for a silent server."""
        return self.statement_s + WATCHDOG_GRACE_S if self.statement_s > 0 else math.inf


def create_db_engine(url: str, timeouts: Timeouts | None = None, **options: Any) -> Engine:
    """An engine for a SQLite or PostgreSQL URL, tuned for a small web app; `options` go to `create_engine`.
    The web app passes `timeouts`; scripts and migrations wait as long as statements take."""
    revisions.install()
    url = normalise_url(url)
    if url.startswith("sqlite"):
        return _sqlite_engine(url, **options)
    if timeouts is None:
        return create_engine(url, pool_pre_ping=True, **options)
    options["connect_args"] = {**timeouts.connect_args(), **options.get("connect_args", {})}
    engine = create_engine(url, pool_pre_ping=True, **options)
    WATCHDOG.watch(engine, timeouts.watched_s)
    return engine


def normalise_url(url: str) -> str:
    """Route plain postgres:// and postgresql:// URLs to the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url.removeprefix(prefix)
    return url


def _sqlite_engine(url: str, **options: Any) -> Engine:
    _make_sqlite_folder(url)
    if make_url(url).database in (None, "", ":memory:"):  # one connection for everyone: no pool to size
        options = {k: v for k, v in options.items() if k not in ("pool_size", "max_overflow", "pool_timeout")}
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


# --- calls that must not wait for a hung database --------------------------------------------------


class DatabaseUnavailable(Exception):
    """The database did not answer in time: the request gets a 503 (app/web/overload.py), not a frozen server."""


class Deadline:
    """Runs blocking database calls in threads of its own, each given `seconds` to answer, at most `slots` at a
    time. A call past its deadline is left to finish in its thread whenever the database answers, and keeps its
    slot until then: a hung database costs at most `slots` threads, and never the event loop."""

    def __init__(self, slots: int, seconds: float, name: str):
        self.slots, self.seconds = slots, seconds
        self._threads = ThreadPoolExecutor(max_workers=slots, thread_name_prefix=name)
        self._free: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore]
        self._free = weakref.WeakKeyDictionary()  # per event loop (each test client has its own)

    async def run(self, call: Callable[..., T], *args: Any) -> T:
        """`call(*args)` in a thread; DatabaseUnavailable if no answer (or no free slot) within the deadline."""
        loop = asyncio.get_running_loop()
        free = self._free.setdefault(loop, asyncio.Semaphore(self.slots))
        try:
            async with asyncio.timeout(self.seconds):
                await free.acquire()
                answer = loop.run_in_executor(self._threads, call, *args)
                answer.add_done_callback(lambda done: _settle(done, free))
                return await asyncio.shield(answer)
        except TimeoutError as exc:
            raise DatabaseUnavailable(f"the database did not answer within {self.seconds:g} s") from exc


def _settle(done: asyncio.Future[Any], free: asyncio.Semaphore) -> None:
    """A call's thread is done: its slot is free again (and a late error, which nobody awaits, is read)."""
    free.release()
    if not done.cancelled():
        done.exception()


class Watchdog:
    """Ends the statements a PostgreSQL server never answers. `statement_timeout` is the server's own: a stopped,
    frozen or cut-off server never applies it, and the thread waiting on its socket would wait until the kernel
    gives up (hours). Past the timeout plus a grace, the watchdog shuts that socket down: the driver raises an
    OperationalError (the request gets a 503), the pool drops the connection, the thread is free again.
    One thread patrols for every engine, started at the first statement watched."""

    def __init__(self) -> None:
        self._due: dict[int, tuple[float, Any]] = {}  # thread -> (deadline, the DBAPI connection it waits on)
        self._lock = threading.Lock()
        self._patrol: threading.Thread | None = None

    def watch(self, engine: Engine, seconds: float) -> None:
        """Watch every statement, pre-ping, commit and rollback of this (PostgreSQL) engine."""
        event.listen(engine, "before_cursor_execute",
                     lambda conn, *_: self.start(conn.connection.dbapi_connection, seconds))
        event.listen(engine, "after_cursor_execute", lambda *_: self.stop())
        event.listen(engine, "handle_error", lambda _: self.stop())
        deadlines = {**dict.fromkeys(WATCHED_DIALECT_CALLS, seconds), "do_ping": min(seconds, PING_DEADLINE_S)}
        for call, deadline in deadlines.items():
            setattr(engine.dialect, call, self._watched(getattr(engine.dialect, call), deadline))

    def _watched(self, call: Callable[[Any], T], seconds: float) -> Callable[[Any], T]:
        """A dialect call on a DBAPI connection (pre-ping, commit, the rollback of a returned one), watched."""

        def watched(dbapi_connection: Any) -> T:
            self.start(dbapi_connection, seconds)
            try:
                return call(dbapi_connection)
            finally:
                self.stop()

        return watched

    def start(self, dbapi_connection: Any, seconds: float) -> None:
        """This thread now waits on this connection, for at most `seconds`."""
        with self._lock:
            self._due[threading.get_ident()] = (time.monotonic() + seconds, dbapi_connection)
            if self._patrol is None:
                self._patrol = threading.Thread(target=self._walk, name="moatline-db-watchdog", daemon=True)
                self._patrol.start()

    def stop(self) -> None:
        """This thread got its answer (or an error)."""
        with self._lock:
            self._due.pop(threading.get_ident(), None)

    def _walk(self) -> None:
        while True:
            time.sleep(WATCHDOG_ROUND_S)
            now = time.monotonic()
            with self._lock:
                late = [(key, connection) for key, (due, connection) in self._due.items() if due < now]
                for key, _ in late:
                    del self._due[key]
            for _, connection in late:
                _cut(connection)


def _cut(dbapi_connection: Any) -> None:
    """Shut down a psycopg connection's socket under the thread waiting on it (which then gets an error)."""
    try:
        with socket.socket(fileno=os.dup(dbapi_connection.fileno())) as sock:
            sock.shutdown(socket.SHUT_RDWR)
        log.warning("the database did not answer a statement in time: connection cut")
    except (OSError, ValueError, AttributeError) as exc:  # closed meanwhile, or not a socket
        log.debug("could not cut a database connection: %s", exc)


WATCHDOG = Watchdog()
