"""A game is a pure function of its record, and every random draw is a pure function of
(seed, round, company, purpose): replays are exact and counterfactuals change only what was changed."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.engine import personas, report, rng
from app.engine.decisions import RunPlan, TrainingDecision
from app.engine.game import GameRecord, PlayedRound, autoplay, replay, seats_for
from app.engine.rng import Purpose
from app.engine.start import initial_state
from app.engine.state import State
from app.engine.step import step
from app.engine.world import World

from .factories import SCENARIO_IDS, all_team_record, scenario, scenario_seats, simple_decision, world

SEED = 2026
CHANGED_ROUND = 3
SEEDS = st.integers(0, 2**64 - 1)


def _reports(played: list[PlayedRound], w: World) -> list[str]:
    return [report.dumps(report.round_report(w, p)) for p in played]


def _assert_same_state(a: State, b: State, where: str) -> None:
    for f in dataclasses.fields(a):
        x, y = getattr(a, f.name), getattr(b, f.name)
        assert np.array_equal(x, y), f"{where}: state.{f.name} differs"


# --- replays ------------------------------------------------------------------------------


@pytest.mark.parametrize("scenario_id", SCENARIO_IDS)
def test_the_same_record_replays_to_byte_identical_reports_every_round(scenario_id: str) -> None:
    sc = scenario(scenario_id)
    team = sc.companies[0].name
    w = World(sc)
    decisions = {team: simple_decision(w, 0)}
    record = GameRecord(sc, SEED, seats_for(sc, {team}), autoplay(sc, SEED).rounds)
    record = dataclasses.replace(record, rounds=tuple(dataclasses.replace(r, decisions=decisions) for r in record.rounds))
    first = _reports(replay(record, World(sc)), w)
    second = _reports(replay(record, World(sc)), w)
    assert len(first) == sc.rounds
    for rnd, (a, b) in enumerate(zip(first, second, strict=True), start=1):
        assert a == b, f"round {rnd} differs between two replays"


@pytest.mark.parametrize("scenario_id", SCENARIO_IDS)
def test_replaying_an_autoplay_record_equals_stepping_the_engine_by_hand(scenario_id: str) -> None:
    sc = scenario(scenario_id)
    record = autoplay(sc, SEED)
    w = World(sc)
    played = replay(record)
    state, previous = initial_state(w, rng.run_seeds(SEED, 1)), None
    seats, aggressiveness = scenario_seats(w), np.full(w.n_companies, personas.DEFAULT_AGGRESSIVENESS)
    for p in played:
        d = personas.decide(w, state, seats, aggressiveness, previous)
        for f in dataclasses.fields(d):
            assert np.array_equal(getattr(d, f.name), getattr(p.decisions, f.name)), f"round {p.outcome.round}: decision {f.name}"
        _assert_same_state(state, p.before, f"before round {p.outcome.round}")
        state, _ = step(w, state, d)
        previous = d
        _assert_same_state(state, p.after, f"after round {p.outcome.round}")


# --- counterfactuals ------------------------------------------------------------------------


def _counterfactual_pair(scenario_id: str) -> tuple[World, list[PlayedRound], list[PlayedRound], int]:
    """Two persona-free games, identical except one company's prices in round 3 (20% lower); labs train from round 1."""
    w = world(scenario_id)
    c = int(np.flatnonzero(~w.is_lab)[0]) if (~w.is_lab).any() else w.n_companies - 1
    name = w.company_names[c]
    first_round = {
        (1, n): simple_decision(w, i).model_copy(update={"training": TrainingDecision(start=RunPlan(params_b=200, tokens_t=8))})
        for i, n in enumerate(w.company_names) if w.is_lab[i]
    }
    plain = simple_decision(w, c)
    cheaper = plain.model_copy(update={"products": plain.products.model_copy(
        update={"prices": {s: 0.8 * v for s, v in plain.products.prices.items()}})})
    base = replay(all_team_record(w, SEED, changes=first_round), w)
    changed = replay(all_team_record(w, SEED, changes={**first_round, (CHANGED_ROUND, name): cheaper}), w)
    return w, base, changed, c


@pytest.mark.parametrize("scenario_id", SCENARIO_IDS)
def test_a_price_change_in_round_3_leaves_rounds_1_and_2_byte_identical_and_changes_round_3(scenario_id: str) -> None:
    w, base, changed, c = _counterfactual_pair(scenario_id)
    a, b = _reports(base, w), _reports(changed, w)
    assert a[: CHANGED_ROUND - 1] == b[: CHANGED_ROUND - 1]
    assert a[CHANGED_ROUND - 1] != b[CHANGED_ROUND - 1], "the counterfactual changed nothing: the test is not testing"


@pytest.mark.parametrize("scenario_id", SCENARIO_IDS)
def test_a_counterfactual_keeps_every_random_draw_so_only_probabilities_move_outcomes(scenario_id: str) -> None:
    """With common random numbers, an event or training setback happens in both games or in neither, and an
    incident or lawsuit that happened stays happened wherever its probability did not fall (and vice versa)."""
    _, base, changed, _ = _counterfactual_pair(scenario_id)
    for a, b in zip(base, changed, strict=True):
        oa, ob, rnd = a.outcome, b.outcome, a.outcome.round
        assert np.array_equal(oa.conditions.started, ob.conditions.started), f"round {rnd}: events"
        assert np.array_equal(oa.progress.setback_probability, ob.progress.setback_probability), f"round {rnd}: setback odds"
        assert np.array_equal(oa.progress.slipped, ob.progress.slipped), f"round {rnd}: slips"
        assert np.array_equal(oa.progress.failed, ob.progress.failed), f"round {rnd}: failures"
        for what, pa, pb, ha, hb in (
            ("incident", oa.incidents.probability, ob.incidents.probability, oa.incidents.happened, ob.incidents.happened),
            ("lawsuit", oa.incidents.lawsuit_probability, ob.incidents.lawsuit_probability, oa.incidents.lawsuit, ob.incidents.lawsuit),
        ):
            assert not (ha & ~hb & (pb >= pa)).any(), f"round {rnd}: an {what} vanished although its probability did not fall"
            assert not (hb & ~ha & (pb <= pa)).any(), f"round {rnd}: an {what} appeared although its probability did not rise"


# --- the draws themselves -------------------------------------------------------------------


@settings(max_examples=50, deadline=None)
@given(SEEDS, st.integers(0, 40), st.sampled_from(list(Purpose)), st.integers(0, 20), st.integers(0, 49))
def test_uniform_draws_are_a_function_of_seed_round_company_and_purpose_only(seed: int, rnd: int, purpose: Purpose, extra: int, run: int) -> None:
    """A run's draws are the same alone (R=1) as inside a batch of 50, and for one company as for all at once."""
    batch = rng.run_seeds(seed, 50)
    alone = rng.run_seeds(seed, 1, first_run=run)
    assert alone[0] == batch[run]
    companies = np.arange(8)
    together = rng.uniform(batch, rnd, companies, purpose, extra)
    assert together.shape == (50, 8)
    assert np.array_equal(rng.uniform(alone, rnd, companies, purpose, extra)[0], together[run])
    for c in companies:
        assert rng.uniform(alone, rnd, int(c), purpose, extra)[0] == together[run, c]
    assert rng.uniform(alone, rnd, rng.MARKET, purpose, extra)[0] == rng.uniform(batch, rnd, rng.MARKET, purpose, extra)[run]


@settings(max_examples=50, deadline=None)
@given(SEEDS, st.integers(0, 40), st.sampled_from(list(Purpose)), st.integers(0, 12), st.integers(-1, 7))
def test_draws_for_many_extras_at_once_are_the_draws_made_one_extra_at_a_time(seed: int, rnd: int, purpose: Purpose, extras: int, company: int) -> None:
    seeds = rng.run_seeds(seed, 20)
    together = rng.uniform_extras(seeds, rnd, company, purpose, extras)
    assert together.shape == (20, extras)
    for e in range(extras):
        assert np.array_equal(together[:, e], rng.uniform(seeds, rnd, company, purpose, extra=e))


@settings(max_examples=30, deadline=None)
@given(SEEDS, st.integers(0, 40), st.sampled_from(list(Purpose)))
def test_draws_for_chosen_run_company_pairs_are_those_pairs_draws_in_the_full_table(seed: int, rnd: int, purpose: Purpose) -> None:
    seeds = rng.run_seeds(seed, 30)
    table = rng.uniform(seeds, rnd, np.arange(7), purpose)
    runs, companies = np.divmod(np.arange(0, 30 * 7, 3), 7)
    assert np.array_equal(rng.uniform_pairs(seeds[runs], rnd, companies, purpose), table[runs, companies])


@settings(max_examples=50, deadline=None)
@given(SEEDS, st.integers(1, 40), st.integers(0, 39), st.sampled_from(list(Purpose)))
def test_changing_any_part_of_a_draws_key_changes_the_draw(seed: int, rnd: int, company: int, purpose: Purpose) -> None:
    seeds = rng.run_seeds(seed, 1)
    draw = rng.uniform(seeds, rnd, company, purpose)[0]
    other_purpose = Purpose(purpose % len(Purpose) + 1)
    assert draw != rng.uniform(seeds, rnd + 1, company, purpose)[0]
    assert draw != rng.uniform(seeds, rnd, company + 1, purpose)[0]
    assert draw != rng.uniform(seeds, rnd, company, other_purpose)[0]
    assert draw != rng.uniform(seeds, rnd, company, purpose, extra=1)[0]
    assert draw != rng.uniform(rng.run_seeds(seed + 1, 1), rnd, company, purpose)[0]


def test_uniform_draws_lie_strictly_inside_zero_and_one_and_are_evenly_spread() -> None:
    seeds = rng.run_seeds(7, 4000)
    u = np.concatenate([rng.uniform(seeds, rnd, np.arange(5), p).ravel() for rnd in (1, 2) for p in Purpose])
    assert ((u > 0) & (u < 1)).all()
    counts, _ = np.histogram(u, bins=20, range=(0, 1))
    expected = u.size / 20
    assert np.abs(counts - expected).max() < 5 * np.sqrt(expected)


@pytest.mark.parametrize("scenario_id", SCENARIO_IDS)
def test_a_game_played_inside_a_batch_of_fifty_matches_the_same_game_played_alone(scenario_id: str) -> None:
    w = world(scenario_id)
    seats, aggressiveness = scenario_seats(w), np.full(w.n_companies, personas.DEFAULT_AGGRESSIVENESS)
    run = 37
    batch, alone = initial_state(w, rng.run_seeds(SEED, 50)), initial_state(w, rng.run_seeds(SEED, 1, first_run=run))
    previous_batch = previous_alone = None
    for rnd in range(1, w.scenario.rounds + 1):
        d_batch = personas.decide(w, batch, seats, aggressiveness, previous_batch)
        d_alone = personas.decide(w, alone, seats, aggressiveness, previous_alone)
        batch, _ = step(w, batch, d_batch)
        alone, _ = step(w, alone, d_alone)
        previous_batch, previous_alone = d_batch, d_alone
        _assert_same_state(batch.take(run), alone, f"round {rnd}")
