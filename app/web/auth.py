"""Instructor accounts on the web: sign up, sign in, sign out (here or everywhere), change or reset
a password."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Form, Request
from fastapi.responses import RedirectResponse, Response

from app.models import Instructor
from app.services import accounts, mail, throttle
from app.services.accounts import (
    EmailTaken,
    InstructorCreate,
    ServerBusy,
    SignUpRejected,
    TooManyAttempts,
    WrongCredentials,
)
from app.settings import Settings
from app.web.deps import CurrentInstructor, SessionDep, SignedInInstructor
from app.web.security import (
    DEFAULT_AFTER_SIGN_IN,
    client_address,
    end_session,
    safe_next,
    session_token,
    start_session,
)
from app.web.templating import render

router = APIRouter()
RESET_PATH = "/reset"
RESET_MINUTES = int(accounts.RESET_LIFETIME.total_seconds() // 60)
SIGNIN_NOTICES = {
    "everywhere": "You are signed out on every browser, and every API token is revoked.",
}
PASSWORD_CHANGED = "Your password is changed. Every other browser and API token is signed out."
NO_STORE = {"Cache-Control": "no-store"}

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
        pass  # answered as a new account, so sign-up never tells whether an email has one
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
def signin_form(request: Request, instructor: CurrentInstructor, next: str = "",
                notice: str = "") -> Response:
    if instructor is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    typed = {"next": safe_next(next), "email": ""}
    return _signin_page(request, typed, "", notice=SIGNIN_NOTICES.get(notice, ""))


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


@router.post("/signout/everywhere", name="signout_everywhere")
def signout_everywhere(request: Request, session: SessionDep, me: SignedInInstructor) -> Response:
    """Close every session and revoke every API token of this instructor, this browser's too."""
    accounts.close_every_session(session, me.id or 0)
    target = request.url_for("signin").path + "?notice=everywhere"
    response = RedirectResponse(target, status_code=303)
    end_session(response, request)
    return response


# --- the account page: change the password -------------------------------------------------------


@router.get("/account", name="account")
def account(request: Request, me: SignedInInstructor) -> Response:
    return _account_page(request, me, {})


@router.post("/account/password", name="change_password")
def change_password(request: Request, session: SessionDep, me: SignedInInstructor,
                    current: FormText = "", password: FormText = "") -> Response:
    """A new password, with the current one; every other browser and API token is signed out."""
    here = session_token(request)
    try:
        accounts.change_password(session, me, current, password, client_address(request), here)
    except accounts.PasswordRejected as rejected:
        return _account_page(request, me, rejected.problems, status_code=422)
    except TooManyAttempts as refused:
        return _account_page(request, me, {"current": str(refused)}, status_code=429)
    except ServerBusy as busy:
        return _account_page(request, me, {"current": str(busy)}, status_code=503)
    return _account_page(request, me, {}, notice=PASSWORD_CHANGED)


def _account_page(request: Request, me: Instructor, problems: dict[str, str],
                  status_code: int = 200, notice: str = "") -> Response:
    context = {"title": "Your account", "nav": "account", "me": me, "problems": problems,
               "notice": notice, "min_password": accounts.PASSWORD_MIN_LENGTH}
    response = render(request, "auth/account.html", context, status_code=status_code)
    response.headers.update(NO_STORE)
    return response


# --- resetting a forgotten password --------------------------------------------------------------


@router.get(RESET_PATH, name="forgot")
def forgot(request: Request) -> Response:
    """Ask for a reset link by email if this site sends email; else how the operator prints one."""
    return _forgot_page(request, sent=False)


@router.post(RESET_PATH, name="forgot_submit")
def forgot_submit(request: Request, session: SessionDep, tasks: BackgroundTasks,
                  email: FormText = "") -> Response:
    """Email a reset link: the same answer, as fast, whether or not the email has an account."""
    settings: Settings = request.app.state.settings
    if not settings.mail_configured:
        return _forgot_page(request, sent=False, status_code=404)
    typed = email[: accounts.EMAIL_MAX_LENGTH]
    token = accounts.issue_reset(session, typed, every=accounts.RESET_EMAIL_EVERY)
    if token is not None:
        link = reset_url(settings.public_url, token)
        message = mail.reset_message(settings, accounts.normalise_email(typed), link, RESET_MINUTES)
        tasks.add_task(mail.send_or_log, settings, message)  # after the answer: it takes no longer
    return _forgot_page(request, sent=True, email=typed)


def _forgot_page(request: Request, sent: bool, email: str = "", status_code: int = 200) -> Response:
    settings: Settings = request.app.state.settings
    context = {"title": "Forgot your password?", "mail": settings.mail_configured, "sent": sent,
               "email": email, "minutes": RESET_MINUTES}
    return render(request, "auth/forgot.html", context, status_code=status_code)


def reset_url(base: str, token: str) -> str:
    """The one-time link, on the site's own address."""
    return f"{base.rstrip('/')}{RESET_PATH}/{token}"


@router.get(RESET_PATH + "/{token}", name="reset_form")
def reset_form(request: Request, session: SessionDep, token: str) -> Response:
    person = accounts.reset_holder(session, token)
    return _reset_page(request, token, person, {}, status_code=200 if person else 404)


@router.post(RESET_PATH + "/{token}", name="reset_submit")
def reset_submit(request: Request, session: SessionDep, token: str,
                 password: FormText = "") -> Response:
    """Set the new password (once) and sign this browser in."""
    try:
        person = accounts.reset_password(session, token, password)
    except accounts.PasswordRejected as rejected:
        holder = accounts.reset_holder(session, token)
        return _reset_page(request, token, holder, rejected.problems, status_code=422)
    except accounts.ResetLinkInvalid:
        return _reset_page(request, token, None, {}, status_code=404)
    token = accounts.open_session(session, person.id or 0)
    return _signed_in(request, token, DEFAULT_AFTER_SIGN_IN)


def _reset_page(request: Request, token: str, person: Instructor | None,
                problems: dict[str, str], status_code: int) -> Response:
    context = {"title": "Choose a new password", "person": person, "token": token,
               "problems": problems, "problem": str(accounts.ResetLinkInvalid()),
               "min_password": accounts.PASSWORD_MIN_LENGTH}
    response = render(request, "auth/reset.html", context, status_code=status_code)
    response.headers.update(NO_STORE)
    return response
