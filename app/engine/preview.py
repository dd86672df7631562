"""What a decision would do, before it is submitted: problems, money committed, cash left, training
timeline, serving capacity by model."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from app.engine.decisions import Decision, DecisionArrays, to_arrays
from app.engine.rules import compute, data, events, market, talent, training
from app.engine.state import ENGINEERS, State
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
class ServingLine:
    """What the fleet as decided serves with one model: tokens a quarter (trillions)."""

    model: str  # which model, in the page's words
    params_b: float
    active_params_b: float
    capacity_t: float


@dataclass(frozen=True)
class CapacityPreview:
    """Serving capacity this quarter's fleet (owned, arriving and rented GPUs at the serving share
    typed) has with the model on sale and with each model that may replace it, beside last
    quarter's demand: a bigger model serves fewer tokens a GPU (`market.serving_capacity`)."""

    demand_t: float
    lines: list[ServingLine]  # the model on sale first
    next_release: ServingLine | None  # the model that would go on sale next, if any

    @property
    def current(self) -> ServingLine:
        return self.lines[0]

    def unserved_t(self, line: ServingLine) -> float:
        return max(self.demand_t - line.capacity_t, 0.0)

    @property
    def next_falls_short(self) -> bool:
        return self.next_release is not None and self.unserved_t(self.next_release) > 0


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
    capacity: CapacityPreview | None = None  # labs only

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
        capacity=_capacity(world, state, c, decision, d) if world.is_lab[c] else None,
    )


def _capacity(world: World, state: State, c: int, decision: Decision,
              d: DecisionArrays) -> CapacityPreview:
    """The serving side of the round as `step` runs it (`compute.deliver`, `split_fleet`,
    `market.serving_capacity`), for the model on sale and each model that may follow it."""
    gpus, _ = compute.deliver(state.gpus, state.pipeline, np.zeros_like(state.gpus))
    in_use = (gpus + d.rent)[0:1, c : c + 1]
    synthetic = data.within_pools(state.data, state.data_pool, d.data_buy)[0:1, c : c + 1]
    split = compute.split_fleet(world, compute.peak_flops(world, in_use),
                                d.serving_share[0:1, c : c + 1], synthetic[:, :, data.SYNTHETIC])
    memory = compute.memory_gb(world, in_use) * split.serving
    one = lambda v: np.array([[float(v)]])  # noqa: E731

    # the engineers the team asks for keep served what they can (the hires may fall short)
    engineers = market.engineer_capacity(world, d.staff_target[:, :, ENGINEERS],
                                         state.round + 1)[0:1, c : c + 1]

    def line(model: str, total: float, active: float) -> ServingLine:
        cap = market.serving_capacity(world, split.serving_peak, memory, one(active), one(total),
                                      state.algo[0:1, c : c + 1], np.array([[True]]), engineers)
        return ServingLine(model, total, active, float(cap[0, 0]))

    lines = [line("the model on sale", state.model_total[0, c], state.model_active[0, c])]
    ready = None
    if state.ready_on[0, c]:
        ready = line("the model kept ready", state.ready_total[0, c], state.ready_active[0, c])
        lines.append(ready)
    if state.run_on[0, c] and not decision.training.cancel:
        lines.append(line("the run in progress", state.run_total[0, c], state.run_active[0, c]))
    elif decision.training.start is not None:
        plan = decision.training.start
        lines.append(line("the run you start", plan.params_b, plan.active))
    better_ready = ready is not None and state.ready_cap[0, c] > state.model_cap[0, c]
    following = [x for x in lines[1:] if x is not ready or better_ready]
    return CapacityPreview(float(state.demand[0, c]), lines, following[0] if following else None)


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
