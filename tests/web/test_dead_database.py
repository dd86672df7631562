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

from app.settings import Settings
from app.web.main import create_app
from app.web.security import CSRF_COOKIE, new_csrf_token

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
