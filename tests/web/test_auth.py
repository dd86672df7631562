"""Instructor accounts through the web: sign up, sign in (rate-limited), sign out, session cookies."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app import clock
from app.models import Instructor, InstructorSession
from app.services.accounts import token_hash
from app.web.security import SESSION_COOKIE

from .signed_in import PASSWORD, csrf_of, post_form, sign_up, text_of


def test_an_instructor_signs_up_signs_in_and_lands_on_their_games(client: TestClient) -> None:
    typed = {"email": "Ada@Example.edu", "display_name": "Ada Lovelace", "password": PASSWORD}
    ready = post_form(client, "/signup", typed)
    assert ready.status_code == 200 and SESSION_COOKIE not in client.cookies
    assert "Your account is ready if that email had none" in ready.text
    assert 'value="ada@example.edu"' in ready.text
    page = post_form(client, "/signin", {"email": "ada@example.edu", "password": PASSWORD})
    assert page.url.path == "/games" and "Your games" in page.text and "You have no games yet" in page.text
    assert "Ada Lovelace" in page.text and ">Sign out</button>" in page.text
    with Session(client.app.state.engine) as s:  # type: ignore[attr-defined]
        person = s.exec(select(Instructor)).one()
    assert person.email == "ada@example.edu" and person.password_hash.startswith("$argon2id$")


def test_sign_up_problems_are_shown_at_their_fields_and_keep_what_was_typed(client: TestClient) -> None:
    page = post_form(client, "/signup", {"email": "ada-at-example", "display_name": "Ada Lovelace", "password": "short"})
    assert page.status_code == 422
    body = text_of(page.text)
    assert "There are 2 problems" in body
    assert re.search(r'<p class="field__error" id="f-email-error">Enter an email address like name@school.edu.</p>', body)
    assert re.search(r'<input id="f-email" name="email" type="email" value="ada-at-example" aria-describedby="f-email-error" aria-invalid="true"', body)
    assert 'id="f-password-error">Use at least 12 characters (you typed 5).</p>' in body
    assert 'aria-describedby="f-password-hint f-password-error"' in body
    assert 'value="Ada Lovelace"' in body and 'value="short"' not in body  # a password is never sent back
    assert '<a href="#f-email">Email: Enter an email address' in body


def test_signing_up_again_with_the_same_email_neither_signs_in_nor_says_the_email_has_an_account(
        client: TestClient) -> None:
    sign_up(client)
    client.cookies.delete(SESSION_COOKIE)
    again = post_form(client, "/signup", {"email": " ADA@example.edu", "display_name": "Someone", "password": PASSWORD})
    assert again.status_code == 200
    assert "Your account is ready if that email had none" in text_of(again.text)
    assert "already" not in again.text and SESSION_COOKIE not in client.cookies


def test_the_session_cookie_is_httponly_samesite_lax_and_only_its_hash_is_stored(client: TestClient) -> None:
    post_form(client, "/signup",
              {"email": "ada@example.edu", "display_name": "Ada", "password": PASSWORD})
    token_page = client.get("/signin").text
    signed_in = client.post("/signin", data={"email": "ada@example.edu", "password": PASSWORD,
                                             "csrf_token": csrf_of(token_page)}, follow_redirects=False)
    assert signed_in.status_code == 303 and signed_in.headers["location"] == "/games"
    cookie = signed_in.headers.get_list("set-cookie")[0]
    assert cookie.startswith(f"{SESSION_COOKIE}=") and "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Max-Age=1209600" in cookie
    token = client.cookies[SESSION_COOKIE]
    with Session(client.app.state.engine) as s:  # type: ignore[attr-defined]
        assert s.exec(select(InstructorSession.token_hash)).one() == token_hash(token) != token


def test_signing_in_with_the_right_password_opens_a_session_and_a_wrong_one_says_so(client: TestClient) -> None:
    sign_up(client)
    post_form(client, "/signout", {}, from_page="/games")
    wrong = post_form(client, "/signin", {"email": "ada@example.edu", "password": "not the password"})
    assert wrong.status_code == 422
    body = text_of(wrong.text)
    assert "That email and password do not match an account." in body and 'value="ada@example.edu"' in body
    assert 'aria-describedby="signin-error"' in body
    right = post_form(client, "/signin", {"email": "ada@example.edu", "password": PASSWORD})
    assert right.url.path == "/games" and "Ada Lovelace" in right.text


def test_after_five_wrong_passwords_the_email_must_wait_and_the_page_says_how_long(
        client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    sign_up(client)
    post_form(client, "/signout", {}, from_page="/games")
    frozen = clock.now()
    monkeypatch.setattr(clock, "now", lambda: frozen)
    for _ in range(5):
        assert post_form(client, "/signin", {"email": "ada@example.edu", "password": "guess-guess"}).status_code == 422
    slowed = post_form(client, "/signin", {"email": "ada@example.edu", "password": PASSWORD})
    assert slowed.status_code == 429 and "Too many attempts; wait 1 second." in slowed.text
    assert slowed.headers["retry-after"] == "1"
    assert client.get("/games").url.path == "/signin"
    monkeypatch.setattr(clock, "now", lambda: frozen + timedelta(seconds=1))
    again = post_form(client, "/signin", {"email": "ada@example.edu", "password": PASSWORD})
    assert again.url.path == "/games"


def test_signing_out_revokes_the_session_even_for_a_copy_of_the_cookie(client: TestClient) -> None:
    sign_up(client)
    stolen = TestClient(client.app)
    stolen.cookies.set(SESSION_COOKIE, client.cookies[SESSION_COOKIE])
    assert stolen.get("/games").url.path == "/games"
    signed_out = post_form(client, "/signout", {}, from_page="/games")
    assert signed_out.url.path == "/" and ">Sign in</a>" in signed_out.text
    assert SESSION_COOKIE not in client.cookies
    assert stolen.get("/games").url.path == "/signin"


def test_signing_in_returns_to_the_page_that_asked_for_it(client: TestClient) -> None:
    sign_up(client)
    post_form(client, "/signout", {}, from_page="/games")
    asked = client.get("/games/new?scenario=mixed-ecosystem")
    assert asked.url.path == "/signin" and asked.url.params["next"] == "/games/new?scenario=mixed-ecosystem"
    page = post_form(client, "/signin", {"email": "ada@example.edu", "password": PASSWORD, "next": asked.url.params["next"]},
                     from_page=str(asked.url))
    assert page.url.path == "/games/new" and "Companies in Mixed ecosystem" in page.text


def test_the_header_offers_sign_in_to_visitors_and_the_instructors_games_once_signed_in(client: TestClient) -> None:
    home = client.get("/").text
    assert 'href="/signin"' in home and 'href="/signup"' in home and "Your games" not in home
    sign_up(client)
    home = client.get("/").text
    assert 'href="/games">Your games</a>' in home and 'href="/games/new"' in home and 'href="/signin"' not in home


def test_a_signed_in_instructor_who_opens_sign_in_goes_to_their_games(client: TestClient) -> None:
    sign_up(client)
    assert client.get("/signin").url.path == "/games"
    assert client.get("/signup").url.path == "/games"
