"""The concept table's study files (studies/concepts/) and the machinery of bench/concepts.py.

These tests check the instrument, not its figures: the files validate and equal what the table generates, every
concept of the course text has a row, and a short run gives a paired difference with a finite interval.
"""

from __future__ import annotations

import importlib.util
import math
import sys
from pathlib import Path
from types import ModuleType

import pytest

from app.studies import load_study

ROOT = Path(__file__).resolve().parents[2]
STUDY_DIR = ROOT / "studies" / "concepts"

# The concepts of the course text (seeds/: "Model Development Process") the table must measure.
COURSE_CONCEPTS = {
    "data-moat", "capital-moat", "talent-moat",  # pre-training moats of data, capital and talent
    "cutoff-retrieval",  # the knowledge cut-off and retrieval
    "sft-differentiation",  # SFT as differentiation
    "safety-feature", "safety-risk", "alignment-tax",  # safety tuning: product feature, risk lever, alignment tax
    "moe",  # Mixture of Experts
    "open-weight-commodity",  # open-weight models as commodity pressure
    "ecosystem",  # corporate genealogy: an incumbent's ecosystem
    "switching-costs",  # switching costs
}


def _bench() -> ModuleType:
    name = "bench_concepts"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, ROOT / "bench" / "concepts.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


concepts = _bench()
FILES = sorted(STUDY_DIR.glob("*.yaml"))


def test_the_shipped_files_are_the_ones_the_table_generates() -> None:
    expected = concepts.generated()
    assert {p.name for p in FILES} == set(expected), "run bench/concepts.py --write"
    for path in FILES:
        assert path.read_text(encoding="utf-8") == expected[path.name], f"{path.name}: run bench/concepts.py --write"


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_every_concept_file_validates_and_says_what_it_measures(path: Path) -> None:
    prepared = load_study(path)
    assert prepared.study.runs >= 500
    assert prepared.arm_names[0] == "baseline" and len(prepared.arm_names) >= 2
    head = path.read_text(encoding="utf-8").splitlines()[:3]
    if path.stem.startswith("super-lever-"):
        assert head[0].startswith("# Super-lever check")
    else:
        assert head[0].startswith("# Concept: ") and head[1].startswith("# Lever: ")
        assert head[2].startswith("# Expected: the lever should ")


def test_every_concept_of_the_course_has_a_row_in_every_scenario_it_applies_to() -> None:
    assert set(concepts.CONCEPTS) == COURSE_CONCEPTS
    rows = concepts.ROWS
    assert {r.concept for r in rows} == COURSE_CONCEPTS
    scenarios = {p.stem for p in (ROOT / "scenarios").glob("*.yaml")}
    assert set(concepts.SCENARIOS) == scenarios
    for concept in COURSE_CONCEPTS - {"moe"}:  # MoE applies only where a company serves an MoE model
        assert {r.scenario for r in rows if r.concept == concept} == scenarios, concept
    moe = {r.scenario for r in rows if r.concept == "moe"}
    with_moe = {sid for sid in scenarios
                if any(c.model and c.model.active_params_b for c in concepts._scenario(sid).companies)}
    assert moe == with_moe
    for r in rows:
        assert r.direction in (-1, 1) and (r.overrides or r.tweaks), r.name
        assert r.measure in ("score", "revenue", "share_tokens", "capability", "incidents"), r.name


def test_a_short_run_gives_a_row_with_a_finite_interval() -> None:
    row = next(r for r in concepts.ROWS if r.name == "sft-differentiation-product-builders")
    m = concepts.measure_row(row, STUDY_DIR / f"{row.name}.yaml", runs=20, workers=1)
    assert all(math.isfinite(x) for x in (m.base, m.diff, m.low, m.high, m.score_diff))
    assert m.low <= m.diff <= m.high and m.low < m.high
    line = concepts.row_line(m)
    assert line.startswith("sft-differentiation | product-builders | ") and ("felt" in line)


def test_a_row_summed_over_the_labs_is_paired_run_by_run() -> None:
    row = next(r for r in concepts.ROWS if r.name == "open-weight-commodity-mixed-ecosystem")
    m = concepts.measure_row(row, STUDY_DIR / f"{row.name}.yaml", runs=20, workers=1)
    assert all(math.isfinite(x) for x in (m.base, m.diff, m.low, m.high)) and math.isnan(m.score_diff)
    assert m.low <= m.diff <= m.high


def test_the_felt_rule() -> None:
    row = concepts.Row("safety-risk", "frontier-race", "X", "incidents", +1, "lever")
    felt = concepts.Measured(row, base=1.0, diff=0.2, low=0.1, high=0.3, score_diff=0.0)
    assert felt.felt and felt.verdict == "felt"
    assert not concepts.Measured(row, 1.0, -0.2, -0.3, -0.1, 0.0).felt  # wrong direction
    assert not concepts.Measured(row, 1.0, 0.2, -0.1, 0.5, 0.0).felt  # the interval holds 0
    assert "too small" in concepts.Measured(row, 10.0, 0.2, 0.1, 0.3, 0.0).verdict  # 2% of the baseline
    score = concepts.Row("moe", "frontier-race", "X", "score", -1, "lever")
    assert concepts.Measured(score, 60.0, -3.1, -3.5, -2.7, -3.1).felt  # 3 scorecard points, though only 5%
    assert concepts.felt_concepts([felt, concepts.Measured(row, 1.0, 0.0, 0.0, 0.0, 0.0)]) == (0, 1)


def test_the_super_lever_flag_and_the_spending_replay() -> None:
    figs = [concepts.LineFigure("s", "X", line, spent, diff, diff, diff)
            for line, spent, diff in (("a", 1000, 1.0), ("b", 1000, 2.0), ("c", 1000, 7.0), ("d", 0, 5.0))]
    median, rated = concepts.flag_super_levers(figs)
    assert median == 2.0
    assert [flag for _, _, flag in rated] == [False, False, True, False]  # d spent nothing: no figure
    prepared = load_study(STUDY_DIR / "super-lever-product-builders.yaml", runs=8)
    spent, replayed = concepts.line_spending(prepared, "Ledgerlight")
    assert set(concepts.SPEND_LINES) <= set(spent) and spent["tuning.sft_musd"] > 0
    from app.studies import run

    s = run(prepared, workers=1).summary
    played = s[(s.arm == "baseline") & (s.company == "Ledgerlight") & (s.measure == "score")].iloc[0]["mean"]
    assert replayed == pytest.approx(played, abs=1e-9)  # the replay is the study's baseline, game for game
