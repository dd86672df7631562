"""docs/studies.md is generated from the code and stays in step with it; its examples work."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import yaml

from app.scenario import find_scenario
from app.studies import docs, files, play, runner, summary, tweaks
from app.studies.overrides import resolve_path
from app.studies.schema import Study
from tests.schema_models import all_models

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs" / "studies.md"
REGENERATE = "regenerate it: .venv/bin/python -m app.studies.docs > docs/studies.md"


def blocks(text: str, language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", text, flags=re.S)


def test_docs_file_is_up_to_date() -> None:
    assert DOCS.read_text(encoding="utf-8") == docs.render_docs(), f"docs/studies.md is stale; {REGENERATE}"


def test_module_prints_the_docs() -> None:
    out = subprocess.run([sys.executable, "-m", "app.studies.docs"], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout == docs.render_docs()


def test_every_field_of_every_study_model_is_documented() -> None:
    text = docs.render_docs()
    models = all_models(Study)
    assert {"Study", "Seat", "Tweak", "Arm", "Sensitivity"} <= set(models)
    for name, model in models.items():
        assert f"\n### {name}\n" in text, name
        section = text.split(f"\n### {name}\n", 1)[1].split("\n### ", 1)[0].split("\n## ", 1)[0]
        for field in model.model_fields:
            assert f"| `{field}` |" in section, f"{name}.{field}"


def test_defaults_and_constraints_come_from_the_schema() -> None:
    text = docs.render_docs()
    assert "| `runs` | integer | **required** | ≥ 1, ≤ 10,000,000 |" in text
    assert "| `arms` | list of [Arm](#arm) | `[{name: baseline}]` | at least 1 item, at most 50 items |" in text
    assert "| `runs_per_point` | integer | `200` | ≥ 1, ≤ 1,000,000 |" in text
    assert f"default {files.DEFAULT_MAX_RUNS:,}" in text and "MOATLINE_STUDY_MAX_RUNS" in text


def test_every_runs_column_has_one_meaning() -> None:
    columns = play.ID_COLUMNS + play.VALUE_COLUMNS
    assert set(play.COLUMN_DOCS) == set(columns) | set(play.MEASURES), "a meaning for every column and measure, no stray ones"
    assert all(play.COLUMN_DOCS[c].strip() for c in play.COLUMN_DOCS)


def test_the_documented_columns_are_those_a_study_writes(tmp_path: Path) -> None:
    text = yaml.safe_load(docs.EXAMPLE)
    text.update(runs=2, sweep={"market.outside.gain_per_round": [1.5]})
    result = runner.run(files.parse_study(json.dumps(text)), out=tmp_path / "out", workers=1)
    sweep = ["market.outside.gain_per_round"]
    assert list(result.runs.columns) == [*play.ID_COLUMNS[:2], *sweep, *play.ID_COLUMNS[2:], *play.VALUE_COLUMNS]
    assert list(result.summary.columns) == [*summary.SUMMARY_COLUMNS[:2], *sweep, *summary.SUMMARY_COLUMNS[2:]]
    assert tuple(result.summary.measure.unique()) == play.MEASURES
    manifest = json.loads((tmp_path / "out" / runner.MANIFEST).read_text())
    assert set(manifest) == set(docs.STUDY_JSON_DOCS)


def test_every_column_and_measure_appears() -> None:
    text = docs.render_docs()
    output = text.split("\n## Output files\n", 1)[1].split("\n## ", 1)[0]
    for column in play.ID_COLUMNS + play.VALUE_COLUMNS:
        assert f"| `{column}` | {play.COLUMN_DOCS[column]}" in output, column
    for measure in play.MEASURES:
        assert f"`{measure}`" in output, measure
    for column in summary.SUMMARY_COLUMNS:
        assert f"| `{column}` | {docs.SUMMARY_COLUMN_DOCS[column]}" in output, column
    assert set(docs.SUMMARY_COLUMN_DOCS) == set(summary.SUMMARY_COLUMNS)


def test_every_tweakable_field_is_listed_with_the_forms_bounds() -> None:
    section = docs.render_docs().split("\n## Tweaks\n", 1)[1].split("\n## ", 1)[0]
    for field in tweaks.SCALARS:
        assert f"| `{field}` |" in section, field
    for field in tweaks.MAPPINGS:
        assert f"| `{field}`, `{field}.KEY` |" in section, field
    assert "| `talent.pay_level` | number | 0.5 to 3 | Pay relative to the market rate. |" in section
    assert "| `products.prices`, `products.prices.KEY` | number by segment id | 0.0001 to 10,000 |" in section
    assert all(row[3] for row in docs.tweak_rows()), "every field has a description"


def test_the_example_studies_validate() -> None:
    studies = [b for b in blocks(docs.render_docs(), "yaml") if b.lstrip("# \n").startswith("scenario:") or "\nscenario:" in b]
    assert len(studies) == 2
    assert studies[0] == docs.EXAMPLE
    for text in studies:
        prepared = files.parse_study(text, base=ROOT)
        assert prepared.study.runs > 0
    first = files.parse_study(studies[0], base=ROOT)
    assert first.study.total_runs == 1200, "the page says 1,200 games"
    assert len(first.study.arms[1].seats["Aurora AI"].tweaks or []) == 3


def test_the_sensitivity_example_validates() -> None:
    section = docs.render_docs().split("\n## Sensitivity\n", 1)[1].split("\n## ", 1)[0]
    (block,) = blocks(section, "yaml")
    files.parse_study(docs.EXAMPLE + block, base=ROOT)


def test_the_script_example_holds_valid_entries() -> None:
    (block,) = blocks(docs.render_docs(), "json")
    entries = json.loads(block)
    parsed = [files._entry(e, f"round {i + 1}") for i, e in enumerate(entries)]
    assert parsed[1] is None and parsed[2] == "safety_first"


def test_the_example_override_paths_lead_somewhere() -> None:
    scenario = find_scenario("frontier-race")
    for path, _ in docs.PATH_EXAMPLES:
        resolve_path(scenario, path)
    section = docs.render_docs().split("\n## Override paths\n", 1)[1].split("\n## ", 1)[0]
    for rule in ("Digits are always a position", "A dot outside quotes always separates", 'companies["Acme 2.0"]'):
        assert rule in section


def test_commands_python_api_and_dask_are_described() -> None:
    text = docs.render_docs()
    for phrase in ("moatline study validate", "moatline study schema", "moatline study run", "--backend dask",
                   "moatline study sensitivity", "from app.studies import load_study, run, screen",
                   "dask scheduler", "dask worker tcp://HOST:8786 --nworkers 2 --nthreads 1", "byte for byte",
                   "PlayerView", "never sees a rival's private books", "cut_rounds_share", "cut_spend_share",
                   "written whole or not at all", "mu_star", "sigma", "S1", "ST", "swing"):
        assert phrase in text, phrase
