"""Training data: scraped (shrinking, legal hazard), licensed (rival deals), synthetic (costs
compute)."""

from __future__ import annotations

import numpy as np

from app.engine.arrays import sum_companies, sum_last
from app.engine.world import World

SCRAPED, LICENSED, SYNTHETIC, PROPRIETARY = 0, 1, 2, 3


def acquire_data(
    world: World, held: np.ndarray, pool: np.ndarray, want: np.ndarray, synthetic_made: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """New holdings (R,C,K), remaining pools (R,K) after this year's restrictions, and data cost
    ($M).

    Scraping is non-rival (everyone crawls the same open web); licensed deals are exclusive.
    """
    scraped = np.minimum(
        want[:, :, SCRAPED], np.maximum(pool[:, None, SCRAPED] - held[:, :, SCRAPED], 0.0)
    )
    asked = sum_companies(want[:, :, LICENSED], keepdims=True)
    licensed = want[:, :, LICENSED] * np.minimum(
        1.0, pool[:, None, LICENSED] / np.maximum(asked, 1e-12)
    )
    got = np.stack([scraped, licensed, synthetic_made, np.zeros_like(scraped)], axis=-1)
    cost = sum_last(got, world.data_cost)
    new_pool = pool.copy()
    new_pool[:, LICENSED] -= sum_companies(licensed)
    new_pool *= 1.0 - world.data_restriction_round
    return held + got, new_pool, cost


def unique_tokens(world: World, held: np.ndarray) -> np.ndarray:
    """Quality-weighted unique tokens a run can draw on (R,C)."""
    return sum_last(held, world.data_quality)


def data_shares(held: np.ndarray) -> np.ndarray:
    """Share of each kind in a company's corpus (R,C,K)."""
    return held / np.maximum(sum_last(held), 1e-9)[..., None]


def proprietary_tokens(world: World, revenue: np.ndarray) -> np.ndarray:
    """The flywheel: a product's users produce training data in proportion to revenue (R,C)."""
    return revenue / 1000.0 * world.scenario.data.proprietary_t_tokens_per_busd_revenue


def with_proprietary(world: World, held: np.ndarray, revenue: np.ndarray) -> np.ndarray:
    """Holdings (R,C,K) once this quarter's users' data joins the corpus."""
    held = held.copy()
    held[:, :, PROPRIETARY] += proprietary_tokens(world, revenue)
    return held
