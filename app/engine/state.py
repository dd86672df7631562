"""The state of every company and the market, for R replications at once.

Shapes: R runs, C companies, S segments, G GPU types, K data kinds, L delivery lag,
H depreciation horizon, E catalogue events. Money in US$ millions, parameters in
billions, tokens in trillions. States are frozen: a round makes a new one.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np

STAFF_ROLES = ("researchers", "engineers", "safety")
RESEARCHERS, ENGINEERS, SAFETY_STAFF = range(len(STAFF_ROLES))  # index into staff[:, :, role]


@dataclass(frozen=True, eq=False)
class State:
    round: int  # the last round resolved; 0 before the game starts
    seeds: np.ndarray  # (R,) one seed per replication
    open_capability: np.ndarray  # (R,) best open-weight model
    data_pool: np.ndarray  # (R,K) tokens still open to acquire
    events_left: np.ndarray  # (R,E) quarters an event still runs
    cash: np.ndarray  # (R,C)
    debt: np.ndarray
    paid_in: np.ndarray
    retained: np.ndarray
    ppe: np.ndarray  # net book value of GPUs, in transit included
    loss_carryforward: np.ndarray
    ownership: np.ndarray  # founders' and team's stake
    depreciation: np.ndarray  # (R,C,H) charge for each of the next H rounds
    rescues: np.ndarray
    gpus: np.ndarray  # (R,C,G) owned and running
    pipeline: np.ndarray  # (R,C,L,G) ordered, arriving in l+1 rounds
    staff: np.ndarray  # (R,C,3) researchers, engineers, safety staff
    pay: np.ndarray  # (R,C) pay relative to market
    algo: np.ndarray  # (R,C) algorithmic-efficiency multiplier
    data: np.ndarray  # (R,C,K) unique tokens held by kind
    run_on: np.ndarray  # (R,C) bool: a pre-training run is in progress
    run_total: np.ndarray
    run_active: np.ndarray
    run_tokens: np.ndarray
    run_tokens_eff: np.ndarray
    run_flops_needed: np.ndarray
    run_flops_done: np.ndarray
    run_start: np.ndarray
    model_total: np.ndarray  # (R,C) current released model
    model_active: np.ndarray
    model_cap: np.ndarray
    model_cutoff: np.ndarray  # round of the data cut-off
    model_version: np.ndarray
    ready_on: np.ndarray  # (R,C) bool: a finished model is kept ready, not yet released
    ready_total: np.ndarray
    ready_active: np.ndarray
    ready_cap: np.ndarray
    ready_cutoff: np.ndarray
    release_hold: np.ndarray  # (R,C) bool: the team chose to hold its finished models last round
    sft: np.ndarray  # (R,C,S) SFT examples held
    safety_stock: np.ndarray  # (R,C) effective safety-tuning spend
    safety_start: np.ndarray  # (R,C) safety level before any tuning in the game
    rag: np.ndarray  # (R,C) retrieval on (1) or off (0)
    brand: np.ndarray
    brand_anchor: np.ndarray
    ecosystem: np.ndarray
    share: np.ndarray  # (R,C,S) installed share of each segment
    rationed: np.ndarray  # (R,S) buyers no seller could serve last round: they choose again
    choice_share: np.ndarray  # (R,C,S) share of the buyers choosing last round (new and churning)
    prices: np.ndarray  # (R,C,S) $ per million tokens
    offer_capability: np.ndarray  # (R,C) capability of what each company sold last round
    api_price: np.ndarray  # (R,C) wholesale $ per million tokens
    base: np.ndarray  # (R,C) int: -1 own model, -2 open weights, else a lab's index
    revenue: np.ndarray  # (R,C) last round
    revenue_start: np.ndarray  # (R,C) the scenario's starting revenue, the base of growth
    revenue_recent: np.ndarray  # (R,C,Q) the trailing quarters' revenue, the latest last
    cum_revenue: np.ndarray
    cum_tokens: np.ndarray  # (R,C) tokens served to buyers over the game, at their quality
    cum_retail: np.ndarray  # (R,C) revenue from buyers (not other companies), at its quality
    cum_net_income: np.ndarray
    incidents: np.ndarray
    valuation: np.ndarray
    valuation_start: np.ndarray
    share_start: np.ndarray  # (R,C) the scorecard's share before round 1 (`share_basis`)
    demand: np.ndarray  # (R,C) tokens asked for last round
    served: np.ndarray  # (R,C) tokens served last round

    @property
    def runs(self) -> int:
        return int(self.cash.shape[0])

    def replace(self, **changes: Any) -> State:
        return dataclasses.replace(self, **changes)

    def take(self, run: int) -> State:
        """One replication as a state of its own (R=1)."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            out[f.name] = v[run : run + 1] if isinstance(v, np.ndarray) else v
        return State(**out)
