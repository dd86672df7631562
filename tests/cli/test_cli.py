"""The `moatline` command line: scenario checks, the schema, studies and the training planner.
Bad input gets a plain "error:" line and exit code 2, never a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner, Result

from app.cli import cli
from app.engine.batch import COLUMNS
from app.scenario import Scenario
from app.scenario.loader import SCENARIO_DIR

SHIPPED = sorted(SCENARIO_DIR.glob("*.yaml"))
USAGE_ERROR = 2
PLAN_KEYS = {"flops", "mfu", "goodput", "gpu_hours", "days", "rent_cost_usd", "own_cost_usd", "energy_mwh", "loss", "capability"}
LLAMA_GPU_HOURS = 30.84e6  # Llama 3.1 405B on H100s (Meta 2024)

# A small valid scenario; lines a test breaks end with a `# <marker>` so expected lines are found, not hard-coded.
TINY = """\
id: tiny
name: Tiny
summary: Two labs and a product company.
rounds: 3  # rounds
teaching_note:
  objectives: [Learn]
  discussion_questions: ["Why?"]
  class_plan: ["Play (10 min)"]
compute:
  gpus:
    - {name: H100, tflops: 989, watts: 700, price_usd: 30000, rent_per_hour: 2.5, supply_per_round: 1000, rental_supply: 1000}
data:
  sources:
    - {kind: scraped, cost_per_t_tokens_musd: 0.5, pool_t_tokens: 100}
talent:
  researchers: {salary_usd: 1000000, pool_per_round: 10}
  engineers: {salary_usd: 500000, pool_per_round: 10}
  safety: {salary_usd: 400000, pool_per_round: 10}
market:
  segments:
    - {id: consumer, name: Consumer, volume_t_tokens: 100, reference_price: 4}
companies:
  - name: Alpha
    kind: lab
    persona: safety_first  # persona
    cash_musd: 1000
    gpus: {H100: 100}
    model: {name: A1, params_b: 70, tokens_t: 15}
  - name: Beta
    kind: lab
    cash_musd: 500  # cash
    model: {name: B1, params_b: 30, tokens_t: 10}
  - name: Gamma
    kind: product
    base_model: Alpha
    cash_musd: 100
"""
BROKEN_EDITS = {
    "rounds": ("rounds: 3", "rounds: 0"),
    "persona": ("persona: safety_first", "persona: wizard"),
    "cash": ("cash_musd: 500", "cash_musd: -5"),
}


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def _line_of(text: str, marker: str) -> int:
    hits = [i for i, line in enumerate(text.splitlines(), 1) if line.rstrip().endswith(f"# {marker}")]
    assert len(hits) == 1, marker
    return hits[0]


def _assert_usage_error(result: Result) -> None:
    """Exit code 2, a plain error line, and no traceback (the command handled the mistake itself)."""
    assert result.exit_code == USAGE_ERROR, result.output
    assert "error:" in result.output
    assert "Traceback" not in result.output
    assert isinstance(result.exception, SystemExit), repr(result.exception)


# --- scenario validate / schema ---------------------------------------------------------------


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_validate_accepts_every_shipped_scenario(runner: CliRunner, path: Path) -> None:
    result = runner.invoke(cli, ["scenario", "validate", str(path)])
    assert result.exit_code == 0, result.output
    assert f"{path}: ok" in result.output


def test_validate_accepts_several_files_at_once(runner: CliRunner, tmp_path: Path) -> None:
    tiny = tmp_path / "tiny.yaml"
    tiny.write_text(TINY, encoding="utf-8")
    result = runner.invoke(cli, ["scenario", "validate", str(tiny), *map(str, SHIPPED)])
    assert result.exit_code == 0, result.output
    assert result.output.count(": ok (") == len(SHIPPED) + 1


def test_validate_lists_every_problem_of_a_broken_file_with_its_field_and_line(runner: CliRunner, tmp_path: Path) -> None:
    text = TINY
    for old, new in BROKEN_EDITS.values():
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    broken = tmp_path / "broken.yaml"
    broken.write_text(text, encoding="utf-8")
    result = runner.invoke(cli, ["scenario", "validate", str(broken)])
    assert result.exit_code != 0
    assert "Traceback" not in result.output
    assert f"{broken}: 3 problem(s)" in result.output
    assert f"line {_line_of(text, 'rounds')}, rounds:" in result.output
    assert f"line {_line_of(text, 'persona')}, companies[0].persona:" in result.output and "'wizard'" in result.output
    assert f"line {_line_of(text, 'cash')}, companies[1].cash_musd:" in result.output


def test_validate_fails_when_one_of_several_files_is_broken_but_still_checks_the_others(runner: CliRunner, tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text(TINY.replace("rounds: 3", "rounds: 0"), encoding="utf-8")
    result = runner.invoke(cli, ["scenario", "validate", str(broken), str(SHIPPED[0])])
    assert result.exit_code != 0
    assert f"{SHIPPED[0]}: ok" in result.output


def test_validate_says_a_missing_file_cannot_be_read(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(cli, ["scenario", "validate", str(tmp_path / "nowhere.yaml")])
    assert result.exit_code != 0
    assert "cannot read the file" in result.output and "Traceback" not in result.output


def test_schema_prints_the_json_schema_of_scenario_files(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["scenario", "schema"])
    assert result.exit_code == 0
    schema = json.loads(result.output)
    assert schema == json.loads(json.dumps(Scenario.model_json_schema()))
    assert schema["type"] == "object"
    assert set(Scenario.model_fields) == set(schema["properties"])
    assert {"id", "name", "compute", "companies"} <= set(schema["required"])
    refs = _refs(schema)
    assert refs, "sections are described in $defs"
    assert all(ref.startswith("#/$defs/") and ref.removeprefix("#/$defs/") in schema["$defs"] for ref in refs)


def _refs(node: object) -> list[str]:
    if isinstance(node, dict):
        return [v for k, v in node.items() if k == "$ref"] + [r for v in node.values() for r in _refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in _refs(v)]
    return []


# --- plan-training ----------------------------------------------------------------------------


def test_plan_training_as_json_gives_the_ten_figures_and_reproduces_llama_3_1(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["plan-training", "--params", "405e9", "--tokens", "15.6e12", "--gpu", "H100", "--json"])
    assert result.exit_code == 0, result.output
    plan = json.loads(result.output)
    assert set(plan) == PLAN_KEYS
    assert abs(plan["gpu_hours"] / LLAMA_GPU_HOURS - 1) <= 0.15
    assert 0.38 <= plan["mfu"] <= 0.43, "Llama 3.1 reports 38-43% MFU"
    assert 0 <= plan["capability"] <= 100


def test_plan_training_takes_active_parameters_gpu_count_and_price(runner: CliRunner) -> None:
    args = ["plan-training", "--params", "671e9", "--active-params", "37e9", "--tokens", "14.8e12", "--gpu", "H800",
            "--gpus", "2048", "--price-per-hour", "2", "--json"]
    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.output
    plan = json.loads(result.output)
    assert abs(plan["gpu_hours"] / 2.788e6 - 1) <= 0.15
    assert plan["rent_cost_usd"] == pytest.approx(2 * plan["gpu_hours"])
    assert plan["days"] == pytest.approx(plan["gpu_hours"] / 2048 / 24)


def test_plan_training_prints_a_readable_summary_without_json(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["plan-training", "--params", "70e9", "--tokens", "15e12", "--gpu", "h100"])
    assert result.exit_code == 0, result.output
    assert "GPU-hours" in result.output and "Capability index" in result.output


# --- simulate ---------------------------------------------------------------------------------


def test_simulate_writes_a_csv_with_a_row_per_run_round_and_company(runner: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "study.csv"
    result = runner.invoke(cli, ["simulate", "frontier-race", "--runs", "3", "--seed", "1", "--out", str(out)])
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out)
    assert list(table.columns) == list(COLUMNS)
    assert len(table) == 3 * 12 * 6
    assert str(out) in result.output


def test_simulate_takes_seats_a_scenario_file_and_parquet_output(runner: CliRunner, tmp_path: Path) -> None:
    tiny, out = tmp_path / "tiny.yaml", tmp_path / "study.parquet"
    tiny.write_text(TINY, encoding="utf-8")
    args = ["simulate", str(tiny), "--seats", "idle, incumbent ,price_disruptor", "--runs", "4", "--seed", "3", "--out", str(out), "--chunk", "3"]
    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.output
    table = pd.read_parquet(out)
    assert len(table) == 4 * 3 * 3
    assert table.groupby("company")["persona"].first().to_dict() == {"Alpha": "idle", "Beta": "incumbent", "Gamma": "price_disruptor"}


# --- mistakes ---------------------------------------------------------------------------------


@pytest.mark.parametrize("args", [
    ["plan-training", "--params", "405e9", "--tokens", "15.6e12", "--gpu", "TPU9"],
    ["plan-training", "--params", "-405e9", "--tokens", "15.6e12", "--gpu", "H100"],
    ["plan-training", "--params", "405e9", "--active-params", "500e9", "--tokens", "15.6e12", "--gpu", "H100"],
    ["plan-training", "--params", "405e9", "--tokens", "15.6e12", "--gpu", "H100", "--scenario", "no-such-scenario"],
    ["simulate", "no-such-scenario", "--runs", "2", "--out", "{tmp}/study.csv"],
    ["simulate", "{tmp}/missing.yaml", "--runs", "2", "--out", "{tmp}/study.csv"],
    ["simulate", "frontier-race", "--seats", "incumbent,idle", "--runs", "2", "--out", "{tmp}/study.csv"],
    ["simulate", "frontier-race", "--seats", "wizard,idle,idle,idle,idle,idle", "--runs", "2", "--out", "{tmp}/study.csv"],
    ["simulate", "frontier-race", "--runs", "2", "--out", "{tmp}/study.txt"],
    ["simulate", "frontier-race", "--runs", "0", "--out", "{tmp}/study.csv"],
    ["simulate", "frontier-race", "--runs", "2", "--out", "{tmp}/no-folder/study.csv"],
], ids=["unknown-gpu", "negative-params", "active-above-total", "plan-missing-scenario", "missing-scenario",
        "missing-scenario-file", "wrong-seat-count", "unknown-persona", "txt-output", "no-runs", "missing-folder"])
def test_a_mistake_exits_2_with_an_error_line_and_no_traceback(runner: CliRunner, tmp_path: Path, args: list[str]) -> None:
    result = runner.invoke(cli, [a.replace("{tmp}", str(tmp_path)) for a in args])
    _assert_usage_error(result)
    assert not (tmp_path / "study.txt").exists()


def test_the_unknown_gpu_error_lists_the_catalogue(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["plan-training", "--params", "405e9", "--tokens", "15.6e12", "--gpu", "TPU9"])
    _assert_usage_error(result)
    assert "H100" in result.output and "TPU9" in result.output


def test_the_wrong_seat_count_error_says_how_many_seats_the_scenario_has(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(cli, ["simulate", "frontier-race", "--seats", "incumbent,idle", "--runs", "2", "--out", str(tmp_path / "s.csv")])
    _assert_usage_error(result)
    assert "6" in result.output and "2" in result.output
