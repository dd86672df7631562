"""No address and no form, however odd what is typed or tampered into it, gets a server error: every route is
walked with odd path values (a word, a negative, an id no table can hold) by a visitor, a student and an
instructor, mid-game, and the forms are posted with odd values."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlmodel import Session
from starlette.routing import BaseRoute, Route

from app.db import migrate
from app.services import rounds
from app.services.scenarios import load_shipped_scenarios
from app.settings import Settings
from app.web.main import create_app

from .signed_in import create_game, csrf_token_of, sign_up
from .test_play import join

HUGE = "9" * 23  # past any id a table can hold
ODD = ["0", "-1", "abc", HUGE, "%20"]
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


@pytest.fixture
def klass(empty_database_url: str) -> Iterator[Class]:
    migrate(empty_database_url)
    app = create_app(Settings(database_url=empty_database_url))
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
        yield Class(app, visitor, student, instructor, gid, found.group(1))


def routes(app: FastAPI) -> list[BaseRoute]:
    """Every route, with the included routers' routes flattened out."""
    return [r for top in app.routes for r in (top.original_router.routes if hasattr(top, "original_router") else [top])]


def addresses(route: APIRoute | Route, k: Class) -> list[str]:
    params = re.findall(r"{(\w+)(?::\w+)?}", route.path)
    real = {"game_id": str(k.game_id), "code": k.code, "rnd": "1"}
    choices = [[*ODD, *([real[p]] if p in real else [])] for p in params]
    out = []
    for values in itertools.product(*choices):
        path = route.path
        for param, value in zip(params, values, strict=True):
            path = re.sub("{" + param + r"(?::\w+)?}", value, path, count=1)
        out.append(path)
    return out


def test_no_route_answers_odd_values_with_a_server_error(klass: Class) -> None:
    errors, requests = [], 0
    for route in routes(klass.app):
        if not isinstance(route, (APIRoute, Route)) or route.path.startswith("/static"):
            continue
        people = {"visitor": klass.visitor, "student": klass.student, "instructor": klass.instructor}
        tokens = {who: csrf_token_of(client) for who, client in people.items()}
        for path, who, method in itertools.product(addresses(route, klass), people, sorted((route.methods or set()) - {"HEAD"})):
            client = people[who]
            token = tokens[who]
            if method == "GET":
                answer = client.get(path, follow_redirects=False)
            else:
                answer = client.request(method, path, data={**ODD_FORM, "csrf_token": token}, follow_redirects=False)
            requests += 1
            if answer.status_code >= 500:
                errors.append(f"{method} {path} as {who}: {answer.status_code}")
    assert requests > 1000, "the walk reached the routes"
    assert errors == []


def test_api_bodies_with_odd_values_get_a_clear_refusal_not_a_server_error(klass: Class) -> None:
    token = klass.student.post("/api/v1/join", json={"code": klass.code, "company": "Echo", "display_name": "Bo"}).json()["token"]
    bearer = {"Authorization": f"Bearer {token}"}
    saved = klass.student.put(f"/api/v1/games/{klass.game_id}/decision", headers=bearer, json={"version": 0, "decision": {}})
    assert saved.status_code == 200  # a draft exists, so an odd version reaches the version check
    for body in ({"version": int(HUGE), "decision": {}}, {"version": -1, "decision": {}}, {"version": 0, "round": int(HUGE), "decision": {}},
                 {"version": "abc", "decision": {}}, {"decision": {"products": {"prices": {"consumer": -1}}}, "version": 0}):
        answer = klass.student.put(f"/api/v1/games/{klass.game_id}/decision", headers=bearer, json=body)
        assert 400 <= answer.status_code < 500 and answer.json()["detail"], body
