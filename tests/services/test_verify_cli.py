"""`moatline game verify ID` replays a stored game and names what differs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import update
from sqlmodel import Session, col, select
from typer.testing import CliRunner

from app.cli import cli
from app.db import create_db_engine, migrate
from app.models import RoundResult
from app.services import rounds
from app.settings import get_settings
from tests.classroom import a_game, an_instructor


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'verify.db'}"
    migrate(url)
    monkeypatch.setenv("DATABASE_URL", url)
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()


def played_game(url: str) -> int:
    engine = create_db_engine(url)
    with Session(engine) as s:
        gid = a_game(s, name="Verify", scenario_id="product-builders", seed=5).id or 0
        for rnd in range(2):
            rounds.advance(s, gid, rnd)
    engine.dispose()
    return gid


def test_an_honest_game_verifies_and_a_tampered_one_names_the_figure(database: str) -> None:
    gid = played_game(database)
    ok = CliRunner().invoke(cli, ["game", "verify", str(gid)])
    assert ok.exit_code == 0 and "every stored round matches" in ok.output
    engine = create_db_engine(database)
    with Session(engine) as s:
        row = s.exec(select(RoundResult).where(RoundResult.game_id == gid, RoundResult.round == 1)).one()
        report = json.loads(row.report)
        report["market"]["open_weight_capability"] = 99.0
        s.execute(update(RoundResult).where(col(RoundResult.id) == row.id).values(report=json.dumps(report)))
        s.commit()
    engine.dispose()
    bad = CliRunner().invoke(cli, ["game", "verify", str(gid)])
    assert bad.exit_code == 1 and "round 1: .market.open_weight_capability" in bad.output


def test_an_unknown_game_is_a_clear_error(database: str) -> None:
    result = CliRunner().invoke(cli, ["game", "verify", "4242"])
    assert result.exit_code == 2 and "no game 4242" in result.output and "Traceback" not in result.output


def test_a_game_exports_to_csv_xlsx_and_an_archive_that_imports_elsewhere(database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    gid = played_game(database)
    runner = CliRunner()
    for suffix in (".csv", ".xlsx", ".json"):
        result = runner.invoke(cli, ["game", "export", str(gid), "--out", str(tmp_path / f"g{suffix}")])
        assert result.exit_code == 0 and (tmp_path / f"g{suffix}").stat().st_size > 0, result.output
    bad = runner.invoke(cli, ["game", "export", str(gid), "--out", str(tmp_path / "g.txt")])
    assert bad.exit_code == 2 and "not 'g.txt'" in bad.output
    other = f"sqlite:///{tmp_path / 'other.db'}"
    migrate(other)
    monkeypatch.setenv("DATABASE_URL", other)
    get_settings.cache_clear()
    engine = create_db_engine(other)
    with Session(engine) as s:
        an_instructor(s, "w@example.edu")
    engine.dispose()
    missing = runner.invoke(cli, ["game", "import", str(tmp_path / "g.json"), "--instructor", "nobody@example.edu"])
    assert missing.exit_code == 2 and "no instructor" in missing.output
    done = runner.invoke(cli, ["game", "import", str(tmp_path / "g.json"), "--instructor", "w@example.edu"])
    assert done.exit_code == 0 and "2 round(s) replayed" in done.output
    assert runner.invoke(cli, ["game", "verify", "1"]).exit_code == 0
