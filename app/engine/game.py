"""One game, as a class plays it: scenario + seed + seats + every round's decisions, replayable
exactly."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

from app.engine import personas
from app.engine.decisions import Decision, DecisionArrays, to_arrays
from app.engine.rng import run_seeds
from app.engine.rules.market import Choice
from app.engine.start import initial_state, opening_choice
from app.engine.state import State
from app.engine.step import Outcome, step
from app.engine.world import World
from app.scenario.schema import Scenario


@dataclass(frozen=True)
class RoundInput:
    """What was decided for one round: players' decisions by company name, personas standing in for
    absent teams by company name, and events an instructor injected (indices into the scenario's
    catalogue)."""

    decisions: dict[str, Decision] = field(default_factory=dict)
    injected_events: tuple[int, ...] = ()
    stand_ins: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class GameRecord:
    """Everything that determines a game. Seats: a persona name for a computer-run company, None for
    a team."""

    scenario: Scenario
    seed: int
    seats: tuple[str | None, ...]
    rounds: tuple[RoundInput, ...] = ()
    aggressiveness: tuple[float, ...] = ()

    def persona_seats(self, stand_ins: dict[str, str] | None = None) -> np.ndarray:
        """Persona index per seat; a team seat plays its stand-in persona if it has one, else its
        scenario persona (whose decision is then replaced by the team's)."""
        stand_ins = stand_ins or {}
        names = [
            s or stand_ins.get(c.name) or c.persona
            for s, c in zip(self.seats, self.scenario.companies, strict=True)
        ]
        return np.array([personas.persona_index(n) for n in names])


@dataclass(frozen=True, eq=False)
class PlayedRound:
    before: State
    after: State
    outcome: Outcome
    decisions: DecisionArrays
    previous_choice: Choice


def new_world(scenario: Scenario) -> World:
    return World(scenario)


def start(world: World, seed: int) -> State:
    return initial_state(world, run_seeds(seed, 1))


def seats_for(scenario: Scenario, teams: set[str] | None = None) -> tuple[str | None, ...]:
    """Default seats: named companies are teams, the rest play their scenario persona."""
    teams = teams or set()
    return tuple(None if c.name in teams else c.persona for c in scenario.companies)


def decide_round(
    world: World,
    state: State,
    record: GameRecord,
    given: RoundInput,
    previous: DecisionArrays | None,
    last_player: dict[str, Decision],
) -> DecisionArrays:
    """Persona seats decide; teams use what they submitted, or carry on from their last decision."""
    aggr = np.array(record.aggressiveness or [personas.DEFAULT_AGGRESSIVENESS] * len(record.seats))
    auto = personas.decide(world, state, record.persona_seats(given.stand_ins), aggr, previous)
    team = np.array(
        [
            s is None and n not in given.stand_ins
            for s, n in zip(record.seats, world.company_names, strict=True)
        ]
    )
    if not team.any():
        return auto
    chosen = [
        given.decisions.get(n) or (last_player[n].carried_on() if n in last_player else Decision())
        for n in world.company_names
    ]
    chosen = [d if t else Decision() for d, t in zip(chosen, team, strict=True)]
    by_team = to_arrays(chosen, world, state.base, state.prices, state.api_price, state.staff)
    return by_team.where(team[None, :], auto)


def injected_mask(world: World, given: RoundInput) -> np.ndarray | None:
    if not given.injected_events:
        return None
    mask = np.zeros((1, len(world.scenario.events)), bool)
    mask[0, list(given.injected_events)] = True
    return mask


def replay(record: GameRecord, world: World | None = None) -> list[PlayedRound]:
    """Rebuild every round of a game from its record; the same record always gives the same
    rounds."""
    return list(rounds_of(record, world))


def rounds_of(record: GameRecord, world: World | None = None) -> Iterator[PlayedRound]:
    """The game's rounds one at a time, each resolved from the state the previous one left (one step
    a round): a caller can check, store or stop between rounds at no extra cost."""
    world = world or World(record.scenario)
    state, previous = start(world, record.seed), None
    last_player: dict[str, Decision] = {}
    choice = opening_choice(world)
    for given in record.rounds:
        d = decide_round(world, state, record, given, previous, last_player)
        after, outcome = step(world, state, d, injected_mask(world, given))
        yield PlayedRound(state, after, outcome, d, choice)
        last_player.update({n: given.decisions[n] for n in given.decisions})
        state, previous, choice = after, d, outcome.choice


def autoplay(
    scenario: Scenario,
    seed: int,
    seats: tuple[str | None, ...] | None = None,
    rounds: int | None = None,
) -> GameRecord:
    """A record of a whole game played by personas (teams that never submit carry on)."""
    n = scenario.rounds if rounds is None else rounds
    return GameRecord(
        scenario, seed, seats or seats_for(scenario), tuple(RoundInput() for _ in range(n))
    )
