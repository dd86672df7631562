"""What a decision would do, before it is submitted: problems, money committed, cash left, training
timeline."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from app.engine.decisions import Decision, to_arrays
from app.engine.rules import compute, data, events, talent, training
from app.engine.state import State
from app.engine.validation import (
    SPENDING_FIELDS,
    DecisionProblem,
    cash_available,
    financing_within_limits,
    spending,
    validate,
)
from app.engine.world import World


@dataclass(frozen=True)
class TrainingPreview:
    flops: float
    flops_per_round: float
    rounds: int | None  # quarters to finish on today's GPUs (None: no capacity, or over a century)
    finish_round: int | None
    capability: float
    current_capability: float


@dataclass(frozen=True)
class Preview:
    problems: list[DecisionProblem]
    spending: list[tuple[str, str, float]]  # (field, label, $M)
    cash_now: float
    financing: float
    committed: float
    cash_after_commitments: float
    staff_cost: float
    last_revenue: float
    pro_forma_cash: (
        float  # cash after commitments, staff and GPU running costs, plus last quarter's revenue
    )
    training: TrainingPreview | None

    def problems_at(self, field: str) -> list[str]:
        return [
            p.message for p in self.problems if p.field == field or p.field.startswith(field + ".")
        ]


def preview(world: World, state: State, company: int, decision: Decision) -> Preview:
    """Every consequence of a decision that can be known before the round is resolved (run 0 of
    `state`)."""
    d = to_arrays(
        [decision if c == company else Decision() for c in range(world.n_companies)],
        world,
        state.base,
        state.prices,
        state.api_price,
        state.staff,
    )
    c = company
    problems = validate(world, state, c, decision, d)
    spend = spending(world, d)[0, c]
    funded = financing_within_limits(world, state, d)
    available = float(cash_available(state, funded)[0, c])
    staff = float(
        talent.staff_cost(world, d.staff_target, d.pay, events.no_shocks(state.runs))[0, c]
    )
    energy = float(
        compute.energy_cost(
            world, compute.energy_mwh(world, state.gpus), events.no_shocks(state.runs)
        )[0, c]
    )
    committed = float(spend.sum())
    return Preview(
        problems=problems,
        spending=[
            (f, label, float(v))
            for (f, label), v in zip(SPENDING_FIELDS, spend, strict=True)
            if v > 0
        ],
        cash_now=float(state.cash[0, c]),
        financing=available - float(state.cash[0, c]),
        committed=committed,
        cash_after_commitments=available - committed,
        staff_cost=staff,
        last_revenue=float(state.revenue[0, c]),
        pro_forma_cash=available - committed - staff - energy + float(state.revenue[0, c]),
        training=_training(world, state, c, decision, d.serving_share[0, c]),
    )


def _training(
    world: World, state: State, c: int, decision: Decision, serving_share: float
) -> TrainingPreview | None:
    plan = decision.training.start
    if plan is None or not world.is_lab[c]:
        return None
    want = np.array([[[decision.data.scrape_t_tokens, decision.data.license_t_tokens,
                       decision.data.synthetic_t_tokens]]])
    held = data.after_purchases(state.data[0:1, c : c + 1], state.data_pool[0:1], want)
    one = lambda v: np.array([[float(v)]])  # noqa: E731
    flops, tokens_eff = training.plan_run(
        world, one(plan.params_b), one(plan.active), one(plan.tokens_t), held
    )
    fleet = (state.gpus[0:1, c : c + 1] + _rented(world, decision)) * (1.0 - serving_share)
    per_round = float(
        training.pace(world, fleet, one(plan.active), state.staff[0:1, c : c + 1, 1])[0, 0]
    )
    generating = _generating(world, state, c, decision, held, serving_share) * per_round
    rounds = training.quarters_to_finish(float(flops[0, 0]) + generating, per_round)
    cap = training.finished_capability(
        world, one(plan.params_b), one(plan.active), one(plan.tokens_t), tokens_eff,
        state.algo[0:1, c : c + 1],
    )
    return TrainingPreview(
        float(flops[0, 0]),
        per_round,
        rounds,
        state.round + rounds if rounds else None,
        float(cap[0, 0]),
        float(state.model_cap[0, c]),
    )


def _generating(
    world: World, state: State, c: int, decision: Decision, held: np.ndarray, serving_share: float
) -> float:
    """Share of this quarter's training fleet the synthetic tokens take from the run (as
    `split_fleet` takes it): the run finishes as if it had that much of a quarter more to do."""
    gpus = state.gpus[0:1].copy()
    gpus[0, c] += _rented(world, decision)[0, 0]
    synthetic = np.zeros((1, world.n_companies))
    synthetic[0, c] = held[0, 0, data.SYNTHETIC] - state.data[0, c, data.SYNTHETIC]
    peak = compute.peak_flops(world, gpus)
    share = np.full_like(peak, serving_share)
    with_synthetic, without = (
        compute.split_fleet(world, peak, share, x) for x in (synthetic, np.zeros_like(synthetic))
    )
    return float(1.0 - with_synthetic.training[0, c] / max(without.training[0, c], 1e-12))


def _rented(world: World, decision: Decision) -> np.ndarray:
    names = world.gpu_names
    return np.array([[[decision.compute.rent_gpus.get(g, 0.0) for g in names]]])
