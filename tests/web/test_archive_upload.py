"""Every malformed game archive uploaded to `POST /games/import` gets a clear 422 message saying
where the problem is, and leaves the instructor's games as they were (on SQLite and on
PostgreSQL)."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.db import migrate
from app.engine.decisions import Decision, ProductDecision
from app.models import Seat
from app.services import drafts, exports, games, rounds
from app.services.scenarios import load_shipped_scenarios
from app.settings import Settings
from app.web.main import create_app
from tests.conftest import sqlite_url, throwaway_postgres_database
from tests.scenario.test_yaml_limits import alias_bomb

from .signed_in import create_game, csrf_of, sign_up, text_of

Archive = dict[str, Any]


@dataclass
class Importer:
    client: TestClient
    instructor_id: int
    archive: Archive  # a sound archive of a 2-round game with Aurora AI and Echo played by teams

    def game_count(self) -> int:
        with Session(self.client.app.state.engine) as s:  # type: ignore[attr-defined]
            return len(games.games_of(s, self.instructor_id))

    def upload(self, body: bytes) -> tuple[int, str]:
        token = csrf_of(self.client.get("/games").text)
        answer = self.client.post(
            "/games/import",
            data={"csrf_token": token},
            files={"archive": ("g.json", body, "application/json")},
        )
        return answer.status_code, text_of(answer.text)


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """One database of each kind for the whole module (its tests only ever add to it)."""
    if request.param == "sqlite":
        yield sqlite_url(tmp_path_factory.mktemp("archives"))
        return
    with throwaway_postgres_database(str(request.getfixturevalue("postgres_url"))) as url:
        yield url


@pytest.fixture(scope="module")
def importer(database_url: str) -> Iterator[Importer]:
    migrate(database_url)
    app = create_app(Settings(database_url=database_url))
    with Session(app.state.engine) as s:
        load_shipped_scenarios(s)
    with TestClient(app) as client:
        sign_up(client)
        gid = create_game(client)
        with Session(app.state.engine) as s:
            aurora = s.get(Seat, 1)
            assert aurora is not None and aurora.company_name == "Aurora AI"
            for rnd in range(2):
                game = games.get_game(s, gid)
                cheaper = Decision(products=ProductDecision(prices={"consumer": 3.0 + rnd}))
                drafts.save_draft(s, game, aurora, cheaper, 0, "Ann")
                drafts.set_submitted(s, game, aurora, True)
                rounds.advance(s, gid, rnd)
            game = games.get_game(s, gid)
            archive = json.loads(exports.archive(s, game))
            yield Importer(client, game.instructor_id, archive)


def changed(importer: Importer, change: Callable[[Archive], object]) -> bytes:
    archive = copy.deepcopy(importer.archive)
    change(archive)
    return json.dumps(archive).encode()


def refused(importer: Importer, body: bytes) -> str:
    """The page's message for an archive that must be refused; asserts no game was made."""
    before = importer.game_count()
    status, page = importer.upload(body)
    assert status == 422, page
    assert importer.game_count() == before
    found = re.search(r'id="archive-problem">(.*?)</p>', page, re.S)
    assert found, page
    message = found.group(1)
    assert "Nothing was imported." in message or "not a Moatline game archive" in message
    return message


def inputs(n: int = 0) -> Callable[[Archive], dict[str, Any]]:
    return lambda a: a["played"][n]["inputs"]


def _set(getter: Callable[[Archive], Any], key: Any, value: object) -> Callable[[Archive], None]:
    return lambda a: getter(a).__setitem__(key, value)


def _delete(key: str) -> Callable[[Archive], None]:
    return lambda a: a.pop(key)


def _aurora(a: Archive) -> dict[str, Any]:
    decision: dict[str, Any] = a["played"][0]["inputs"]["decisions"]["Aurora AI"]
    return decision


def _whole(a: Archive) -> Archive:
    return a


def _scenario(change: Callable[[Any], None]) -> Callable[[Archive], None]:
    def apply(a: Archive) -> None:
        data = yaml.safe_load(a["scenario_text"])
        change(data)
        a["scenario_text"] = yaml.safe_dump(data)

    return apply


CASES: dict[str, tuple[Callable[[Archive], object], str]] = {
    **{
        f"missing {key}": (_delete(key), f"the archive lacks {key}")
        for key in (
            "practice_round",
            "advance_mode",
            "scoring",
            "absent_rule",
            "team_size_max",
            "round_minutes",
            "scenario_id",
        )
    },
    "invalid YAML": (
        _set(_whole, "scenario_text", "id: [unclosed"),
        "scenario_text: line 1, (top level): not valid YAML",
    ),
    "an invalid scenario": (
        _scenario(lambda d: d.pop("companies")),
        "scenario_text: line 1, companies: is required but missing",
    ),
    "a name that is a number": (
        _set(_whole, "name", 5),
        "name: input should be a valid string, got 5",
    ),
    "seats that are a word": (
        _set(_whole, "seats", "x"),
        "seats: input should be a valid list, got 'x'",
    ),
    "a seed that is a word": (
        _set(_whole, "seed", "abc"),
        "seed: input should be a valid integer, got 'abc'",
    ),
    "a round without inputs": (
        _set(_whole, "played", [{"round": 1}]),
        "played[0].inputs: is required but missing",
    ),
    "an injected event past the catalogue": (
        _set(inputs(), "injected", [9999]),
        "played[0].inputs.injected[0]: the scenario's catalogue has no event 9999",
    ),
    "a negative injected event": (
        _set(inputs(), "injected", [-1]),
        "played[0].inputs.injected[0]: the scenario's catalogue has no event -1",
    ),
    "an unknown stand-in persona": (
        _set(inputs(), "stand_ins", {"Echo": "nobody"}),
        "played[0].inputs.stand_ins.Echo: there is no persona 'nobody'",
    ),
    "a stand-in for a company no team plays": (
        _set(inputs(), "stand_ins", {"Beacon Labs": "incumbent"}),
        "played[0].inputs.stand_ins.Beacon Labs: no team plays Beacon Labs",
    ),
    "more rounds played than the game has": (
        _set(_whole, "rounds", 1),
        "played: 2 rounds were played but the game has 1",
    ),
    "a gap in the rounds": (
        lambda a: a.update(played=a["played"][1:]),
        "played[0].round: rounds are listed in order from 1, so this one is 1, not 2",
    ),
    "a decision for a company that does not exist": (
        lambda a: inputs()(a)["decisions"].update({"Nobody Inc": {}}),
        "played[0].inputs.decisions.Nobody Inc: no team plays Nobody Inc",
    ),
    "a decision for a company a persona plays": (
        lambda a: inputs()(a)["decisions"].update({"Beacon Labs": {}}),
        "played[0].inputs.decisions.Beacon Labs: no team plays Beacon Labs",
    ),
    "a decision with an unknown field": (
        lambda a: _aurora(a)["products"].update(colour="red"),
        "played[0].inputs.decisions.Aurora AI.products.colour: is not a field",
    ),
    "a loan no lender would give": (
        lambda a: _aurora(a)["finance"].update(borrow_musd=1e300),
        "played[0].inputs.decisions.Aurora AI.finance.borrow_musd: input should be less than or equal to 1000000",
    ),
    "a price for a segment the scenario lacks": (
        lambda a: _aurora(a)["products"]["prices"].update(moon=2.0),
        "played[0].inputs.decisions.Aurora AI.products.prices.moon: There is no segment 'moon'",
    ),
    "an unknown persona on a seat": (
        lambda a: a["seats"][1].update(persona="nobody"),
        "seats.1: Unknown persona",
    ),
    "an aggressiveness past 1": (
        lambda a: a["seats"][1].update(aggressiveness=7),
        "seats[1].aggressiveness: input should be less than or equal to 1, got 7",
    ),
    "seats that are not the scenario's companies": (
        lambda a: a["seats"].reverse(),
        "seats: the archive's seats do not match its scenario's companies",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_malformed_archive_is_refused_with_where_the_problem_is_and_leaves_no_game(
    importer: Importer, case: str
) -> None:
    change, words = CASES[case]
    assert words in refused(importer, changed(importer, change))


def test_nesting_a_hundred_thousand_levels_deep_is_refused_plainly(importer: Importer) -> None:
    body = (
        json.dumps(importer.archive)
        .replace('"played": [', '"played": [' + "[" * 100_000, 1)
        .encode()
    )
    assert "nested far too deeply" in refused(importer, body)


@pytest.mark.parametrize(
    "number, words",
    [
        (b"NaN", "NaN is not a number a game archive holds"),
        (b"1e400", "a number as large as 1e400 is not one a game archive holds"),
        (b"9" * 5000, "a whole number of 5,000 digits is not one a game archive holds"),
    ],
)
def test_a_number_no_archive_holds_is_refused_plainly(
    importer: Importer, number: bytes, words: str
) -> None:
    marked = changed(importer, lambda a: _aurora(a)["finance"].update(borrow_musd=0.123456))
    assert words in refused(importer, marked.replace(b"0.123456", number, 1))


def test_an_alias_bomb_in_the_scenario_is_refused_without_being_expanded(
    importer: Importer,
) -> None:
    page = refused(importer, changed(importer, _set(_whole, "scenario_text", alias_bomb(levels=9))))
    assert (
        "scenario_text: line 1, (top level): not valid YAML: anchors (&name) and aliases (*name)"
        in page
    )
    assert len(page) < 300  # the message quotes nothing of the expansion (10**9 leaves)


def test_a_huge_game_is_refused_by_the_scenario_caps_before_any_replay(importer: Importer) -> None:
    """The probe's 71 kB archive of 40 companies x 200 segments x 40 rounds took 315 s to import; the
    scenario schema's caps (12 segments) now refuse it at once. The import's own work budget is tested
    in tests/services/test_archive_import.py."""
    def huge(d: Any) -> None:
        segments, companies = d["market"]["segments"], d["companies"]
        d["market"]["segments"] = [
            {**copy.deepcopy(segments[0]), "id": f"s{i}"} for i in range(200)
        ]
        d["companies"] = [
            {**copy.deepcopy(companies[i % 2]), "name": f"Lab {i}", "domain_skill": {}}
            for i in range(40)
        ]
        d["rounds"] = 40

    def archive_of_huge_game(a: Archive) -> None:
        _scenario(huge)(a)
        a.update(
            rounds=40,
            seats=[
                {"company": f"Lab {i}", "persona": "incumbent", "aggressiveness": 0.5}
                for i in range(40)
            ],
            played=[
                {"round": r, "inputs": {"decisions": {}, "injected": [], "stand_ins": {}}}
                for r in range(1, 41)
            ],
        )

    body = changed(importer, archive_of_huge_game)
    assert len(body) < 100_000
    page = refused(importer, body)
    assert "market.segments: List should have at most 12 items" in page and "Nothing was imported." in page


def test_a_sound_archive_still_imports_and_reproduces_the_game(importer: Importer) -> None:
    before = importer.game_count()
    status, page = importer.upload(json.dumps(importer.archive).encode())
    assert status == 200 and "Imported: 2 round(s) replayed from the archive." in page
    assert importer.game_count() == before + 1
    with Session(importer.client.app.state.engine) as s:  # type: ignore[attr-defined]
        newest = games.games_of(s, importer.instructor_id)[0]
        assert newest.current_round == 2 and rounds.verify(s, newest.id or 0) == []
