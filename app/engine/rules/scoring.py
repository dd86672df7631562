"""The balanced scorecard a board would sign: value created, measured from baselines the team
cannot move, each metric placed on the scenario's fixed range and weighted by the instructor.

score = 100 * sum(w * scaled) / sum(w), scaled = clip((x - low) / (high - low), 0, 1).
Money is value created in the game, in units of one scenario-wide yardstick (the companies'
average starting value), never a ratio to a company's own start, so a richer start or a bigger
ecosystem is felt through what it lets a team do and never lowers a score."""

from __future__ import annotations

import numpy as np

from app.engine.arrays import mean_last, total_last
from app.engine.world import World
from app.scenario.scorecard import METRIC_DEFINITIONS, METRIC_LABELS, METRICS  # noqa: F401

# A board reads revenue over the trailing twelve months (TTM), as public companies report it.
TRAILING_QUARTERS = 4
SHARE_BASES = ("revenue", "tokens", "both")
_TINY_MUSD = 1e-3  # $1,000: keeps logs and ratios finite for a company that earned nothing


def value_yardstick(valuation_start: np.ndarray) -> np.ndarray:
    """(R,1) the scenario's yardstick for money: its companies' average value before round 1."""
    return mean_last(valuation_start)[..., None]


def trailing_revenue(recent: np.ndarray, revenue: np.ndarray) -> np.ndarray:
    """(R,C,Q) the last TRAILING_QUARTERS quarters' revenue, this one last. Before the game the
    window holds the scenario's starting revenue, so round 1 alone cannot move it much."""
    return np.concatenate([recent[..., 1:], revenue[..., None]], axis=-1)


def profit(cum_net_income: np.ndarray, yardstick: np.ndarray) -> np.ndarray:
    """Cumulative net income over the game, in units of the scenario's yardstick."""
    return cum_net_income / yardstick


def revenue_growth(recent: np.ndarray, revenue_start: np.ndarray) -> np.ndarray:
    """Log of trailing-average revenue over the scenario's starting revenue of the company."""
    ttm = mean_last(recent)
    return np.log(np.maximum(ttm, _TINY_MUSD) / np.maximum(revenue_start, _TINY_MUSD))


def share(world: World, revenue: np.ndarray, tokens: np.ndarray) -> np.ndarray:
    """Fraction of all the revenue (or tokens, or the mean of both: `scoring.share_basis`) the
    game's companies earned from buyers, from each company's running totals (R,C). A lab's API
    sales to product companies are not market share: the buyers are the product companies'."""
    by_revenue = revenue / np.maximum(total_last(revenue)[..., None], _TINY_MUSD)
    by_tokens = tokens / np.maximum(total_last(tokens)[..., None], 1e-12)
    basis = world.scenario.scoring.share_basis
    if basis == "revenue":
        return by_revenue
    if basis == "tokens":
        return by_tokens
    return 0.5 * (by_revenue + by_tokens)


def share_gained(share_now: np.ndarray, share_start: np.ndarray) -> np.ndarray:
    """Share of everything the game's companies sold so far, less the share the scenario starts
    the company with: one quarter's price moves little of a game's total."""
    return share_now - share_start


def value_created(stake_value: np.ndarray, valuation_start: np.ndarray,
                  yardstick: np.ndarray) -> np.ndarray:
    """The founders' stake now (dilution counts) less the company's value at the start, in
    units of the scenario's yardstick: more capital at the start never lowers it."""
    return (stake_value - valuation_start) / yardstick


def solvency(net_cash: np.ndarray, cum_costs: np.ndarray, rounds: int,
             rescues: np.ndarray) -> np.ndarray:
    """Quarters of the game's average costs that cash net of debt covers; a company ever rescued
    scores no more than zero quarters."""
    runway = net_cash / np.maximum(cum_costs / max(rounds, 1), _TINY_MUSD)
    return np.where(rescues > 0, np.minimum(runway, 0.0), runway)


def scorecard(world: World,
              metrics: np.ndarray | list[np.ndarray]) -> tuple[list[np.ndarray], np.ndarray]:
    """Each metric placed on its company's fixed range in [0,1] (the scenario's range moved by the
    company's par; a list of the eight (R,C) arrays), and the weighted 0-100 score (R,C); the
    metrics (R,C,8), or a list of the eight (R,C) arrays."""
    columns = list(metrics) if isinstance(metrics, list) else [
        metrics[..., k] for k in range(len(METRICS))]
    layout = world.layout(columns[0].shape[0])  # the company's ranges, laid out in full
    lo, span = layout.score_low, layout.score_span
    w = np.array([getattr(world.scenario.scoring, m) for m in METRICS])
    scaled = [np.clip((columns[k] - lo[k]) / span[k], 0.0, 1.0) for k in range(len(METRICS))]
    total = scaled[0] * w[0]
    for k in range(1, len(METRICS)):
        total += scaled[k] * w[k]
    return scaled, 100.0 * total / w.sum()
