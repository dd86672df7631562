"""No address and no form, however odd what is typed or tampered into it, gets a server error: every route is
walked with odd path values (a word, a negative, ids and rounds no table can hold, a NUL byte) by a visitor, a
student and an instructor (on the API with their bearer tokens), mid-game, and the forms are posted with odd
values, NUL bytes (which PostgreSQL cannot store) and malformed bodies."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import PlainTextResponse
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlmodel import Session
from starlette.routing import BaseRoute, Route
from starlette.types import Message, Receive, Scope, Send

from app.db import migrate
from app.services import rounds
from app.services.scenarios import load_shipped_scenarios
from app.settings import Settings
from app.web.inputs import InputGuard
from app.web.main import create_app
from tests.aio import run_apart

from .signed_in import PASSWORD, create_game, csrf_token_of, sign_up
from .test_play import join

HUGE = "9" * 23  # past any id a table can hold
PAST_INT64 = str(2**63)  # one past the largest SQLite integer (the report overflow of the security probe)
PAST_INT32 = str(2**31)  # one past the largest PostgreSQL INTEGER (every id column)
ODD = ["0", "-1", "abc", HUGE, PAST_INT64, "%20", "A%00B"]
ODD_FORM = {"action": "move", "student_id": HUGE, "seat_id": HUGE, "event": "abc", "minutes": HUGE, "version": HUGE,
            "overwrite_version": HUGE, "round": HUGE, "submitted": "x", "expected_round": HUGE, "display_name": " ",
            "pin": HUGE, "products.prices.consumer": "inf"}


@dataclass
class Class:
    app: FastAPI
    visitor: TestClient
    student: TestClient
    instructor: TestClient
    game_id: int
    code: str
    bearer: dict[str, dict[str, str]]  # the Authorization header of each person on the API


@pytest.fixture
def klass(empty_database_url: str) -> Iterator[Class]:
    with class_over(empty_database_url) as k:
        yield k


@contextmanager
def class_over(database_url: str) -> Iterator[Class]:
    """A game in its first real round on a new database: an instructor, a student on a team, a visitor."""
    migrate(database_url)
    app = create_app(Settings(database_url=database_url))
    with Session(app.state.engine) as s:
        load_shipped_scenarios(s)
    clients = [TestClient(app, raise_server_exceptions=False) for _ in range(3)]
    with clients[0] as visitor, clients[1] as student, clients[2] as instructor:
        sign_up(instructor)
        gid = create_game(instructor)
        found = re.search(r"/join/([A-Z2-9]{6})", instructor.get(f"/games/{gid}").text)
        assert found
        join(student, found.group(1), "Ann", "Echo")
        with Session(app.state.engine) as s:
            rounds.advance(s, gid, 0)
        visitor.get("/")
        teacher = instructor.post("/api/v1/token", json={"email": "ada@example.edu", "password": PASSWORD}).json()["token"]
        pupil = visitor.post("/api/v1/join", json={"code": found.group(1), "company": "Echo", "display_name": "Bo"}).json()["token"]
        bearer = {"visitor": {}, "student": {"Authorization": f"Bearer {pupil}"}, "instructor": {"Authorization": f"Bearer {teacher}"}}
        yield Class(app, visitor, student, instructor, gid, found.group(1), bearer)


def routes(app: FastAPI) -> list[BaseRoute]:
    """Every route, with the included routers' routes flattened out."""
    return [r for top in app.routes for r in (top.original_router.routes if hasattr(top, "original_router") else [top])]


def addresses(route: APIRoute | Route, k: Class, odd: list[str] = ODD) -> list[str]:
    params = re.findall(r"{(\w+)(?::\w+)?}", route.path)
    real = {"game_id": str(k.game_id), "code": k.code, "rnd": "1"}
    choices = [[*odd, *([real[p]] if p in real else [])] for p in params]
    out = []
    for values in itertools.product(*choices):
        path = route.path
        for param, value in zip(params, values, strict=True):
            path = re.sub("{" + param + r"(?::\w+)?}", value, path, count=1)
        out.append(path)
    return out


def walk(k: Class, odd: list[str] = ODD, form: dict[str, str] = ODD_FORM) -> tuple[int, list[str]]:
    """Every route with odd path values, by each person (bearer token on the API); the requests made and the
    ones that got a server error."""
    errors, requests = [], 0
    people = {"visitor": k.visitor, "student": k.student, "instructor": k.instructor}
    tokens = {who: csrf_token_of(client) for who, client in people.items()}  # bound to each one's session
    for route in sorted(routes(k.app), key=lambda r: getattr(r, "name", "") == "signout"):  # signed in to the end
        if not isinstance(route, (APIRoute, Route)) or route.path.startswith("/static"):
            continue
        for path, who, method in itertools.product(addresses(route, k, odd), people, sorted((route.methods or set()) - {"HEAD"})):
            client, headers = people[who], k.bearer[who] if path.startswith("/api/") else {}
            token = tokens[who]
            if method == "GET":
                answer = client.get(path, headers=headers, follow_redirects=False)
            else:
                answer = client.request(method, path, headers=headers, data={**form, "csrf_token": token}, follow_redirects=False)
            requests += 1
            if answer.status_code >= 500:
                errors.append(f"{method} {path} as {who}: {answer.status_code}")
    return requests, errors


def test_no_route_answers_odd_values_with_a_server_error(klass: Class) -> None:
    requests, errors = walk(klass)
    assert requests > 1000, "the walk reached the routes"
    assert errors == []


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def int32_database_url(request: pytest.FixtureRequest) -> str:
    return str(request.getfixturevalue(f"empty_{request.param}_url"))


def test_no_route_answers_an_id_past_a_postgresql_integer_with_a_server_error(int32_database_url: str) -> None:
    with class_over(int32_database_url) as k:
        requests, errors = walk(k, [PAST_INT32, str(2**63 - 1)], {k: PAST_INT32 if v == HUGE else v for k, v in ODD_FORM.items()})
    assert requests > 100, "the walk reached the routes"
    assert errors == []


def test_api_bodies_with_odd_values_get_a_clear_refusal_not_a_server_error(klass: Class) -> None:
    bearer = klass.bearer["student"]
    saved = klass.student.put(f"/api/v1/games/{klass.game_id}/decision", headers=bearer, json={"version": 0, "decision": {}})
    assert saved.status_code == 200  # a draft exists, so an odd version reaches the version check
    for body in ({"version": int(HUGE), "decision": {}}, {"version": -1, "decision": {}}, {"version": 0, "round": int(HUGE), "decision": {}},
                 {"version": "abc", "decision": {}}, {"decision": {"products": {"prices": {"consumer": -1}}}, "version": 0}):
        answer = klass.student.put(f"/api/v1/games/{klass.game_id}/decision", headers=bearer, json=body)
        assert 400 <= answer.status_code < 500 and answer.json()["detail"], body


NUL = "A\x00B"


def test_a_nul_byte_in_an_api_body_is_refused_at_its_field(klass: Class) -> None:
    """PostgreSQL cannot store NUL (psycopg.DataError): the API refuses it where it was typed (422)."""
    for path, body, field in [
        ("/api/v1/join", {"code": NUL, "company": "Echo", "display_name": "Cy"}, "code"),
        ("/api/v1/join", {"code": klass.code, "company": "Echo", "display_name": NUL}, "display_name"),
        ("/api/v1/join", {"code": klass.code, "company": NUL, "display_name": "Cy"}, "company"),
        ("/api/v1/token", {"email": f"{NUL}@example.edu", "password": PASSWORD}, "email"),
        (f"/api/v1/games/{klass.game_id}/advance", {"expected_round": 1, "absent_rule": NUL}, "absent_rule"),
    ]:
        answer = klass.visitor.post(path, json=body, headers=klass.bearer["instructor"])
        assert answer.status_code == 422, (path, body, answer.text)
        assert [e["loc"][-1] for e in answer.json()["detail"]] == [field]
        assert "control character U+0000" in answer.text


def test_a_nul_byte_in_an_address_or_a_form_field_is_a_clear_400(klass: Class) -> None:
    form = {"csrf_token": csrf_token_of(klass.visitor)}
    asked = [klass.visitor.get("/join", params={"code": NUL}), klass.visitor.get("/join/A%00B"),
             klass.visitor.get("/join/A%01B"), klass.visitor.get("/rejoin/A%00B"),
             klass.visitor.get("/signin", params={"next": "/games\r\n"}), klass.visitor.get("/scenarios/a%00b"),
             klass.student.get(f"/api/v1/games/{klass.game_id}%00", headers=klass.bearer["student"])]
    posted = [klass.visitor.post("/signup", data={**form, "email": f"{NUL}@example.edu", "display_name": "N", "password": PASSWORD}),
              klass.visitor.post("/signin", data={**form, "email": f"{NUL}@example.edu", "password": PASSWORD}),
              klass.visitor.post(f"/join/{klass.code}", data={**form, "display_name": NUL, "seat_id": "1"}),
              klass.visitor.post(f"/join/{klass.code}/pin", data={**form, "display_name": NUL, "pin": "1234"}),
              klass.visitor.post("/join/A%00B/pin", data={**form, "display_name": "Ann", "pin": "1234"}),
              klass.visitor.post("/signin", data={**form, "email": f"{NUL}@example.edu", "password": "x"}, files={"f": ("a", b"")}),
              klass.visitor.post("/signin", data={"email": f"{NUL}@example.edu", "password": "x"}, files={"f": ("a", b"")},
                                 headers={"X-CSRF-Token": form["csrf_token"]}),
              klass.visitor.post("/signin", data={**form, "filename": NUL}, files={"f": ("a", b"")})]  # a field, not a file
    for answer in asked + posted:
        assert answer.status_code == 400, (answer.request.method, answer.request.url, answer.text)
        assert "control character" in answer.json()["detail"] or "NUL" in answer.json()["detail"]


def test_a_nul_byte_in_an_uploaded_file_is_left_to_the_route(klass: Class) -> None:
    """Files may hold any bytes: only form fields are checked."""
    form = {"csrf_token": csrf_token_of(klass.visitor), "email": "cy@example.edu", "display_name": "Cy",
            "password": PASSWORD}
    answer = klass.visitor.post("/signup", data=form, files={"photo": ("cy.png", b"\x89PNG\x00\x00")}, follow_redirects=False)
    assert answer.status_code == 200 and "Your account is ready" in answer.text  # the route's own answer


BOUNDARY = "moatline-test-boundary"


def _multipart(*parts: str) -> bytes:
    return "".join(f"--{BOUNDARY}\r\n{part}\r\n" for part in parts).encode() + f"--{BOUNDARY}--\r\n".encode()


def _field(name: str, value: str) -> str:
    return f'Content-Disposition: form-data; name="{name}"\r\n\r\n{value}'


MALFORMED_BODIES = {  # the security probe's finding 16: each was a 500 from the CSRF middleware
    "multipart without a boundary": ("multipart/form-data", b"email=a"),
    "a boundary that never appears": (f"multipart/form-data; boundary={BOUNDARY}", b"--another\r\n\r\nx\r\n--another--\r\n"),
    "a part without Content-Disposition": (f"multipart/form-data; boundary={BOUNDARY}",
                                           _multipart("Content-Type: text/plain\r\n\r\nhello")),
    "1,001 multipart fields": (f"multipart/form-data; boundary={BOUNDARY}", _multipart(*(_field(f"f{i}", "x") for i in range(1001)))),
    "1,001 files": (f"multipart/form-data; boundary={BOUNDARY}",
                    _multipart(*(f'Content-Disposition: form-data; name="f{i}"; filename="f{i}.txt"\r\n\r\nx' for i in range(1001)))),
    "a 2 MB urlencoded field": ("application/x-www-form-urlencoded", b"email=" + b"a" * (2 * 1024 * 1024)),
    "2,000 urlencoded fields": ("application/x-www-form-urlencoded", "&".join(f"f{i}=x" for i in range(2000)).encode()),
}


def _post_raw(client: TestClient, kind: str, body: bytes, headers: dict[str, str] | None = None) -> int:
    return client.post("/signin", content=body, headers={"Content-Type": kind, **(headers or {})}).status_code


@pytest.mark.parametrize("name", list(MALFORMED_BODIES))
def test_a_malformed_form_body_with_the_csrf_header_is_a_400_from_the_route(client: TestClient, name: str) -> None:
    client.get("/signin")
    token = csrf_token_of(client)
    assert _post_raw(client, *MALFORMED_BODIES[name], headers={"X-CSRF-Token": token}) in {400, 413}


@pytest.mark.parametrize("name", list(MALFORMED_BODIES))
def test_a_malformed_form_body_read_by_the_csrf_check_is_a_400_not_a_server_error(name: str, prepared_sqlite_url: str) -> None:
    with TestClient(create_app(Settings(database_url=prepared_sqlite_url)), raise_server_exceptions=False) as client:
        client.get("/signin")  # a CSRF cookie, but no token in the request: the middleware reads the body for it
        assert _post_raw(client, *MALFORMED_BODIES[name]) in {400, 413}


@pytest.mark.parametrize("kind, chunks", [
    ("application/x-www-form-urlencoded", [b"name=A%0", b"0B&x=1"]),
    (f"multipart/form-data; boundary={BOUNDARY}", [_multipart(_field("name", NUL))[:60], _multipart(_field("name", NUL))[60:]]),
])
def test_a_nul_split_across_body_chunks_is_still_found(kind: str, chunks: list[bytes]) -> None:
    """The guard reads the body as it streams, chunk by chunk, without keeping it."""
    async def form_reader(scope: Scope, receive: Receive, send: Send) -> None:
        await Request(scope, receive).form()
        await PlainTextResponse("read")(scope, receive, send)

    messages: list[Message] = [{"type": "http.request", "body": c, "more_body": i < len(chunks) - 1} for i, c in enumerate(chunks)]
    sent: list[Message] = []

    async def receive() -> Message:
        return messages.pop(0)

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/signin", "query_string": b"", "headers": [(b"content-type", kind.encode())]}
    run_apart(InputGuard(form_reader)(scope, receive, send))
    assert sent[0]["status"] == 400 and b"NUL" in sent[1]["body"]
