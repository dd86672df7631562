"""An archive import replays each round once, from the round before; stays within its budget of
work, report bytes and time, saying which it passed; and writes the game in one transaction, so a
failure at any point leaves nothing behind (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import Engine, func
from sqlmodel import Session, select

from app.db import migrate
from app.engine import game as engine_game
from app.engine.decisions import Decision, ProductDecision, TrainingDecision
from app.models import Game, RoundResult, Seat
from app.services import archives, drafts, exports, games, rounds
from app.services.archives import ImportBudget, OverBudget
from tests.classroom import TEAMS_AND_PERSONAS, a_game, an_instructor

ROUNDS = 4


@pytest.fixture
def engine(empty_database_url: str, engine_for: Callable[[str], Engine]) -> Iterator[Engine]:
    migrate(empty_database_url)
    yield engine_for(empty_database_url)


def archive_of(engine: Engine, played: int = ROUNDS, **setup: object) -> str:
    """The archive of a game of `played` rounds; Aurora AI's team lowers its price each round."""
    with Session(engine) as s:
        gid = a_game(s, seats=TEAMS_AND_PERSONAS, seed=5, **setup).id or 0
        aurora = s.get(Seat, 1)
        assert aurora is not None
        for rnd in range(played):
            game = games.get_game(s, gid)
            decision = Decision(products=ProductDecision(prices={"consumer": 4.0 - rnd / 4}))
            drafts.save_draft(s, game, aurora, decision, 0, "Ann")
            drafts.set_submitted(s, game, aurora, True)
            rounds.advance(s, gid, rnd)
        return exports.archive(s, games.get_game(s, gid))


def counts(engine: Engine) -> tuple[int, int, int]:
    """Games, seats and round results in the database."""
    with Session(engine) as s:
        return tuple(
            s.exec(select(func.count()).select_from(t)).one() for t in (Game, Seat, RoundResult)
        )  # type: ignore[return-value]


@pytest.fixture
def steps(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Every engine step taken from now on, by the round it resolves."""
    taken: list[int] = []
    real = engine_game.step

    def counted(world, state, decisions, injected):  # type: ignore[no-untyped-def]
        taken.append(state.round + 1)
        return real(world, state, decisions, injected)

    monkeypatch.setattr(engine_game, "step", counted)
    return taken


def test_importing_a_game_of_r_rounds_takes_r_engine_steps_one_per_round(
    engine: Engine, steps: list[int]
) -> None:
    text = archive_of(engine, played=ROUNDS)
    steps.clear()
    with Session(engine) as s:
        copy = archives.import_archive(s, an_instructor(s), text)
        assert copy.current_round == ROUNDS and rounds.verify(s, copy.id or 0) == []
    assert steps[:ROUNDS] == [1, 2, 3, 4]  # the import itself; verify replays once more
    assert len(steps) == 2 * ROUNDS


def test_an_archive_over_the_work_budget_is_refused_before_any_step(
    engine: Engine, steps: list[int]
) -> None:
    text = archive_of(engine, played=2)
    steps.clear()
    before = counts(engine)
    with Session(engine) as s, pytest.raises(OverBudget) as refused:
        archives.import_archive(s, an_instructor(s), text, ImportBudget(cells=59))
    assert str(refused.value) == (
        "This archive is too large to import here: 6 companies x 5 segments x 2 rounds make 60 "
        "company-segment-rounds to replay; this installation imports at most 59 "
        "(about 288 KiB of round "
        "reports). Nothing was imported."
    )
    assert steps == [] and counts(engine) == before


def test_an_import_past_its_time_budget_stops_between_rounds_and_says_so(engine: Engine) -> None:
    text = archive_of(engine)
    before = counts(engine)
    with Session(engine) as s, pytest.raises(OverBudget) as refused:
        archives.import_archive(s, an_instructor(s), text, ImportBudget(seconds=0))
    assert str(refused.value) == (
        "This archive is too large to import here: replaying it took more than 0 s "
        "(this installation's "
        f"limit for an import) and had reached round 1 of {ROUNDS}. Nothing was imported."
    )
    assert counts(engine) == before


def test_an_import_whose_reports_pass_the_byte_budget_stops_and_says_so(engine: Engine) -> None:
    text = archive_of(engine)
    before = counts(engine)
    with (
        Session(engine) as s,
        pytest.raises(OverBudget, match="its round reports passed 97.7 KiB at round 2 of 4"),
    ):
        archives.import_archive(s, an_instructor(s), text, ImportBudget(report_bytes=100_000))
    assert counts(engine) == before


def test_a_failure_while_writing_the_rounds_leaves_no_game_seat_or_round_behind(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = archive_of(engine)
    before = counts(engine)
    written: list[int] = []

    def failing(given: engine_game.RoundInput) -> str:
        written.append(1)
        if len(written) == 3:
            raise RuntimeError("disk full")
        return json.dumps({"decisions": {}, "injected": [], "stand_ins": {}})

    monkeypatch.setattr(rounds, "inputs_json", failing)
    with Session(engine) as s, pytest.raises(RuntimeError, match="disk full"):
        archives.import_archive(s, an_instructor(s), text)
    assert len(written) == 3
    assert counts(engine) == before


def test_a_decision_is_checked_against_the_state_of_its_own_round(engine: Engine) -> None:
    data = json.loads(archive_of(engine, played=2))
    cash = 10**6  # more than Aurora AI has in round 2, though GPUs are affordable in other amounts
    data["played"][1]["inputs"]["decisions"]["Aurora AI"]["compute"]["buy_gpus"] = {"H100": cash}
    before = counts(engine)
    with Session(engine) as s, pytest.raises(archives.ArchiveRejected) as refused:
        archives.import_archive(s, an_instructor(s), json.dumps(data))
    assert "played[1].inputs.decisions.Aurora AI.compute.buy_gpus: GPU purchases cost $" in str(
        refused.value
    )
    assert counts(engine) == before


def test_an_imported_deadline_game_keeps_its_seats_aggressiveness_and_a_running_clock(
    engine: Engine,
) -> None:
    data = json.loads(archive_of(engine, played=2, advance_mode="deadline", round_minutes=30))
    data["seats"][2]["aggressiveness"] = 0.9
    with Session(engine) as s:
        copy = archives.import_archive(s, an_instructor(s), json.dumps(data))
        assert [seat.aggressiveness for seat in games.seats_of(s, copy)][1:4] == [0.5, 0.9, 0.5]
        assert copy.current_round == 2 and copy.deadline_at is not None
        assert rounds.verify(s, copy.id or 0) == []


def test_past_the_first_eight_problems_a_message_counts_the_rest(engine: Engine) -> None:
    data = json.loads(archive_of(engine, played=1))
    data["played"][0]["inputs"]["injected"] = list(range(100, 120))
    with Session(engine) as s, pytest.raises(archives.ArchiveRejected) as refused:
        archives.import_archive(s, an_instructor(s), json.dumps(data))
    message = str(refused.value)
    assert message.count("the scenario's catalogue has no event") == 8
    assert message.endswith("; and 12 more. Nothing was imported.")


def test_an_archive_carries_a_teams_release_rule_and_refuses_one_it_does_not_know(engine: Engine) -> None:
    with Session(engine) as s:
        gid = a_game(s, seats=TEAMS_AND_PERSONAS, seed=5).id or 0
        aurora = s.get(Seat, 1)
        assert aurora is not None
        holding = Decision(training=TrainingDecision(release="hold"))
        drafts.save_draft(s, games.get_game(s, gid), aurora, holding, 0, "Ann")
        drafts.set_submitted(s, games.get_game(s, gid), aurora, True)
        rounds.advance(s, gid, 0)
        text = exports.archive(s, games.get_game(s, gid))
    data = json.loads(text)
    assert data["played"][0]["inputs"]["decisions"]["Aurora AI"]["training"]["release"] == "hold"
    with Session(engine) as s:
        copy = archives.import_archive(s, an_instructor(s), text)
        assert rounds.verify(s, copy.id or 0) == []
        assert json.loads(exports.archive(s, copy))["played"][0]["inputs"] == data["played"][0]["inputs"]
    data["played"][0]["inputs"]["decisions"]["Aurora AI"]["training"]["release"] = "sometime"
    before = counts(engine)
    with Session(engine) as s, pytest.raises(archives.ArchiveRejected) as refused:
        archives.import_archive(s, an_instructor(s), json.dumps(data))
    assert "played[0].inputs.decisions.Aurora AI.training.release" in str(refused.value)
    assert counts(engine) == before
