"""`moatline game import` refuses what the web import refuses, with the same words and exit code 2,
and holds the file to MOATLINE_MAX_ARCHIVE_BYTES before reading it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import Session
from typer.testing import CliRunner

from app.cli import cli
from app.db import create_db_engine, migrate
from app.services import exports, games, rounds
from app.settings import get_settings
from tests.classroom import a_game, an_instructor

USAGE_ERROR = 2
EMAIL = "w@example.edu"


@pytest.fixture
def archive(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, object]]:
    """The archive of a 1-round game, in a database that also has the instructor EMAIL."""
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    migrate(url)
    monkeypatch.setenv("DATABASE_URL", url)
    get_settings.cache_clear()
    engine = create_db_engine(url)
    with Session(engine) as s:
        an_instructor(s, EMAIL)
        gid = a_game(s).id or 0
        rounds.advance(s, gid, 0)
        yield json.loads(exports.archive(s, games.get_game(s, gid)))
    engine.dispose()
    get_settings.cache_clear()


def imported(path: Path) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["game", "import", str(path), "--instructor", EMAIL])
    return result.exit_code, result.output


def test_a_malformed_archive_is_refused_with_where_the_problem_is(
    archive: dict, tmp_path: Path
) -> None:
    archive["played"] = [{"round": 1}]
    (tmp_path / "g.json").write_text(json.dumps(archive))
    code, output = imported(tmp_path / "g.json")
    assert code == USAGE_ERROR and "Traceback" not in output
    assert (
        "error: This archive cannot be imported: played[0].inputs: is required but missing."
        in output
    )


def test_a_file_over_the_archive_limit_is_refused_unread(
    archive: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MOATLINE_MAX_ARCHIVE_BYTES", "2048")
    get_settings.cache_clear()
    (tmp_path / "g.json").write_text(json.dumps(archive))
    code, output = imported(tmp_path / "g.json")
    assert code == USAGE_ERROR and "is larger than any game archive" in output


def test_a_file_that_is_not_text_is_refused_plainly(archive: dict, tmp_path: Path) -> None:
    (tmp_path / "g.json").write_bytes(b"\xff\xfe\x00")
    code, output = imported(tmp_path / "g.json")
    assert code == USAGE_ERROR and "is not a Moatline game archive (not text)" in output


def test_a_sound_archive_imports(archive: dict, tmp_path: Path) -> None:
    (tmp_path / "g.json").write_text(json.dumps(archive))
    code, output = imported(tmp_path / "g.json")
    assert code == 0 and "1 round(s) replayed" in output
