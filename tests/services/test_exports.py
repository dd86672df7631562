"""Exports for grading and archives that another installation replays exactly."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from app.db import migrate
from app.engine.decisions import Decision, ProductDecision
from app.errors import GameError
from app.models import Seat
from app.services import drafts, exports, games, rounds
from tests.classroom import TEAMS_AND_PERSONAS, a_game, an_instructor


@pytest.fixture
def engine(tmp_path: Path, engine_for: Callable[[str], Engine]) -> Iterator[Engine]:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    migrate(url)
    yield engine_for(url)


def played(engine: Engine, resolved: int = 3) -> tuple[int, int]:
    with Session(engine) as s:
        game = a_game(s, name="Archive me", seats=TEAMS_AND_PERSONAS, seed=8, absent_rule="incumbent")
        gid = game.id or 0
        aurora = s.get(Seat, 1)
        assert aurora is not None and aurora.company_name == "Aurora AI"
        for rnd in range(resolved):
            if rnd != 1:  # round 2: the team does not submit and a persona stands in
                game = games.get_game(s, gid)
                drafts.save_draft(s, game, aurora, Decision(products=ProductDecision(prices={"consumer": 3.0 + rnd})), 0, "Ann")
                drafts.set_submitted(s, game, aurora, True)
            rounds.advance(s, gid, rnd)
        return gid, game.instructor_id


def test_the_results_export_has_a_row_per_company_per_round_with_scores_and_money(engine: Engine) -> None:
    gid, _ = played(engine)
    with Session(engine) as s:
        rows = list(csv.DictReader(io.StringIO(exports.results_csv(s, games.get_game(s, gid)))))
        report = rounds.report_of(s, games.get_game(s, gid), 3)
    assert len(rows) == 3 * 6
    last_aurora = next(r for r in rows if r["round"] == "3" and r["company"] == "Aurora AI")
    assert float(last_aurora["score"]) == report["companies"]["Aurora AI"]["private"]["scorecard"]["score"]
    assert float(last_aurora["cash"]) == report["companies"]["Aurora AI"]["private"]["kpis"]["cash"]
    assert last_aurora["played_by"] == "team"


def test_the_workbook_has_a_sheet_each_for_scorecard_financials_and_decisions(engine: Engine) -> None:
    gid, _ = played(engine)
    with Session(engine) as s:
        book = exports.read_xlsx(exports.results_xlsx(s, games.get_game(s, gid)))
    assert list(book) == ["scorecard", "financials", "decisions"]
    assert all(len(rows) == 1 + 3 * 6 for rows in book.values())
    how = {(r[0], r[1]): r[2] for r in book["decisions"][1:]}
    assert how[(1, "Aurora AI")] == "submitted" and how[(2, "Aurora AI")] == "stood in: incumbent"
    assert how[(1, "Beacon Labs")] == "computer: safety_first"


def test_an_archive_imports_into_another_installation_and_reproduces_the_game_exactly(engine: Engine, tmp_path: Path,
                                                                                       engine_for: Callable[[str], Engine]) -> None:
    gid, _ = played(engine)
    with Session(engine) as s:
        text = exports.archive(s, games.get_game(s, gid))
        originals = [rounds.report_of(s, games.get_game(s, gid), r) for r in (1, 2, 3)]
    other_url = f"sqlite:///{tmp_path / 'elsewhere.db'}"
    migrate(other_url)
    with Session(engine_for(other_url)) as s:
        copy = exports.import_archive(s, an_instructor(s), text)
        assert copy.current_round == 3 and copy.seed == 8
        assert [rounds.report_of(s, copy, r) for r in (1, 2, 3)] == originals
        assert rounds.verify(s, copy.id or 0) == []


@pytest.mark.parametrize("text, words", [
    ("not json", "not JSON"),
    (json.dumps({"format": "something else"}), "not a Moatline game archive"),
    (json.dumps({"format": "moatline-game-archive", "version": 99}), "version 1, not 99"),
    (json.dumps({"format": "moatline-game-archive", "version": 1, "seed": 1}), "lacks scenario_text"),
])
def test_a_file_that_is_not_an_archive_gets_a_clear_message_and_creates_nothing(engine: Engine, text: str, words: str) -> None:
    _, instructor = played(engine, resolved=1)
    with Session(engine) as s, pytest.raises(GameError, match=words):
        exports.import_archive(s, instructor, text)
