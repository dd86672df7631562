"""Events: scheduled, random and injected shocks, turned into the round's conditions."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from app.engine.rng import MARKET, Purpose, uniform_extras
from app.engine.world import EVENT_KINDS, World


@dataclass(frozen=True, eq=False)
class Conditions:
    """The round's shocks, one value per replication (R,)."""

    started: np.ndarray  # (R,E)
    active: np.ndarray  # (R,E)
    export_ban: np.ndarray
    new_generation: np.ndarray
    legal_mult: np.ndarray
    min_safety_add: np.ndarray
    open_jump: np.ndarray
    pay_inflation: np.ndarray
    attrition_mult: np.ndarray
    power_mult: np.ndarray
    demand_mult: np.ndarray


def no_shocks(runs: int) -> Conditions:
    """The conditions of a quarter with no event running, for estimates made before it is played."""
    none, zero, one = np.zeros((runs, 0), bool), np.zeros(runs), np.ones(runs)
    return Conditions(
        started=none,
        active=none,
        export_ban=np.zeros(runs, bool),
        new_generation=zero,
        legal_mult=one,
        min_safety_add=zero,
        open_jump=zero,
        pay_inflation=zero,
        attrition_mult=one,
        power_mult=one,
        demand_mult=one,
    )


def advance_events(
    world: World, left: np.ndarray, seeds: np.ndarray, rnd: int, injected: np.ndarray | None
) -> tuple[np.ndarray, Conditions]:
    """Count down running events, start scheduled, drawn and injected ones, and sum their
    effects."""
    left = np.maximum(left - 1, 0)
    n_events = left.shape[1]
    draws = (
        uniform_extras(seeds, rnd, MARKET, Purpose.EVENT, n_events) if n_events else left * 0.0
    )
    started = (world.event_round == rnd) | ((left == 0) & (draws < world.event_prob))
    if injected is not None:
        started = started | injected
    left = np.where(started, np.maximum(left, world.event_duration), left)
    return left, _conditions(world, started, left > 0)


def _by_kind(world: World, mask: np.ndarray) -> dict[str, np.ndarray]:
    """Total magnitude of the masked events (R,E bool) of each kind (R,), event after event in
    the scenario's order (a product with a one-hot matrix would add the same numbers, on BLAS
    threads that wait on each other)."""
    totals: dict[str, np.ndarray] = {}
    for i, kind in enumerate(EVENT_KINDS):
        total = np.zeros(mask.shape[0])
        for e in np.flatnonzero(world.event_kind == i):
            total += mask[:, e] * world.event_magnitude[e]
        totals[kind] = total
    return totals


def _conditions(world: World, started: np.ndarray, active: np.ndarray) -> Conditions:
    on, new = _by_kind(world, active), _by_kind(world, started)
    return Conditions(
        started=started,
        active=active,
        export_ban=on["gpu_export_controls"] > 0,
        new_generation=np.minimum(on["new_gpu_generation"], 1.0),
        legal_mult=1.0 + np.maximum(on["copyright_wave"] - 1.0, 0.0) * (on["copyright_wave"] > 0),
        min_safety_add=on["regulation"],
        open_jump=new["open_weight_release"],
        pay_inflation=on["talent_war"],
        attrition_mult=1.0 + 2.0 * on["talent_war"],
        power_mult=1.0 + on["power_crunch"],
        demand_mult=np.maximum(1.0 - on["recession"], 0.1),
    )


def export_ban_ahead(world: World, events_left: np.ndarray) -> np.ndarray:
    """(R,) whether new export controls are still in force next round: what orders placed now
    are checked against (an event with one quarter left ends before they arrive)."""
    ahead = np.zeros(events_left.shape[0], bool)
    for e in np.flatnonzero(world.event_kind == EVENT_KINDS.index("gpu_export_controls")):
        ahead |= events_left[:, e] > 1  # event by event: faster than any() over the events axis
    return ahead
