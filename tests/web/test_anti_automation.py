"""Guessing secrets through the web: PIN limits, answers that tell no one which names or emails
exist, client addresses behind proxies, PIN resets, and a student told their session was taken."""

from __future__ import annotations

import html
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from app import clock
from app.services import students
from app.settings import Settings
from app.web.deps import STUDENT_COOKIE
from app.web.main import create_app
from tests.classroom import TWO_TEAMS, a_game

from .signed_in import create_game, csrf_of, post_form, sign_up
from .test_server import wait_for_health

PROXY = "10.0.0.2"
CSRF_VALUE = re.compile(r'name="csrf_token" value="[^"]+"')


@pytest.fixture
def frozen(monkeypatch: pytest.MonkeyPatch) -> datetime:
    """The limiter's clock stands still, so a wait never runs out while a test is slow."""
    moment = clock.now()
    monkeypatch.setattr(clock, "now", lambda: moment)
    return moment


@pytest.fixture
def classroom(prepared_sqlite_url: str) -> Iterator[tuple[TestClient, str]]:
    """A client of an app whose only trusted proxy is PROXY; the code of a game with two teams."""
    app = create_app(Settings(database_url=prepared_sqlite_url, trusted_proxies=PROXY))
    with Session(app.state.engine) as s:
        code = a_game(s, name="Strategy 501", seats=TWO_TEAMS, seed=3, team_size_max=5).join_code
    with TestClient(app) as client:
        yield client, code


def device(client: TestClient, address: str = "198.51.100.1") -> TestClient:
    """Another browser of the same app, connecting from `address`."""
    return TestClient(client.app, client=(address, 50000))


def joined(client: TestClient, code: str, name: str) -> str:
    """Join the first team as `name`; the dashboard's text."""
    page = client.get(f"/join/{code}").text
    seat = re.search(r'name="seat_id" value="(\d+)"', page)
    assert seat, page
    answer = client.post(
        f"/join/{code}",
        data={"display_name": name, "seat_id": seat.group(1), "csrf_token": csrf_of(page)},
    )
    assert answer.status_code == 200 and answer.url.path == "/play", answer.text
    return html.unescape(answer.text)


def pin_of(dashboard: str) -> str:
    found = re.search(r"PIN <strong>(\d{6})</strong>", dashboard)
    assert found, dashboard
    return found.group(1)


def wrong(pin: str) -> str:
    return "111111" if pin != "111111" else "222222"


def guess(client: TestClient, code: str, name: str, pin: str, **headers: str) -> tuple[int, str]:
    page = client.get(f"/join/{code}").text
    answer = client.post(
        f"/join/{code}/pin",
        data={"display_name": name, "pin": pin, "csrf_token": csrf_of(page)},
        headers=headers,
        follow_redirects=False,
    )
    return answer.status_code, html.unescape(answer.text)


# --- PIN guesses ----------------------------------------------------------------------------------


def test_the_sixth_wrong_pin_for_a_student_is_refused_at_the_field_with_the_wait(
    classroom: tuple[TestClient, str], frozen: datetime, monkeypatch: pytest.MonkeyPatch
) -> None:
    client, code = classroom
    pin = pin_of(joined(client, code, "Quentin"))
    phone = device(client)
    for _ in range(students.PIN_BY_NAME.free):
        assert guess(phone, code, "Quentin", wrong(pin))[0] == 422
    page = phone.get(f"/join/{code}").text
    refused = phone.post(
        f"/join/{code}/pin",
        data={"display_name": "Quentin", "pin": pin, "csrf_token": csrf_of(page)},
    )
    assert refused.status_code == 429 and refused.headers["retry-after"] == "2"
    assert '<p class="error" id="pin-error">Too many tries; wait 2 seconds.</p>' in refused.text
    monkeypatch.setattr(clock, "now", lambda: frozen + timedelta(seconds=2))
    assert guess(phone, code, "Quentin", pin)[0] == 303


def test_one_students_wrong_pins_do_not_slow_a_classmate_down(
    classroom: tuple[TestClient, str], frozen: datetime
) -> None:
    client, code = classroom
    joined(client, code, "Quentin")
    bea = TestClient(client.app)
    pin = pin_of(joined(bea, code, "Bea"))
    for n in range(students.PIN_BY_NAME.free + 1):
        guess(device(client, f"198.51.100.{n}"), code, "Quentin", "000000")
    assert guess(device(client, "203.0.113.5"), code, "Bea", pin)[0] == 303


def test_one_address_guessing_many_names_is_slowed_after_ten_wrong_pins(
    classroom: tuple[TestClient, str], frozen: datetime
) -> None:
    client, code = classroom
    pin = pin_of(joined(client, code, "Quentin"))
    attacker = device(client, "198.51.100.66")
    for n in range(students.PIN_BY_ADDRESS.free):
        assert guess(attacker, code, f"Name {n}", "000000")[0] == 422
    assert guess(attacker, code, "Quentin", pin)[0] == 429
    assert guess(device(client, "203.0.113.5"), code, "Quentin", pin)[0] == 303


def test_a_whole_game_is_slowed_after_twenty_wrong_pins_from_anywhere(
    classroom: tuple[TestClient, str], frozen: datetime
) -> None:
    client, code = classroom
    pin = pin_of(joined(client, code, "Quentin"))
    for n in range(students.PIN_BY_GAME.free):
        assert guess(device(client, f"198.51.100.{n}"), code, f"Name {n}", "000000")[0] == 422
    assert guess(device(client, "203.0.113.5"), code, "Quentin", pin)[0] == 429


def test_an_address_trying_many_join_codes_is_slowed_while_others_are_not(
    classroom: tuple[TestClient, str], frozen: datetime
) -> None:
    client, code = classroom
    guesser = device(client, "198.51.100.66")
    for n in range(students.CODE_BY_ADDRESS.free):
        assert guesser.get(f"/join/ZZZ{n:03d}").status_code == 404
    refused = guesser.get(f"/join/{code}")
    assert refused.status_code == 429 and refused.headers["retry-after"] == "1"
    assert 'id="code-error">Too many tries; wait 1 second.</p>' in refused.text
    assert device(client, "203.0.113.5").get(f"/join/{code}").status_code == 200


def test_join_codes_guessed_through_the_api_are_slowed_like_the_page(
    classroom: tuple[TestClient, str], frozen: datetime
) -> None:
    client, code = classroom
    guesser = device(client, "198.51.100.67")
    body = {"company": "Echo", "display_name": "Zed"}
    for n in range(students.CODE_BY_ADDRESS.free):
        assert guesser.post("/api/v1/join", json={**body, "code": f"ZZZ{n:03d}"}).status_code == 404
    refused = guesser.post("/api/v1/join", json={**body, "code": code})
    assert refused.status_code == 429 and refused.headers["retry-after"] == "1"
    assert "Too many tries" in refused.json()["problems"]["code"]


# --- answers that reveal nothing ------------------------------------------------------------------


def test_a_wrong_pin_gets_the_same_page_whether_or_not_the_name_plays(
    classroom: tuple[TestClient, str],
) -> None:
    client, code = classroom
    joined(client, code, "Quentin")
    phone = device(client)
    status_taken, taken = guess(phone, code, "Quentin", "000000")
    status_free, free = guess(phone, code, "Zebedee", "000000")
    assert status_taken == status_free == 422
    assert taken.replace("Quentin", "NAME") == free.replace("Zebedee", "NAME")


def test_joining_with_a_taken_name_gets_the_same_answer_and_a_numbered_name(
    classroom: tuple[TestClient, str],
) -> None:
    client, code = classroom
    joined(client, code, "Quentin")
    answers = []
    for name in ("quentin", "Zebedee"):
        newcomer = device(client)
        page = newcomer.get(f"/join/{code}").text
        seat = re.search(r'name="seat_id" value="(\d+)"', page).group(1)  # type: ignore[union-attr]
        answers.append(
            newcomer.post(
                f"/join/{code}",
                data={"display_name": name, "seat_id": seat, "csrf_token": csrf_of(page)},
                follow_redirects=False,
            )
        )
        if name == "quentin":
            assert "<strong>quentin 2</strong>" in newcomer.get("/play?welcome=1").text
    first, second = answers
    assert first.status_code == second.status_code == 303 and first.content == second.content
    assert first.headers["location"] == second.headers["location"]
    assert [k for k in first.headers if k != "set-cookie"] == [
        k for k in second.headers if k != "set-cookie"
    ]


def test_signing_up_with_a_taken_email_gets_the_same_page_as_a_new_one(client: TestClient) -> None:
    sign_up(client, email="taken@example.edu")
    client.cookies.clear()
    pages = [
        post_form(
            client,
            "/signup",
            {"email": email, "display_name": "Someone", "password": "a new long passphrase"},
        )
        for email in ("taken@example.edu", "fresh@example.edu")
    ]
    assert pages[0].status_code == pages[1].status_code == 200
    assert CSRF_VALUE.sub("", pages[0].text).replace("taken", "EMAIL") == CSRF_VALUE.sub(
        "", pages[1].text
    ).replace("fresh", "EMAIL")
    assert "moatline_session" not in client.cookies


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("          ", "Use at least 12 characters (you typed 10)."),
        ("aaaaaaaaaaaa", "Use more than one character over and over"),
        ("qwerty123456", "That is one of the most common passwords"),
        ("ada@example.edu", "Do not use your email address as your password."),
    ],
)
def test_each_weak_password_is_refused_at_the_password_field(
    client: TestClient, password: str, problem: str
) -> None:
    page = post_form(
        client, "/signup", {"email": "ada@example.edu", "display_name": "Ada", "password": password}
    )
    assert page.status_code == 422
    found = re.search(
        r'<p class="field__error" id="f-password-error">([^<]*)</p>', html.unescape(page.text)
    )
    assert found and found.group(1).startswith(problem)


def test_sign_ups_from_one_address_are_refused_with_a_wait_after_ten(
    client: TestClient, frozen: datetime
) -> None:
    for n in range(10):
        post_form(
            client,
            "/signup",
            {
                "email": f"user{n}@example.edu",
                "display_name": "U",
                "password": "a new long passphrase",
            },
        )
    refused = post_form(
        client,
        "/signup",
        {"email": "one.more@example.edu", "display_name": "U", "password": "a new long passphrase"},
    )
    assert refused.status_code == 429 and refused.headers["retry-after"] == "30"
    assert "wait 30 seconds" in refused.text


# --- addresses behind proxies ---------------------------------------------------------------------


def test_a_forged_forwarded_for_does_not_escape_the_address_limit(
    classroom: tuple[TestClient, str], frozen: datetime
) -> None:
    client, code = classroom
    attacker = device(client, "198.51.100.66")
    for n in range(students.PIN_BY_ADDRESS.free):
        guess(attacker, code, f"Name {n}", "000000", **{"X-Forwarded-For": f"203.0.113.{n}"})
    assert (
        guess(attacker, code, "Someone", "000000", **{"X-Forwarded-For": "203.0.113.99"})[0] == 429
    )


def test_behind_a_trusted_proxy_each_forwarded_address_counts_apart_and_typed_entries_are_ignored(
    classroom: tuple[TestClient, str], frozen: datetime
) -> None:
    client, code = classroom
    proxy = device(client, PROXY)
    for n in range(students.PIN_BY_ADDRESS.free):
        guess(
            proxy, code, f"Name {n}", "000000", **{"X-Forwarded-For": f"1.2.3.{n}, 198.51.100.66"}
        )
    assert guess(proxy, code, "Someone", "000000", **{"X-Forwarded-For": "198.51.100.66"})[0] == 429
    assert guess(proxy, code, "Someone", "000000", **{"X-Forwarded-For": "198.51.100.67"})[0] == 422


@pytest.fixture
def served_locally(tmp_path: Path, unused_tcp_port: int) -> Iterator[str]:
    """`moatline serve` in a child process on 127.0.0.1 (where uvicorn believed X-Forwarded-For)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "MOATLINE_"))}
    code = f"from app.web.server import serve; serve(port={unused_tcp_port})"
    process = subprocess.Popen(
        [sys.executable, "-c", code], cwd=tmp_path, env=env, stdout=subprocess.DEVNULL
    )
    try:
        url = f"http://127.0.0.1:{unused_tcp_port}"
        wait_for_health(url + "/healthz")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_moatline_serve_does_not_take_a_local_clients_forwarded_for_as_its_address(
    served_locally: str,
) -> None:
    answers = []
    for n in range(students.CODE_BY_ADDRESS.free + 10):  # the waits double: one comes at once
        headers = {"X-Forwarded-For": f"203.0.113.{n}"}
        answers.append(httpx.get(f"{served_locally}/join/ZZZ{n:03d}", headers=headers).status_code)
        if answers[-1] == 429:
            break
    assert answers[: students.CODE_BY_ADDRESS.free] == [404] * students.CODE_BY_ADDRESS.free
    assert answers[-1] == 429


def test_a_trusted_proxies_setting_that_is_not_addresses_is_refused_at_start() -> None:
    with pytest.raises(ValueError, match="MOATLINE_TRUSTED_PROXIES"):
        Settings(trusted_proxies="10.0.0.1, proxy.example")


# --- sessions taken over, PINs reset --------------------------------------------------------------


def test_a_student_whose_session_was_taken_by_a_pin_rejoin_is_told_on_their_next_visit(
    classroom: tuple[TestClient, str],
) -> None:
    laptop, code = classroom
    pin = pin_of(joined(laptop, code, "Quentin"))
    assert guess(device(laptop), code, "Quentin", pin)[0] == 303
    page = html.unescape(laptop.get("/play").text)
    assert (
        "You were signed in on another device at" in page
        and "If that wasn't you, tell your instructor." in page
    )
    assert 'id="rejoin_name" name="display_name" value="Quentin"' in page


def test_the_instructor_resets_a_pin_after_confirming_and_sees_it_once(client: TestClient) -> None:
    sign_up(client)
    game_id = create_game(client)
    console = client.get(f"/games/{game_id}").text
    code = re.search(r"/join/([A-Z0-9]{6})", console).group(1)  # type: ignore[union-attr]
    laptop = TestClient(client.app)
    old_pin = pin_of(joined(laptop, code, "Quentin"))
    console = client.get(f"/games/{game_id}").text
    found = re.search(r'name="student_id" value="(\d+)"', console)
    assert found
    student_id = found.group(1)
    asked = post_form(
        client,
        f"/games/{game_id}/students",
        {"action": "reset_pin", "student_id": student_id},
        from_page=f"/games/{game_id}",
    )
    assert "Reset Quentin's PIN? Every device signed in as Quentin is signed out" in html.unescape(
        asked.text
    )
    assert pin_of(laptop.get("/play?welcome=1").text) == old_pin  # nothing changed yet
    done = html.unescape(
        post_form(
            client,
            f"/games/{game_id}/students",
            {"action": "reset_pin", "student_id": student_id, "sure": "yes"},
            from_page=f"/games/{game_id}",
        ).text
    )
    shown = re.search(r"Quentin's new PIN is <strong>(\d{6})</strong>", done)
    assert shown
    new_pin = shown.group(1)
    assert new_pin not in html.unescape(
        client.get(f"/games/{game_id}").text
    )  # shown only this once
    told = html.unescape(laptop.get("/play").text)
    assert "Your instructor reset your PIN at" in told
    phone = device(client)
    if old_pin != new_pin:  # one reset in a million draws the same PIN again
        assert guess(phone, code, "Quentin", old_pin)[0] == 422
    assert guess(phone, code, "Quentin", new_pin)[0] == 303


# --- names ----------------------------------------------------------------------------------------


def test_names_differing_only_in_case_or_unicode_form_are_one_name(
    classroom: tuple[TestClient, str],
) -> None:
    client, code = classroom
    pin = pin_of(joined(client, code, "ÉLODIE"))
    assert "<strong>élodie 2</strong>" in joined(device(client), code, "élodie")
    joined(device(client, "198.51.100.2"), code, "Ann")
    assert "<strong>ANN 2</strong>" in joined(
        device(client, "198.51.100.3"), code, "ＡＮＮ"
    )  # full-width letters
    assert guess(device(client, "198.51.100.4"), code, "élodie", pin)[0] == 303


def test_a_name_with_an_invisible_character_is_refused_at_its_field(
    classroom: tuple[TestClient, str],
) -> None:
    client, code = classroom
    page = client.get(f"/join/{code}").text
    seat = re.search(r'name="seat_id" value="(\d+)"', page).group(1)  # type: ignore[union-attr]
    answer = client.post(
        f"/join/{code}",
        data={"display_name": "ÉLODIE\u200b", "seat_id": seat, "csrf_token": csrf_of(page)},
    )
    assert answer.status_code == 422
    assert (
        'id="display_name-error">Use only letters, digits, spaces and punctuation'
        in html.unescape(answer.text)
    )
    assert client.cookies.get(STUDENT_COOKIE) is None
