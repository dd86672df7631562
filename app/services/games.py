"""Games in the database: set up, decide, advance (atomically and once), rewind, verify.

Thin by design: load rows, call the engine, save. A game is its scenario snapshot, its seed, its seats
and every resolved round's inputs; stored reports are a cache that `verify` rebuilds and compares.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from app import revisions
from app.engine.decisions import Decision
from app.engine.game import GameRecord, PlayedRound, RoundInput, replay
from app.engine.report import dumps, round_report
from app.engine.world import World
from app.models import GAME_NAME_MAX, Game, InjectedEvent, RoundResult, Seat, Student, TeamDecision
from app.scenario import PERSONAS, Scenario, find_scenario, parse_scenario
from app.scenario.schema import Scoring
from app.services.cache import cached
from app.services.clock import aware, now

JOIN_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I to misread on a projector
JOIN_CODE_LENGTH = 6
CARRY_ON = "carry_on"


class GameError(Exception):
    """Something a user asked for that cannot be done, in words to show them."""


class GameNotFound(GameError):
    """No game has that number (or it is not the caller's)."""


class SetupRejected(GameError):
    """Every problem with a game's setup, by the GameSetup field it belongs to (`seats.2`, `scoring.brand`)."""

    def __init__(self, problems: list[tuple[str, str]]):
        super().__init__(" ".join(message for _, message in problems))
        self.problems: dict[str, str] = {}
        for where, message in problems:
            self.problems[where] = f"{self.problems[where]} {message}" if where in self.problems else message


class RoundAlreadyResolved(GameError):
    """The round was resolved by someone else first (two clicks, two instructors, two servers)."""


class StaleDraft(GameError):
    """A teammate saved a newer version of the draft since this one was loaded."""

    def __init__(self, message: str, current: TeamDecision):
        super().__init__(message)
        self.current = current


T = TypeVar("T")
ROW_ID_MAX = 2**63 - 1  # the largest id a table can hold (SQLite INTEGER, PostgreSQL BIGINT)
SEED_MAX = 2**53 - 1  # exact in JSON and JavaScript, so exports and scripts keep it
ROUND_MINUTES_MAX = 30 * 24 * 60

@dataclass(frozen=True)
class GameSetup:
    """What an instructor chooses when creating a game."""

    name: str
    scenario_id: str
    seats: tuple[str | None, ...] | None = None  # per company: a persona, or None for a team; default: scenario personas
    rounds: int | None = None
    seed: int | None = None
    practice_round: bool = False
    advance_mode: str = "manual"
    round_minutes: int | None = None
    absent_rule: str = CARRY_ON
    team_size_max: int = 5
    scoring: dict[str, float] = field(default_factory=dict)


def _problems(setup: GameSetup, scenario: Scenario) -> list[tuple[str, str]]:
    out = []
    if not setup.name.strip():
        out.append(("name", "Give the game a name."))
    elif len(setup.name.strip()) > GAME_NAME_MAX:
        out.append(("name", f"Keep the name to {GAME_NAME_MAX} characters (it has {len(setup.name.strip())})."))
    if setup.seats is not None and len(setup.seats) != len(scenario.companies):
        out.append(("seats", f"{scenario.name} has {len(scenario.companies)} companies; choose a player for each."))
    bad = [(i, s) for i, s in enumerate(setup.seats or ()) if s is not None and s not in PERSONAS]
    out += [(f"seats.{i}", f"Unknown persona {s!r}; choose from {', '.join(PERSONAS)}.") for i, s in bad]
    if setup.rounds is not None and not 1 <= setup.rounds <= 40:
        out.append(("rounds", "A game has between 1 and 40 rounds."))
    if setup.advance_mode not in {"manual", "deadline"}:
        out.append(("advance_mode", "Advance rounds by hand ('manual') or at a deadline ('deadline')."))
    if setup.advance_mode == "deadline" and not (setup.round_minutes or 0) >= 1:
        out.append(("round_minutes", "A deadline game needs the minutes each round lasts (at least 1)."))
    elif (setup.round_minutes or 0) > ROUND_MINUTES_MAX:
        out.append(("round_minutes", f"A round lasts at most {ROUND_MINUTES_MAX:,} minutes (30 days)."))
    if setup.seed is not None and not 0 <= setup.seed <= SEED_MAX:
        out.append(("seed", f"The seed is a whole number from 0 to {SEED_MAX:,}."))
    if problem := _absent_rule_problem(setup.absent_rule):
        out.append(("absent_rule", problem))
    if not 1 <= setup.team_size_max <= 20:
        out.append(("team_size_max", "A team has between 1 and 20 students."))
    return out


def create_game(session: Session, instructor_id: int, setup: GameSetup) -> Game:
    """A new game from a shipped scenario; raises GameError listing every problem with the setup."""
    scenario = find_scenario(setup.scenario_id)
    return create_game_from(session, instructor_id, scenario, _scenario_text(scenario), setup)


def create_game_from(session: Session, instructor_id: int, scenario: Scenario, text: str, setup: GameSetup) -> Game:
    """A new game from a scenario and the exact text it was read from (a shipped file or an archive)."""
    scoring = check_setup(setup, scenario)
    game = Game(
        instructor_id=instructor_id, name=setup.name.strip(), scenario_id=scenario.id,
        scenario_version=hashlib.sha256(text.encode()).hexdigest(), scenario_text=text,
        seed=setup.seed if setup.seed is not None else secrets.randbelow(2**31), rounds=setup.rounds or scenario.rounds,
        practice_round=setup.practice_round, advance_mode=setup.advance_mode, round_minutes=setup.round_minutes,
        absent_rule=setup.absent_rule, team_size_max=setup.team_size_max, scoring_json=scoring.model_dump_json(),
        join_code=_new_join_code(session), created_at=now(),
    )
    session.add(game)
    session.flush()
    assert game.id is not None
    seats = setup.seats if setup.seats is not None else tuple(c.persona for c in scenario.companies)
    for i, (company, persona) in enumerate(zip(scenario.companies, seats, strict=True)):
        session.add(Seat(game_id=game.id, company_index=i, company_name=company.name, persona=persona))
    game.deadline_at = _next_deadline(game, 0)
    session.commit()
    session.refresh(game)
    return game


def check_setup(setup: GameSetup, scenario: Scenario) -> Scoring:
    """The game's scorecard if the setup is sound; else SetupRejected with every problem at its field."""
    problems = _problems(setup, scenario)
    scoring = _scoring(scenario, setup.scoring, problems)
    if problems:
        raise SetupRejected(problems)
    return scoring


def _scoring(scenario: Scenario, weights: dict[str, float], problems: list[tuple[str, str]]) -> Scoring:
    base = scenario.scoring.model_dump()
    unknown = [k for k in weights if k not in base or k == "ranges"]
    problems += [("scoring", f"There is no scorecard metric {k!r}.") for k in unknown]
    negative = [k for k, v in weights.items() if v < 0]
    problems += [(f"scoring.{k}", f"The weight of {k} cannot be negative.") for k in negative]
    if unknown or negative:
        return scenario.scoring
    merged = {**base, **weights}
    if sum(v for k, v in merged.items() if k != "ranges") <= 0:
        problems.append(("scoring", "At least one scorecard weight must be above zero."))
        return scenario.scoring
    return Scoring.model_validate(merged)


def _scenario_text(scenario: Scenario) -> str:
    from app.scenario.loader import SCENARIO_DIR

    return (SCENARIO_DIR / f"{scenario.id}.yaml").read_text(encoding="utf-8")


def _new_join_code(session: Session) -> str:
    while True:
        code = "".join(secrets.choice(JOIN_ALPHABET) for _ in range(JOIN_CODE_LENGTH))
        if session.exec(select(Game).where(Game.join_code == code)).first() is None:
            return code


def row_by_id(session: Session, table: type[T], row_id: int) -> T | None:
    """A row by its id; None for an id no table could hold (a typed-in 10**23), instead of a driver error."""
    return session.get(table, row_id) if 0 < row_id <= ROW_ID_MAX else None


def get_game(session: Session, game_id: int) -> Game:
    game = row_by_id(session, Game, game_id)
    if game is None:
        raise GameNotFound(f"There is no game {game_id}.")
    return game


def owned_game(session: Session, game_id: int, instructor_id: int) -> Game:
    """A game of this instructor's; anyone else's is GameNotFound, exactly as if it did not exist."""
    game = row_by_id(session, Game, game_id)
    if game is None or game.instructor_id != instructor_id:
        raise GameNotFound(f"There is no game {game_id}.")
    return game


def games_of(session: Session, instructor_id: int) -> list[Game]:
    """An instructor's games, newest first."""
    return list(session.exec(select(Game).where(Game.instructor_id == instructor_id).order_by(col(Game.created_at).desc(), col(Game.id).desc())))


def seats_of(session: Session, game: Game) -> list[Seat]:
    return list(session.exec(select(Seat).where(Seat.game_id == game.id).order_by(col(Seat.company_index))))


def scenario_of(game: Game) -> Scenario:
    """The game's own scenario: its snapshot, with the game's rounds and scorecard."""
    scenario = _parsed(game.scenario_version, game.scenario_text)
    return scenario.model_copy(update={"rounds": game.rounds, "scoring": Scoring.model_validate_json(game.scoring_json)})


_PARSED: dict[str, Scenario] = {}


def _parsed(version: str, text: str) -> Scenario:
    if version not in _PARSED:
        _PARSED[version] = parse_scenario(text, f"scenario {version[:12]}")
    return _PARSED[version]


# --- decisions -------------------------------------------------------------------------------------


def draft_of(session: Session, seat: Seat, rnd: int) -> TeamDecision | None:
    return session.exec(select(TeamDecision).where(TeamDecision.seat_id == seat.id, TeamDecision.round == rnd)).first()


def save_draft(session: Session, game: Game, seat: Seat, decision: Decision, base_version: int, who: str,
               for_round: int | None = None) -> TeamDecision:
    """Save a team's draft for the coming round. `base_version` is the version the editor started from (0 for
    none); if a teammate saved since, nothing is overwritten and StaleDraft says who did. `for_round`, the round
    the editor was deciding, is refused if the game has moved on (or back) since."""
    _require_open(game)
    _require_round(game, for_round)
    if not 0 <= base_version <= ROW_ID_MAX:
        raise GameError(f"There is no draft version {base_version}; reload the page.")
    if seat.persona is not None:
        raise GameError(f"{seat.company_name} is played by the computer.")
    rnd = game.current_round + 1
    row = draft_of(session, seat, rnd)
    payload = decision.model_dump_json()
    if row is None:
        if base_version != 0:
            raise GameError("That draft no longer exists; reload the page.")
        row = TeamDecision(game_id=game.id or 0, seat_id=seat.id or 0, round=rnd, payload=payload, updated_by=who, updated_at=now())
        session.add(row)
        try:
            session.commit()
        except IntegrityError:
            session.rollback()
            current = draft_of(session, seat, rnd)
            assert current is not None
            raise StaleDraft(f"{current.updated_by} saved this decision a moment ago; your changes were not saved.", current) from None
        session.refresh(row)
        return row
    if row.submitted:
        raise GameError("Your team has submitted; unsubmit to change the decision.")
    updated = session.execute(
        update(TeamDecision).where(col(TeamDecision.id) == row.id, col(TeamDecision.version) == base_version)
        .values(payload=payload, version=base_version + 1, updated_by=who, updated_at=now())
    )
    if updated.rowcount != 1:  # type: ignore[attr-defined]
        session.rollback()
        current = draft_of(session, seat, rnd)
        assert current is not None
        session.refresh(current)
        raise StaleDraft(f"{current.updated_by} changed this decision since you opened it (version {current.version}); "
                         "your changes were not saved.", current)
    revisions.bump(session, seats=[row.seat_id])
    session.commit()
    session.refresh(row)
    return row


def set_submitted(session: Session, game: Game, seat: Seat, submitted: bool, for_round: int | None = None) -> TeamDecision:
    """Submit the team's draft for the coming round, or take the submission back before the round is resolved."""
    _require_open(game)
    _require_round(game, for_round)
    row = draft_of(session, seat, game.current_round + 1)
    if row is None:
        raise GameError("There is no decision to submit yet: save a draft first.")
    row.submitted = submitted
    row.updated_at = now()
    session.add(row)
    session.commit()
    session.refresh(row)
    return row


class RoundMoved(GameError):
    """A decision was made for a round that is no longer the open one (resolved or rewound meanwhile)."""


def _require_round(game: Game, for_round: int | None) -> None:
    open_round = game.current_round + 1
    if for_round is not None and for_round != open_round:
        happened = f"round {for_round} has been resolved" if for_round < open_round else f"round {open_round} has been rewound"
        raise RoundMoved(f"While this page was open, {happened}: nothing was saved. Reload to decide round {open_round}.")


def is_over(game: Game) -> bool:
    """Whether nothing is left to decide: the instructor ended the game, or every round has been played."""
    return game.status == "ended" or (game.current_round >= game.rounds and not practice_over(game))


def practice_over(game: Game) -> bool:
    """Whether the practice round has been resolved and the game waits for the instructor to start it for real
    (`finish_practice`): its results can be read, but nothing can be decided and no clock runs."""
    return game.practice_round and game.current_round == 1 and game.status != "ended"


def is_deciding(game: Game) -> bool:
    """Whether a round is open for the teams' decisions."""
    return not is_over(game) and not practice_over(game)


def _require_open(game: Game) -> None:
    if game.status == "ended":
        raise GameError("This game has ended.")
    if practice_over(game):
        raise GameError("The practice round is over: your instructor will start the game for real in a moment.")
    if is_over(game):
        raise GameError("Every round of this game has been played.")


# --- rounds ----------------------------------------------------------------------------------------


def record_of(session: Session, game: Game, extra: RoundInput | None = None) -> GameRecord:
    """The engine's record of the game: its resolved rounds' inputs, plus one more round if given."""
    seats = seats_of(session, game)
    results = session.exec(select(RoundResult).where(RoundResult.game_id == game.id).order_by(col(RoundResult.round)))
    rounds = [round_input_from_json(json.loads(r.inputs)) for r in results]
    if extra is not None:
        rounds.append(extra)
    return GameRecord(scenario_of(game), game.seed, tuple(s.persona for s in seats), tuple(rounds),
                      tuple(s.aggressiveness for s in seats))


def round_input_from_json(data: dict[str, Any]) -> RoundInput:
    return RoundInput(decisions={k: Decision.model_validate(v) for k, v in data["decisions"].items()},
                      injected_events=tuple(data["injected"]), stand_ins=dict(data["stand_ins"]))


def _inputs_json(given: RoundInput) -> str:
    return json.dumps({"decisions": {k: v.model_dump(mode="json") for k, v in given.decisions.items()},
                       "injected": list(given.injected_events), "stand_ins": given.stand_ins}, sort_keys=True)


def next_round_input(session: Session, game: Game) -> RoundInput:
    """What the coming round will be resolved with: submitted decisions, stand-ins for the rest, queued events."""
    rnd = game.current_round + 1
    decisions, stand_ins = {}, {}
    for seat in seats_of(session, game):
        if seat.persona is not None:
            continue
        row = draft_of(session, seat, rnd)
        if row is not None and row.submitted:
            decisions[seat.company_name] = Decision.model_validate_json(row.payload)
        elif game.absent_rule != CARRY_ON:
            stand_ins[seat.company_name] = game.absent_rule
    events = session.exec(select(InjectedEvent).where(InjectedEvent.game_id == game.id, InjectedEvent.round == rnd))
    return RoundInput(decisions=decisions, injected_events=tuple(sorted(e.event_index for e in events)), stand_ins=stand_ins)


def advance(session: Session, game_id: int, expected_round: int, absent_rule: str | None = None) -> RoundResult:
    """Resolve the round after `expected_round`, exactly once: the result and the game's new round are saved
    in one transaction, which fails if anyone resolved it first. A crash leaves the previous round intact.
    `absent_rule`, if given, is what happens to teams that did not submit, from this round on."""
    if absent_rule is not None:
        if problem := _absent_rule_problem(absent_rule):
            raise GameError(problem)
        game = get_game(session, game_id)
        game.absent_rule = absent_rule
        session.add(game)
        session.flush()  # committed with the round, or rolled back with it
    return advance_with(session, game_id, expected_round, None)


def _absent_rule_problem(rule: str) -> str | None:
    if rule == CARRY_ON or rule in PERSONAS:
        return None
    return f"Teams that do not submit either carry on or are played by a persona ({', '.join(PERSONAS)})."


def why_not_advance(game: Game) -> str | None:
    """Why the game's next round cannot be resolved now, or None when it can."""
    if game.status == "ended":
        return "This game has ended."
    if practice_over(game):
        return "Finish the practice first: its results are wiped and round 1 starts for real."
    if game.current_round >= game.rounds:
        return "Every round of this game has been played."
    return None


def advance_with(session: Session, game_id: int, expected_round: int, given: RoundInput | None) -> RoundResult:
    """`advance`, with the round's inputs given (as when an archive is imported) or gathered from the teams."""
    game = get_game(session, game_id)
    if game.current_round != expected_round:
        raise RoundAlreadyResolved(f"Round {expected_round + 1} has already been resolved.")
    if refusal := why_not_advance(game):
        raise GameError(refusal)
    given = given if given is not None else next_round_input(session, game)
    world = World(scenario_of(game))
    played = replay(record_of(session, game, given), world)
    result = RoundResult(game_id=game_id, round=expected_round + 1, inputs=_inputs_json(given),
                         report=dumps(round_report(world, played[-1])), resolved_at=now())
    try:
        session.add(result)
        moved = session.execute(update(Game).where(col(Game.id) == game_id, col(Game.current_round) == expected_round)
                                .values(current_round=expected_round + 1, deadline_at=_next_deadline(game, expected_round + 1)))
        if moved.rowcount != 1:  # type: ignore[attr-defined]
            raise RoundAlreadyResolved(f"Round {expected_round + 1} has already been resolved.")
        revisions.bump(session, games=[game_id])
        session.commit()
    except (IntegrityError, RoundAlreadyResolved):
        session.rollback()
        raise RoundAlreadyResolved(f"Round {expected_round + 1} has already been resolved.") from None
    session.refresh(result)
    return result


def rewind(session: Session, game_id: int, expected_round: int | None = None) -> int:
    """Discard the last resolved round's results; its decisions go back to being drafts. Returns the round undone.
    With `expected_round` (the round the person saw), a second click or a second instructor rewinds nothing more."""
    game = get_game(session, game_id)
    rnd = game.current_round
    if expected_round is not None and rnd < expected_round:
        raise RoundAlreadyResolved(f"Round {expected_round} has already been rewound.")
    if expected_round is not None and rnd > expected_round:
        raise RoundAlreadyResolved(f"Round {rnd} was resolved since you looked; nothing was rewound.")
    if rnd == 0:
        raise GameError("No round has been resolved yet.")
    moved = session.execute(update(Game).where(col(Game.id) == game_id, col(Game.current_round) == rnd)
                            .values(current_round=rnd - 1, deadline_at=_next_deadline(game, rnd - 1)))
    if moved.rowcount != 1:  # type: ignore[attr-defined]
        session.rollback()
        raise RoundAlreadyResolved("The game moved on while rewinding; try again.")
    session.execute(delete(RoundResult).where(col(RoundResult.game_id) == game_id, col(RoundResult.round) == rnd))
    revisions.bump(session, games=[game_id])
    for row in session.exec(select(TeamDecision).where(TeamDecision.game_id == game_id, TeamDecision.round == rnd)):
        row.submitted = False
        session.add(row)
    session.commit()
    return rnd


def played_rounds(session: Session, game: Game) -> list[PlayedRound]:
    return replay(record_of(session, game), World(scenario_of(game)))


def results_key(session: Session, game: Game) -> tuple[Any, ...]:
    """Identifies the game's resolved rounds exactly (ids and resolution times), for caching what derives from them."""
    rows = session.exec(select(RoundResult.id, RoundResult.resolved_at).where(RoundResult.game_id == game.id).order_by(col(RoundResult.round)))
    return (game.id, game.scenario_version, game.seed, *((i, str(t)) for i, t in rows))


def report_of(session: Session, game: Game, rnd: int) -> dict[str, Any]:
    """A resolved round's stored report (parsed once per process; do not mutate it)."""
    found = session.exec(select(RoundResult.id, RoundResult.resolved_at).where(RoundResult.game_id == game.id, RoundResult.round == rnd)).first()
    if found is None:
        raise GameError(f"Round {rnd} has not been resolved.")
    result_id, resolved_at = found

    def load() -> dict[str, Any]:
        text = session.exec(select(RoundResult.report).where(RoundResult.id == result_id)).one()
        parsed: dict[str, Any] = json.loads(text)
        return parsed

    return cached(("report", result_id, str(resolved_at)), load)


@dataclass(frozen=True)
class Difference:
    round: int
    path: str
    stored: object
    replayed: object

    def __str__(self) -> str:
        return f"round {self.round}: {self.path}: stored {self.stored!r}, replayed {self.replayed!r}"


def verify(session: Session, game_id: int) -> list[Difference]:
    """Replay a stored game from its scenario, seed and decisions; every stored result that differs."""
    game = get_game(session, game_id)
    world = World(scenario_of(game))
    played = replay(record_of(session, game), world)
    stored = session.exec(select(RoundResult).where(RoundResult.game_id == game_id).order_by(col(RoundResult.round)))
    out: list[Difference] = []
    for row, p in zip(stored, played, strict=True):
        out += _differences(row.round, "", json.loads(row.report), json.loads(dumps(round_report(world, p))))
    return out


def _differences(rnd: int, path: str, a: object, b: object) -> list[Difference]:
    if isinstance(a, dict) and isinstance(b, dict):
        return [d for k in sorted(set(a) | set(b)) for d in _differences(rnd, f"{path}.{k}", a.get(k), b.get(k))]
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [d for i, (x, y) in enumerate(zip(a, b, strict=True)) for d in _differences(rnd, f"{path}[{i}]", x, y)]
    return [] if a == b else [Difference(rnd, path or "(report)", a, b)]


# --- running a live game ---------------------------------------------------------------------------


def _next_deadline(game: Game, resolved: int) -> datetime | None:
    """When the round after `resolved` closes: `round_minutes` from now in a deadline game that is still open."""
    if game.advance_mode != "deadline" or game.status != "open" or resolved >= game.rounds or not game.round_minutes:
        return None
    if game.practice_round and resolved == 1:  # no clock until the instructor starts the game for real
        return None
    return now() + timedelta(minutes=game.round_minutes)


def open_first_round(session: Session, game: Game) -> Game:
    """Start the clock of a deadline game's first round."""
    game.deadline_at = _next_deadline(game, game.current_round)
    session.add(game)
    session.commit()
    session.refresh(game)
    return game


def extend_deadline(session: Session, game: Game, minutes: int) -> Game:
    if game.advance_mode != "deadline" or game.deadline_at is None:
        raise GameError("This round has no deadline to extend.")
    if not 1 <= minutes <= 24 * 60:
        raise GameError("Extend by between 1 minute and a day.")
    game.deadline_at = aware(game.deadline_at) + timedelta(minutes=minutes)
    session.add(game)
    session.commit()
    session.refresh(game)
    return game


def set_status(session: Session, game: Game, status: str) -> Game:
    """Pause (the deadline clock stops and nothing resolves by itself), resume, or end the game."""
    if status not in {"open", "paused", "ended"}:
        raise GameError(f"Unknown game status {status!r}.")
    if game.status == "ended":
        raise GameError("This game has ended.")
    if status == "paused" and game.deadline_at is not None:
        game.round_seconds_left = max(0, int((aware(game.deadline_at) - now()).total_seconds()))
        game.deadline_at = None
    if status == "open" and game.status == "paused" and game.round_seconds_left is not None:
        game.deadline_at = now() + timedelta(seconds=game.round_seconds_left)
        game.round_seconds_left = None
    if status == "ended":
        game.deadline_at = None
    game.status = status
    session.add(game)
    session.commit()
    session.refresh(game)
    return game


def inject_event(session: Session, game: Game, event_index: int) -> InjectedEvent:
    """Queue an event from the scenario's catalogue for the coming round."""
    _require_open(game)
    events = scenario_of(game).events
    if not 0 <= event_index < len(events):
        raise GameError("Choose an event from the scenario's catalogue.")
    rnd = game.current_round + 1
    found = session.exec(select(InjectedEvent).where(InjectedEvent.game_id == game.id, InjectedEvent.round == rnd,
                                                     InjectedEvent.event_index == event_index)).first()
    if found is not None:
        raise GameError(f"{events[event_index].title!r} is already set for round {rnd}.")
    row = InjectedEvent(game_id=game.id or 0, round=rnd, event_index=event_index)
    session.add(row)
    session.commit()
    session.refresh(row)
    return row


def queued_events(session: Session, game: Game) -> list[str]:
    events = scenario_of(game).events
    rows = session.exec(select(InjectedEvent).where(InjectedEvent.game_id == game.id, InjectedEvent.round == game.current_round + 1))
    return [events[r.event_index].title for r in rows]


def due_games(session: Session, at: datetime | None = None) -> list[Game]:
    """Open deadline games whose round has run out of time."""
    rows = session.exec(select(Game).where(Game.advance_mode == "deadline", Game.status == "open", col(Game.deadline_at).is_not(None)))
    at = at or now()
    return [g for g in rows if g.deadline_at is not None and aware(g.deadline_at) <= at and g.current_round < g.rounds]


def process_due(session: Session, at: datetime | None = None) -> list[int]:
    """Resolve every round whose deadline has passed (each exactly once, whichever process gets there first)."""
    done = []
    for game in due_games(session, at):
        try:
            done.append(advance(session, game.id or 0, game.current_round).round)
        except GameError:
            session.rollback()
    return done


@dataclass(frozen=True)
class TeamStatus:
    seat_id: int
    company: str
    members: list[str]
    state: str  # "no decision" | "draft" | "submitted"
    version: int
    updated_by: str
    last_activity: datetime | None


def team_status(session: Session, game: Game) -> list[TeamStatus]:
    """For the console: each team's members, where its decision stands, and when anyone last did anything."""
    out = []
    for seat in seats_of(session, game):
        if seat.persona is not None:
            continue
        members = list(session.exec(select(Student).where(Student.seat_id == seat.id).order_by(col(Student.display_name))))
        row = draft_of(session, seat, game.current_round + 1)
        moments = [aware(m.last_seen) for m in members] + ([aware(row.updated_at)] if row else [])
        out.append(TeamStatus(seat.id or 0, seat.company_name, [m.display_name for m in members],
                              "submitted" if row and row.submitted else "draft" if row else "no decision",
                              row.version if row else 0, row.updated_by if row else "", max(moments) if moments else None))
    return out



def finish_practice(session: Session, game: Game) -> Game:
    """End a practice round: its results and decisions are wiped and the game starts for real at round 1
    (same seed, so the practice taught the pages, not the dice)."""
    if not game.practice_round:
        raise GameError("This game has no practice round.")
    if game.current_round != 1:
        raise GameError("Resolve the practice round first.")
    rewind(session, game.id or 0, 1)
    session.execute(delete(TeamDecision).where(col(TeamDecision.game_id) == game.id, col(TeamDecision.round) == 1))
    session.execute(delete(InjectedEvent).where(col(InjectedEvent.game_id) == game.id, col(InjectedEvent.round) == 1))
    revisions.bump(session, games=[game.id or 0])
    fresh = get_game(session, game.id or 0)
    fresh.practice_round = False
    session.add(fresh)
    session.commit()
    session.refresh(fresh)
    return fresh
