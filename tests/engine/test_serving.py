"""Serving: FLOPs follow the active parameters, memory must hold all of them (Mixture of Experts)."""

from __future__ import annotations

import numpy as np

from app.engine.rules import market
from app.engine.world import World
from app.scenario import find_scenario

PEAK = np.array([[1e25]])  # serving FLOPs a quarter
ALGO = np.array([[1.0]])
LAB = np.array([[True]])


def capacity(world: World, memory_gb: float, active_b: float, total_b: float) -> float:
    return float(market.serving_capacity(world, PEAK, np.array([[memory_gb]]), np.array([[active_b]]), np.array([[total_b]]), ALGO, LAB)[0, 0])


def test_a_mixture_of_experts_serves_like_its_active_parameters_when_memory_holds_every_parameter() -> None:
    w = World(find_scenario("frontier-race"))
    moe, dense_small, dense_big = capacity(w, 1e6, 37, 671), capacity(w, 1e6, 37, 37), capacity(w, 1e6, 671, 671)
    assert moe == dense_small
    assert moe > 15 * dense_big


def test_a_fleet_that_cannot_hold_the_whole_model_serves_only_in_proportion() -> None:
    w = World(find_scenario("frontier-race"))
    needed = 671 * w.scenario.compute.serving_bytes_per_param  # GB for one copy of every parameter
    full = capacity(w, needed, 37, 671)
    assert capacity(w, 2 * needed, 37, 671) == full
    assert capacity(w, needed / 4, 37, 671) == full / 4
    assert capacity(w, needed / 4, 37, 37) > capacity(w, needed / 4, 37, 671)
