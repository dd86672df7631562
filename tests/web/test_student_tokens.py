"""Students' tokens: they expire after MOATLINE_STUDENT_TOKEN_DAYS and when the game ends, the
rejoin link is exchanged for a fresh cookie token (so the link is never the live cookie), and no
link reaches the access log."""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app import clock
from app.models import Student
from app.services import games, live
from app.settings import Settings
from app.web.access_log import ACCESS_LOGGER
from app.web.deps import STUDENT_COOKIE
from app.web.main import create_app
from tests.classroom import TWO_TEAMS, a_game

from .test_play import csrf, join

TOKEN_DAYS = 7
EXPIRED = "This device's sign-in to your game has expired."
TAKEN_OVER = "This device is no longer signed in to a game"
ENDED = "Your game has ended, so its team pages are closed."


@pytest.fixture
def app_and_game(prepared_sqlite_url: str) -> Iterator[tuple[TestClient, int, str]]:
    app = create_app(Settings(database_url=prepared_sqlite_url, student_token_days=TOKEN_DAYS))
    with Session(app.state.engine) as s:
        game = a_game(s, name="Tokens", seats=TWO_TEAMS, seed=3, team_size_max=3)
        gid, code = game.id or 0, game.join_code
    with TestClient(app) as client:
        yield client, gid, code


def rejoin_path(welcome_page: str) -> str:
    found = re.search(r"http://testserver(/rejoin/[^<\s]+)", welcome_page)
    assert found, "the welcome box shows the rejoin link"
    return found.group(1)


def age_token(client: TestClient, name: str, by: timedelta) -> None:
    with Session(client.app.state.engine) as s:  # type: ignore[attr-defined]
        student = s.exec(select(Student).where(Student.display_name == name)).one()
        student.token_issued_at = clock.now() - by
        s.add(student)
        s.commit()


def told(client: TestClient) -> str:
    """Where the browser lands on opening its dashboard, and what it reads there."""
    landed = client.get("/play")
    return f"{landed.url.path}?{landed.url.query.decode()} {html.unescape(landed.text)}"


def test_the_student_cookie_lives_as_long_as_the_token(
    app_and_game: tuple[TestClient, int, str],
) -> None:
    client, _, code = app_and_game
    page = client.get(f"/join/{code}").text
    seat = re.search(r'name="seat_id" value="(\d+)"', page)
    assert seat
    joined = client.post(
        f"/join/{code}",
        data={"display_name": "Ann", "seat_id": seat.group(1), **csrf(page)},
        follow_redirects=False,
    )
    cookie = next(c for c in joined.headers.get_list("set-cookie") if c.startswith(STUDENT_COOKIE))
    assert f"Max-Age={TOKEN_DAYS * 86400}" in cookie and "HttpOnly" in cookie


def test_an_expired_token_sends_the_browser_to_the_join_page_saying_why(
    app_and_game: tuple[TestClient, int, str],
) -> None:
    client, gid, code = app_and_game
    join(client, code, "Ann", "Echo")
    token = client.cookies[STUDENT_COOKIE]
    age_token(client, "Ann", timedelta(days=TOKEN_DAYS, minutes=1))
    landing = told(client)
    assert landing.startswith("/join?signed_out=expired") and EXPIRED in landing
    assert STUDENT_COOKIE not in client.cookies  # the join page forgot it
    assert (
        client.get(f"/api/v1/games/{gid}", headers={"Authorization": f"Bearer {token}"}).status_code
        == 401
    )


def test_an_htmx_poll_with_an_expired_token_sends_the_whole_page_to_the_join_page(
    app_and_game: tuple[TestClient, int, str],
) -> None:
    client, _, code = app_and_game
    join(client, code, "Ann", "Echo")
    age_token(client, "Ann", timedelta(days=TOKEN_DAYS, minutes=1))
    poll = client.get("/play/round-watch", params={"seen": 0}, headers={"HX-Request": "true"})
    assert poll.status_code == 204 and poll.headers["HX-Redirect"] == "/join?signed_out=expired"


def test_a_token_younger_than_its_lifetime_still_works(
    app_and_game: tuple[TestClient, int, str],
) -> None:
    client, _, code = app_and_game
    join(client, code, "Ann", "Echo")
    age_token(client, "Ann", timedelta(days=TOKEN_DAYS) - timedelta(minutes=1))
    assert client.get("/play").url.path == "/play"


def test_when_the_game_ends_its_students_are_signed_out_and_told_so(
    app_and_game: tuple[TestClient, int, str],
) -> None:
    client, gid, code = app_and_game
    link = rejoin_path(join(client, code, "Ann", "Echo"))
    with Session(client.app.state.engine) as s:  # type: ignore[attr-defined]
        live.set_status(s, games.get_game(s, gid), "ended")
    landing = told(client)
    assert landing.startswith("/join?signed_out=ended") and ENDED in landing
    other = TestClient(client.app)
    assert other.get(link).status_code == 404 and ENDED in html.unescape(other.get(link).text)


def test_the_rejoin_link_is_exchanged_for_a_fresh_cookie_token_and_signs_the_old_device_out(
    app_and_game: tuple[TestClient, int, str],
) -> None:
    client, _, code = app_and_game
    link = rejoin_path(join(client, code, "Ann", "Echo"))
    first = client.cookies[STUDENT_COOKIE]
    assert first not in link
    laptop = TestClient(client.app)
    opened = laptop.get(link)
    assert opened.url.path == "/play" and "<h1>Echo</h1>" in opened.text
    second = laptop.cookies[STUDENT_COOKIE]
    assert second not in link and second != first
    landing = told(client)
    assert landing.startswith("/join?signed_out=unknown") and "You were signed in on another device at" in landing
    assert TestClient(client.app).get(link).url.path == "/play"  # a bookmarked link keeps working


def test_a_pin_rejoin_gives_a_new_rejoin_link_and_voids_the_old_one(
    app_and_game: tuple[TestClient, int, str],
) -> None:
    client, _, code = app_and_game
    welcome = join(client, code, "Ann", "Echo")
    link = rejoin_path(welcome)
    pin = re.search(r"PIN <strong>(\d{6})</strong>", welcome)
    assert pin
    phone = TestClient(client.app)
    page = phone.get(f"/join/{code}").text
    back = phone.post(
        f"/join/{code}/pin", data={"display_name": "Ann", "pin": pin.group(1), **csrf(page)}
    )
    assert back.url.path == "/play"
    stale = TestClient(client.app).get(link)
    assert stale.status_code == 404 and "That rejoin link is not valid any more" in html.unescape(
        stale.text
    )


@pytest.mark.parametrize(
    "link", ["1.%C3%A9t%C3%A9", "99999999999999999999999.abc", "abc.def", "%C3%A9"]
)
def test_a_made_up_rejoin_link_is_refused_with_the_join_page(client: TestClient, link: str) -> None:
    refused = client.get(f"/rejoin/{link}")
    assert refused.status_code == 404 and "That rejoin link is not valid any more" in html.unescape(
        refused.text
    )


def test_a_link_from_before_links_were_derived_works_once(
    app_and_game: tuple[TestClient, int, str],
) -> None:
    client, _, code = app_and_game
    join(client, code, "Ann", "Echo")
    old_style = f"/rejoin/{client.cookies[STUDENT_COOKIE]}"  # such links showed the token itself
    laptop = TestClient(client.app)
    assert laptop.get(old_style).url.path == "/play"
    assert TestClient(client.app).get(old_style).status_code == 404


def test_an_expired_token_cannot_be_renewed_as_an_old_style_rejoin_link(
    app_and_game: tuple[TestClient, int, str],
) -> None:
    client, _, code = app_and_game
    join(client, code, "Ann", "Echo")
    age_token(client, "Ann", timedelta(days=TOKEN_DAYS, minutes=1))
    assert (
        TestClient(client.app).get(f"/rejoin/{client.cookies[STUDENT_COOKIE]}").status_code == 404
    )


def test_the_access_log_shows_rejoin_and_reset_links_redacted(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "12.sEcReT-rejoin-mac"
    with caplog.at_level(logging.INFO, logger=ACCESS_LOGGER):
        for path in (f"/rejoin/{secret}", f"/reset/{secret}?x=1", "/play"):
            logging.getLogger(ACCESS_LOGGER).info(
                '%s - "%s %s HTTP/%s" %d', "198.51.100.7:5000", "GET", path, "1.1", 303
            )
    lines = [r.getMessage() for r in caplog.records]
    assert lines == [
        '198.51.100.7:5000 - "GET /rejoin/[redacted] HTTP/1.1" 303',
        '198.51.100.7:5000 - "GET /reset/[redacted] HTTP/1.1" 303',
        '198.51.100.7:5000 - "GET /play HTTP/1.1" 303',
    ]
    assert secret not in caplog.text


def test_uvicorn_itself_logs_a_rejoin_link_redacted(live_server: str, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger=ACCESS_LOGGER):
        answer = httpx.get(f"{live_server}/rejoin/7.sEcReT-from-uvicorn")
    assert answer.status_code == 404
    assert "GET /rejoin/[redacted] HTTP/1.1" in caplog.text and "sEcReT" not in caplog.text
