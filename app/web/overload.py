"""Overload and a failing database answer at once, with a 503 and `Retry-After`, never after a 30 s stall.

A server process works on at most `max_in_flight` requests at a time, and on at most `max_in_flight_per_client` of
one client's (a student's cookie, an instructor's session, a bearer token), so one script with 60 connections
cannot take a whole class's share. Requests beyond either cap are refused before any work: a short page, or JSON
under /api/. Students' autosaves retry on a failed answer, so a 503 loses nothing. Static files and /healthz are
not counted: they stay cheap (the health check has its own deadline, app/web/pages.py).

A database that fails or does not answer in time (a lock held too long, a pool empty for `POOL_TIMEOUT_S`, a
connection refused, a deadline passed) gets the same 503 instead of a server error.
"""

from __future__ import annotations

import logging
from collections import Counter

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.requests import cookie_parser
from starlette.types import ASGIApp, Receive, Scope, Send

from app.db import DatabaseUnavailable, Deadline
from app.settings import Settings
from app.web.deps import SESSION_COOKIE, STUDENT_COOKIE

RETRY_AFTER_S = 1
HEALTH_DEADLINE_S = 1.5  # a load balancer's probe is answered within 2 s whatever the database does
HEALTH_SLOTS = 2  # probes that may wait on a hung database at once; later ones are answered 503 at the deadline
UNCOUNTED_PREFIXES = ("/static/", "/healthz")
API_PREFIX = "/api/"
BUSY = "Moatline is busy this second: please try again."
DATABASE_DOWN = "Moatline's database is not answering right now: please try again in a moment."
PAGE = ("<!doctype html><html lang=\"en\"><meta charset=\"utf-8\"><title>Try again</title>"
        "<main><h1>Try again in a moment</h1><p>{message}</p></main></html>")
log = logging.getLogger("moatline.overload")


def install_overload(app: FastAPI, settings: Settings) -> None:
    """The in-flight caps (outermost, so refusing costs nothing), the 503 for a failing database and the health
    check's deadline."""
    app.state.health_checks = Deadline(HEALTH_SLOTS, HEALTH_DEADLINE_S, name="healthz")
    app.add_middleware(InFlightLimit, max_in_flight=settings.max_in_flight,
                       per_client=settings.max_in_flight_per_client)
    for error in (DatabaseUnavailable, OperationalError, PoolTimeout):
        app.add_exception_handler(error, _database_down)


def try_again(path: str, message: str) -> Response:
    """A 503 that says when to come back: JSON under /api/, else a short page (not cached by anyone)."""
    headers = {"Retry-After": str(RETRY_AFTER_S), "Cache-Control": "no-store"}
    if path.startswith(API_PREFIX):
        return JSONResponse({"detail": message}, status_code=503, headers=headers)
    return HTMLResponse(PAGE.format(message=message), status_code=503, headers=headers)


async def _database_down(request: Request, exc: Exception) -> Response:
    log.warning("database unavailable for %s %s: %s", request.method, request.url.path, exc)
    return try_again(request.url.path, DATABASE_DOWN)


class InFlightLimit:
    """Counts the requests being worked on, in all and per client; refuses those beyond either cap."""

    def __init__(self, app: ASGIApp, max_in_flight: int, per_client: int):
        self.app, self.max_in_flight, self.per_client = app, max_in_flight, per_client
        self.in_flight = 0
        self.by_client: Counter[str] = Counter()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(UNCOUNTED_PREFIXES):
            await self.app(scope, receive, send)
            return
        client = client_of(scope)
        if self.in_flight >= self.max_in_flight or (client and self.by_client[client] >= self.per_client):
            refusal = try_again(scope["path"], BUSY)
            await refusal(scope, receive, send)
            return
        self.in_flight += 1
        self.by_client[client] += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.in_flight -= 1
            self.by_client[client] -= 1
            if self.by_client[client] <= 0:
                del self.by_client[client]


def client_of(scope: Scope) -> str:
    """Who is asking, from their credentials (a bearer token, a student's or instructor's cookie); '' for
    anonymous visitors, who share the process-wide cap only (a class behind one school NAT shares an address)."""
    cookies: dict[str, str] = {}
    for name, value in scope["headers"]:
        if name == b"authorization":
            return "bearer " + value.decode("latin-1")
        if name == b"cookie":
            cookies.update(cookie_parser(value.decode("latin-1")))
    for cookie in (STUDENT_COOKIE, SESSION_COOKIE):
        if cookies.get(cookie):
            return f"{cookie} {cookies[cookie]}"
    return ""
