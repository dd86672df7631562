"""Everything a request may depend on, in one place: its database session, who is calling (an instructor's
browser, a student's browser, a bearer token) and its posted form."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from typing import Annotated

from fastapi import Depends, Header, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel
from sqlalchemy import Engine
from sqlmodel import Session

from app.models import Instructor, Student
from app.services import accounts, students

SESSION_COOKIE = "moatline_session"
STUDENT_COOKIE = "moatline_student"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
CLOSING_THREADS = ThreadPoolExecutor(max_workers=4, thread_name_prefix="session-close")  # a rollback takes ~0.1 ms


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
    token = request.cookies.get(SESSION_COOKIE)
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
    """The student this browser joined as; anyone else is sent to the join page."""
    student = students.student_by_token(session, request.cookies.get(STUDENT_COOKIE))
    hand_back_connection(session)
    if student is None:
        raise HTTPException(status_code=303, headers={"Location": request.url_for("join_form").path})
    return student


StudentDep = Annotated[Student, Depends(current_student)]


async def form_fields(request: Request) -> dict[str, str]:
    """The posted form as plain strings (an async dependency, so the page functions stay synchronous)."""
    return {k: str(v) for k, v in (await request.form()).items()}


FormDep = Annotated[dict[str, str], Depends(form_fields)]


# --- bearer tokens (the JSON API) ------------------------------------------------------------------


class Caller(BaseModel):
    instructor: Instructor | None = None
    student: Student | None = None

    model_config = {"arbitrary_types_allowed": True}


def caller(session: SessionDep, authorization: Annotated[str, Header()] = "") -> Caller:
    """Who is calling, from the bearer token; no valid token is a 401."""
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise HTTPException(status_code=401, detail="Send an `Authorization: Bearer <token>` header.",
                            headers={"WWW-Authenticate": "Bearer"})
    instructor = accounts.instructor_for(session, token)
    student = students.student_by_token(session, token) if instructor is None else None
    hand_back_connection(session)
    if instructor is not None:
        return Caller(instructor=instructor)
    if student is not None:
        return Caller(student=student)
    raise HTTPException(status_code=401, detail="That token is not valid (any more).",
                        headers={"WWW-Authenticate": "Bearer"})


CallerDep = Annotated[Caller, Depends(caller)]
