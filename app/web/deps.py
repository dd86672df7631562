"""Everything a request may depend on, in one place: its database session, who is calling (an instructor's
browser, a student's browser, a bearer token) and its posted form."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Annotated

from fastapi import Depends, Header, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.requests import HTTPConnection
from pydantic import BaseModel
from sqlalchemy import Engine
from sqlmodel import Session

from app.models import Instructor, Student
from app.services import accounts, students
from app.settings import Settings

# cookie names, as set over plain HTTP; a site served securely sets and reads them with the __Host-
# prefix (the browser keeps them for this host alone, Secure, on every path: no sibling site can
# plant one)
SESSION_COOKIE = "moatline_session"
STUDENT_COOKIE = "moatline_student"
HOST_PREFIX = "__Host-"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
CLOSING_THREADS = ThreadPoolExecutor(max_workers=4, thread_name_prefix="session-close")  # a rollback takes ~0.1 ms


def cookies_secure(settings: Settings, scheme: str) -> bool:
    """Whether cookies are Secure (and __Host- named): MOATLINE_SECURE_COOKIES or HTTPS."""
    return settings.secure_cookies or scheme == "https"


def cookie_name(base: str, secure: bool) -> str:
    return HOST_PREFIX + base if secure else base


def read_cookie(request: HTTPConnection, base: str) -> str | None:
    """A cookie under the name in force for this request (`__Host-moatline_session` if secure)."""
    secure = cookies_secure(request.app.state.settings, request.url.scheme)
    return request.cookies.get(cookie_name(base, secure))


async def get_session(request: Request) -> AsyncIterator[Session]:
    """A database session for one request. Opening one costs no query, so that runs on the event loop; closing
    one that is still in a transaction rolls it back, a database call, so that runs in a closing thread (after
    the answer is sent): a hung database never blocks the event loop, and a close never waits for the threads
    that routes wait for."""
    session = Session(request.app.state.engine)
    try:
        yield session
    finally:
        if session.in_transaction():
            await asyncio.get_running_loop().run_in_executor(CLOSING_THREADS, session.close)
        else:
            session.close()


SessionDep = Annotated[Session, Depends(get_session)]


def hand_back_connection(session: Session) -> None:
    """End a dependency's lookup transaction, keeping what it loaded, so its connection returns to the pool before
    the route's own trip to the thread pool: a request waiting for a thread holds no connection (the deadlock of a
    connection held across two trips, while threads wait for connections, is ruled out by the pool rule in
    app/db.py; this keeps connections free while requests queue)."""
    keep, session.expire_on_commit = session.expire_on_commit, False
    try:
        session.commit()
    finally:
        session.expire_on_commit = keep


# --- instructors' browsers -------------------------------------------------------------------------


async def current_instructor(request: Request) -> Instructor | None:
    """The signed-in instructor, or None; also left on `request.state.instructor` for the page header.
    Without a session cookie (every student request) it answers at once: no database session, no thread."""
    token = read_cookie(request, SESSION_COOKIE)
    found = await run_in_threadpool(_instructor_by_token, request.app.state.engine, token) if token else None
    request.state.instructor = found
    return found


def _instructor_by_token(engine: Engine, token: str) -> Instructor | None:
    with Session(engine, expire_on_commit=False) as session:
        return accounts.instructor_for(session, token)


class SignInRequired(Exception):
    """An instructor page was asked for without a session; the handler sends the browser to sign in."""

    def __init__(self, next_path: str):
        super().__init__(next_path)
        self.next_path = next_path


CurrentInstructor = Annotated[Instructor | None, Depends(current_instructor)]


def require_instructor(request: Request, instructor: CurrentInstructor) -> Instructor:
    """The signed-in instructor; anyone else is sent to /signin?next=<this page>."""
    if instructor is None:
        here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise SignInRequired(here if request.method in SAFE_METHODS else "")
    return instructor


SignedInInstructor = Annotated[Instructor, Depends(require_instructor)]


# --- students' browsers ----------------------------------------------------------------------------


def current_student(request: Request, session: SessionDep) -> Student:
    """The student this browser joined as; anyone else is sent to the join page, which says why a
    browser that had joined is signed out (its token expired, its game ended, another device)."""
    token = read_cookie(request, STUDENT_COOKIE)
    lifetime = student_token_lifetime(request)
    student = students.student_by_token(session, token, lifetime)
    hand_back_connection(session)
    if student is None:
        target = request.url_for("join_form").path
        if token:
            target += f"?signed_out={students.token_refusal(session, token, lifetime)}"
        if request.headers.get("HX-Request") == "true":  # a poll or an autosave: the whole page goes
            raise HTTPException(status_code=204, headers={"HX-Redirect": target})
        raise HTTPException(status_code=303, headers={"Location": target})
    return student


def student_token_lifetime(request: HTTPConnection) -> timedelta:
    settings: Settings = request.app.state.settings
    return settings.student_token_lifetime


StudentDep = Annotated[Student, Depends(current_student)]


async def form_fields(request: Request) -> dict[str, str]:
    """The posted form as plain strings (an async dependency, so the page functions stay synchronous)."""
    return {k: str(v) for k, v in (await request.form()).items()}


FormDep = Annotated[dict[str, str], Depends(form_fields)]


# --- bearer tokens (the JSON API) ------------------------------------------------------------------


class Caller(BaseModel):
    instructor: Instructor | None = None
    student: Student | None = None
    token: str = ""  # the bearer token itself, so that it can be revoked

    model_config = {"arbitrary_types_allowed": True}


def caller(request: Request, session: SessionDep,
           authorization: Annotated[str, Header()] = "") -> Caller:
    """Who is calling, from the bearer token (an instructor's API token, never a browser's session,
    or a student's token); no valid token is a 401."""
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise HTTPException(status_code=401, detail="Send an `Authorization: Bearer <token>` header.",
                            headers={"WWW-Authenticate": "Bearer"})
    instructor = accounts.instructor_for(session, token, kind=accounts.API)
    lifetime = student_token_lifetime(request)
    student = students.student_by_token(session, token, lifetime) if instructor is None else None
    hand_back_connection(session)
    if instructor is not None:
        return Caller(instructor=instructor, token=token)
    if student is not None:
        return Caller(student=student, token=token)
    raise HTTPException(status_code=401, detail="That token is not valid (any more).",
                        headers={"WWW-Authenticate": "Bearer"})


CallerDep = Annotated[Caller, Depends(caller)]
