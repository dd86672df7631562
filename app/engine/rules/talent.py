"""The talent market: a small contested pool where pay relative to rivals drives hiring, attrition
and poaching."""

from __future__ import annotations

import numpy as np

from app.engine.arrays import sum_companies, sum_last
from app.engine.rules.events import Conditions
from app.engine.world import World


def role_constants(world: World) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    t = world.scenario.talent
    roles = (t.researchers, t.engineers, t.safety)
    return (
        np.array([r.salary_usd for r in roles]),
        np.array([r.pool_per_round for r in roles]),
        np.array([r.attrition_per_round for r in roles]),
    )


def hire(
    world: World, staff: np.ndarray, target: np.ndarray, pay: np.ndarray, cond: Conditions
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """New headcount, hires and leavers (R,C,3), in whole people; leavers return to the pool rivals
    hire from. Each role's market clears on its own (`_hire_role`)."""
    k = world.scenario.talent.pay_sensitivity
    _, pool, attrition = role_constants(world)
    target = np.floor(target + 1e-9)
    roles = [
        _hire_role(k, float(pool[r]), float(attrition[r]), np.ascontiguousarray(staff[:, :, r]),
                   target[:, :, r], pay, cond.attrition_mult[:, None])
        for r in range(staff.shape[2])
    ]
    headcount, hired, left = (np.stack(part, axis=-1) for part in zip(*roles, strict=True))
    return headcount, hired, left


def _hire_role(k: float, pool: float, attrition: float, staff: np.ndarray, target: np.ndarray,
               pay: np.ndarray,
               attrition_mult: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One role's talent market (R,C): leavers go where pay is better, the rest of the openings
    are filled from the pool and the leavers in proportion to pay-weighted demand."""
    mean_pay = sum_companies(staff * pay, keepdims=True) / np.maximum(
        sum_companies(staff, keepdims=True), 1e-9
    )
    rate = np.minimum(attrition * attrition_mult * np.exp(k * (mean_pay - pay)), 0.5)
    left = np.rint(staff * rate)  # the expected leavers, to the nearest person
    kept = np.minimum(staff - left, target)
    want = np.maximum(target - kept, 0.0)
    weight = want * np.exp(k * (pay - mean_pay))
    open_pool = pool + sum_companies(left, keepdims=True)
    hired = np.floor(np.minimum(
        want, open_pool * weight / np.maximum(sum_companies(weight, keepdims=True), 1e-9)
    ) + 1e-9)
    return kept + hired, hired, left


def staff_cost(world: World, staff: np.ndarray, pay: np.ndarray, cond: Conditions) -> np.ndarray:
    """Quarterly fully loaded pay in $M (R,C)."""
    salary, _, _ = role_constants(world)
    return sum_last(staff, salary) * pay * (1.0 + cond.pay_inflation[:, None]) / 4.0 / 1e6


def research_gain(world: World, algo: np.ndarray, researchers: np.ndarray) -> np.ndarray:
    """Algorithmic efficiency compounds with research talent (industry trend ~3x a year)."""
    s = world.scenario.scaling
    strength = np.minimum(researchers / s.researchers_for_full_gain, 1.0) ** 0.7
    return algo * s.algo_gain_per_year ** (0.25 * strength)
