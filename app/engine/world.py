"""A scenario turned into the arrays the rules read: frozen, built once per game or study."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from app.scenario.schema import HOURS_PER_ROUND, Scenario
from app.scenario.scorecard import METRICS

DATA_KINDS = (
    "scraped",
    "licensed",
    "synthetic",
    "proprietary",
)  # proprietary comes only from a product's users
OWN_MODEL, OPEN_MODEL = -1, -2  # base-model codes besides a lab's company index
EVENT_KINDS = (
    "gpu_export_controls",
    "new_gpu_generation",
    "copyright_wave",
    "regulation",
    "open_weight_release",
    "talent_war",
    "power_crunch",
    "recession",
)


def _arr(values: list[float]) -> np.ndarray:
    return np.asarray(values, dtype=np.float64)


LAYOUTS_KEPT = 4  # batch sizes a world keeps constants laid out for (a study's chunks, a game's 1)
KEPT_PER_LAYOUT = 4  # derived constants a layout keeps (the traits of the last few games played)


def _full(a: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """`a` broadcast to `shape` and laid out in full, read-only (shared by every round)."""
    out = np.array(np.broadcast_to(a, shape), order="C")
    out.setflags(write=False)
    return out


class Layout:
    """The world's constants laid out in full for a batch of `runs` runs: (R,C) per company,
    (R,C,S) per segment. NumPy combines an array with a broadcast constant a few numbers at a time
    (an (R,C,S) array times an (S,) one is several times slower than times an (R,C,S) one), so the
    rules read these instead; the numbers are the same. Built once per batch size
    (`World.layout`); `keep` holds what a module derives once per batch the same way (a game's
    persona traits)."""

    def __init__(self, world: World, runs: int):
        R, C, S = runs, world.n_companies, world.n_segments
        self.runs = runs
        self.lab = _full(world.is_lab, (R, C))  # (R,C) bool
        m = world.scenario.market  # what an engineer ships and supports (market.engineer_capacity)
        self.tokens_per_engineer = _full(np.where(world.is_lab, m.lab_t_tokens_per_engineer,
                                                  m.product_t_tokens_per_engineer), (R, C))
        self.seg_price_sens = _full(world.seg_price_sens, (R, C, S))
        self.seg_stay = _full(1.0 - world.seg_churn, (R, C, S))  # installed buyers who stay
        self.seg_ref_price = _full(world.seg_ref_price, (R, C, S))
        span = world.score_high - world.score_low  # (C,8): each company's scorecard ranges
        self.score_low = [_full(low, (R, C)) for low in world.score_low.T]  # (R,C) a metric
        self.score_span = [_full(width, (R, C)) for width in span.T]
        self._kept: dict[Any, Any] = {}

    def keep(self, key: Any, build: Callable[[], Any]) -> Any:
        """`build()` the first time `key` is asked for in this batch size, the same object after."""
        if key not in self._kept:
            if len(self._kept) >= KEPT_PER_LAYOUT:
                self._kept.clear()
            self._kept[key] = build()
        return self._kept[key]


@dataclass(frozen=True, eq=False)
class World:
    """Scenario constants as arrays: G GPU types, K data kinds, S segments, C companies, E
    events."""

    scenario: Scenario
    gpu_tflops: np.ndarray = field(init=False)
    gpu_watts: np.ndarray = field(init=False)
    gpu_memory_gb: np.ndarray = field(init=False)
    gpu_price_musd: np.ndarray = field(init=False)  # installed: card, server, network, storage
    gpu_rent_musd_round: np.ndarray = field(init=False)
    gpu_supply: np.ndarray = field(init=False)
    gpu_rental_supply: np.ndarray = field(init=False)
    gpu_from_round: np.ndarray = field(init=False)
    gpu_controlled: np.ndarray = field(init=False)
    data_cost: np.ndarray = field(init=False)
    data_quality: np.ndarray = field(init=False)
    data_pool: np.ndarray = field(init=False)
    data_restriction_round: np.ndarray = field(init=False)
    data_hazard: np.ndarray = field(init=False)
    data_settlement: np.ndarray = field(init=False)
    data_bias: np.ndarray = field(init=False)
    seg_volume: np.ndarray = field(init=False)
    seg_growth: np.ndarray = field(init=False)
    seg_ref_price: np.ndarray = field(init=False)
    seg_price_sens: np.ndarray = field(init=False)
    seg_weights: np.ndarray = field(init=False)
    seg_min_safety: np.ndarray = field(init=False)
    seg_churn: np.ndarray = field(init=False)
    is_lab: np.ndarray = field(init=False)
    is_cn: np.ndarray = field(init=False)
    event_kind: np.ndarray = field(init=False)
    event_round: np.ndarray = field(init=False)
    event_prob: np.ndarray = field(init=False)
    event_magnitude: np.ndarray = field(init=False)
    event_duration: np.ndarray = field(init=False)
    score_low: np.ndarray = field(init=False)
    score_high: np.ndarray = field(init=False)
    _layouts: dict[int, Layout] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        sc, put = self.scenario, lambda k, v: object.__setattr__(self, k, v)
        put("_layouts", {})
        gpus = sc.compute.gpus
        put("gpu_tflops", _arr([g.tflops for g in gpus]))
        put("gpu_watts", _arr([g.watts for g in gpus]))
        put("gpu_memory_gb", _arr([g.memory_gb for g in gpus]))
        installed = 1.0 + sc.compute.system_capex_share  # the card and its share of the server
        put("gpu_price_musd", _arr([g.price_usd * installed / 1e6 for g in gpus]))
        put("gpu_rent_musd_round", _arr([g.rent_per_hour * HOURS_PER_ROUND / 1e6 for g in gpus]))
        put("gpu_supply", _arr([g.supply_per_round for g in gpus]))
        put("gpu_rental_supply", _arr([g.rental_supply for g in gpus]))
        put("gpu_from_round", _arr([g.available_from_round for g in gpus]))
        put("gpu_controlled", np.array([g.export_controlled for g in gpus]))
        srcs = {s.kind: s for s in sc.data.sources}

        def get(attr: str, default: float = 0.0) -> np.ndarray:
            """One data-source field per data kind, `default` for a kind the scenario leaves out."""
            return _arr([getattr(srcs[k], attr) if k in srcs else default for k in DATA_KINDS])

        put("data_cost", get("cost_per_t_tokens_musd"))
        put("data_quality", get("quality", 1.0))
        put("data_pool", get("pool_t_tokens"))
        put("data_restriction_round", 1.0 - (1.0 - get("restriction_growth_per_year")) ** 0.25)
        put("data_hazard", get("legal_hazard_per_round"))
        put("data_settlement", get("settlement_per_t_tokens_musd"))
        put("data_bias", get("bias_risk"))
        segs = sc.market.segments
        put("seg_volume", _arr([s.volume_t_tokens for s in segs]))
        put("seg_growth", _arr([s.growth_per_round for s in segs]))
        put("seg_ref_price", _arr([s.reference_price for s in segs]))
        put("seg_price_sens", _arr([s.price_sensitivity for s in segs]))
        put(
            "seg_weights",
            np.array(
                [
                    [
                        s.w_capability,
                        s.w_domain,
                        s.w_safety,
                        s.w_freshness,
                        s.w_brand,
                        s.w_ecosystem,
                    ]
                    for s in segs
                ]
            ),
        )
        put("seg_min_safety", _arr([s.min_safety for s in segs]))
        put("seg_churn", _arr([s.churn_per_round for s in segs]))
        put("is_lab", np.array([c.kind == "lab" for c in sc.companies]))
        put("is_cn", np.array([c.region == "cn" for c in sc.companies]))
        evs = sc.events
        put("event_kind", np.array([EVENT_KINDS.index(e.kind) for e in evs], dtype=np.int64))
        put("event_round", np.array([e.round or 0 for e in evs], dtype=np.int64))
        put("event_prob", _arr([e.probability_per_round for e in evs]))
        put("event_magnitude", _arr([e.magnitude for e in evs]))
        put("event_duration", np.array([e.duration for e in evs], dtype=np.int64))
        # each company's scorecard ranges (C, metric): the scenario's, moved by the company's par
        ranges = sc.scoring.ranges
        par = np.array([[getattr(c.par, m) for m in METRICS] for c in sc.companies])
        put("score_low", np.array([getattr(ranges, m).low for m in METRICS]) + par)
        put("score_high", np.array([getattr(ranges, m).high for m in METRICS]) + par)

    def layout(self, runs: int) -> Layout:
        """The world's constants laid out in full for a batch of `runs` runs (`Layout`)."""
        layout = self._layouts.get(runs)
        if layout is None:
            if len(self._layouts) >= LAYOUTS_KEPT:
                self._layouts.clear()
            layout = self._layouts[runs] = Layout(self, runs)
        return layout

    @property
    def all_labs(self) -> bool:
        """Every company is a lab selling its own model (no product companies, no API market)."""
        return bool(self.is_lab.all())

    @property
    def n_companies(self) -> int:
        return len(self.scenario.companies)

    @property
    def n_segments(self) -> int:
        return len(self.scenario.market.segments)

    @property
    def n_gpus(self) -> int:
        return len(self.scenario.compute.gpus)

    @property
    def company_names(self) -> list[str]:
        return [c.name for c in self.scenario.companies]

    @property
    def segment_ids(self) -> list[str]:
        return [s.id for s in self.scenario.market.segments]

    @property
    def gpu_names(self) -> list[str]:
        return [g.name for g in self.scenario.compute.gpus]

    @property
    def depreciation_rounds(self) -> int:
        return max(1, round(self.scenario.compute.depreciation_years * 4))

    def price_index(self, rnd: int) -> float:
        """How far prices of serving have fallen since round 1 (1.0 in round 1)."""
        return float(self.scenario.market.price_decline_per_year ** (-(rnd - 1) / 4.0))

    def reference_price(self, rnd: int) -> np.ndarray:
        """Segment reference prices ($/M tokens) in a round: they fall every quarter."""
        return self.seg_ref_price * self.price_index(rnd)

    def reference_prices(self, rnd: int, runs: int) -> np.ndarray:
        """`reference_price(rnd)` laid out in full for a batch of `runs` runs (R,C,S)."""
        return self.layout(runs).seg_ref_price * self.price_index(rnd)

    def segment_volume(self, rnd: int) -> np.ndarray:
        """Trillions of tokens each segment buys in a round before shocks."""
        return self.seg_volume * (1.0 + self.seg_growth) ** (rnd - 1)
