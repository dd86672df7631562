"""Training data: scraped (shrinking, legal hazard), licensed (rival deals), synthetic (costs
compute)."""

from __future__ import annotations

import numpy as np

from app.engine import scaling
from app.engine.arrays import along, cumsum_first, sum_companies, sum_last
from app.engine.world import World

SCRAPED, LICENSED, SYNTHETIC, PROPRIETARY = 0, 1, 2, 3


def room(held: np.ndarray, pool: np.ndarray) -> np.ndarray:
    """(R,C,3) most tokens of each bought kind (scraped, licensed, synthetic) a company can get
    this quarter.

    Crawling and generating are non-rival: each company can take what is left of the pool that it
    does not already hold (the open web, or the synthetic tokens its models can make before they
    stop adding anything new). Licensed deals are exclusive: the pool is what rivals have left.
    """
    out = np.empty((*held.shape[:2], PROPRIETARY))
    for kind in (SCRAPED, SYNTHETIC):  # kind by kind: faster than over the short last axis
        np.subtract(pool[:, kind, None], held[:, :, kind], out=out[:, :, kind])
    out[:, :, LICENSED] = pool[:, None, LICENSED]
    return np.maximum(out, 0.0, out=out)


def within_pools(held: np.ndarray, pool: np.ndarray, want: np.ndarray,
                 room_left: np.ndarray | None = None) -> np.ndarray:
    """(R,C,3) the tokens asked for, cut to what each pool still holds for the company
    (`room_left`: the `room` of these holdings and pools, when already worked out)."""
    return np.minimum(np.maximum(want, 0.0), room(held, pool) if room_left is None else room_left)


def after_purchases(held: np.ndarray, pool: np.ndarray, want: np.ndarray,
                    room_left: np.ndarray | None = None) -> np.ndarray:
    """Holdings (R,C,K) once the data asked for arrives, as far as each pool allows: a forecast
    (rivals' licences and the compute synthetic tokens take may cut it on the day)."""
    got = within_pools(held, pool, want, room_left)
    return held + np.concatenate([got, np.zeros_like(got[..., :1])], axis=-1)


def acquire_data(
    world: World, held: np.ndarray, pool: np.ndarray, want: np.ndarray, synthetic_made: np.ndarray,
    wanted: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """New holdings (R,C,K), remaining pools (R,K) after this year's restrictions, and data cost
    ($M).

    Each kind is cut to its pool (`within_pools`; `wanted`: that cut, when already made); when
    companies together ask for more licensed tokens than are on offer, the deals are shared in
    proportion to what each asked. Synthetic tokens are what the training cluster could generate
    (`synthetic_made`).
    """
    want = within_pools(held, pool, want) if wanted is None else wanted
    asked = sum_companies(want[:, :, LICENSED], keepdims=True)
    licensed = want[:, :, LICENSED] * np.minimum(
        1.0, pool[:, None, LICENSED] / np.maximum(asked, 1e-12)
    )
    synthetic = np.minimum(synthetic_made, want[:, :, SYNTHETIC])
    got = np.stack(
        [want[:, :, SCRAPED], licensed, synthetic, np.zeros_like(licensed)], axis=-1
    )
    cost = sum_last(got, world.data_cost)
    new_pool = pool.copy()
    new_pool[:, LICENSED] -= sum_companies(licensed)
    new_pool *= 1.0 - world.data_restriction_round
    return held + got, new_pool, cost


def unique_tokens(world: World, held: np.ndarray) -> np.ndarray:
    """Quality-weighted unique tokens a run can draw on (R,C)."""
    return sum_last(held, world.data_quality)


def learned_tokens(world: World, held: np.ndarray, tokens: np.ndarray) -> np.ndarray:
    """Tokens' worth a run of `tokens` (R,C) learns from the data held (R,C,K).

    Each token counts at its kind's quality. The run reads its best kinds first; past them it
    either reads worse kinds or repeats the best ones, whichever is worth more: passes over the
    same data decay as Muennighoff et al. 2023 fitted (`scaling.effective_tokens`), and passes
    beyond the scenario's `max_epochs` teach nothing. More data of any kind never hurts."""
    # worked out kind by kind, with the runs along the fast axis ((K,...) arrays): the same sums in
    # the same order as over the short last axis, several times faster
    order = np.argsort(-world.data_quality, kind="stable")
    q = world.data_quality[order].reshape(-1, *[1] * (held.ndim - 1))
    u = np.take(np.moveaxis(held, -1, 0), order, axis=0)  # (K,...) the best kinds first
    best_u = cumsum_first(u)  # tokens in the best k kinds
    d = np.asarray(tokens)
    read = np.minimum(np.maximum(d - best_u + u, 0.0), u)
    read_once = read[0] * q[0]
    for k in range(1, read.shape[0]):
        read_once += read[k] * q[k]
    unique = np.maximum(best_u, 1e-9)
    passes = np.minimum(d, world.scenario.data.max_epochs * unique)
    worth = cumsum_first(u * q)
    worth *= scaling.effective_tokens(passes, unique, world.scenario.scaling) / unique
    return np.maximum(read_once, along(np.maximum, worth, 0, d.size))


def read_quality(world: World, tokens: np.ndarray, learned: np.ndarray) -> np.ndarray:
    """What a token a run read was worth against a web-scraped token read once (R,C): 1 for a
    run on fresh scraped data, less for repeated or synthetic data, more for licensed or users'
    data. A run of no tokens counts as 1."""
    scraped = world.data_quality[SCRAPED]
    read = np.asarray(tokens)
    return np.where(read > 0, np.asarray(learned) / np.maximum(read, 1e-12) / scraped, 1.0)


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
