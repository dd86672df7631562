"""The talent market: a small contested pool where pay relative to rivals drives hiring, attrition
and poaching."""

from __future__ import annotations

import numpy as np

from app.engine.arrays import along, sum_last
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
    hire from. Each role's market clears on its own (`_hire_role`), worked out with the runs along
    the fast axis ((C,R) arrays): the same numbers as on (R,C) arrays, without summing over the
    companies a few numbers at a time."""
    k = world.scenario.talent.pay_sensitivity
    _, pool, attrition = role_constants(world)
    target = np.floor(target + 1e-9)
    pay_t = np.ascontiguousarray(pay.T)
    attrition_mult = cond.attrition_mult[None, :]
    out = tuple(np.empty(staff.shape) for _ in range(3))  # headcount, hired, left
    for r in range(staff.shape[2]):
        parts = _hire_role(k, float(pool[r]), float(attrition[r]),
                           np.ascontiguousarray(staff[:, :, r].T),
                           np.ascontiguousarray(target[:, :, r].T), pay_t, attrition_mult)
        for whole, part in zip(out, parts, strict=True):
            whole[:, :, r] = part.T
    headcount, hired, left = out
    return headcount, hired, left


def _hire_role(k: float, pool: float, attrition: float, staff: np.ndarray, target: np.ndarray,
               pay: np.ndarray,
               attrition_mult: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One role's talent market ((C,R): companies first): leavers go where pay is better, the rest
    of the openings are filled from the pool and the leavers in proportion to pay-weighted
    demand."""
    mean_pay = _companies_total(staff * pay) / np.maximum(_companies_total(staff), 1e-9)
    rate = np.minimum(attrition * attrition_mult * np.exp(k * (mean_pay - pay)), 0.5)
    left = np.rint(staff * rate)  # the expected leavers, to the nearest person
    kept = np.minimum(staff - left, target)
    want = np.maximum(target - kept, 0.0)
    weight = want * np.exp(k * (pay - mean_pay))
    open_pool = pool + _companies_total(left)
    hired = np.floor(np.minimum(
        want, open_pool * weight / np.maximum(_companies_total(weight), 1e-9)
    ) + 1e-9)
    return kept + hired, hired, left


def _companies_total(a: np.ndarray) -> np.ndarray:
    """(1,R) the sum over the companies of a (C,R) array, company after company (as
    arrays.sum_companies adds)."""
    return along(np.add, a, 0, a.shape[1])[None, :]


def staff_cost(world: World, staff: np.ndarray, pay: np.ndarray, cond: Conditions) -> np.ndarray:
    """Quarterly fully loaded pay in $M (R,C)."""
    salary, _, _ = role_constants(world)
    return sum_last(staff, salary) * pay * (1.0 + cond.pay_inflation[:, None]) / 4.0 / 1e6


def research_gain(world: World, algo: np.ndarray, researchers: np.ndarray) -> np.ndarray:
    """Algorithmic efficiency compounds with research talent (industry trend ~3x a year)."""
    s = world.scenario.scaling
    strength = np.minimum(researchers / s.researchers_for_full_gain, 1.0) ** 0.7
    return algo * s.algo_gain_per_year ** (0.25 * strength)
