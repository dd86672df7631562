"""Hypothesis strategies for decision arrays and whole decisions, extremes included: zero, huge,
near-free and very dear.

Each field draws a level (zero, typical or extreme) and a pattern (the same everywhere, spread
at random below the level, or only a few entries at the level); a drawn seed fills the array.
That keeps generation cheap while hypothesis still steers the levels that matter.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from app.engine.decisions import (
    ComputeDecision,
    DataDecision,
    Decision,
    DecisionArrays,
    FinanceDecision,
    ProductDecision,
    RunPlan,
    TalentDecision,
    TrainingDecision,
    TuningDecision,
)
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
        cancel_run=fill.flags((R, C)), hold=fill.flags((R, C)), sft=fill.amounts(MONEY, (R, C, S)), safety=fill.amounts(MONEY, (R, C)),
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


# --- whole decisions, as a team could submit them -------------------------------------------------

DECISION_SCHEMA = Decision.model_json_schema()
UNKNOWN_NAME = "Nowhere"  # a GPU, segment or vendor the scenario does not have
DATA_FIELDS = ("scrape_t_tokens", "license_t_tokens", "synthetic_t_tokens")


def limits(section: str, field: str) -> tuple[float, float]:
    """The bounds the decision model puts on one number (for a mapping: on each of its values)."""
    prop = DECISION_SCHEMA["$defs"][section]["properties"][field]
    prop = prop.get("additionalProperties", prop)
    number = next(p for p in prop.get("anyOf", [prop]) if p.get("type") == "number")
    return float(number["minimum"]), float(number["maximum"])


def edgy(low: float, high: float) -> st.SearchStrategy[float]:
    """Any value from low to high, half the time at an edge: a bound, just inside one, or tiny."""
    edges = {low, high, float(np.nextafter(low, high)), float(np.nextafter(high, low))}
    if low == 0.0:
        edges |= {5e-324, 1e-12}
    return st.one_of(st.sampled_from(sorted(edges)), st.floats(low, high))


def number(section: str, field: str) -> st.SearchStrategy[float]:
    return edgy(*limits(section, field))


def maybe(values: st.SearchStrategy[float]) -> st.SearchStrategy[float | None]:
    return st.one_of(st.none(), values)


def by_name(names: list[str], values: st.SearchStrategy[float]
            ) -> st.SearchStrategy[dict[str, float]]:
    """A value for some of the names, now and then for a name the scenario does not have."""
    return st.dictionaries(st.sampled_from([*names, UNKNOWN_NAME]), values, max_size=len(names) + 1)


@st.composite
def run_plans(draw: st.DrawFn) -> RunPlan:
    total = draw(number("RunPlan", "params_b"))
    low, _ = limits("RunPlan", "active_params_b")
    active = draw(maybe(edgy(low, max(low, total))))
    tokens = draw(number("RunPlan", "tokens_t"))
    return RunPlan(params_b=total, active_params_b=active, tokens_t=tokens)


@st.composite
def decisions(draw: st.DrawFn, world: World) -> Decision:
    """Any decision the model accepts, with every number drawn over its whole valid range."""
    n = lambda section, field: draw(number(section, field))  # noqa: E731
    gpus, segments = world.gpu_names, world.segment_ids
    return Decision(
        finance=FinanceDecision(raise_equity_musd=n("FinanceDecision", "raise_equity_musd"),
                                borrow_musd=n("FinanceDecision", "borrow_musd"),
                                repay_musd=n("FinanceDecision", "repay_musd")),
        compute=ComputeDecision(
            buy_gpus=draw(by_name(gpus, number("ComputeDecision", "buy_gpus"))),
            rent_gpus=draw(by_name(gpus, number("ComputeDecision", "rent_gpus"))),
            serving_share=n("ComputeDecision", "serving_share")),
        talent=TalentDecision(**{role: draw(maybe(number("TalentDecision", role)))
                                 for role in ("researchers", "engineers", "safety_staff")},
                              pay_level=n("TalentDecision", "pay_level")),
        data=DataDecision(**{kind: n("DataDecision", kind) for kind in DATA_FIELDS}),
        training=TrainingDecision(start=draw(st.one_of(st.none(), run_plans())),
                                  cancel=draw(st.booleans())),
        tuning=TuningDecision(
            sft_musd=draw(by_name(segments, number("TuningDecision", "sft_musd"))),
            safety_musd=n("TuningDecision", "safety_musd"), retrieval=draw(st.booleans())),
        products=ProductDecision(
            prices=draw(by_name(segments, number("ProductDecision", "prices"))),
            api_price=draw(maybe(number("ProductDecision", "api_price"))),
            base_model=draw(st.sampled_from([None, "open", UNKNOWN_NAME, *world.company_names])),
            marketing_musd=n("ProductDecision", "marketing_musd")),
    )
