"""Overload answers a fast 503 with Retry-After, and a burst cannot deadlock the pool against the threads."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import httpx
from fastapi import FastAPI
from sqlmodel import Session
from starlette.types import Receive, Scope, Send

from app.db import CONNECTIONS_BESIDE_REQUESTS, create_db_engine
from app.models import Seat
from app.services import games, students
from app.settings import Settings
from app.web.main import create_app
from app.web.overload import InFlightLimit
from tests.aio import run_apart
from tests.classroom import a_game

HANG_GUARD_S = 60.0  # only there to turn a deadlock into a failure; a healthy run takes a second or two


def held_app(release: asyncio.Event) -> Callable[[Scope, Receive, Send], Awaitable[None]]:
    """An ASGI app whose every answer waits for `release`: requests stay in flight as long as the test wants."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await release.wait()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    return app


async def burst(app: Any, requests: list[tuple[str, dict[str, str]]], release: asyncio.Event | None = None) -> list[httpx.Response]:
    """Send every request at once; once the refused ones are back, let the held ones finish."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        sent = [asyncio.create_task(client.get(path, headers=headers)) for path, headers in requests]
        if release is not None:
            await asyncio.sleep(0.05)
            release.set()
        return await asyncio.wait_for(asyncio.gather(*sent), HANG_GUARD_S)


def test_requests_beyond_the_cap_get_an_immediate_503_with_retry_after() -> None:
    async def scenario() -> list[httpx.Response]:
        release = asyncio.Event()
        limited = InFlightLimit(held_app(release), max_in_flight=3, per_client=10)
        return await burst(limited, [("/play/decide", {})] * 10 + [("/api/v1/games", {})] * 2, release)

    answers = run_apart(scenario())
    assert Counter(a.status_code for a in answers) == {200: 3, 503: 9}
    refused = [a for a in answers if a.status_code == 503]
    assert all(a.headers["retry-after"] == "1" for a in refused)
    assert all("try again" in a.text for a in refused)
    assert any(a.headers["content-type"].startswith("application/json") for a in refused)  # the API's in JSON
    assert any(a.headers["content-type"].startswith("text/html") for a in refused)


def test_one_client_with_many_connections_gets_its_share_and_leaves_room_for_the_others() -> None:
    async def scenario() -> list[httpx.Response]:
        release = asyncio.Event()
        limited = InFlightLimit(held_app(release), max_in_flight=20, per_client=4)
        greedy = [("/api/v1/games/1/decision", {"Authorization": "Bearer greedy"})] * 15
        others = [("/play/decide", {"Cookie": f"moatline_student=s{i}"}) for i in range(5)]
        return await burst(limited, greedy + others, release)

    answers = run_apart(scenario())
    assert Counter(a.status_code for a in answers[:15]) == {200: 4, 503: 11}
    assert [a.status_code for a in answers[15:]] == [200] * 5


def test_static_files_and_the_health_check_are_not_counted() -> None:
    async def scenario() -> list[httpx.Response]:
        release = asyncio.Event()
        limited = InFlightLimit(held_app(release), max_in_flight=1, per_client=1)
        return await burst(limited, [("/play", {})] + [("/static/app.css", {}), ("/healthz", {})] * 5, release)

    assert [a.status_code for a in run_apart(scenario())] == [200] * 11


def classroom(app: FastAPI, size: int) -> list[str]:
    """A game of six teams with `size` students in all; their tokens."""
    with Session(app.state.engine) as session:
        game = a_game(session, seats=(None,) * 6, team_size_max=20)
        seats: list[Seat] = games.seats_of(session, game)
        return [students.join(session, game, seats[i % 6].id, f"Student {i}").token for i in range(size)]


async def student_burst(app: FastAPI, tokens: list[str], game_id: int) -> list[httpx.Response]:
    """Every student loads the decision page at once, and the first one reads the API 20 times at once too."""
    async with app.router.lifespan_context(app):  # sets the thread limit the pool is sized for
        pages = [("/play/decide", {"Cookie": f"moatline_student={t}"}) for t in tokens]
        api = [(f"/api/v1/games/{game_id}/decision", {"Authorization": f"Bearer {tokens[0]}"})] * 20
        return await burst(app, pages + api)


def test_sixty_simultaneous_requests_with_few_threads_and_the_smallest_pool_the_rule_allows_never_deadlock(
        prepared_sqlite_url: str) -> None:
    """Before, each request waited for a thread while holding a connection, and 60 of them deadlocked the 5 + 10
    pool against the 40 threads for 30 s. Now the pool has room for every request in flight, and threads are
    fewer than both: nothing waits for a connection, every request answers 200 or a fast 503."""
    app = create_app(Settings(database_url=prepared_sqlite_url, threads=4, max_in_flight=6, max_in_flight_per_client=3))
    assert app.state.engine.pool.size() == 6 + CONNECTIONS_BESIDE_REQUESTS
    tokens = classroom(app, 40)
    with Session(app.state.engine) as session:
        game_id = students.student_by_token(session, tokens[0], timedelta(days=1)).game_id  # type: ignore[union-attr]
    answers = run_apart(student_burst(app, tokens, game_id))
    statuses = Counter(a.status_code for a in answers)
    assert set(statuses) <= {200, 503} and statuses[200] >= 6, statuses


def test_the_lookup_of_who_is_calling_hands_its_connection_back_before_the_route_runs(prepared_sqlite_url: str) -> None:
    """Requests queueing for a thread hold no connection: 60 page loads through 4 threads and a pool of 2."""
    app = create_app(Settings(database_url=prepared_sqlite_url, threads=4, max_in_flight=1000, max_in_flight_per_client=1000))
    tokens = classroom(app, 40)
    app.state.engine = create_db_engine(prepared_sqlite_url, pool_size=2, max_overflow=0, pool_timeout=5)

    async def pages() -> list[httpx.Response]:
        async with app.router.lifespan_context(app):
            return await burst(app, [("/play/decide", {"Cookie": f"moatline_student={t}"}) for t in tokens + tokens[:20]])

    assert Counter(a.status_code for a in run_apart(pages())) == {200: 60}


def test_a_burst_beyond_the_caps_gets_200s_and_503s_and_never_a_server_error(prepared_sqlite_url: str) -> None:
    app = create_app(Settings(database_url=prepared_sqlite_url, max_in_flight=8, max_in_flight_per_client=2))
    tokens = classroom(app, 40)
    with Session(app.state.engine) as session:
        game_id = students.student_by_token(session, tokens[0], timedelta(days=1)).game_id  # type: ignore[union-attr]
    answers = run_apart(student_burst(app, tokens, game_id))
    statuses = Counter(a.status_code for a in answers)
    assert set(statuses) == {200, 503} and statuses[503] >= 20 - 2  # one token's 20 reads got 2 places at most
    assert all(a.headers["retry-after"] == "1" for a in answers if a.status_code == 503)
