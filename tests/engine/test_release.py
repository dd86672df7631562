"""A finished run's model is kept ready and released by the team's rule (`training.release`): when it rates
above the model on sale, unless the team holds it; a weaker one stays ready, never released, and is reported."""

from __future__ import annotations

import numpy as np

from app.engine import report
from app.engine.decisions import Decision, RunPlan, TrainingDecision, to_arrays
from app.engine.game import PlayedRound
from app.engine.preview import preview
from app.engine.rng import run_seeds
from app.engine.start import initial_state, opening_choice
from app.engine.state import State
from app.engine.step import Outcome, step

from .factories import simple_decision, world

W = world("frontier-race")
LAB = 0  # Aurora AI
RUNS = 6


def _decision(release: str = "when_better", start: RunPlan | None = None) -> Decision:
    return simple_decision(W, LAB).model_copy(update={"training": TrainingDecision(release=release, start=start)})


def _step(state: State, mine: Decision) -> tuple[State, Outcome]:
    chosen = [mine if c == LAB else simple_decision(W, c) for c in range(W.n_companies)]
    return step(W, state, to_arrays(chosen, W, state.base, state.prices, state.api_price, state.staff))


def _about_to_finish(total_b: float = 2_000.0, tokens_t: float = 60.0) -> State:
    """Round 0 with the lab's run one FLOP from done: it finishes in round 1 unless it fails."""
    s = initial_state(W, run_seeds(11, RUNS))

    def at_lab(a: np.ndarray, v: float | bool) -> np.ndarray:
        a = a.copy()
        a[:, LAB] = v
        return a

    return s.replace(run_on=at_lab(s.run_on, True), run_total=at_lab(s.run_total, total_b),
                     run_active=at_lab(s.run_active, total_b), run_tokens=at_lab(s.run_tokens, tokens_t),
                     run_tokens_eff=at_lab(s.run_tokens_eff, tokens_t), run_flops_needed=at_lab(s.run_flops_needed, 1.0),
                     run_flops_done=at_lab(s.run_flops_done, 1.0))


def _summary(before: State, after: State, outcome: Outcome, mine: Decision) -> list[str]:
    """The lab's results narrative of run 0 (reports read run 0)."""
    d = [mine if c == LAB else simple_decision(W, c) for c in range(W.n_companies)]
    arrays = to_arrays(d, W, before.base, before.prices, before.api_price, before.staff)
    return report.summary(W, PlayedRound(before, after, outcome, arrays, opening_choice(W)), LAB)


def test_a_held_model_is_kept_ready_unreleased_while_the_model_on_sale_keeps_selling() -> None:
    before = _about_to_finish()
    after, o = _step(before, _decision("hold"))
    done = o.progress.completed[:, LAB]
    assert done.any(), "the run should finish in most runs"
    assert after.ready_cap[done, LAB].min() > before.model_cap[done, LAB].max(), "the finished model rates higher"
    assert not o.released[:, LAB].any()
    assert after.ready_on[done, LAB].all()
    assert (after.model_cap[:, LAB] == before.model_cap[:, LAB]).all()
    assert (after.model_total[:, LAB] == before.model_total[:, LAB]).all()
    assert (after.served[:, LAB] > 0).all(), "the model on sale keeps selling"
    assert done[0], "run 0, which the report reads, finishes"
    lines = " ".join(_summary(before, after, o, _decision("hold")))
    assert "you chose to hold it, so it is kept ready and your current model keeps selling" in lines


def test_switching_back_to_release_when_better_puts_the_ready_model_on_sale() -> None:
    before = _about_to_finish()
    held, o1 = _step(before, _decision("hold"))
    done = o1.progress.completed[:, LAB]
    again, o2 = _step(held, _decision("hold"))
    assert not o2.released[:, LAB].any(), "holding again keeps it held"
    released, o3 = _step(again, _decision("when_better"))
    assert (o3.released[:, LAB] == done).all()
    assert np.allclose(released.model_cap[done, LAB], held.ready_cap[done, LAB])
    assert (released.model_total[done, LAB] == 2_000.0).all()
    assert (released.model_cutoff[done, LAB] == before.run_start[done, LAB]).all(), "its cut-off is when its run began"
    assert (released.model_version[done, LAB] == before.model_version[done, LAB] + 1).all()
    assert not released.ready_on[:, LAB].any()
    assert done[0]
    assert any("You released the model you kept ready" in x for x in _summary(again, released, o3, _decision()))


def test_a_weaker_finished_model_is_reported_and_kept_ready_never_released() -> None:
    start = initial_state(W, run_seeds(3, RUNS))
    tiny = RunPlan(params_b=1, tokens_t=0.05)  # finishes within the quarter, far below the model on sale
    after, o = _step(start, _decision(start=tiny))
    done = o.progress.completed[:, LAB]
    assert done.any()
    assert not o.released[:, LAB].any()
    assert after.ready_on[done, LAB].all() and (after.ready_total[done, LAB] == 1.0).all()
    later, o2 = _step(after, _decision())
    assert not o2.released[:, LAB].any(), "release when better never releases a weaker model"
    assert later.ready_on[done, LAB].all()
    assert done[0]
    cap, current = after.ready_cap[0, LAB], after.model_cap[0, LAB]
    assert (f"Your run finished at capability {cap:.1f}; it rates below your current model ({current:.1f}) "
            "and was kept ready, not released.") in _summary(start, after, o, _decision(start=tiny))
    ready = report.company_view(W, later, LAB)["ready_model"]
    assert ready is not None and ready["kept_because"] == "weaker" and ready["params_b"] == 1.0


def test_the_next_finished_run_replaces_the_model_kept_ready() -> None:
    weak, _ = _step(initial_state(W, run_seeds(3, RUNS)), _decision(start=RunPlan(params_b=1, tokens_t=0.05)))
    weaker_still, o = _step(weak, _decision(start=RunPlan(params_b=2, tokens_t=0.05)))
    done = o.progress.completed[:, LAB] & weak.ready_on[:, LAB]
    assert done.any()
    assert (weaker_still.ready_total[done, LAB] == 2.0).all()


def test_a_team_that_submits_nothing_keeps_its_release_rule() -> None:
    assert _decision("hold").carried_on().training.release == "hold"
    assert Decision().training.release == "when_better"


def test_the_preview_shows_a_bigger_model_serving_fewer_tokens_and_warns_before_demand_goes_unserved() -> None:
    state = initial_state(W, run_seeds(1, 1))
    typed = _decision(start=RunPlan(params_b=4_000, tokens_t=40))
    cap = preview(W, state, LAB, typed).capacity
    assert cap is not None
    on_sale, run = cap.lines
    assert on_sale.model == "the model on sale" and run.model == "the run you start"
    assert run.capacity_t < on_sale.capacity_t, "a bigger model serves fewer tokens a GPU"
    assert cap.demand_t == state.demand[0, LAB]
    assert cap.next_release is run
    assert cap.next_falls_short == (run.capacity_t < cap.demand_t)
    fewer = typed.model_copy(update={"compute": typed.compute.model_copy(update={"serving_share": 0.01})})
    short = preview(W, state, LAB, fewer).capacity
    assert short is not None and short.next_falls_short and short.unserved_t(short.current) > 0
