"""Golden games: a seeded game of each shipped scenario, with one team submitting the same plain decision
every round and personas in the other seats, must reproduce its saved report to the last digit.

A change in these numbers is a deliberate, reviewed change: regenerate the files with
    MOATLINE_UPDATE_GOLDEN=1 .venv/bin/pytest tests/engine/test_golden.py
(which then fails on purpose, so a run with the flag never passes), review the diff of tests/engine/golden/
and rerun without the flag before committing it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from app.engine import report
from app.engine.decisions import ComputeDecision, Decision, ProductDecision, TalentDecision, TuningDecision
from app.engine.game import GameRecord, RoundInput, replay, seats_for
from app.engine.world import World
from app.scenario import Scenario

from .factories import SCENARIO_IDS, scenario

GOLDEN_DIR = Path(__file__).parent / "golden"
UPDATE = os.environ.get("MOATLINE_UPDATE_GOLDEN") == "1"
SEED = 2026
MAX_DIFFERENCES_SHOWN = 15


def team_decision(sc: Scenario, team: str) -> Decision:
    """The fixed decision the team seat submits every round: keep the starting team, price at 90% of each
    segment's starting reference price, $5M of SFT in the first segment, $10M of safety, $5M of marketing."""
    start = next(c for c in sc.companies if c.name == team)
    segments = sc.market.segments
    return Decision(
        compute=ComputeDecision(serving_share=0.7),
        talent=TalentDecision(researchers=start.researchers, engineers=start.engineers, safety_staff=start.safety_staff),
        tuning=TuningDecision(sft_musd={segments[0].id: 5.0}, safety_musd=10.0, retrieval=True),
        products=ProductDecision(prices={s.id: round(0.9 * s.reference_price, 2) for s in segments}, marketing_musd=5.0),
    )


def golden_game(sc: Scenario) -> dict[str, Any]:
    """Play the golden game: the scenario's last company is the team seat; every round is played."""
    team = sc.companies[-1].name
    decision = team_decision(sc, team)
    record = GameRecord(sc, SEED, seats_for(sc, {team}), tuple(RoundInput(decisions={team: decision}) for _ in range(sc.rounds)))
    w = World(sc)
    played = replay(record, w)
    reports = [report.round_report(w, p) for p in played]
    return {
        "scenario": sc.id, "seed": SEED, "team": team, "decision": decision.model_dump(mode="json"),
        "scoreboards": [r["market"]["scoreboard"] for r in reports],
        "final_report": reports[-1],
    }


def _canonical(value: Any) -> Any:
    """The value as it reads back from its JSON file."""
    return json.loads(report.dumps(value))


def _differences(expected: Any, actual: Any, path: str = "") -> list[str]:
    """Paths where two JSON values differ, for a failure message a reviewer can read."""
    if isinstance(expected, dict) and isinstance(actual, dict):
        out = [f"{path}.{k}: only in the golden file" for k in expected.keys() - actual.keys()]
        out += [f"{path}.{k}: new in this run" for k in actual.keys() - expected.keys()]
        for k in sorted(expected.keys() & actual.keys()):
            out += _differences(expected[k], actual[k], f"{path}.{k}")
        return out
    if isinstance(expected, list) and isinstance(actual, list) and len(expected) == len(actual):
        return [d for i, (e, a) in enumerate(zip(expected, actual, strict=True)) for d in _differences(e, a, f"{path}[{i}]")]
    return [] if expected == actual else [f"{path}: golden {expected!r}, now {actual!r}"]


@pytest.mark.parametrize("scenario_id", SCENARIO_IDS)
def test_a_seeded_game_reproduces_its_golden_report_and_every_rounds_scoreboard(scenario_id: str) -> None:
    path = GOLDEN_DIR / f"{scenario_id}.json"
    actual = _canonical(golden_game(scenario(scenario_id)))
    if UPDATE:  # never a pass: the new file is only right once a reviewer has read its diff
        GOLDEN_DIR.mkdir(exist_ok=True)
        path.write_text(json.dumps(actual, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        pytest.fail(f"{path.name} was regenerated: review `git diff {GOLDEN_DIR.name}`, add a CHANGELOG line saying "
                    "why the numbers moved, then run the tests again without MOATLINE_UPDATE_GOLDEN")
    assert path.exists(), f"no golden file {path.name}: generate it with MOATLINE_UPDATE_GOLDEN=1"
    expected = json.loads(path.read_text(encoding="utf-8"))
    if report.dumps(expected) != report.dumps(actual):
        diffs = _differences(expected, actual)
        shown = "\n".join(diffs[:MAX_DIFFERENCES_SHOWN])
        pytest.fail(f"{scenario_id}: {len(diffs)} figure(s) differ from {path.name} (MOATLINE_UPDATE_GOLDEN=1 regenerates it "
                    f"after a deliberate change):\n{shown}")


def test_the_golden_game_is_the_same_game_twice() -> None:
    """The golden files can only mean something if the game they record is reproducible in-process."""
    sc = scenario(SCENARIO_IDS[0])
    assert report.dumps(golden_game(sc)) == report.dumps(golden_game(sc))
