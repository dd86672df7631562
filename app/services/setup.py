"""Setting up a game: check every choice an instructor makes, then create the game and its seats."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field

from sqlmodel import Session, select

from app.clock import now
from app.errors import SetupRejected
from app.lifecycle import CARRY_ON, absent_rule_problem, next_deadline
from app.models import GAME_NAME_MAX, Game, Seat
from app.scenario import PERSONAS, Scenario, find_scenario
from app.scenario.schema import MAX_WEIGHT, Scoring

JOIN_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I to misread on a projector
JOIN_CODE_LENGTH = 6
SEED_MAX = 2**53 - 1  # exact in JSON and JavaScript, so exports and scripts keep it
ROUND_MINUTES_MAX = 30 * 24 * 60
ROUNDS_MAX = 40
TEAM_SIZE_MAX = 20


@dataclass(frozen=True)
class GameSetup:
    """What an instructor chooses when creating a game."""

    name: str
    scenario_id: str
    seats: tuple[str | None, ...] | None = None  # per company: a persona, or None for a team; default: scenario's
    rounds: int | None = None
    seed: int | None = None
    practice_round: bool = False
    advance_mode: str = "manual"
    round_minutes: int | None = None
    absent_rule: str = CARRY_ON
    team_size_max: int = 5
    scoring: dict[str, float] = field(default_factory=dict)


def create_game(session: Session, instructor_id: int, setup: GameSetup) -> Game:
    """A new game from a shipped scenario; raises SetupRejected listing every problem with the setup."""
    scenario = find_scenario(setup.scenario_id)
    return create_game_from(session, instructor_id, scenario, _scenario_text(scenario), setup)


def create_game_from(session: Session, instructor_id: int, scenario: Scenario, text: str, setup: GameSetup,
                     commit: bool = True) -> Game:
    """A new game from a scenario and the exact text it was read from (a shipped file or an archive).
    With `commit=False` the game is only flushed, for a caller that commits it with more (an import)."""
    scoring = check_setup(setup, scenario)
    game = Game(
        instructor_id=instructor_id, name=setup.name.strip(), scenario_id=scenario.id,
        scenario_version=hashlib.sha256(text.encode()).hexdigest(), scenario_text=text,
        seed=setup.seed if setup.seed is not None else secrets.randbelow(2**31),
        rounds=setup.rounds or scenario.rounds, practice_round=setup.practice_round,
        advance_mode=setup.advance_mode, round_minutes=setup.round_minutes, absent_rule=setup.absent_rule,
        team_size_max=setup.team_size_max, scoring_json=scoring.model_dump_json(),
        join_code=_new_join_code(session), created_at=now(),
    )
    session.add(game)
    session.flush()
    assert game.id is not None
    seats = setup.seats if setup.seats is not None else tuple(c.persona for c in scenario.companies)
    for i, (company, persona) in enumerate(zip(scenario.companies, seats, strict=True)):
        session.add(Seat(game_id=game.id, company_index=i, company_name=company.name, persona=persona))
    game.deadline_at = next_deadline(game, 0, now())
    if commit:
        session.commit()
        session.refresh(game)
    else:
        session.flush()
    return game


def check_setup(setup: GameSetup, scenario: Scenario) -> Scoring:
    """The game's scorecard if the setup is sound; else SetupRejected with every problem at its field."""
    problems = _problems(setup, scenario)
    scoring = _scoring(scenario, setup.scoring, problems)
    if problems:
        raise SetupRejected(problems)
    return scoring


def _problems(setup: GameSetup, scenario: Scenario) -> list[tuple[str, str]]:
    return [*_name_problems(setup.name), *_seat_problems(setup, scenario), *_schedule_problems(setup)]


def _name_problems(name: str) -> list[tuple[str, str]]:
    if not name.strip():
        return [("name", "Give the game a name.")]
    if len(name.strip()) > GAME_NAME_MAX:
        return [("name", f"Keep the name to {GAME_NAME_MAX} characters (it has {len(name.strip())}).")]
    return []


def _seat_problems(setup: GameSetup, scenario: Scenario) -> list[tuple[str, str]]:
    out = []
    if setup.seats is not None and len(setup.seats) != len(scenario.companies):
        out.append(("seats", f"{scenario.name} has {len(scenario.companies)} companies; choose a player for each."))
    bad = [(i, s) for i, s in enumerate(setup.seats or ()) if s is not None and s not in PERSONAS]
    out += [(f"seats.{i}", f"Unknown persona {s!r}; choose from {', '.join(PERSONAS)}.") for i, s in bad]
    if problem := absent_rule_problem(setup.absent_rule):
        out.append(("absent_rule", problem))
    if not 1 <= setup.team_size_max <= TEAM_SIZE_MAX:
        out.append(("team_size_max", f"A team has between 1 and {TEAM_SIZE_MAX} students."))
    return out


def _schedule_problems(setup: GameSetup) -> list[tuple[str, str]]:
    out = []
    if setup.rounds is not None and not 1 <= setup.rounds <= ROUNDS_MAX:
        out.append(("rounds", f"A game has between 1 and {ROUNDS_MAX} rounds."))
    if setup.advance_mode not in {"manual", "deadline"}:
        out.append(("advance_mode", "Advance rounds by hand ('manual') or at a deadline ('deadline')."))
    if setup.advance_mode == "deadline" and not (setup.round_minutes or 0) >= 1:
        out.append(("round_minutes", "A deadline game needs the minutes each round lasts (at least 1)."))
    elif (setup.round_minutes or 0) > ROUND_MINUTES_MAX:
        out.append(("round_minutes", f"A round lasts at most {ROUND_MINUTES_MAX:,} minutes (30 days)."))
    if setup.seed is not None and not 0 <= setup.seed <= SEED_MAX:
        out.append(("seed", f"The seed is a whole number from 0 to {SEED_MAX:,}."))
    return out


def _scoring(scenario: Scenario, weights: dict[str, float], problems: list[tuple[str, str]]) -> Scoring:
    base = scenario.scoring.weights()
    unknown = [k for k in weights if k not in base]
    problems += [("scoring", f"There is no scorecard metric {k!r}.") for k in unknown]
    negative = [k for k, v in weights.items() if not v >= 0]
    problems += [(f"scoring.{k}", f"The weight of {k} cannot be negative.") for k in negative]
    huge = [k for k, v in weights.items() if v > MAX_WEIGHT]
    problems += [(f"scoring.{k}", f"The weight of {k} can be at most {MAX_WEIGHT:,.0f}.") for k in huge]
    if unknown or negative or huge:
        return scenario.scoring
    merged = {**base, **weights}
    if sum(merged.values()) <= 0:
        problems.append(("scoring", "At least one scorecard weight must be above zero."))
        return scenario.scoring
    return Scoring.model_validate({**scenario.scoring.model_dump(), **weights})


def _scenario_text(scenario: Scenario) -> str:
    from app.scenario.loader import SCENARIO_DIR

    return (SCENARIO_DIR / f"{scenario.id}.yaml").read_text(encoding="utf-8")


def _new_join_code(session: Session) -> str:
    while True:
        code = "".join(secrets.choice(JOIN_ALPHABET) for _ in range(JOIN_CODE_LENGTH))
        if session.exec(select(Game).where(Game.join_code == code)).first() is None:
            return code
