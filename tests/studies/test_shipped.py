"""The study files shipped in studies/ are valid and ask what their comments say they ask."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.studies import load_study

STUDIES = sorted((Path(__file__).resolve().parents[2] / "studies").glob("*.yaml"))


def test_studies_are_shipped() -> None:
    assert {p.stem for p in STUDIES} >= {"undercut", "gpu-prices-double", "regulation-year-two", "what-matters"}


@pytest.mark.parametrize("path", STUDIES, ids=lambda p: p.stem)
def test_every_shipped_study_validates_and_opens_with_its_question(path: Path) -> None:
    prepared = load_study(path)
    assert path.read_text().startswith("# ")
    assert prepared.study.total_runs <= 10_000  # a laptop answers each in well under a minute


def test_the_regulation_study_really_moves_the_event_into_year_two() -> None:
    prepared = load_study(next(p for p in STUDIES if p.stem == "regulation-year-two"))
    rounds = [next(e.round for e in c.scenario.events if e.kind == "regulation") for c in prepared.configs]
    assert rounds == [None, None, 5, 5]
