"""Instructor sessions on the web: CSRF tokens bound to the session, the Origin check, secure
cookies and HSTS, API tokens kept apart from browser cookies, sign out (everywhere), password
change and reset."""

from __future__ import annotations

import html
import logging
import re
import smtplib
from collections.abc import Iterator
from datetime import timedelta
from email.message import EmailMessage

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.services import accounts
from app.settings import Settings
from app.web.main import create_app
from app.web.security import CSRF_COOKIE, SESSION_COOKIE

from .signed_in import PASSWORD, create_game, csrf_of, csrf_token_of, post_form, sign_up, text_of

NEW_PASSWORD = "a different staple"
EVIL = "https://evil.example"
HSTS = "max-age=63072000; includeSubDomains"


def api_token(client: TestClient, email: str = "ada@example.edu", password: str = PASSWORD) -> str:
    answer = client.post("/api/v1/token", json={"email": email, "password": password})
    assert answer.status_code == 200, answer.text
    return str(answer.json()["token"])


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def signed_in(client: TestClient) -> bool:
    return client.get("/games").url.path == "/games"


def sign_in(client: TestClient, email: str = "ada@example.edu", password: str = PASSWORD) -> None:
    answer = post_form(client, "/signin", {"email": email, "password": password})
    assert answer.url.path == "/games", text_of(answer.text)


# --- CSRF: bound to the session, rotated, same origin ---------------------------------------------


def test_a_csrf_pair_minted_by_an_attacker_and_planted_in_the_victims_browser_is_refused(
    client: TestClient,
) -> None:
    attacker = TestClient(client.app)
    attacker_token = csrf_of(attacker.get("/signin").text)
    sign_up(client)
    gid = create_game(client)
    client.cookies.set(CSRF_COOKIE, attacker.cookies[CSRF_COOKIE])
    forged = client.post(
        f"/games/{gid}/control", data={"action": "pause", "csrf_token": attacker_token}
    )
    assert forged.status_code == 403 and "nothing was saved" in text_of(forged.text)
    assert "paused" not in text_of(client.get(f"/games/{gid}").text).lower()


def test_the_token_of_a_page_opened_before_signing_in_is_void_after(client: TestClient) -> None:
    before = csrf_token_of(client)
    held = client.cookies[CSRF_COOKIE]
    sign_up(client)
    assert client.cookies[CSRF_COOKIE] != held  # a fresh secret at sign-in
    gid = create_game(client)
    stale = client.post(f"/games/{gid}/control", data={"action": "pause", "csrf_token": before})
    assert stale.status_code == 403
    fresh = post_form(
        client, f"/games/{gid}/control", {"action": "pause"}, from_page=f"/games/{gid}"
    )
    assert fresh.status_code == 200


def test_signing_out_rotates_the_csrf_secret(client: TestClient) -> None:
    sign_up(client)
    held = client.cookies[CSRF_COOKIE]
    post_form(client, "/signout", {}, from_page="/games")
    assert client.cookies[CSRF_COOKIE] != held


@pytest.mark.parametrize("header", ["Origin", "Referer"])
def test_a_form_sent_from_another_site_is_refused_even_with_a_valid_token(
    client: TestClient, header: str
) -> None:
    sign_up(client)
    gid = create_game(client)
    token = csrf_of(client.get(f"/games/{gid}").text)
    where = EVIL if header == "Origin" else f"{EVIL}/trap.html"
    refused = client.post(
        f"/games/{gid}/control",
        data={"action": "pause", "csrf_token": token},
        headers={header: where},
    )
    assert refused.status_code == 403 and "This form came from another website" in text_of(
        refused.text
    )
    same = client.post(
        f"/games/{gid}/control",
        data={"action": "pause", "csrf_token": token},
        headers={"Origin": "http://testserver", "Referer": "http://testserver/games"},
    )
    assert same.status_code == 200


def test_a_form_from_the_public_address_behind_a_tls_proxy_is_accepted(
    prepared_sqlite_url: str,
) -> None:
    settings = Settings(database_url=prepared_sqlite_url, public_url="https://moatline.school.edu")
    with TestClient(create_app(settings)) as client:
        token = csrf_of(client.get("/signin").text)
        answer = client.post(
            "/signin",
            data={"email": "a@example.edu", "password": "x", "csrf_token": token},
            headers={"Origin": "https://moatline.school.edu"},
        )
        assert answer.status_code == 422  # reached the route: a wrong password, not a refused form


# --- cookies and HSTS -----------------------------------------------------------------------------


@pytest.fixture
def secure_client(prepared_sqlite_url: str) -> Iterator[TestClient]:
    settings = Settings(database_url=prepared_sqlite_url, secure_cookies=True)
    with TestClient(create_app(settings), base_url="https://testserver") as client:
        yield client


def set_cookies(response: object) -> list[str]:
    return list(response.headers.get_list("set-cookie"))  # type: ignore[attr-defined]


def test_under_the_secure_setting_every_cookie_is_secure_and_host_prefixed_and_still_read(
    secure_client: TestClient,
) -> None:
    first = set_cookies(secure_client.get("/signin"))
    post_form(secure_client, "/signup", {"email": "ada@example.edu", "display_name": "Ada", "password": PASSWORD})
    entered = post_form(secure_client, "/signin", {"email": "ada@example.edu", "password": PASSWORD})
    session_cookies = set_cookies(entered.history[0])
    gid = create_game(secure_client)
    code = re.search(r"/join/([A-Z0-9]{4,})", secure_client.get(f"/games/{gid}").text)
    assert code
    student = TestClient(secure_client.app, base_url="https://testserver")
    page = student.get(f"/join/{code.group(1)}").text
    seat = re.search(r'name="seat_id" value="(\d+)"', page)
    assert seat
    joined = student.post(
        f"/join/{code.group(1)}",
        data={"display_name": "Ann", "seat_id": seat.group(1), "csrf_token": csrf_of(page)},
        follow_redirects=False,
    )
    cookies = [*first, *session_cookies, *set_cookies(joined)]
    names = {c.split("=")[0] for c in cookies}
    assert names == {"__Host-moatline_csrf", "__Host-moatline_session", "__Host-moatline_student"}
    for cookie in cookies:
        assert "; Secure" in cookie and "; Path=/" in cookie and "Domain" not in cookie, cookie
    assert signed_in(secure_client)
    assert student.get("/play").url.path == "/play"


def test_over_plain_http_without_the_setting_cookies_are_neither_secure_nor_prefixed(
    client: TestClient,
) -> None:
    cookie = client.get("/signin").headers["set-cookie"]
    assert cookie.startswith(f"{CSRF_COOKIE}=") and "Secure" not in cookie


def test_hsts_is_sent_over_https_and_under_the_secure_setting_only(
    prepared_sqlite_url: str,
) -> None:
    plain = Settings(database_url=prepared_sqlite_url)
    behind_proxy = Settings(database_url=prepared_sqlite_url, secure_cookies=True)
    with TestClient(create_app(plain), base_url="https://testserver") as https:
        assert https.get("/").headers["strict-transport-security"] == HSTS
    with TestClient(create_app(behind_proxy)) as proxied:
        assert proxied.get("/healthz").headers["strict-transport-security"] == HSTS
    with TestClient(create_app(plain)) as http:
        assert "strict-transport-security" not in http.get("/").headers


# --- browser sessions and API tokens --------------------------------------------------------------


def test_an_api_token_is_not_a_browser_session_and_a_session_cookie_is_not_an_api_token(
    client: TestClient,
) -> None:
    sign_up(client)
    token = api_token(client)
    browser = TestClient(client.app)
    browser.cookies.set(SESSION_COOKIE, token)
    assert not signed_in(browser)
    assert (
        client.get("/api/v1/games", headers=bearer(client.cookies[SESSION_COOKIE])).status_code
        == 401
    )
    assert client.get("/api/v1/games", headers=bearer(token)).status_code == 200


def test_signing_out_revokes_that_browser_only(client: TestClient) -> None:
    sign_up(client)
    laptop = TestClient(client.app)
    sign_in(laptop)
    token = api_token(client)
    post_form(client, "/signout", {}, from_page="/games")
    assert not signed_in(client)
    assert (
        signed_in(laptop) and client.get("/api/v1/games", headers=bearer(token)).status_code == 200
    )


def test_signing_out_everywhere_ends_every_browser_and_api_token(client: TestClient) -> None:
    sign_up(client)
    laptop = TestClient(client.app)
    sign_in(laptop)
    token = api_token(client)
    out = post_form(client, "/signout/everywhere", {}, from_page="/account")
    assert out.url.path == "/signin"
    assert "You are signed out on every browser, and every API token is revoked." in text_of(
        out.text
    )
    assert not signed_in(client) and not signed_in(laptop)
    assert client.get("/api/v1/games", headers=bearer(token)).status_code == 401


def test_the_api_revokes_its_own_token_or_every_session_and_token(client: TestClient) -> None:
    sign_up(client)
    first, second = api_token(client), api_token(client)
    assert client.delete("/api/v1/token", headers=bearer(first)).status_code == 204
    assert client.get("/api/v1/games", headers=bearer(first)).status_code == 401
    assert client.get("/api/v1/games", headers=bearer(second)).status_code == 200 and signed_in(
        client
    )
    assert client.delete("/api/v1/tokens", headers=bearer(second)).status_code == 204
    assert client.get("/api/v1/games", headers=bearer(second)).status_code == 401 and not signed_in(
        client
    )


# --- changing the password ------------------------------------------------------------------------


def test_changing_the_password_needs_the_current_one_and_signs_out_the_other_browsers(
    client: TestClient,
) -> None:
    sign_up(client)
    laptop = TestClient(client.app)
    sign_in(laptop)
    wrong = post_form(
        client, "/account/password", {"current": "not it", "password": NEW_PASSWORD}, "/account"
    )
    assert wrong.status_code == 422 and "That is not your current password." in text_of(wrong.text)
    short = post_form(
        client, "/account/password", {"current": PASSWORD, "password": "short"}, "/account"
    )
    assert short.status_code == 422 and accounts.password_problem("short") in text_of(short.text)
    changed = post_form(
        client, "/account/password", {"current": PASSWORD, "password": NEW_PASSWORD}, "/account"
    )
    assert changed.status_code == 200 and "Your password is changed." in text_of(changed.text)
    assert signed_in(client) and not signed_in(laptop)
    sign_in(laptop, password=NEW_PASSWORD)


def test_the_account_page_is_for_signed_in_instructors_and_linked_from_the_header(
    client: TestClient,
) -> None:
    assert client.get("/account").url.path == "/signin"
    sign_up(client)
    games = client.get("/games").text
    assert 'href="/account"' in games
    page = text_of(client.get("/account").text)
    assert "Change your password" in page and "Sign out everywhere" in page


# --- resetting a forgotten password ---------------------------------------------------------------


class FakeSMTP:
    """Stands for smtplib.SMTP: keeps what would have been sent."""

    sent: list[EmailMessage] = []

    def __init__(self, host: str, port: int, timeout: float) -> None:
        self.host = host

    def __enter__(self) -> FakeSMTP:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def starttls(self) -> None:
        return None

    def login(self, user: str, password: str) -> None:
        return None

    def send_message(self, message: EmailMessage) -> None:
        FakeSMTP.sent.append(message)


@pytest.fixture
def mailing_client(
    prepared_sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[TestClient]:
    FakeSMTP.sent = []
    monkeypatch.setattr("app.services.mail.smtplib.SMTP", FakeSMTP)
    settings = Settings(
        database_url=prepared_sqlite_url,
        smtp_host="smtp.school.edu",
        smtp_from="moatline@school.edu",
        public_url="https://moatline.school.edu",
    )
    with TestClient(create_app(settings)) as client:
        yield client


def emailed_link() -> str:
    body = str(FakeSMTP.sent[-1].get_content())
    found = re.search(r"https://moatline\.school\.edu(/reset/\S+)", body)
    assert found, body
    return found.group(1)


def test_without_email_the_forgot_page_says_the_operator_prints_a_link(client: TestClient) -> None:
    assert 'href="/reset"' in client.get("/signin").text
    page = text_of(client.get("/reset").text)
    assert "moatline account reset" in page and 'name="email"' not in page


def test_with_email_a_reset_link_is_emailed_and_unknown_emails_get_the_same_answer(
    mailing_client: TestClient,
) -> None:
    sign_up(mailing_client)
    post_form(mailing_client, "/signout", {}, from_page="/games")
    known = post_form(mailing_client, "/reset", {"email": "ada@example.edu"})
    assert len(FakeSMTP.sent) == 1 and FakeSMTP.sent[0]["To"] == "ada@example.edu"
    unknown = post_form(mailing_client, "/reset", {"email": "nobody@example.edu"})
    assert len(FakeSMTP.sent) == 1
    assert known.status_code == unknown.status_code == 200 and same_answer(known.text, unknown.text)
    assert "a link to set a new password is on its way" in text_of(known.text)


def same_answer(known: str, unknown: str) -> bool:
    """The pages are alike but for the email typed (and the CSRF token)."""

    def bare(page: str) -> str:
        return re.sub(r'value="[^"]*"|"X-CSRF-Token": "[^"]*"', "", text_of(page)).replace(
            "nobody@", "ada@"
        )

    return bare(known) == bare(unknown)


def test_a_mail_server_that_fails_is_logged_and_the_answer_is_the_same(
    mailing_client: TestClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    sign_up(mailing_client)
    post_form(mailing_client, "/signout", {}, from_page="/games")

    def refuse(message: EmailMessage) -> None:
        raise smtplib.SMTPRecipientsRefused({"ada@example.edu": (550, b"no")})

    monkeypatch.setattr(FakeSMTP, "send_message", lambda self, message: refuse(message))
    with caplog.at_level(logging.ERROR, logger="app.services.mail"):
        answer = post_form(mailing_client, "/reset", {"email": "ada@example.edu"})
    assert answer.status_code == 200 and "on its way" in text_of(answer.text)
    assert "could not email 'Set a new Moatline password' to ada@example.edu" in caplog.text


def test_the_emailed_link_sets_a_new_password_once_and_signs_in(mailing_client: TestClient) -> None:
    sign_up(mailing_client)
    elsewhere = TestClient(mailing_client.app)
    sign_in(elsewhere)
    post_form(mailing_client, "/signout", {}, from_page="/games")
    post_form(mailing_client, "/reset", {"email": "ada@example.edu"})
    link = emailed_link()
    form = mailing_client.get(link)
    assert form.status_code == 200 and form.headers["cache-control"] == "no-store"
    assert "Choose a new password for ada@example.edu" in text_of(form.text)
    done = post_form(mailing_client, link, {"password": NEW_PASSWORD})
    assert done.url.path == "/games" and signed_in(mailing_client) and not signed_in(elsewhere)
    again = mailing_client.get(link)
    assert again.status_code == 404 and "expired or has been used already" in text_of(again.text)
    sign_in(elsewhere, password=NEW_PASSWORD)


def test_an_expired_reset_link_is_refused(client: TestClient) -> None:
    sign_up(client)
    with Session(client.app.state.engine) as s:  # type: ignore[attr-defined]
        issued = accounts.now() - accounts.RESET_LIFETIME
        token = accounts.issue_reset(s, "ada@example.edu", issued)
    assert token is not None
    expired = client.get(f"/reset/{token}")
    assert expired.status_code == 404 and "Ask for a new one" in html.unescape(expired.text)
    refused = post_form(client, f"/reset/{token}", {"password": NEW_PASSWORD}, from_page="/reset")
    assert refused.status_code == 404


def test_mail_settings_without_the_sites_address_are_refused_at_startup() -> None:
    with pytest.raises(ValueError, match="MOATLINE_PUBLIC_URL"):
        Settings(smtp_host="smtp.school.edu", smtp_from="moatline@school.edu")


def test_the_student_token_lifetime_comes_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MOATLINE_STUDENT_TOKEN_DAYS", "3")
    assert Settings().student_token_lifetime == timedelta(days=3)
    monkeypatch.setenv("MOATLINE_STUDENT_TOKEN_DAYS", "0")
    with pytest.raises(ValueError, match="student_token_days"):
        Settings()


def test_a_refused_cross_site_form_is_logged_with_a_hint_for_operators(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    token = csrf_of(client.get("/signin").text)
    with caplog.at_level(logging.WARNING, logger="app.web.security"):
        client.post("/signin", data={"csrf_token": token}, headers={"Origin": EVIL})
    assert f"from origin '{EVIL}': this site is http://testserver" in caplog.text
    assert "MOATLINE_PUBLIC_URL" in caplog.text
