"""Instructor accounts on the web: sign up, sign in, sign out."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from app.services import accounts, throttle
from app.services.accounts import (
    EmailTaken,
    InstructorCreate,
    ServerBusy,
    SignUpRejected,
    TooManyAttempts,
    WrongCredentials,
)
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
    """Create the account, then ask to sign in; any problem is shown at its field, with what was
    typed kept. An email that has an account already gets exactly the answer a new one gets, so this
    page tells no one which emails have accounts (and typing someone's email signs no one in)."""
    typed = {"email": email, "display_name": display_name, "next": safe_next(next)}
    new = InstructorCreate(email=email, display_name=display_name, password=password)
    try:
        accounts.sign_up(session, new, client_address(request))
    except SignUpRejected as rejected:
        return _signup_page(request, typed, rejected.problems, status_code=422)
    except TooManyAttempts as refused:
        return _signup_page(request, typed, {"email": _wait_to_sign_up(refused)}, status_code=429,
                            headers=_retry_after(refused))
    except ServerBusy as busy:
        return _signup_page(request, typed, {"email": str(busy)}, status_code=503)
    except EmailTaken:
        pass
    ready = "Your account is ready if that email had none: sign in with it and your new password."
    filled = {"email": accounts.normalise_email(email), "next": typed["next"]}
    return _signin_page(request, filled, "", notice=ready)


def _wait_to_sign_up(refused: TooManyAttempts) -> str:
    wait = throttle.wait_words(refused.wait)
    return f"Many accounts were created from your network today; wait {wait}."


def _retry_after(refused: TooManyAttempts) -> dict[str, str]:
    return {"Retry-After": str(refused.seconds)}


def _signup_page(request: Request, typed: dict[str, str], problems: dict[str, str],
                 status_code: int = 200, headers: dict[str, str] | None = None) -> Response:
    context = {"title": "Create an instructor account", "nav": "signup", "typed": typed, "problems": problems,
               "min_password": accounts.PASSWORD_MIN_LENGTH}
    response = render(request, "auth/signup.html", context, status_code=status_code)
    response.headers.update(headers or {})
    return response


@router.get("/signin", name="signin")
def signin_form(request: Request, instructor: CurrentInstructor, next: str = "") -> Response:
    if instructor is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return _signin_page(request, {"next": safe_next(next), "email": ""}, "")


@router.post("/signin", name="signin_submit")
def signin(request: Request, session: SessionDep, email: FormText = "", password: FormText = "",
           next: FormText = "") -> Response:
    """Check the password (soft-limited per email and per address) and open a session."""
    typed = {"email": email, "next": safe_next(next)}
    try:
        person = accounts.authenticate(session, email, password, client_address(request))
    except TooManyAttempts as refused:
        return _signin_page(request, typed, str(refused), status_code=429,
                            headers=_retry_after(refused))
    except ServerBusy as busy:
        return _signin_page(request, typed, str(busy), status_code=503)
    except WrongCredentials as wrong:
        return _signin_page(request, typed, str(wrong), status_code=422)
    assert person.id is not None
    return _signed_in(request, accounts.open_session(session, person.id), typed["next"])


def _signin_page(request: Request, typed: dict[str, str], problem: str, status_code: int = 200,
                 headers: dict[str, str] | None = None, notice: str = "") -> Response:
    context = {"title": "Sign in", "nav": "signin", "typed": typed, "problem": problem,
               "notice": notice}
    response = render(request, "auth/signin.html", context, status_code=status_code)
    response.headers.update(headers or {})
    return response


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
