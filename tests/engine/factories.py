"""Test data for the engine: shipped scenarios, their worlds, and states a few rounds into a game.

Scenarios and worlds are frozen, so they are loaded once; every state is built afresh per call.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Iterator
from typing import TypeVar

import numpy as np

from app.engine import personas
from app.engine.decisions import (
    ComputeDecision,
    Decision,
    DecisionArrays,
    ProductDecision,
    TalentDecision,
    TuningDecision,
)
from app.engine.game import GameRecord, RoundInput
from app.engine.rng import run_seeds
from app.engine.start import initial_state
from app.engine.state import State
from app.engine.step import step
from app.engine.world import World
from app.scenario import Scenario, load_scenario
from app.scenario.loader import SCENARIO_DIR

Replicable = TypeVar("Replicable", State, DecisionArrays)
SCENARIO_IDS: tuple[str, ...] = tuple(sorted(p.stem for p in SCENARIO_DIR.glob("*.yaml")))


@functools.cache
def scenario(scenario_id: str) -> Scenario:
    return load_scenario(SCENARIO_DIR / f"{scenario_id}.yaml")


@functools.cache
def world(scenario_id: str) -> World:
    return World(scenario(scenario_id))


def scenario_seats(w: World) -> np.ndarray:
    """Persona index of every seat as the scenario casts it."""
    return np.array([personas.persona_index(c.persona) for c in w.scenario.companies])


def even_aggressiveness(w: World) -> np.ndarray:
    return np.full(w.n_companies, personas.DEFAULT_AGGRESSIVENESS)


def persona_game(w: World, rounds: int, seed: int, runs: int = 1, seats: np.ndarray | None = None) -> tuple[State, DecisionArrays]:
    """The state after `rounds` rounds played by personas, and the personas' decisions for the next round."""
    seats = scenario_seats(w) if seats is None else seats
    aggressiveness = even_aggressiveness(w)
    state, previous = initial_state(w, run_seeds(seed, runs)), None
    decisions = personas.decide(w, state, seats, aggressiveness, previous)
    for _ in range(rounds):
        state, _ = step(w, state, decisions)
        previous = decisions
        decisions = personas.decide(w, state, seats, aggressiveness, previous)
    return state, decisions


def float_arrays(obj: object, prefix: str = "") -> Iterator[tuple[str, np.ndarray]]:
    """Every floating-point array inside a (nested) dataclass or dict, with its dotted name."""
    if isinstance(obj, np.ndarray):
        if obj.dtype.kind == "f":
            yield prefix, obj
    elif dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        for f in dataclasses.fields(obj):
            yield from float_arrays(getattr(obj, f.name), f"{prefix}.{f.name}" if prefix else f.name)
    elif isinstance(obj, dict):
        for key, value in obj.items():
            yield from float_arrays(value, f"{prefix}[{key}]")


def not_finite(obj: object, prefix: str = "") -> list[str]:
    """Names of the float arrays in `obj` that hold a NaN or an infinity."""
    return [name for name, a in float_arrays(obj, prefix) if not np.isfinite(a).all()]


def replicate(obj: Replicable, runs: int, run: int = 0) -> Replicable:
    """`runs` identical copies of one replication (same seed, same draws), to sweep one input across runs."""
    arrays = {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}
    return obj.replace(**{k: np.repeat(v[run : run + 1], runs, axis=0) for k, v in arrays.items() if isinstance(v, np.ndarray)})


def simple_decision(w: World, company: int) -> Decision:
    """A plain, affordable decision a team might submit every round: keep the team, price a little under
    the reference, modest SFT, safety and marketing, serve with retrieval."""
    sc, start = w.scenario, w.scenario.companies[company]
    segments = sc.market.segments
    return Decision(
        compute=ComputeDecision(serving_share=0.7),
        talent=TalentDecision(researchers=start.researchers, engineers=start.engineers, safety_staff=start.safety_staff, pay_level=1.0),
        tuning=TuningDecision(sft_musd={segments[0].id: 5.0}, safety_musd=10.0, retrieval=True),
        products=ProductDecision(prices={s.id: round(0.9 * s.reference_price, 2) for s in segments}, marketing_musd=5.0),
    )


def all_team_record(w: World, seed: int, rounds: int | None = None, changes: dict[tuple[int, str], Decision] | None = None) -> GameRecord:
    """A game with no personas: every company submits `simple_decision` every round, except the
    (round, company) decisions given in `changes`."""
    n = w.scenario.rounds if rounds is None else rounds
    changes = changes or {}
    plain = {name: simple_decision(w, c) for c, name in enumerate(w.company_names)}
    return GameRecord(
        w.scenario, seed, tuple(None for _ in w.company_names),
        tuple(RoundInput(decisions={name: changes.get((r, name), plain[name]) for name in w.company_names}) for r in range(1, n + 1)),
    )
