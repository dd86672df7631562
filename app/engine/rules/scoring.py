"""The balanced scorecard: each metric scaled across the game's companies, weighted by the
instructor."""

from __future__ import annotations

import numpy as np

from app.engine.arrays import sum_last
from app.engine.world import World

METRICS = (
    "profit",
    "revenue_growth",
    "share",
    "valuation",
    "brand",
    "safety_record",
    "capability",
    "solvency",
)


def metric_values(
    cum_net_income: np.ndarray,
    revenue: np.ndarray,
    revenue_first: np.ndarray,
    token_share: np.ndarray,
    token_share_start: np.ndarray,
    stake_value: np.ndarray,
    valuation_start: np.ndarray,
    brand: np.ndarray,
    incidents: np.ndarray,
    capability: np.ndarray,
    rescues: np.ndarray,
) -> np.ndarray:
    """(R,C,8) raw metrics, higher is better. Companies start unequal (corporate genealogy), so
    money metrics measure what a team did with its start: profit on starting value, revenue growth,
    growth of its share of all tokens bought, growth of the founders' stake (dilution counts)."""
    growth = np.log(np.maximum(revenue, 1e-3) / np.maximum(revenue_first, 1e-3))
    share_growth = np.log(np.maximum(token_share, 1e-6) / np.maximum(token_share_start, 1e-6))
    return np.stack(
        [
            cum_net_income / valuation_start,
            growth,
            share_growth,
            np.log(np.maximum(stake_value, 1.0) / valuation_start),
            brand,
            -incidents,
            capability,
            -rescues,
        ],
        axis=-1,
    )


def scorecard(world: World, metrics: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each metric placed on its fixed range in [0,1], and the weighted 0-100 score (R,C)."""
    ranges = world.scenario.scoring.ranges
    lo = np.array([getattr(ranges, m).low for m in METRICS])
    hi = np.array([getattr(ranges, m).high for m in METRICS])
    scaled = np.clip((metrics - lo) / (hi - lo), 0.0, 1.0)
    w = np.array([getattr(world.scenario.scoring, m) for m in METRICS])
    return scaled, 100.0 * sum_last(scaled, w) / w.sum()
