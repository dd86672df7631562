"""Games in a real database (SQLite, and PostgreSQL where a test server is given): setup, drafts, rounds."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import Engine, update
from sqlmodel import Session, col, select

from app import clock, errors
from app.db import migrate
from app.engine.decisions import Decision, ProductDecision
from app.errors import GameError, RoundAlreadyResolved, StaleDraft
from app.models import Game, Instructor, RoundResult, Seat, TeamDecision
from app.services import drafts, games, rounds, setup
from app.services.setup import GameSetup
from tests.classroom import TWO_TEAMS, a_game


@pytest.fixture
def engine(empty_database_url: str, engine_for: Callable[[str], Engine]) -> Iterator[Engine]:
    migrate(empty_database_url)
    yield engine_for(empty_database_url)


@pytest.fixture
def instructor_id(engine: Engine) -> int:
    with Session(engine) as s:
        person = Instructor(email="ada@example.edu", display_name="Ada", password_hash="x", created_at=clock.now())
        s.add(person)
        s.commit()
        assert person.id is not None
        return person.id


def new_game(engine: Engine, instructor_id: int, teams: tuple[str, ...] = ("Echo", "Cinder"), **kw: object) -> int:
    from app.scenario import find_scenario

    sc = find_scenario("frontier-race")
    seats = tuple(None if c.name in teams else c.persona for c in sc.companies)
    with Session(engine) as s:
        game = setup.create_game(s, instructor_id, GameSetup(name="MBA 701", scenario_id="frontier-race", seats=seats, seed=11, **kw))  # type: ignore[arg-type]
        assert game.id is not None
        return game.id


def seat(s: Session, game_id: int, name: str) -> Seat:
    return s.exec(select(Seat).where(Seat.game_id == game_id, Seat.company_name == name)).one()


def priced(price: float) -> Decision:
    return Decision(products=ProductDecision(prices={"consumer": price}))


def test_a_new_game_snapshots_its_scenario_and_gets_a_readable_join_code(engine: Engine, instructor_id: int) -> None:
    gid = new_game(engine, instructor_id)
    with Session(engine) as s:
        game = games.get_game(s, gid)
        assert len(game.join_code) == 6 and not set(game.join_code) & set("01OI")
        assert "Frontier race" in game.scenario_text and game.seed == 11 and game.rounds == 12
        assert [x.persona for x in games.seats_of(s, game)][4] is None  # Echo is a team


def test_a_bad_setup_lists_every_problem(engine: Engine, instructor_id: int) -> None:
    with Session(engine) as s, pytest.raises(GameError) as caught:
        setup.create_game(s, instructor_id, GameSetup(name=" ", scenario_id="frontier-race", seats=("boss",), rounds=99,
                                                       advance_mode="deadline", scoring={"luck": 1.0}))
    message = str(caught.value)
    for words in ("name", "6 companies", "'boss'", "between 1 and 40", "minutes", "'luck'"):
        assert words in message


def test_two_teammates_editing_at_once_never_silently_overwrite_each_other(engine: Engine, instructor_id: int) -> None:
    gid = new_game(engine, instructor_id)
    with Session(engine) as s:
        game, echo = games.get_game(s, gid), seat(s, gid, "Echo")
        first = drafts.save_draft(s, game, echo, priced(3.0), 0, "Ann")
        assert first.version == 1
        drafts.save_draft(s, game, echo, priced(3.5), 1, "Bo")  # Bo saved on top of version 1
        with pytest.raises(StaleDraft) as caught:
            drafts.save_draft(s, game, echo, priced(2.0), 1, "Ann")  # Ann still edits version 1
        assert "Bo" in str(caught.value) and caught.value.current.version == 2
        kept = drafts.draft_of(s, echo, 1)
        assert kept is not None and Decision.model_validate_json(kept.payload).products.prices == {"consumer": 3.5}


def test_a_round_resolves_once_even_when_two_advance_at_the_same_moment(engine: Engine, instructor_id: int) -> None:
    gid = new_game(engine, instructor_id)
    outcomes: list[str] = []

    def click() -> None:
        with Session(engine) as s:
            try:
                rounds.advance(s, gid, 0)
                outcomes.append("resolved")
            except RoundAlreadyResolved:
                outcomes.append("already")

    threads = [threading.Thread(target=click) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["already", "already", "already", "resolved"]
    with Session(engine) as s:
        assert games.get_game(s, gid).current_round == 1
        assert len(list(s.exec(select(RoundResult).where(RoundResult.game_id == gid)))) == 1


def test_a_crash_while_resolving_leaves_the_previous_round_intact_and_the_round_can_run_again(
    engine: Engine, instructor_id: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    gid = new_game(engine, instructor_id)
    with Session(engine) as s:
        rounds.advance(s, gid, 0)

    def boom(*_: object) -> str:
        raise RuntimeError("power cut")

    monkeypatch.setattr(rounds, "dumps", boom)
    with Session(engine) as s, pytest.raises(RuntimeError):
        rounds.advance(s, gid, 1)
    monkeypatch.undo()
    with Session(engine) as s:
        assert games.get_game(s, gid).current_round == 1
        assert rounds.advance(s, gid, 1).round == 2


def test_submitted_decisions_are_used_and_absent_teams_carry_on_or_are_stood_in_for(engine: Engine, instructor_id: int) -> None:
    gid = new_game(engine, instructor_id, absent_rule="incumbent")
    with Session(engine) as s:
        game = games.get_game(s, gid)
        echo = seat(s, gid, "Echo")
        drafts.save_draft(s, game, echo, priced(2.5), 0, "Ann")
        drafts.set_submitted(s, game, echo, True)
        drafts.save_draft(s, game, seat(s, gid, "Cinder"), priced(9.0), 0, "Cy")  # a draft never submitted
        inputs = json.loads(rounds.advance(s, gid, 0).inputs)
    assert inputs["decisions"] == {"Echo": priced(2.5).model_dump(mode="json")}
    assert inputs["stand_ins"] == {"Cinder": "incumbent"}
    with Session(engine) as s:
        report = rounds.report_of(s, games.get_game(s, gid), 1)
    assert report["companies"]["Echo"]["public"]["prices"]["consumer"] == 2.5


def test_rewind_discards_the_last_round_keeps_its_decisions_as_drafts_and_replays_identically(engine: Engine, instructor_id: int) -> None:
    gid = new_game(engine, instructor_id)
    with Session(engine) as s:
        game = games.get_game(s, gid)
        echo = seat(s, gid, "Echo")
        drafts.save_draft(s, game, echo, priced(2.5), 0, "Ann")
        drafts.set_submitted(s, game, echo, True)
        first = rounds.advance(s, gid, 0).report
        assert rounds.rewind(s, gid) == 1
        game = games.get_game(s, gid)
        assert game.current_round == 0
        draft = drafts.draft_of(s, echo, 1)
        assert draft is not None and not draft.submitted
        drafts.set_submitted(s, game, echo, True)
        assert rounds.advance(s, gid, 0).report == first


def test_verify_finds_nothing_in_an_honest_game_and_names_a_tampered_figure(engine: Engine, instructor_id: int) -> None:
    gid = new_game(engine, instructor_id)
    with Session(engine) as s:
        for rnd in range(3):
            rounds.advance(s, gid, rnd)
        assert rounds.verify(s, gid) == []
        row = s.exec(select(RoundResult).where(RoundResult.game_id == gid, RoundResult.round == 2)).one()
        report = json.loads(row.report)
        report["companies"]["Echo"]["private"]["kpis"]["cash"] += 1.0
        s.execute(update(RoundResult).where(col(RoundResult.id) == row.id).values(report=json.dumps(report)))
        s.commit()
        (diff,) = rounds.verify(s, gid)
    assert diff.round == 2 and diff.path == ".companies.Echo.private.kpis.cash"


def test_no_decision_can_be_saved_once_every_round_is_played(engine: Engine, instructor_id: int) -> None:
    gid = new_game(engine, instructor_id, rounds=1)
    with Session(engine) as s:
        rounds.advance(s, gid, 0)
        with pytest.raises(GameError, match="Every round"):
            drafts.save_draft(s, games.get_game(s, gid), seat(s, gid, "Echo"), priced(2.0), 0, "Ann")
        with pytest.raises(GameError, match="Every round"):
            rounds.advance(s, gid, 1)
        assert s.exec(select(Game).where(Game.id == gid)).one().current_round == 1


def test_a_decision_for_a_round_that_is_no_longer_open_is_refused_and_saves_nothing(engine: Engine) -> None:
    with Session(engine) as s:
        game = a_game(s, seats=TWO_TEAMS, seed=2)
        gid = game.id or 0
        seat = games.seats_of(s, game)[0]
        decision = Decision.model_validate({"products": {"prices": {"consumer": 3.0}}})
        drafts.save_draft(s, game, seat, decision, 0, "Ann", for_round=1)
        rounds.advance(s, gid, 0)
        game = games.get_game(s, gid)
        with pytest.raises(errors.RoundMoved, match="round 1 has been resolved: nothing was saved. Reload to decide round 2"):
            drafts.save_draft(s, game, seat, decision, 0, "Ann", for_round=1)
        with pytest.raises(errors.RoundMoved):
            drafts.set_submitted(s, game, seat, True, for_round=1)
        assert drafts.draft_of(s, seat, 2) is None
        rounds.rewind(s, gid, 1)
        game = games.get_game(s, gid)
        with pytest.raises(errors.RoundMoved, match="round 1 has been rewound"):
            drafts.save_draft(s, game, seat, decision, 1, "Ann", for_round=2)
        assert drafts.save_draft(s, game, seat, decision, 1, "Ann", for_round=1).version == 2


def test_a_setup_out_of_range_is_refused_at_its_fields_before_anything_is_stored(engine: Engine) -> None:
    with Session(engine) as s:
        with pytest.raises(errors.SetupRejected) as refused:
            a_game(s, name="x" * 121, seed=2**70, advance_mode="deadline", round_minutes=10**10)
        assert refused.value.problems == {
            "name": "Keep the name to 120 characters (it has 121).",
            "round_minutes": "A round lasts at most 43,200 minutes (30 days).",
            "seed": "The seed is a whole number from 0 to 9,007,199,254,740,991.",
        }
        assert s.exec(select(Game)).all() == []


def test_a_scorecard_weight_past_its_bound_is_refused_at_its_field(engine: Engine, instructor_id: int) -> None:
    with Session(engine) as s, pytest.raises(errors.SetupRejected) as caught:
        setup.create_game(s, instructor_id, GameSetup(name="MBA 701", scenario_id="frontier-race",
                                                      scoring={"brand": 1e6, "profit": float("nan")}))
    assert caught.value.problems == {"scoring.brand": "The weight of brand can be at most 1,000.",
                                     "scoring.profit": "The weight of profit cannot be negative."}


def test_a_draft_saved_before_todays_bounds_cannot_be_submitted_and_a_submitted_one_counts_as_absent(
    engine: Engine, instructor_id: int
) -> None:
    gid = new_game(engine, instructor_id)
    out_of_bounds = '{"talent": {"researchers": 1e308}}'
    with Session(engine) as s:
        game, echo, cinder = games.get_game(s, gid), seat(s, gid, "Echo"), seat(s, gid, "Cinder")
        for team in (echo, cinder):
            drafts.save_draft(s, game, team, priced(3.0), 0, "Ann")
        s.execute(update(TeamDecision).where(col(TeamDecision.seat_id) == echo.id).values(payload=out_of_bounds))
        s.commit()
        with pytest.raises(errors.DecisionRejected) as refused:
            drafts.set_submitted(s, game, echo, True)
        assert "outside today's limits" in refused.value.problems["decision"]
        s.execute(update(TeamDecision).values(submitted=True))
        s.commit()
        given = rounds.next_round_input(s, games.get_game(s, gid))
        assert set(given.decisions) == {"Cinder"}  # Echo's unreadable decision is absent, not a crash
        assert rounds.advance(s, gid, 0).round == 1
