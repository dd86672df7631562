"""A class's game, exported and replayed as a study with its teams' decisions as fixed scripts, scores the same."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
from sqlalchemy import Engine
from sqlmodel import Session
from typer.testing import CliRunner

from app.cli import cli
from app.db import migrate
from app.engine.decisions import ComputeDecision, Decision, ProductDecision, TalentDecision, TuningDecision
from app.models import Seat
from app.services import drafts, exports, games, live, rounds
from app.studies import load_study, run
from tests.classroom import TWO_TEAMS, a_game

RESOLVED = 5


def a_played_game(engine: Engine) -> tuple[int, str]:
    """Two teams over five rounds: decisions, a round one team sits out (a persona stands in), an injected event."""
    with Session(engine) as s:
        game = a_game(s, name="Replay me", seats=TWO_TEAMS, seed=31, absent_rule="price_disruptor")
        gid = game.id or 0
        teams = [seat for seat in games.seats_of(s, game) if seat.persona is None]
        assert [t.company_name for t in teams] == ["Aurora AI", "Echo"]
        for rnd in range(RESOLVED):
            game = games.get_game(s, gid)
            for i, seat in enumerate(teams):
                if rnd == 2 and i == 1:
                    continue  # Echo does not submit: price_disruptor stands in
                if rnd == 3 and i == 0:
                    continue  # Aurora AI does not submit either, later
                decision = Decision(products=ProductDecision(prices={"consumer": 2.0 + rnd + i, "developer": 5.0 - 0.3 * rnd}),
                                    talent=TalentDecision(engineers=400.0 + 25 * rnd),
                                    tuning=TuningDecision(retrieval=rnd % 2 == 0, safety_musd=3.0 * i),
                                    compute=ComputeDecision(serving_share=0.5 + 0.05 * i))
                seat_row = s.get(Seat, seat.id)
                assert seat_row is not None
                drafts.save_draft(s, game, seat_row, decision, 0, "Ann")
                drafts.set_submitted(s, game, seat_row, True)
            if rnd == 1:
                live.inject_event(s, games.get_game(s, gid), 6)
            rounds.advance(s, gid, rnd)
        return gid, exports.archive(s, games.get_game(s, gid))


def test_an_exported_game_replayed_as_fixed_scripts_reproduces_its_scores(tmp_path: Path, engine_for: Callable[[str], Engine]) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    migrate(url)
    engine = engine_for(url)
    gid, archive = a_played_game(engine)
    (tmp_path / "game.json").write_text(archive)
    made = CliRunner().invoke(cli, ["study", "from-game", str(tmp_path / "game.json"), "--out", str(tmp_path / "replay")])
    assert made.exit_code == 0, made.output
    prepared = load_study(tmp_path / "replay" / "study.yaml")
    assert [s.kind for s in prepared.configs[0].seats] == ["script", "persona", "persona", "persona", "script", "persona"]
    rows = run(prepared, workers=1).runs
    with Session(engine) as s:
        game = games.get_game(s, gid)
        for rnd in range(1, RESOLVED + 1):
            report = rounds.report_of(s, game, rnd)
            for company, page in report["companies"].items():
                row = rows[(rows["round"] == rnd) & (rows.company == company)].iloc[0]
                private = page["private"]
                assert np.isclose(row.score, private["scorecard"]["score"], rtol=0, atol=1e-4), (rnd, company)
                assert np.isclose(row.cash, private["kpis"]["cash"], rtol=0, atol=1e-4), (rnd, company)
                assert np.isclose(row.revenue, private["income_statement"]["revenue"], rtol=0, atol=1e-4), (rnd, company)
    assert (rows.spend_cut_musd[rows["round"] <= RESOLVED] == 0).all()  # the class's decisions fitted their budgets as played


def test_a_file_that_is_not_an_archive_is_named(tmp_path: Path) -> None:
    (tmp_path / "x.json").write_text('{"hello": 1}')
    made = CliRunner().invoke(cli, ["study", "from-game", str(tmp_path / "x.json"), "--out", str(tmp_path / "r")])
    assert made.exit_code == 2 and "not a Moatline game archive" in made.output
