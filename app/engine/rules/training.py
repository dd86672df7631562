"""Pre-training runs: they start, take the FLOPs the cluster delivers, may slip or fail, and finish
with a model kept ready until it is released."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from app.engine import scaling
from app.engine.arrays import Rows
from app.engine.rng import Purpose, uniform_pairs
from app.engine.rules import data
from app.engine.world import World
from app.scenario.schema import SECONDS_PER_ROUND

FORECAST_QUARTERS = 400  # a run that would take over a century at today's pace gets no finish date


@dataclass(frozen=True, eq=False)
class RunProgress:
    flops_done: np.ndarray  # (R,C) after this round
    delivered: np.ndarray  # useful FLOPs this round
    slipped: np.ndarray  # bool
    failed: np.ndarray  # bool
    completed: np.ndarray  # bool
    setback_probability: np.ndarray
    new_cap: np.ndarray  # capability of the finished model (where completed)


def goodput(world: World, engineers: np.ndarray) -> np.ndarray:
    """Share of cluster time that does useful work; engineering talent recovers interruptions."""
    t, s = world.scenario.talent, world.scenario.scaling
    skill = np.minimum(engineers / t.engineers_for_full_goodput, 1.0)
    return s.goodput * (t.min_engineering_goodput + (1.0 - t.min_engineering_goodput) * skill)


@dataclass(frozen=True, eq=False)
class TrainingFleet:
    """What a training fleet's pace owes nothing to the run's size (R,C,...): the GPU types
    someone trains on (a type nobody has adds nothing), their peak FLOPs a quarter, where each
    type runs, the fleet's GPU count and the goodput the engineering team keeps. Built once, it
    paces runs of any size (`fleet_pace`). Types come first ((G',R,C) arrays), so that each
    type's numbers lie together."""

    gpus: np.ndarray  # (R,C) GPUs of every type together (at least 1e-9)
    tflops: np.ndarray  # (G',) of each type in use
    peak: np.ndarray  # (G',R,C) peak FLOPs a quarter of each type in use
    running: list[np.ndarray]  # for each type in use, the flat (R,C) positions it runs at
    goodput: np.ndarray  # (R,C)


def training_fleet(world: World, training_gpus: np.ndarray,
                   engineers: np.ndarray) -> TrainingFleet:
    """The run-independent parts of `pace` for a training fleet (R,C,G GPUs, any mix)."""
    used = np.array([g for g in range(training_gpus.shape[-1]) if training_gpus[..., g].any()],
                    dtype=np.intp)  # type by type: faster than any() over the short last axis
    by_type = np.take(np.moveaxis(training_gpus, -1, 0), used, axis=0)  # (G',R,C)
    tflops = world.gpu_tflops[used]
    peak = by_type * tflops.reshape(-1, *[1] * (by_type.ndim - 1)) * 1e12 * SECONDS_PER_ROUND
    return TrainingFleet(
        gpus=np.maximum(_sum_types(by_type), 1e-9), tflops=tflops, peak=peak,
        running=[np.flatnonzero(p != 0) for p in peak], goodput=goodput(world, engineers),
    )


def _sum_types(by_type: np.ndarray) -> np.ndarray:
    """(R,C) the sum over the leading types axis, type by type (as arrays.sum_last adds)."""
    if not by_type.shape[0]:
        return np.zeros(by_type.shape[1:])
    out = by_type[0].copy()
    for g in range(1, by_type.shape[0]):
        out += by_type[g]
    return out


def fleet_pace(world: World, fleet: TrainingFleet, active_b: np.ndarray) -> np.ndarray:
    """`pace` of a run of `active_b` billion active parameters on a `training_fleet` (R,C). Each
    type's MFU is worked out where that type runs: elsewhere its peak is 0 and so is what it adds
    (whatever the MFU, here 1)."""
    s = world.scenario.scaling
    active, gpus = np.broadcast_arrays(np.asarray(active_b) * 1e9, fleet.gpus)
    # what owes nothing to the GPU type, once for every position (where no type runs, unused)
    per_gpu, small, packed = (np.asarray(a).reshape(-1) for a in scaling.size_mfu_terms(
        s, active / gpus, active))
    mfu = np.ones(fleet.peak.shape)
    for g, where in enumerate(fleet.running):
        mfu[g].reshape(-1)[where] = scaling.gpu_mfu(s, float(fleet.tflops[g]), per_gpu[where],
                                                    small[where], packed[where])
    return _sum_types(fleet.peak * mfu) * fleet.goodput


def pace(world: World, training_gpus: np.ndarray, active_b: np.ndarray,
         engineers: np.ndarray) -> np.ndarray:
    """Useful FLOPs a quarter a run of `active_b` billion active parameters gets from a training
    fleet (R,C,G GPUs, any mix): each GPU type at its own MFU for the parameters each GPU holds,
    times the goodput the engineering team keeps (R,C)."""
    return fleet_pace(world, training_fleet(world, training_gpus, engineers), active_b)


def setback_probability(world: World, engineers: np.ndarray) -> np.ndarray:
    t = world.scenario.talent
    return t.base_failure_per_round * (
        1.0 - 0.8 * np.minimum(engineers / t.engineers_for_full_goodput, 1.0)
    )


def plan_run(
    world: World,
    total_b: np.ndarray,
    active_b: np.ndarray,
    tokens_t: np.ndarray,
    held: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """FLOPs a run needs and the effective tokens it will have learned from the data the lab holds
    (R,C,K): see `data.learned_tokens`."""
    flops = scaling.training_flops(active_b * 1e9, tokens_t * 1e12, world.scenario.scaling)
    return np.asarray(flops), data.learned_tokens(world, held, tokens_t)


def advance_run(
    world: World,
    run_on: np.ndarray,
    needed: np.ndarray,
    done: np.ndarray,
    run_pace: np.ndarray,
    engineers: np.ndarray,
    seeds: np.ndarray,
    rnd: int,
) -> RunProgress:
    """Deliver this quarter's useful FLOPs (`run_pace`, see `pace`) to each run in progress,
    drawing slips and failures; engineers make setbacks rarer."""
    t = world.scenario.talent
    delivered = np.where(run_on, run_pace, 0.0)
    p = setback_probability(world, engineers)
    running = Rows(run_on)  # only a run in progress can slip or fail: draw for those alone
    runs, companies = running.pairs()
    u = running.put(uniform_pairs(seeds[runs], rnd, companies, Purpose.TRAINING_SETBACK))
    slipped = run_on & (u < p) & (u >= p * t.setback_fail_share)
    failed = run_on & (u < p * t.setback_fail_share)
    delivered = np.where(slipped, delivered * (1.0 - t.slip_loss), np.where(failed, 0.0, delivered))
    new_done = np.where(failed, 0.0, done + delivered)
    completed = run_on & ~failed & (new_done >= needed)
    return RunProgress(
        new_done,
        delivered,
        slipped,
        failed,
        completed,
        np.where(run_on, p, 0.0),
        np.zeros_like(done),
    )


def finished_capability(
    world: World,
    total_b: np.ndarray,
    active_b: np.ndarray,
    tokens_t: np.ndarray,
    tokens_eff_t: np.ndarray,
    algo: np.ndarray,
) -> np.ndarray:
    """Capability of a run of `tokens_t` that learned `tokens_eff_t` tokens' worth (see
    `data.learned_tokens`); the data's quality multiplies its effective compute."""
    return np.asarray(
        scaling.model_capability(
            total_b * 1e9, active_b * 1e9, tokens_eff_t * 1e12, algo, world.scenario.scaling,
            data.read_quality(world, tokens_t, tokens_eff_t),
        )
    )


def released(ready: np.ndarray, ready_cap: np.ndarray, current_cap: np.ndarray,
             hold: np.ndarray) -> np.ndarray:
    """A model kept ready goes on sale unless the team holds it, and only if it rates above the
    model on sale (R,C): a weaker one stays ready, never released."""
    return ready & ~hold & (ready_cap > current_cap)


def quarters_to_finish(flops_left: float, flops_per_round: float) -> int | None:
    """Quarters a run still needs at this pace (None: no capacity, or more than a century)."""
    quarters = flops_left / flops_per_round if flops_per_round > 0 else np.inf
    return int(np.ceil(quarters)) if quarters <= FORECAST_QUARTERS else None
