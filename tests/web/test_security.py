"""CSRF protection on every state-changing request, for instructors and students alike."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from app.settings import Settings
from app.web.main import create_app
from app.web.security import CSRF_COOKIE, csrf_token_is_valid, new_csrf_token, safe_next

from .signed_in import PASSWORD, csrf_of, csrf_token_of, sign_up, text_of


def test_a_first_page_sets_an_httponly_samesite_lax_csrf_cookie_and_puts_the_token_in_the_page(client: TestClient) -> None:
    page = client.get("/signin")
    cookie = page.headers["set-cookie"]
    assert cookie.startswith(f"{CSRF_COOKIE}=") and "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    token = csrf_of(page.text)
    assert token != client.cookies[CSRF_COOKIE]  # the page's token is bound to the session, not the cookie
    assert f'hx-headers=\'{{"X-CSRF-Token": "{token}"}}\'' in page.text


def test_a_page_that_already_has_a_valid_token_keeps_it(client: TestClient) -> None:
    first = csrf_of(client.get("/signin").text)
    again = client.get("/signin")
    assert "set-cookie" not in again.headers
    assert csrf_of(again.text) == first


def test_a_form_posted_without_a_token_is_refused_with_a_page_that_says_what_to_do(client: TestClient) -> None:
    client.get("/signup")
    refused = client.post("/signup", data={"email": "ada@example.edu", "display_name": "Ada", "password": PASSWORD})
    assert refused.status_code == 403
    assert "This form has expired" in refused.text and "reload the page" in refused.text and "nothing was saved" in refused.text
    assert client.get("/games").url.path == "/signin"  # no account was made and nobody is signed in


def test_a_form_posted_with_another_token_is_refused(client: TestClient) -> None:
    client.get("/signin")
    refused = client.post("/signin", data={"email": "a@example.edu", "password": PASSWORD, "csrf_token": new_csrf_token("x")})
    assert refused.status_code == 403


def test_a_browser_without_the_cookie_is_refused_even_with_a_token_field(client: TestClient) -> None:
    token = csrf_of(client.get("/signin").text)
    client.cookies.clear()
    refused = client.post("/signin", data={"email": "a@example.edu", "password": PASSWORD, "csrf_token": token})
    assert refused.status_code == 403 and "did not send Moatline's security cookie" in text_of(refused.text)
    assert refused.headers["set-cookie"].startswith(f"{CSRF_COOKIE}=")  # so reloading the form works


def test_a_cookie_the_server_did_not_sign_is_refused_even_when_the_field_matches(client: TestClient) -> None:
    planted = "chosen-by-an-attacker.signature"
    client.cookies.set(CSRF_COOKIE, planted)
    refused = client.post("/signin", data={"email": "a@example.edu", "password": PASSWORD, "csrf_token": planted})
    assert refused.status_code == 403
    assert not csrf_token_is_valid("development-only-secret-key-change-me", planted)


def test_htmx_requests_carry_the_token_in_the_x_csrf_token_header(client: TestClient) -> None:
    sign_up(client)
    token = csrf_token_of(client)
    checked = client.get("/games/new/scenario", params={"scenario": "frontier-race"}, headers={"HX-Request": "true"})
    assert checked.status_code == 200
    headers = {"HX-Request": "true", "X-CSRF-Token": token}
    assert client.post("/signout", headers=headers).status_code == 200  # followed to the home page
    assert client.post("/signout", headers={"HX-Request": "true"}).status_code == 403


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
def test_every_state_changing_method_needs_the_token(client: TestClient, method: str) -> None:
    client.get("/")
    assert client.request(method, "/games/1").status_code == 403
    with_token = client.request(method, "/games/1", headers={"X-CSRF-Token": csrf_token_of(client)})
    assert with_token.status_code == 405  # past the CSRF check, at the router: /games/1 has no such method


def test_student_forms_are_protected_too(client: TestClient) -> None:
    client.get("/")
    assert client.post("/join/ABCDEF", data={"display_name": "Ann"}).status_code == 403


def test_a_multipart_form_is_checked_and_still_reaches_the_route_whole(client: TestClient) -> None:
    token = csrf_of(client.get("/signup").text)
    fields = {"email": "ada@example.edu", "display_name": "Ada Lovelace", "password": PASSWORD, "csrf_token": token}
    signed_up = client.post("/signup", files={k: (None, v) for k, v in fields.items()})
    assert signed_up.status_code == 200 and "Your account is ready" in signed_up.text
    assert 'value="ada@example.edu"' in signed_up.text  # every field arrived: sign-in is filled in
    assert client.post("/signout", files={"x": (None, "y")}).status_code == 403


def test_api_calls_with_a_bearer_token_are_exempt_and_cookie_calls_are_not(client: TestClient) -> None:
    client.get("/")
    assert client.post("/api/v1/anything", headers={"Authorization": "Bearer abc"}).status_code == 404  # past CSRF
    assert client.post("/api/v1/games/1/submit", headers={"Authorization": "Bearer abc"}).status_code == 401
    assert client.post("/api/v1/anything").status_code == 403
    assert client.post("/games/new", headers={"Authorization": "Bearer abc"}).status_code == 403  # only under /api/


@pytest.fixture
def https_client(prepared_sqlite_url: str) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(database_url=prepared_sqlite_url)), base_url="https://testserver") as test_client:
        yield test_client


def test_cookies_are_secure_over_https(https_client: TestClient) -> None:
    assert "Secure" in https_client.get("/").headers["set-cookie"]


def test_cookies_are_secure_when_the_setting_says_the_site_is_behind_https(prepared_sqlite_url: str) -> None:
    app = create_app(Settings(database_url=prepared_sqlite_url, secure_cookies=True))
    with TestClient(app) as test_client:
        assert "Secure" in test_client.get("/").headers["set-cookie"]


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "/\\evil.example", "games", "", "/a\r\nSet-Cookie: x=1"])
def test_after_signing_in_a_browser_never_leaves_the_site(target: str) -> None:
    assert safe_next(target) == "/games"


def test_after_signing_in_a_browser_may_return_to_a_page_of_the_site() -> None:
    assert safe_next("/games/7?resolved=1") == "/games/7?resolved=1"


@pytest.mark.parametrize("path", ["/", "/join", "/api/v1/games", "/static/app.css", "/no-such-page"])
def test_no_response_may_be_framed_by_another_site_or_leak_its_address(client: TestClient, path: str) -> None:
    headers = client.get(path).headers
    assert headers["x-frame-options"] == "DENY" and "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers["referrer-policy"] == "same-origin" and headers["x-content-type-options"] == "nosniff"
