"""A demo game per scenario: computer-run personas in every seat, replayed from its seed on demand."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.engine.game import autoplay, replay
from app.engine.report import round_report
from app.engine.world import World
from app.scenario import Scenario

DEMO_SEED = 2026


@dataclass(frozen=True)
class DemoGame:
    scenario: Scenario
    seed: int
    reports: tuple[dict[str, Any], ...]  # one per round

    def report(self, rnd: int) -> dict[str, Any]:
        return self.reports[max(1, min(rnd, len(self.reports))) - 1]


_CACHE: dict[tuple[str, str], DemoGame] = {}


def demo_game(scenario: Scenario, version: str) -> DemoGame:
    """The scenario's demo game, computed once per scenario file version."""
    key = (scenario.id, version)
    if key not in _CACHE:
        _CACHE[key] = _play(scenario)
    return _CACHE[key]


def _play(scenario: Scenario) -> DemoGame:
    world = World(scenario)
    played = replay(autoplay(scenario, DEMO_SEED), world)
    return DemoGame(scenario, DEMO_SEED, tuple(round_report(world, p) for p in played))
