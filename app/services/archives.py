"""Importing a game archive: read whole and checked first (its shape, its references, every decision
as live play checks it), resolved round after round within a budget, then written in one
transaction.

A refused archive leaves nothing behind, and its message says where each problem is
(`played[2].inputs.decisions.Aurora AI.finance.borrow_musd: ...`).
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlmodel import Session

from app import errors, lifecycle
from app.clock import now
from app.engine import personas
from app.engine.decisions import Decision
from app.engine.game import GameRecord, RoundInput, rounds_of, start
from app.engine.preview import preview
from app.engine.report import dumps, round_report
from app.engine.state import State
from app.engine.world import World
from app.models import GAME_NAME_MAX, Game, RoundResult
from app.scenario import PERSONAS, Scenario, ScenarioError, parse_scenario
from app.scenario.loader import SCENARIO_TEXT_MAX_CHARS, plain_message
from app.scenario.schema import Scoring
from app.services import games, rounds, setup

ARCHIVE_FORMAT = "moatline-game-archive"
ARCHIVE_VERSION = 1
ARCHIVE_FIELDS_DOC = "a game archive Moatline exported"
COMPANIES_MAX = 40  # as in the scenario schema
ROUNDS_MAX = 40  # as in a game's setup
EVENTS_INJECTED_MAX = 100  # per round
NAME_MAX = 200  # company, persona and scenario names in an archive
INTEGER_DIGITS_MAX = 20  # seeds reach 16 digits
PROBLEMS_SHOWN = 8  # in one message; the rest are counted
REPORT_BYTES_PER_CELL = (
    5_000  # a round report's size per company and segment (measured: 2,000 to 4,600)
)
# sized so a 40-team class of a 12-segment scenario imports all 40 rounds (about 20 s on one core)
IMPORT_CELLS_MAX = 20_000  # companies x segments x rounds
IMPORT_REPORT_BYTES_MAX = 128 * 1024 * 1024
IMPORT_SECONDS_MAX = 60.0

MEBIBYTE = 1024 * 1024
Name = Annotated[str, Field(max_length=NAME_MAX)]


def in_words(size: int) -> str:
    """A number of bytes as a person reads it: 20 MiB, 64 KiB."""
    return f"{size / MEBIBYTE:,.3g} MiB" if size >= MEBIBYTE else f"{size / 1024:,.3g} KiB"


class ArchiveRejected(errors.GameError):
    """An archive that cannot be imported, with every problem found, each located."""

    def __init__(self, problems: list[str], lead: str = "This archive cannot be imported"):
        self.problems = problems
        shown = "; ".join(problems[:PROBLEMS_SHOWN])
        hidden = len(problems) - PROBLEMS_SHOWN
        more = f"; and {hidden} more" if hidden > 0 else ""
        super().__init__(f"{lead}: {shown}{more}. Nothing was imported.")


class OverBudget(ArchiveRejected):
    """An archive larger, or slower to replay, than this installation imports."""

    def __init__(self, problem: str):
        super().__init__([problem], "This archive is too large to import here")


@dataclass(frozen=True)
class ImportBudget:
    """What one import may cost: company-segment-rounds replayed, bytes of reports kept, seconds."""

    cells: int = IMPORT_CELLS_MAX
    report_bytes: int = IMPORT_REPORT_BYTES_MAX
    seconds: float = IMPORT_SECONDS_MAX


# --- the archive's shape --------------------------------------------------------------------------


class Archived(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False, frozen=True)


class ArchivedSeat(Archived):
    company: Name
    persona: Name | None
    aggressiveness: float = Field(personas.DEFAULT_AGGRESSIVENESS, ge=0, le=1)


class ArchivedInputs(Archived):
    decisions: dict[Name, Decision] = Field(max_length=COMPANIES_MAX)
    injected: list[int] = Field(max_length=EVENTS_INJECTED_MAX)
    stand_ins: dict[Name, Name] = Field(max_length=COMPANIES_MAX)

    def round_input(self) -> RoundInput:
        return RoundInput(
            decisions=dict(self.decisions),
            injected_events=tuple(self.injected),
            stand_ins=dict(self.stand_ins),
        )


class ArchivedRound(Archived):
    round: int = Field(ge=1, le=ROUNDS_MAX)
    inputs: ArchivedInputs


class Archive(Archived):
    """A game archive as `exports.archive` writes it (version 1)."""

    format: Literal["moatline-game-archive"]
    version: Literal[1]
    scenario_text: str = Field(max_length=SCENARIO_TEXT_MAX_CHARS)
    seed: int = Field(ge=0, le=setup.SEED_MAX)
    seats: list[ArchivedSeat] = Field(max_length=COMPANIES_MAX)
    played: list[ArchivedRound] = Field(max_length=ROUNDS_MAX)
    rounds: int = Field(ge=1, le=ROUNDS_MAX)
    name: str = Field(max_length=4 * GAME_NAME_MAX)  # the setup's check says how long it may be
    scenario_id: Name
    scoring: Scoring
    absent_rule: Name
    team_size_max: int
    advance_mode: Name
    round_minutes: int | None
    practice_round: bool

    def setup(self) -> setup.GameSetup:
        return setup.GameSetup(
            name=self.name,
            scenario_id=self.scenario_id,
            seats=tuple(s.persona for s in self.seats),
            rounds=self.rounds,
            seed=self.seed,
            practice_round=self.practice_round,
            advance_mode=self.advance_mode,
            round_minutes=self.round_minutes,
            absent_rule=self.absent_rule,
            team_size_max=self.team_size_max,
            scoring=self.scoring.weights(),
        )

    def teams(self) -> set[str]:
        return {s.company for s in self.seats if s.persona is None}


# --- importing ------------------------------------------------------------------------------------


def import_archive(
    session: Session, instructor_id: int, text: str, budget: ImportBudget | None = None
) -> Game:
    """A new game from an archive, each archived round resolved again from its inputs (so it
    reproduces exactly); ArchiveRejected, nothing written, if anything is wrong or over budget."""
    budget = budget or ImportBudget()
    archive = read_archive(text)
    scenario = _scenario_of(archive)
    _check_cost(archive, scenario, budget)
    problems = _reference_problems(archive, scenario)
    if problems:
        raise ArchiveRejected(problems)
    scoring = setup.check_setup(archive.setup(), scenario)
    played = _resolved(
        archive, scenario.model_copy(update={"rounds": archive.rounds, "scoring": scoring}), budget
    )
    return _written(session, instructor_id, archive, scenario, played)


def read_archive(text: str) -> Archive:
    """The archive's fields, each of its type and in bounds; ArchiveRejected says which are not."""
    data = _json_of(text)
    if not isinstance(data, dict) or data.get("format") != ARCHIVE_FORMAT:
        raise errors.GameError("That file is not a Moatline game archive.")
    if data.get("version") != ARCHIVE_VERSION:
        found = data.get("version")
        shown = repr(found) if isinstance(found, int) else "another kind"
        raise errors.GameError(
            f"This installation reads game archives of version {ARCHIVE_VERSION}, not {shown}."
        )
    try:
        return Archive.model_validate(data)
    except ValidationError as exc:
        raise _rejected(exc) from None


def _json_of(text: str) -> object:
    try:
        return json.loads(text, parse_constant=_no_constant, parse_float=_finite, parse_int=_whole)
    except json.JSONDecodeError as exc:
        raise errors.GameError(
            f"That file is not a Moatline game archive (not JSON: {exc.msg} at line {exc.lineno})."
        ) from None
    except ValueError as exc:
        raise errors.GameError(f"That file is not a Moatline game archive ({exc}).") from None
    except RecursionError:
        raise errors.GameError(
            "That file is not a Moatline game archive (it is nested far too deeply)."
        ) from None


def _no_constant(name: str) -> object:
    raise ValueError(f"{name} is not a number a game archive holds")


def _whole(text: str) -> int:
    if len(text.lstrip("-")) > INTEGER_DIGITS_MAX:
        raise ValueError(f"a whole number of {len(text):,} digits is not one a game archive holds")
    return int(text)


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"a number as large as {text[:20]} is not one a game archive holds")
    return value


def _rejected(exc: ValidationError) -> ArchiveRejected:
    errors = exc.errors()
    missing = [str(e["loc"][0]) for e in errors if e["type"] == "missing" and len(e["loc"]) == 1]
    problems = [f"the archive lacks {', '.join(missing)}"] if missing else []
    problems += [
        f"{where(e['loc'])}: {plain_message(dict(e), ARCHIVE_FIELDS_DOC)}"
        for e in errors
        if not (e["type"] == "missing" and len(e["loc"]) == 1)
    ]
    return ArchiveRejected(problems)


def where(loc: tuple[int | str, ...]) -> str:
    """A place in the archive: `played[2].inputs.decisions.Aurora AI`."""
    text = "".join(
        f"[{p}]" if isinstance(p, int) else f".{p}"
        for p in loc
        if not str(p).startswith("function-")
    )
    return text.removeprefix(".") or "(the archive)"


def _scenario_of(archive: Archive) -> Scenario:
    try:
        return parse_scenario(archive.scenario_text, "scenario_text")
    except ScenarioError as exc:
        raise ArchiveRejected([f"scenario_text: {p}" for p in exc.problems]) from None


def _check_cost(archive: Archive, scenario: Scenario, budget: ImportBudget) -> None:
    """Refuse, before any work, an archive whose replay and reports would cost over the budget."""
    companies, segments = len(scenario.companies), len(scenario.market.segments)
    rounds = len(archive.played)
    cells = companies * segments * rounds
    if cells > budget.cells:
        raise OverBudget(
            f"{companies} companies x {segments} segments x {rounds} rounds make {cells:,} "
            f"company-segment-rounds to replay; this installation imports at most {budget.cells:,} "
            f"(about {in_words(budget.cells * REPORT_BYTES_PER_CELL)} of round reports)"
        )


# --- references -----------------------------------------------------------------------------------


def _reference_problems(archive: Archive, scenario: Scenario) -> list[str]:
    """Everything in the archive that points at something its scenario or its game does not have."""
    names = [c.name for c in scenario.companies]
    if [s.company for s in archive.seats] != names:
        return [
            "seats: the archive's seats do not match its scenario's companies "
            f"({', '.join(names)}, in order)"
        ]
    problems = _setup_problems(archive, scenario) + _rounds_problems(archive)
    for i, item in enumerate(archive.played):
        problems += _inputs_problems(
            f"played[{i}].inputs", item.inputs, archive.teams(), len(scenario.events)
        )
    return problems


def _setup_problems(archive: Archive, scenario: Scenario) -> list[str]:
    try:
        setup.check_setup(archive.setup(), scenario)
    except errors.SetupRejected as exc:
        return [f"{field}: {message}" for field, message in exc.problems.items()]
    return []


def _rounds_problems(archive: Archive) -> list[str]:
    played = [p.round for p in archive.played]
    problems = [
        f"played[{i}].round: rounds are listed in order from 1, so this one is {i + 1}, not {rnd}"
        for i, rnd in enumerate(played)
        if rnd != i + 1
    ]
    if len(played) > archive.rounds:
        problems.append(
            f"played: {len(played)} rounds were played but the game has {archive.rounds}"
        )
    if archive.practice_round and len(played) > 1:
        problems.append("played: a game still in its practice round has at most 1 round played")
    return problems


def _inputs_problems(at: str, inputs: ArchivedInputs, teams: set[str], events: int) -> list[str]:
    out = [
        f"{at}.injected[{j}]: the scenario's catalogue has no event {e} (it has {events}, from 0)"
        for j, e in enumerate(inputs.injected)
        if not 0 <= e < events
    ]
    out += [
        f"{at}.injected[{j}]: event {e} is injected twice"
        for j, e in enumerate(inputs.injected)
        if e in inputs.injected[:j]
    ]
    out += [
        f"{at}.stand_ins.{name}: no team plays {name}"
        for name in inputs.stand_ins
        if name not in teams
    ]
    out += [
        f"{at}.stand_ins.{name}: there is no persona {shown!r} (personas: {', '.join(PERSONAS)})"
        for name, shown in inputs.stand_ins.items()
        if shown not in PERSONAS
    ]
    out += [
        f"{at}.decisions.{name}: no team plays {name}"
        for name in inputs.decisions
        if name not in teams
    ]
    out += [
        f"{at}.decisions.{name}: the team has both a decision and a stand-in"
        for name in inputs.decisions
        if name in inputs.stand_ins
    ]
    return out


# --- replaying ------------------------------------------------------------------------------------


def _resolved(
    archive: Archive, scenario: Scenario, budget: ImportBudget
) -> list[tuple[RoundInput, str]]:
    """Each round's inputs and report, resolved from the previous round's state (one step a round),
    decision checked against the state it was made in; stops past the time or report budget."""
    world = World(scenario)
    inputs = [p.inputs.round_input() for p in archive.played]
    record = GameRecord(
        scenario,
        archive.seed,
        tuple(s.persona for s in archive.seats),
        tuple(inputs),
        tuple(s.aggressiveness for s in archive.seats),
    )
    state, rounds = start(world, archive.seed), rounds_of(record, world)
    began, kept = time.monotonic(), 0
    out: list[tuple[RoundInput, str]] = []
    for i, given in enumerate(inputs):
        problems = decision_problems(world, state, f"played[{i}].inputs.decisions", given)
        if problems:
            raise ArchiveRejected(problems)
        played = next(rounds)
        out.append((given, dumps(round_report(world, played))))
        kept, state = kept + len(out[-1][1]), played.after
        _within_budget(budget, i + 1, len(inputs), kept, time.monotonic() - began)
    return out


def decision_problems(world: World, state: State, at: str, given: RoundInput) -> list[str]:
    """Every problem live play would find with the round's decisions, made in `state`."""
    out = []
    for name, decision in given.decisions.items():
        company = world.company_names.index(name)
        out += [
            f"{at}.{name}.{p.field}: {p.message}"
            for p in preview(world, state, company, decision).problems
        ]
    return out


def _within_budget(budget: ImportBudget, done: int, rounds: int, kept: int, seconds: float) -> None:
    if kept > budget.report_bytes:
        raise OverBudget(
            f"its round reports passed {in_words(budget.report_bytes)} at round {done} "
            f"of {rounds}, the most this installation keeps from one import"
        )
    if seconds > budget.seconds and done < rounds:
        raise OverBudget(
            f"replaying it took more than {budget.seconds:g} s (this installation's limit for an "
            f"import) and had reached round {done} of {rounds}"
        )


# --- writing --------------------------------------------------------------------------------------


def _written(
    session: Session,
    instructor_id: int,
    archive: Archive,
    scenario: Scenario,
    played: list[tuple[RoundInput, str]],
) -> Game:
    """The game, its seats and every round's result, written in one transaction."""
    with one_transaction(session) as inner:
        game = setup.create_game_from(
            inner, instructor_id, scenario, archive.scenario_text, archive.setup()
        )
        for seat, archived in zip(games.seats_of(inner, game), archive.seats, strict=True):
            seat.aggressiveness = archived.aggressiveness
            inner.add(seat)
        for rnd, (given, report) in enumerate(played, start=1):
            inner.add(
                RoundResult(
                    game_id=game.id or 0,
                    round=rnd,
                    inputs=rounds.inputs_json(given),
                    report=report,
                    resolved_at=now(),
                )
            )
        game.current_round = len(played)
        if not lifecycle.is_deciding(game):
            game.deadline_at = None
        inner.add(game)
        inner.flush()
        game_id = game.id or 0
    return games.get_game(session, game_id)


@contextmanager
def one_transaction(session: Session) -> Iterator[Session]:
    """A session on `session`'s own connection and transaction whose commits release a savepoint:
    what it writes is committed at the end, all at once, or rolled back with everything else."""
    connection = session.connection()
    driver: Any = connection.connection.dbapi_connection
    if connection.dialect.name == "sqlite" and not driver.in_transaction:
        connection.exec_driver_sql("BEGIN IMMEDIATE")  # pysqlite begins only at the first write
    inner = Session(bind=connection, join_transaction_mode="create_savepoint")
    try:
        yield inner
        inner.commit()
        inner.close()
        session.commit()
    except BaseException:
        inner.close()
        session.rollback()
        raise

