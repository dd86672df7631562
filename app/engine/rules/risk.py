"""Incidents, lawsuits, fines and brand trust."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from app.engine.arrays import Rows, max_companies, sum_last
from app.engine.rng import Purpose, uniform, uniform_pairs
from app.engine.rules import tuning
from app.engine.world import World

INCIDENT_CAUSES = ("base", "usage", "safety", "safety_staff", "data")


@dataclass(frozen=True, eq=False)
class Incidents:
    rate_part_columns: list[np.ndarray]  # each cause's (R,C) log-contribution to the rate
    probability: np.ndarray  # (R,C)
    happened: np.ndarray  # bool
    severity: np.ndarray
    cost: np.ndarray  # $M direct
    fine: np.ndarray  # $M regulator
    lawsuit_probability: np.ndarray
    lawsuit: np.ndarray  # bool
    settlement: np.ndarray  # $M

    @cached_property
    def rate_parts(self) -> np.ndarray:
        """(R,C,5) log-contributions to the incident rate, in INCIDENT_CAUSES order."""
        return np.stack(self.rate_part_columns, axis=-1)


def incident_rate_parts(
    world: World,
    served: np.ndarray,
    safety: np.ndarray,
    safety_staff: np.ndarray,
    data_share: np.ndarray,
) -> np.ndarray:
    """log of each cause's factor in the incident rate (R,C,5): more users raise it; safety, staff
    and clean data lower it."""
    return np.stack(rate_part_columns(world, served, safety, safety_staff, data_share), axis=-1)


def rate_part_columns(
    world: World,
    served: np.ndarray,
    safety: np.ndarray,
    safety_staff: np.ndarray,
    data_share: np.ndarray,
) -> list[np.ndarray]:
    """`incident_rate_parts` as a list of the five (R,C) arrays, in INCIDENT_CAUSES order."""
    sf = world.scenario.safety
    usage = sf.usage_exponent * np.log(np.maximum(served, 1e-6) / sf.reference_volume_t_tokens)
    parts = [
        np.full_like(served, np.log(max(sf.base_incident_rate, 1e-12))),
        usage,
        -safety / sf.safety_scale,
        -tuning.safety_team_strength(world, safety_staff),
        np.log1p(sum_last(data_share, world.data_bias)),
    ]
    return parts


def incidents(
    world: World,
    rate_parts: np.ndarray | list[np.ndarray],
    served: np.ndarray,
    regulated_revenue: np.ndarray,
    data: np.ndarray,
    data_share: np.ndarray,
    legal_mult: np.ndarray,
    seeds: np.ndarray,
    rnd: int,
) -> Incidents:
    """Draw incidents and lawsuits; a company with no users has no incidents. `served` is the user
    base carried into the quarter, so this quarter's safety work only ever lowers the odds.
    `rate_parts`: the `incident_rate_parts` (R,C,5), or their `rate_part_columns`."""
    sf = world.scenario.safety
    columns = (rate_parts if isinstance(rate_parts, list)
               else [rate_parts[..., k] for k in range(rate_parts.shape[-1])])
    rate = columns[0] + columns[1]  # sum_last(rate_parts): the causes added in order
    for part in columns[2:]:
        rate += part
    companies = np.arange(served.shape[1])
    p = np.where(served > 0, 1.0 - np.exp(-np.exp(rate)), 0.0)
    hit = uniform(seeds, rnd, companies, Purpose.INCIDENT) < p
    severity = _on_rows(hit, seeds, rnd, Purpose.INCIDENT_SEVERITY, lambda _, u: np.clip(
        -np.log(u), 0.2, sf.max_severity))
    fine = np.where(
        hit,
        (sf.fine_floor_musd + sf.fine_share_of_revenue * 4.0 * regulated_revenue)
        * np.minimum(severity, 1.0),
        0.0,
    )
    legal_rate = sum_last(data_share, world.data_hazard) * legal_mult[:, None]
    p_law = np.where(sum_last(data) > 0, 1.0 - np.exp(-legal_rate), 0.0)
    sued = uniform(seeds, rnd, companies, Purpose.LAWSUIT) < p_law
    settle = _on_rows(sued, seeds, rnd, Purpose.LAWSUIT_SEVERITY, lambda rows, u: sum_last(
        rows.take(data), world.data_settlement) * (0.5 + u))
    return Incidents(
        columns, p, hit, severity, severity * sf.incident_cost_musd, fine, p_law, sued, settle
    )


def _on_rows(mask: np.ndarray, seeds: np.ndarray, rnd: int, purpose: Purpose,
             value: Callable[[Rows, np.ndarray], np.ndarray]) -> np.ndarray:
    """(R,C) `value(rows, draws)` where `mask` holds (an incident, a lawsuit), 0 elsewhere: its
    severity is drawn only for what happened (the same draws as for every company of every run)."""
    rows = Rows(mask)
    if not rows.index.size:
        return np.zeros(mask.shape)
    runs, companies = rows.pairs()
    return rows.put(value(rows, uniform_pairs(seeds[runs], rnd, companies, purpose)))


def update_brand(
    world: World,
    brand: np.ndarray,
    anchor: np.ndarray,
    safety: np.ndarray,
    capability: np.ndarray,
    marketing: np.ndarray,
    severity: np.ndarray,
) -> np.ndarray:
    """Brand drifts slowly towards a target set by history, safety and how far the product trails
    the best one; marketing buys it up (with diminishing returns on the spend, and on the brand:
    the better known a brand, the less a dollar adds), incidents knock it down."""
    sf, mk = world.scenario.safety, world.scenario.market
    behind = max_companies(capability, keepdims=True) - capability
    target = np.clip(
        anchor + sf.brand_safety_pull * (safety - 50.0) - sf.brand_quality_pull * behind, 0.0, 100.0
    )
    bought = mk.marketing_brand_cap * (
        1.0 - np.exp(-marketing * mk.marketing_brand_per_musd / max(mk.marketing_brand_cap, 1e-9))
    ) * (1.0 - brand / 100.0)
    return np.clip(
        brand + sf.brand_recovery_per_round * (target - brand) + bought - sf.brand_hit * severity,
        0.0,
        100.0,
    )
