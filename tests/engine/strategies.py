"""Hypothesis strategies for decision arrays, extremes included: zero, huge, near-free and very dear.

Each field draws a level (zero, typical or extreme) and a pattern (the same everywhere, spread
at random below the level, or only a few entries at the level); a drawn seed fills the array.
That keeps generation cheap while hypothesis still steers the levels that matter.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from app.engine.decisions import DecisionArrays
from app.engine.world import OPEN_MODEL, OWN_MODEL, World

MONEY = st.one_of(st.just(0.0), st.floats(0.0, 5_000.0), st.sampled_from([5e4, 1e6, 1e9]))  # $M
GPU_COUNTS = st.one_of(st.just(0.0), st.floats(0.0, 200_000.0), st.sampled_from([1e6, 1e9]))
T_TOKENS = st.one_of(st.just(0.0), st.floats(0.0, 100.0), st.sampled_from([1e3, 1e6]))
HEADCOUNT = st.one_of(st.just(0.0), st.floats(0.0, 5_000.0), st.just(1e6))
PRICES = st.one_of(st.floats(1e-6, 1e3), st.sampled_from([1e-6, 1e-3, 1e4, 1e6]))  # $ per M tokens, above zero
PARAMS_B = st.one_of(st.floats(0.1, 20_000.0), st.sampled_from([0.1, 20_000.0]))
RUN_TOKENS_T = st.one_of(st.floats(0.01, 1_000.0), st.sampled_from([0.01, 1_000.0]))
PATTERNS = ("same", "spread", "sparse")
SPARSE_SHARE = 0.3


class _Filler:
    """Fills arrays at hypothesis-drawn levels and patterns, with a hypothesis-drawn seed."""

    def __init__(self, draw: st.DrawFn):
        self.draw = draw
        self.rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))

    def amounts(self, levels: st.SearchStrategy[float], shape: tuple[int, ...]) -> np.ndarray:
        """Non-negative amounts up to the drawn level."""
        level, pattern = self.draw(levels), self.draw(st.sampled_from(PATTERNS))
        if pattern == "same":
            return np.full(shape, level)
        if pattern == "spread":
            return level * self.rng.uniform(0.0, 1.0, shape)
        return level * (self.rng.random(shape) < SPARSE_SHARE)

    def positive(self, levels: st.SearchStrategy[float], shape: tuple[int, ...]) -> np.ndarray:
        """Amounts above zero around the drawn level (within a factor of e)."""
        level = self.draw(levels)
        if self.draw(st.booleans()):
            return np.full(shape, level)
        return level * np.exp(self.rng.uniform(-1.0, 1.0, shape))

    def shares(self, shape: tuple[int, ...]) -> np.ndarray:
        return self.amounts(st.floats(0.0, 1.0), shape)

    def flags(self, shape: tuple[int, ...]) -> np.ndarray:
        return self.amounts(st.sampled_from([0.0, 1.0]), shape) > 0.5


@st.composite
def decision_arrays(draw: st.DrawFn, world: World, runs: int) -> DecisionArrays:
    """Any decision a form could produce for every company, affordable or not."""
    R, C, G, S = runs, world.n_companies, world.n_gpus, world.n_segments
    fill = _Filler(draw)
    lab = np.broadcast_to(world.is_lab[None, :], (R, C))
    vendors = np.array([OPEN_MODEL, *np.flatnonzero(world.is_lab).tolist()])
    total = np.minimum(fill.positive(PARAMS_B, (R, C)), 20_000.0)
    return DecisionArrays(
        raise_equity=fill.amounts(MONEY, (R, C)), borrow=fill.amounts(MONEY, (R, C)), repay=fill.amounts(MONEY, (R, C)),
        buy=fill.amounts(GPU_COUNTS, (R, C, G)), rent=fill.amounts(GPU_COUNTS, (R, C, G)),
        serving_share=fill.shares((R, C)), staff_target=fill.amounts(HEADCOUNT, (R, C, 3)),
        pay=0.5 + 2.5 * fill.shares((R, C)), data_buy=fill.amounts(T_TOKENS, (R, C, 3)),
        start_run=fill.flags((R, C)) & lab, run_total=total,
        run_active=total * np.maximum(fill.shares((R, C)), 1e-3),
        run_tokens=np.minimum(fill.positive(RUN_TOKENS_T, (R, C)), 1_000.0),
        cancel_run=fill.flags((R, C)), sft=fill.amounts(MONEY, (R, C, S)), safety=fill.amounts(MONEY, (R, C)),
        rag=fill.flags((R, C)).astype(float), price=fill.positive(PRICES, (R, C, S)),
        api_price=np.where(lab, fill.positive(PRICES, (R, C)), 0.0), marketing=fill.amounts(MONEY, (R, C)),
        base=np.where(lab, OWN_MODEL, fill.rng.choice(vendors, (R, C))),
    )


@st.composite
def injected_events(draw: st.DrawFn, world: World, runs: int) -> np.ndarray | None:
    """No injection, or any set of catalogue events an instructor could inject this round."""
    n = len(world.scenario.events)
    if n == 0 or draw(st.booleans()):
        return None
    return _Filler(draw).flags((runs, n))
