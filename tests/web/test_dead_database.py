"""A database that accepts connections and never answers: the health check says so within its deadline, student
pages and the API answer 503 instead of hanging, and static files keep serving."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import make_url
from sqlmodel import Session

from app.db import DatabaseUnavailable, Deadline, create_db_engine
from app.services import games, students
from app.settings import Settings
from app.web.main import create_app
from app.web.security import CSRF_COOKIE, new_csrf_token
from tests.aio import run_apart
from tests.classroom import TWO_TEAMS, a_game
from tests.conftest import prepared_database

HANG_GUARD_S = 30.0  # only there to turn a hang into a failure; each answer comes within the deadlines


@pytest.fixture
def silent_database() -> Iterator[str]:
    """A PostgreSQL URL whose server accepts every connection and never says a word (a hung or stopped server)."""
    listener = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except TimeoutError:
                continue

    acceptor = threading.Thread(target=accept, daemon=True)
    acceptor.start()
    yield f"postgresql+psycopg://nobody@127.0.0.1:{listener.getsockname()[1]}/moatline"
    stop.set()
    acceptor.join()
    for connection in held:
        connection.close()  # the threads still waiting on it get an error and finish
    listener.close()


def test_a_database_that_never_answers_gets_503s_while_static_files_serve(silent_database: str) -> None:
    settings = Settings(database_url=silent_database, db_connect_timeout_s=2)
    csrf = new_csrf_token(settings.secret_key)
    student = {"moatline_student": "a-student-token", CSRF_COOKIE: csrf}  # a real browser: the page cache asks first
    with TestClient(create_app(settings), cookies=student) as client, ThreadPoolExecutor(8) as pool:
        def get(path: str, headers: dict[str, str] | None = None) -> httpx.Response:
            return client.get(path, headers=headers)

        waiting = [pool.submit(get, "/healthz") for _ in range(3)]
        waiting += [pool.submit(get, "/play"), pool.submit(get, "/play/decide")]
        waiting.append(pool.submit(get, "/api/v1/games", headers={"Authorization": "Bearer some-token"}))
        static = [pool.submit(get, "/static/app.css") for _ in range(2)]
        health, dashboard, decide, api = ([f.result(HANG_GUARD_S) for f in waiting[:3]],
                                          *(f.result(HANG_GUARD_S) for f in waiting[3:]))
        assert [f.result(HANG_GUARD_S).status_code for f in static] == [200, 200]
    assert [h.status_code for h in health] == [503] * 3
    assert health[0].json() == {"status": "error", "detail": "database unavailable"}
    for answer in (dashboard, decide, api):
        assert answer.status_code == 503 and answer.headers["retry-after"] == "1"
    assert "try again" in dashboard.text and api.json()["detail"].startswith("Moatline's database is not answering")


class FreezableProxy:
    """A TCP relay to a real PostgreSQL that can freeze: while frozen it keeps every socket open and passes no byte
    either way, as a stopped (SIGSTOP) or cut-off server does."""

    def __init__(self, upstream: tuple[str, int]):
        self.upstream, self.frozen, self.closing = upstream, threading.Event(), threading.Event()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.1)
        self.sockets: list[socket.socket] = []
        self.acceptor = threading.Thread(target=self._accept, daemon=True)
        self.acceptor.start()

    @property
    def port(self) -> int:
        return int(self.listener.getsockname()[1])

    def _accept(self) -> None:
        while not self.closing.is_set():
            try:
                client = self.listener.accept()[0]
            except TimeoutError:
                continue
            server = socket.create_connection(self.upstream)
            self.sockets += [client, server]
            for source, target in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(source, target), daemon=True).start()

    def _pump(self, source: socket.socket, target: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                while self.frozen.is_set() and not self.closing.is_set():
                    self.closing.wait(0.05)
                target.sendall(data)
        except OSError:
            pass
        for end in (source, target):
            try:
                end.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def close(self) -> None:
        self.closing.set()
        self.acceptor.join()
        for end in self.sockets:
            end.close()
        self.listener.close()


@pytest.mark.postgres
def test_a_frozen_postgresql_gets_503s_within_the_statement_timeout_and_the_app_recovers_when_it_thaws(
        empty_postgres_url: str) -> None:
    url = make_url(prepared_database(empty_postgres_url))
    proxy = FreezableProxy((url.host or "127.0.0.1", url.port or 5432))
    engine = create_db_engine(url.render_as_string(hide_password=False))
    with Session(engine) as session:
        game = a_game(session, seats=TWO_TEAMS)
        seat = next(s for s in games.seats_of(session, game) if s.persona is None)
        token, game_id = students.join(session, game, seat.id, "Ada").token, game.id
    engine.dispose()
    proxied = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    settings = Settings(database_url=proxied, db_statement_timeout_s=1, db_connect_timeout_s=2)
    try:
        with TestClient(create_app(settings), cookies={"moatline_student": token}) as client, ThreadPoolExecutor(8) as pool:
            warm = [pool.submit(client.get, "/play/decide") for _ in range(6)]  # the pool keeps open connections
            assert [f.result(HANG_GUARD_S).status_code for f in warm] == [200] * 6
            assert client.get("/healthz").status_code == 200
            proxy.frozen.set()
            frozen = [pool.submit(client.get, path) for path in ("/healthz", "/healthz", "/play/decide", "/play/decide")]
            api = pool.submit(client.get, f"/api/v1/games/{game_id}/decision", headers={"Authorization": f"Bearer {token}"})
            static = pool.submit(client.get, "/static/app.css")
            assert static.result(HANG_GUARD_S).status_code == 200
            answers = [f.result(HANG_GUARD_S) for f in [*frozen, api]]
            assert [a.status_code for a in answers] == [503] * 5
            assert all(a.headers["retry-after"] == "1" for a in answers[2:])
            proxy.frozen.clear()
            assert ok_again(client, "/healthz") and ok_again(client, "/play/decide")
    finally:
        proxy.close()


def ok_again(client: TestClient, path: str, tries: int = 5) -> bool:
    """Whether the path answers 200 within a few tries (the first may meet a connection cut while frozen)."""
    return any(client.get(path).status_code == 200 for _ in range(tries))


def test_a_call_past_its_deadline_keeps_its_slot_until_its_thread_is_done() -> None:
    """A hung database costs at most `slots` threads: later calls are refused at their deadline, not queued
    behind the hung one for ever, and the slot is free again once the database answers."""
    deadline = Deadline(slots=1, seconds=0.5, name="test-deadline")
    database_answers = threading.Event()

    async def scenario() -> int:
        with pytest.raises(DatabaseUnavailable):
            await deadline.run(database_answers.wait)
        with pytest.raises(DatabaseUnavailable):
            await deadline.run(int)  # instant, but the hung call still has the only slot
        database_answers.set()
        return await deadline.run(int, "7")

    assert run_apart(scenario()) == 7


@pytest.mark.postgres
def test_the_apps_postgresql_connections_carry_the_statement_timeout_of_the_settings(postgres_url: str) -> None:
    for seconds, shown in ((3, "3s"), (0, "0")):
        app = create_app(Settings(database_url=postgres_url, db_statement_timeout_s=seconds))
        with app.state.engine.connect() as connection:
            assert connection.exec_driver_sql("SHOW statement_timeout").scalar_one() == shown
        app.state.engine.dispose()
        app.state.pages.close()
