"""Training data binds: no company gets more of a kind than its pool holds, repeated passes lose value as
Muennighoff et al. (2023) measured, synthetic tokens count for less and take training compute, and a lab
holding little data trains a worse model with the same compute."""

from __future__ import annotations

import numpy as np
import pytest

from app.engine import scaling
from app.engine.decisions import DataDecision, Decision, to_arrays
from app.engine.rng import run_seeds
from app.engine.rules import compute, data, training
from app.engine.start import initial_state
from app.engine.step import step
from app.engine.world import DATA_KINDS

from .factories import world

W = world("frontier-race")


def _one_company_asks(c: int, asked: DataDecision):
    state = initial_state(W, run_seeds(3, 1))
    decisions = [Decision(data=asked) if k == c else Decision() for k in range(W.n_companies)]
    return state, step(W, state, to_arrays(decisions, W, state.base, state.prices, state.api_price, state.staff))[0]


def test_a_crawl_of_a_thousand_trillion_tokens_gets_only_what_is_left_of_the_web() -> None:
    c = 0
    state, after = _one_company_asks(c, DataDecision(scrape_t_tokens=1000))
    left = state.data_pool[0, data.SCRAPED] - state.data[0, c, data.SCRAPED]
    assert after.data[0, c, data.SCRAPED] == pytest.approx(state.data_pool[0, data.SCRAPED])
    assert after.data[0, c, data.SCRAPED] - state.data[0, c, data.SCRAPED] == pytest.approx(left)


def test_the_open_web_shrinks_each_quarter_as_sites_restrict_crawling() -> None:
    state, after = _one_company_asks(0, DataDecision())
    yearly = next(s for s in W.scenario.data.sources if s.kind == "scraped").restriction_growth_per_year
    assert after.data_pool[0, data.SCRAPED] == pytest.approx(state.data_pool[0, data.SCRAPED] * (1 - yearly) ** 0.25)


def test_no_lab_generates_more_synthetic_tokens_than_the_synthetic_pool_holds_and_what_it_makes_takes_training_compute() -> None:
    c = 0
    pool = W.data_pool[data.SYNTHETIC]
    _, after = _one_company_asks(c, DataDecision(synthetic_t_tokens=10 * pool))
    assert after.data[0, c, data.SYNTHETIC] == pytest.approx(pool)
    peak = compute.peak_flops(W, initial_state(W, run_seeds(3, 1)).gpus)
    none, some = (compute.split_fleet(W, peak, np.full_like(peak, 0.5), np.full_like(peak, t)) for t in (0.0, 1.0))
    assert (some.training < none.training).all()


def test_repeated_data_loses_value_as_muennighoff_et_al_measured() -> None:
    s = W.scenario.scaling
    assert s.repeat_half_life_epochs == pytest.approx(15.4)  # R_D*, arXiv 2305.16264

    def worth(epochs: float) -> float:
        return float(scaling.effective_tokens(epochs, 1.0, s))

    assert worth(1) == 1.0
    assert worth(4) == pytest.approx(3.73, abs=0.01)  # four epochs: almost as good as unique data
    assert worth(40) == pytest.approx(15.2, abs=0.1)  # forty: the added passes are worth little
    assert worth(80) - worth(40) < 0.1 * 40


def _capability_with(held_t: float, kind: str = "scraped") -> float:
    """Capability of the same run (400B parameters on 40T tokens, same FLOPs) for a lab holding `held_t`."""
    held = np.zeros((1, 1, len(DATA_KINDS)))
    held[0, 0, DATA_KINDS.index(kind)] = held_t
    one = lambda v: np.array([[float(v)]])  # noqa: E731
    _, tokens_eff = training.plan_run(W, one(400), one(400), one(40), held)
    return float(training.finished_capability(W, one(400), one(400), one(40), tokens_eff, one(1.0))[0, 0])


def test_a_lab_holding_little_data_trains_a_worse_model_with_the_same_compute() -> None:
    rich, poor, starved = _capability_with(40), _capability_with(4), _capability_with(1)
    assert rich > poor > starved
    assert _capability_with(400) == pytest.approx(rich)  # beyond one pass more data adds nothing


def test_synthetic_tokens_count_for_less_than_human_text() -> None:
    assert _capability_with(40, "synthetic") < _capability_with(40, "scraped") < _capability_with(40, "licensed")


def test_passes_beyond_the_epoch_limit_teach_nothing() -> None:
    one = lambda v: np.array([[float(v)]])  # noqa: E731
    held = np.zeros((1, 1, len(DATA_KINDS)))
    held[0, 0, data.LICENSED] = 1.0
    limit = W.scenario.data.max_epochs
    _, at_limit = training.plan_run(W, one(70), one(70), one(limit), held)
    _, beyond = training.plan_run(W, one(70), one(70), one(3 * limit), held)
    assert beyond[0, 0] == pytest.approx(at_limit[0, 0])


def test_the_training_preview_counts_the_compute_synthetic_data_takes_from_the_run() -> None:
    """A run that fits in one quarter on Cinder's cluster takes two once the quarter also generates
    10T synthetic tokens (the classroom walk found the preview ignoring it)."""
    from app.engine.decisions import RunPlan, TrainingDecision
    from app.engine.preview import preview

    c = W.company_names.index("Cinder")
    state = initial_state(W, run_seeds(3, 1))
    run = TrainingDecision(start=RunPlan(params_b=300, tokens_t=10))
    plain = preview(W, state, c, Decision(training=run)).training
    busy = preview(W, state, c, Decision(training=run, data=DataDecision(synthetic_t_tokens=10))).training
    assert plain is not None and busy is not None
    assert (plain.rounds, busy.rounds) == (1, 2)


def test_more_data_of_any_kind_never_makes_a_run_learn_less() -> None:
    """A run reads its best data first and repeats it rather than read worse data, when that is worth more."""
    one = lambda v: np.array([[float(v)]])  # noqa: E731
    base = np.zeros((1, 1, len(DATA_KINDS)))
    base[0, 0, data.LICENSED], base[0, 0, data.SCRAPED] = 5.0, 10.0
    for kind in (data.SCRAPED, data.LICENSED, data.SYNTHETIC):
        for tokens in (5.0, 15.0, 40.0, 200.0):
            more = base.copy()
            more[0, 0, kind] += 10.0
            _, before = training.plan_run(W, one(70), one(70), one(tokens), base)
            _, after = training.plan_run(W, one(70), one(70), one(tokens), more)
            assert after[0, 0] >= before[0, 0] - 1e-9, (DATA_KINDS[kind], tokens)
