"""More of a good thing never backfires where the economics say it cannot: safety spend never raises
incident risk, more training tokens never raise loss, a dearer price never wins buyers, and more
GPUs never shrink serving capacity. Each compares two rounds from the same state that differ in one input."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.engine import scaling
from app.engine.decisions import DecisionArrays
from app.engine.state import State
from app.engine.step import Outcome, step
from app.engine.world import World

from .factories import SCENARIO_IDS, persona_game, replicate, scenario, world

RUNS = 3
TOL = 1e-12
SETTINGS = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SWEEP = np.concatenate([[0.0], np.geomspace(0.01, 1e5, 800)])  # safety spend, $M a quarter


@dataclass(frozen=True)
class GameUnderWay:
    """A persona game some rounds in, and one company to vary (small, so a failure prints readably)."""

    scenario_id: str
    rounds: int
    seed: int
    company: int

    def build(self) -> tuple[World, State, DecisionArrays, int]:
        """The world, the state, the personas' decisions for the next round, and the company."""
        w = world(self.scenario_id)
        state, decisions = persona_game(w, self.rounds, self.seed, RUNS)
        return w, state, decisions, self.company % w.n_companies


GAMES = st.builds(GameUnderWay, st.sampled_from(SCENARIO_IDS), st.integers(0, 6), st.integers(0, 2**32 - 1), st.integers(0, 39))


# --- safety -------------------------------------------------------------------------------


@SETTINGS
@given(GAMES, st.floats(0.0, 5_000.0), st.floats(0.01, 5_000.0))
def test_more_safety_spend_never_raises_incident_probability(game: GameUnderWay, spend: float, extra: float) -> None:
    w, state, d, c = game.build()
    less, more = d.safety.copy(), d.safety.copy()
    less[:, c], more[:, c] = spend, spend + extra
    _, low = step(w, state, d.replace(safety=less))
    _, high = step(w, state, d.replace(safety=more))
    assert (high.incidents.probability[:, c] <= low.incidents.probability[:, c] + TOL).all()


def _sweep_safety(w: World, state: State, d: DecisionArrays, c: int) -> tuple[np.ndarray, np.ndarray]:
    """Company c's safety level and incident probability at every spend of SWEEP, all else equal."""
    many, md = replicate(state, SWEEP.size), replicate(d, SWEEP.size)
    spend = md.safety.copy()
    spend[:, c] = SWEEP
    _, o = step(w, many, md.replace(safety=spend))
    return o.safety[:, c], o.incidents.probability[:, c]


@pytest.mark.parametrize("rounds_played", [0, 4], ids=["round-1", "round-5"])
@pytest.mark.parametrize("scenario_id", SCENARIO_IDS)
def test_incident_probability_never_rises_along_a_sweep_of_safety_spend_even_across_a_segments_safety_minimum(scenario_id: str, rounds_played: int) -> None:
    """A fine sweep crosses every regulated segment's minimum: becoming eligible there must not make the company riskier."""
    w = world(scenario_id)
    state, d = persona_game(w, rounds_played, seed=11)
    rises = []
    for c, name in enumerate(w.company_names):
        safety, p = _sweep_safety(w, state, d, c)
        for i in np.flatnonzero(np.diff(p) > TOL)[:1]:
            rises.append(f"{name}: safety spend ${SWEEP[i]:,.2f}M -> ${SWEEP[i + 1]:,.2f}M takes safety {safety[i]:.2f} -> "
                         f"{safety[i + 1]:.2f} and incident probability {p[i]:.5f} -> {p[i + 1]:.5f}")
    assert not rises, "more safety spend raised incident probability:\n" + "\n".join(rises)


# --- scaling ------------------------------------------------------------------------------

PARAMS = st.floats(1e6, 1e13)
TOKENS = st.floats(1e6, 1e15)
SCALING = scenario(SCENARIO_IDS[0]).scaling


@settings(max_examples=60, deadline=None)
@given(PARAMS, TOKENS, TOKENS, st.floats(1.0, 1e3), st.sampled_from(SCENARIO_IDS))
def test_more_tokens_at_fixed_parameters_never_raise_loss(params: float, unique: float, tokens: float, factor: float, scenario_id: str) -> None:
    s = scenario(scenario_id).scaling
    fewer = scaling.loss(params, scaling.effective_tokens(tokens, unique, s), s)
    more = scaling.loss(params, scaling.effective_tokens(tokens * factor, unique, s), s)
    assert more <= fewer + TOL


@settings(max_examples=60, deadline=None)
@given(TOKENS, TOKENS, st.floats(1.0, 1e3))
def test_more_unique_data_never_lowers_the_effective_tokens_of_a_run(tokens: float, unique: float, factor: float) -> None:
    assert scaling.effective_tokens(tokens, unique * factor, SCALING) >= scaling.effective_tokens(tokens, unique, SCALING) * (1 - TOL)


@settings(max_examples=60, deadline=None)
@given(TOKENS, TOKENS)
def test_repeated_tokens_count_for_no_more_than_fresh_ones_and_no_less_than_one_pass(tokens: float, unique: float) -> None:
    effective = float(scaling.effective_tokens(tokens, unique, SCALING))
    assert min(tokens, unique) * (1 - TOL) <= effective <= tokens * (1 + TOL)


def test_four_epochs_of_repeated_data_are_worth_nearly_as_much_as_fresh_data() -> None:
    """Muennighoff et al. 2023: up to ~4 epochs, repetition is nearly as good as new data."""
    assert scaling.effective_tokens(4e12, 1e12, SCALING) >= 0.9 * 4e12
    assert scaling.effective_tokens(40e12, 1e12, SCALING) <= 0.6 * 40e12


@settings(max_examples=60, deadline=None)
@given(PARAMS, TOKENS, st.floats(1.0, 1e3), st.floats(1.0, 1e3))
def test_capability_of_a_finished_run_never_falls_with_more_parameters_or_tokens(params: float, tokens: float, more_n: float, more_d: float) -> None:
    base = scaling.model_capability(params, params, tokens, 1.0, SCALING)
    assert scaling.model_capability(params * more_n, params * more_n, tokens, 1.0, SCALING) >= base - TOL
    assert scaling.model_capability(params, params, tokens * more_d, 1.0, SCALING) >= base - TOL


# --- price --------------------------------------------------------------------------------


@SETTINGS
@given(GAMES, st.data(), st.floats(1.0001, 1e3))
def test_a_higher_own_price_never_raises_own_choice_probability_or_installed_share(game: GameUnderWay, data: st.DataObject, factor: float) -> None:
    w, state, d, c = game.build()
    s = data.draw(st.integers(0, w.n_segments - 1), label="segment")
    dearer = d.price.copy()
    dearer[:, c, s] *= factor
    _, cheap = step(w, state, d)
    _, dear = step(w, state, d.replace(price=dearer))
    assert (dear.choice.probability[:, c, s] <= cheap.choice.probability[:, c, s] + TOL).all()
    assert (dear.share[:, c, s] <= cheap.share[:, c, s] + TOL).all()


@pytest.mark.parametrize("rounds_played", [0, 4], ids=["round-1", "round-5"])
@pytest.mark.parametrize("scenario_id", SCENARIO_IDS)
def test_pricing_a_thousand_times_higher_never_raises_revenue(scenario_id: str, rounds_played: int) -> None:
    """Switching costs slow buyers down; they must not make them pay any price. Otherwise an absurd price
    rise is a dominant strategy (PRODUCT.md: no exploitable models)."""
    w = world(scenario_id)
    state, d = persona_game(w, rounds_played, seed=11)
    gains = []
    for c, name in enumerate(w.company_names):
        dearer = d.price.copy()
        dearer[:, c] *= 1000.0
        _, usual = step(w, state, d)
        _, dear = step(w, state, d.replace(price=dearer))
        if dear.lines["revenue_retail"][0, c] > usual.lines["revenue_retail"][0, c]:
            gains.append(f"{name}: revenue ${usual.lines['revenue_retail'][0, c]:,.0f}M -> ${dear.lines['revenue_retail'][0, c]:,.0f}M, "
                         f"tokens served {usual.served[0, c].sum():,.1f}T -> {dear.served[0, c].sum():,.1f}T")
    assert not gains, "a thousandfold price rise paid off:\n" + "\n".join(gains)


@SETTINGS
@given(GAMES, st.data(), st.floats(1.0001, 1e3))
def test_a_higher_own_price_never_lowers_a_rivals_choice_probability(game: GameUnderWay, data: st.DataObject, factor: float) -> None:
    w, state, d, c = game.build()
    s = data.draw(st.integers(0, w.n_segments - 1), label="segment")
    dearer = d.price.copy()
    dearer[:, c, s] *= factor
    _, cheap = step(w, state, d)
    _, dear = step(w, state, d.replace(price=dearer))
    rivals = np.arange(w.n_companies) != c
    assert (dear.choice.probability[:, rivals, s] >= cheap.choice.probability[:, rivals, s] - TOL).all()
    assert (dear.choice.outside_probability[:, s] >= cheap.choice.outside_probability[:, s] - TOL).all()


# --- GPUs ---------------------------------------------------------------------------------
# Extra GPUs can finish a training run sooner, and a bigger released model serves fewer tokens per
# FLOP: so capacity is compared in serving FLOPs (tokens x active parameters), and in tokens when
# both branches serve the same model.


def _assert_no_less_capacity(fewer: Outcome, more: Outcome, fewer_after: State, more_after: State, c: int,
                             w: World) -> None:
    """The GPUs' part of serving capacity. A lab's engineers also bound what it serves (`market.engineer_capacity`),
    and paying for more GPUs may leave it fewer hires, so runs where its engineers bind in either branch are left out."""
    from app.engine.rules.market import engineer_capacity

    def gpu_bound(o: Outcome, after: State) -> np.ndarray:
        return o.capacity[:, c] < 0.999 * engineer_capacity(w, after.staff[:, :, 1], after.round)[:, c]

    keep = gpu_bound(fewer, fewer_after) & gpu_bound(more, more_after)
    flops_fewer = fewer.capacity[keep, c] * fewer_after.model_active[keep, c]
    flops_more = more.capacity[keep, c] * more_after.model_active[keep, c]
    assert (flops_more >= flops_fewer * (1 - TOL)).all()
    same_model = keep & (fewer_after.model_active[:, c] == more_after.model_active[:, c])
    assert (more.capacity[same_model, c] >= fewer.capacity[same_model, c] * (1 - TOL)).all()


@SETTINGS
@given(GAMES, st.data(), st.floats(1.0, 1e6))
def test_more_owned_gpus_never_lower_serving_capacity(game: GameUnderWay, data: st.DataObject, extra: float) -> None:
    w, state, d, c = game.build()
    g = data.draw(st.integers(0, w.n_gpus - 1), label="gpu")
    gpus = state.gpus.copy()
    gpus[:, c, g] += extra
    fewer_after, fewer = step(w, state, d)
    more_after, more = step(w, state.replace(gpus=gpus), d)
    _assert_no_less_capacity(fewer, more, fewer_after, more_after, c, w)


@SETTINGS
@given(GAMES, st.data(), st.floats(1.0, 1e6))
def test_more_rented_gpus_never_lower_serving_capacity(game: GameUnderWay, data: st.DataObject, extra: float) -> None:
    w, state, d, c = game.build()
    g = data.draw(st.integers(0, w.n_gpus - 1), label="gpu")
    rent = d.rent.copy()
    rent[:, c, g] += extra
    fewer_after, fewer = step(w, state, d)
    more_after, more = step(w, state, d.replace(rent=rent))
    _assert_no_less_capacity(fewer, more, fewer_after, more_after, c, w)
