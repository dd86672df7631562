"""A demo game per scenario: computer-run personas in every seat, replayed from its seed on demand."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, select

from app.engine.decisions import Decision, ProductDecision
from app.engine.game import autoplay, replay
from app.engine.report import round_report
from app.engine.world import World
from app.models import Instructor
from app.scenario import Scenario, find_scenario
from app.services import accounts, drafts, games, rounds, setup, students

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


DEMO_EMAIL = "demo@moatline.local"
DEMO_PASSWORD = "moatline-demo"  # development only: `moatline serve` never creates it elsewhere
DEMO_TEAMS = ("Aurora AI", "Echo")
DEMO_ROUNDS_PLAYED = 2


def ensure_demo_classroom(session: Session) -> str:
    """A demo instructor with a demo class (two teams, two rounds played) so a new installation has something to
    open; created once. Returns the demo account's email."""
    if session.exec(select(Instructor).where(Instructor.email == DEMO_EMAIL)).first() is not None:
        return DEMO_EMAIL
    person = accounts.sign_up(session, accounts.InstructorCreate(email=DEMO_EMAIL, display_name="Demo instructor", password=DEMO_PASSWORD))
    scenario = find_scenario("frontier-race")
    seats = tuple(None if c.name in DEMO_TEAMS else c.persona for c in scenario.companies)
    game = setup.create_game(session, person.id or 0, setup.GameSetup(name="Demo class", scenario_id=scenario.id, seats=seats, seed=DEMO_SEED))
    team_seats = [s for s in games.seats_of(session, game) if s.persona is None]
    for seat, name in zip(team_seats, ("Ada", "Ben"), strict=True):
        students.join(session, game, seat.id, name)
    for rnd in range(DEMO_ROUNDS_PLAYED):
        current = games.get_game(session, game.id or 0)
        for seat in team_seats:
            decision = Decision(products=ProductDecision(prices={"consumer": 3.5 - 0.2 * rnd}))
            drafts.save_draft(session, current, seat, decision, 0, "demo")
            drafts.set_submitted(session, current, seat, True)
        rounds.advance(session, game.id or 0, rnd)
    return DEMO_EMAIL
