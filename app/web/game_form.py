"""The new-game form: its defaults from a scenario, reading what was typed into a GameSetup, problems by field."""

from __future__ import annotations

import math
import secrets
from functools import lru_cache
from typing import Any

from app.lifecycle import CARRY_ON
from app.scenario import PERSONAS, Scenario, list_scenarios
from app.scenario import scorecard as scoring
from app.services.setup import SEED_MAX, GameSetup

TEAM = "team"
NEW_SEED_BELOW = 2**31  # a prefilled seed short enough to read out in class
WEIGHTS = scoring.METRICS
WEIGHT_LABELS = scoring.METRIC_LABELS
FIELD_LABELS = {"name": "Game name", "scenario": "Scenario", "seats": "Companies", "rounds": "Rounds",
                "advance_mode": "How rounds advance", "round_minutes": "Minutes per round", "absent_rule": "Teams that miss a round",
                "team_size_max": "Students per team", "weights": "Scorecard weights", "seed": "Seed",
                **{f"weight_{k}": f"{v} weight" for k, v in WEIGHT_LABELS.items()}}


@lru_cache(maxsize=1)
def shipped_scenarios() -> dict[str, Scenario]:
    """The scenarios shipped with Moatline, by id (read once per process)."""
    return {s.id: s for s in list_scenarios()}


def persona_label(persona: str | None) -> str:
    if persona is None:
        return "A team of students"
    return "Computer: " + persona.replace("_", " ") + (" (makes no moves)" if persona == "idle" else "")


def scenario_or_default(scenario_id: str) -> Scenario:
    shipped = shipped_scenarios()
    return shipped.get(scenario_id) or shipped[sorted(shipped)[0]]


def default_form(scenario: Scenario) -> dict[str, str]:
    """What the form shows before anything is typed: every company a team, the scenario's rounds and scorecard."""
    weights = scenario.scoring.weights()
    return {"name": "", "scenario": scenario.id, "rounds": str(scenario.rounds), "advance_mode": "manual",
            "round_minutes": "", "absent_rule": CARRY_ON, "team_size_max": "5", "seed": str(secrets.randbelow(NEW_SEED_BELOW)),
            **{f"seat_{i}": TEAM for i in range(len(scenario.companies))},
            **{f"weight_{k}": _number(weights[k]) for k in WEIGHTS}}


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def parse_setup(typed: dict[str, str], scenario: Scenario) -> tuple[GameSetup, dict[str, str]]:
    """The GameSetup a form describes, and what could not be read (a word where a number goes), by field."""
    problems: dict[str, str] = {}
    seats = tuple(None if typed.get(f"seat_{i}", TEAM) == TEAM else typed.get(f"seat_{i}") for i in range(len(scenario.companies)))
    weights = {k: w for k in WEIGHTS if (w := _decimal(typed, f"weight_{k}", problems)) is not None}
    setup = GameSetup(
        name=typed.get("name", ""), scenario_id=scenario.id, seats=seats,
        rounds=_whole(typed, "rounds", problems, "Enter a whole number of rounds, from 1 to 40."),
        seed=_seed(typed, problems), practice_round=typed.get("practice_round") == "on",
        advance_mode=typed.get("advance_mode", "manual"),
        round_minutes=_whole(typed, "round_minutes", problems, "Enter the minutes as a whole number, such as 20."),
        absent_rule=typed.get("absent_rule", CARRY_ON),
        team_size_max=_whole(typed, "team_size_max", problems, "Enter a whole number of students, from 1 to 20.") or 5,
        scoring=weights,
    )
    return setup, problems


def _whole(typed: dict[str, str], key: str, problems: dict[str, str], message: str) -> int | None:
    text = typed.get(key, "").strip()
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        problems[key] = message
        return None


def _decimal(typed: dict[str, str], key: str, problems: dict[str, str]) -> float | None:
    text = typed.get(key, "").strip()
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        problems[key] = "Enter a number, 0 or more." if text else "Enter a weight (0 leaves the metric out)."
        return None
    return value


def _seed(typed: dict[str, str], problems: dict[str, str]) -> int | None:
    text = typed.get("seed", "").strip()
    if text.isdigit() and int(text) <= SEED_MAX:
        return int(text)
    problems["seed"] = f"Enter a whole number from 0 to {SEED_MAX:,}; the same seed deals the same luck."
    return None


def form_problems(service: dict[str, str]) -> dict[str, str]:
    """The service's problems (`seats.2`, `scoring.brand`) under the form's field names (`seat_2`, `weight_brand`)."""
    out = {}
    for where, message in service.items():
        head, _, tail = where.partition(".")
        name = {"seats": f"seat_{tail}", "scoring": f"weight_{tail}"}.get(head, head) if tail else {"scoring": "weights"}.get(head, head)
        out[name] = message
    return out


def in_form_order(problems: dict[str, str], scenario: Scenario) -> dict[str, str]:
    """Problems in the order their fields appear, so the summary at the top reads like the form."""
    order = ["name", "scenario", "seats", *(f"seat_{i}" for i in range(len(scenario.companies))), "rounds", "weights",
             *(f"weight_{k}" for k in WEIGHTS), "advance_mode", "round_minutes", "team_size_max", "absent_rule", "seed"]
    return dict(sorted(problems.items(), key=lambda item: order.index(item[0]) if item[0] in order else len(order)))


def form_context(scenario: Scenario, typed: dict[str, str], problems: dict[str, str]) -> dict[str, Any]:
    return {"nav": "new_game", "scenario": scenario, "scenario_options": [(s.id, s.name) for s in shipped_scenarios().values()], "form": typed,
            "problems": problems, "labels": FIELD_LABELS, "weights": WEIGHTS, "weight_labels": WEIGHT_LABELS,
            "seat_options": [(TEAM, persona_label(None)), *((p, persona_label(p)) for p in PERSONAS)],
            "absent_options": absent_options()}


def absent_options() -> list[tuple[str, str]]:
    """What can happen to teams that have not submitted when a round is resolved."""
    return [(CARRY_ON, "Carry on with their last decisions"), *((p, "Are played by the computer: " + p.replace("_", " ")) for p in PERSONAS)]
