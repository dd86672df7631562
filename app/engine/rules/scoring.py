"""The balanced scorecard: each metric scaled across the game's companies, weighted by the instructor."""

from __future__ import annotations

import numpy as np

from app.engine.world import World

METRICS = ("profit", "revenue_growth", "share", "valuation", "brand", "safety_record", "capability", "solvency")


def metric_values(cum_net_income: np.ndarray, revenue: np.ndarray, revenue_first: np.ndarray, revenue_share: np.ndarray,
                  revenue_share_start: np.ndarray, valuation: np.ndarray, valuation_start: np.ndarray, brand: np.ndarray,
                  incidents: np.ndarray, capability: np.ndarray, rescues: np.ndarray) -> np.ndarray:
    """(R,C,8) raw metrics, higher is better. Companies start unequal (corporate genealogy), so money
    metrics measure what a team did with its start: profit on starting value, growth, share gained."""
    growth = np.log(np.maximum(revenue, 1e-3) / np.maximum(revenue_first, 1e-3))
    return np.stack([cum_net_income / valuation_start, growth, revenue_share - revenue_share_start,
                     np.log(np.maximum(valuation, 1.0) / valuation_start), brand, -incidents, capability, -rescues], axis=-1)


def scorecard(world: World, metrics: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Scaled metrics in [0,1] (min-max across companies; ties score 0.5) and the 0-100 score (R,C)."""
    lo, hi = metrics.min(axis=1, keepdims=True), metrics.max(axis=1, keepdims=True)
    spread = hi - lo
    scaled = np.where(spread > 1e-9, (metrics - lo) / np.where(spread > 1e-9, spread, 1.0), 0.5)
    w = np.array([getattr(world.scenario.scoring, m) for m in METRICS])
    return scaled, 100.0 * (scaled * w).sum(-1) / w.sum()
