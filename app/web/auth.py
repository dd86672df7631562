"""Instructor accounts on the web: sign up, sign in, sign out."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from app.services import accounts
from app.services.accounts import InstructorCreate, SignUpRejected, TooManyAttempts, WrongCredentials
from app.web.deps import CurrentInstructor, SessionDep
from app.web.security import client_address, end_session, safe_next, session_token, start_session
from app.web.templating import render

router = APIRouter()

FormText = Annotated[str, Form()]


@router.get("/signup", name="signup")
def signup_form(request: Request, instructor: CurrentInstructor, next: str = "") -> Response:
    """The sign-up form for instructors (students need no account: they join with a code)."""
    if instructor is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return _signup_page(request, {"next": safe_next(next)}, {})


@router.post("/signup", name="signup_submit")
def signup(request: Request, session: SessionDep, email: FormText = "", display_name: FormText = "",
           password: FormText = "", next: FormText = "") -> Response:
    """Create the account and sign it in; any problem is shown at its field, with what was typed kept."""
    typed = {"email": email, "display_name": display_name, "next": safe_next(next)}
    try:
        person = accounts.sign_up(session, InstructorCreate(email=email, display_name=display_name, password=password))
    except SignUpRejected as rejected:
        return _signup_page(request, typed, rejected.problems, status_code=422)
    assert person.id is not None
    return _signed_in(request, accounts.open_session(session, person.id), typed["next"])


def _signup_page(request: Request, typed: dict[str, str], problems: dict[str, str], status_code: int = 200) -> Response:
    context = {"title": "Create an instructor account", "nav": "signup", "typed": typed, "problems": problems,
               "min_password": accounts.PASSWORD_MIN_LENGTH}
    return render(request, "auth/signup.html", context, status_code=status_code)


@router.get("/signin", name="signin")
def signin_form(request: Request, instructor: CurrentInstructor, next: str = "") -> Response:
    if instructor is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return _signin_page(request, {"next": safe_next(next), "email": ""}, "")


@router.post("/signin", name="signin_submit")
def signin(request: Request, session: SessionDep, email: FormText = "", password: FormText = "", next: FormText = "") -> Response:
    """Check the password (rate-limited per email and per address) and open a session."""
    typed = {"email": email, "next": safe_next(next)}
    try:
        person = accounts.authenticate(session, email, password, client_address(request))
    except TooManyAttempts as refused:
        return _signin_page(request, typed, str(refused), status_code=429)
    except WrongCredentials as wrong:
        return _signin_page(request, typed, str(wrong), status_code=422)
    assert person.id is not None
    return _signed_in(request, accounts.open_session(session, person.id), typed["next"])


def _signin_page(request: Request, typed: dict[str, str], problem: str, status_code: int = 200) -> Response:
    return render(request, "auth/signin.html", {"title": "Sign in", "nav": "signin", "typed": typed, "problem": problem},
                  status_code=status_code)


def _signed_in(request: Request, token: str, next_path: str) -> Response:
    response = RedirectResponse(next_path, status_code=303)
    start_session(response, request, token)
    return response


@router.post("/signout", name="signout")
def signout(request: Request, session: SessionDep) -> Response:
    """Close this browser's session everywhere (its row goes) and forget the cookie."""
    token = session_token(request)
    if token:
        accounts.close_session(session, token)
    response = RedirectResponse("/", status_code=303)
    end_session(response, request)
    return response
