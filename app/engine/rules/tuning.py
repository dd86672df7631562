"""Supervised fine-tuning per domain, safety tuning, and the alignment tax."""

from __future__ import annotations

import numpy as np

from app.engine.state import SAFETY_STAFF, State
from app.engine.world import World

STRENGTH_AT_SCALE = 1.0 - np.exp(-1.0)  # a team of `safety_staff_scale` people has strength 1


def fine_tune(world: World, sft: np.ndarray, spend: np.ndarray) -> np.ndarray:
    """SFT examples held per segment (R,C,S) as the quarter opens: last stock, slowly dated, plus
    examples bought. Those earned from users arrive after the sales (`earn_examples`)."""
    d = world.scenario.data
    bought = spend * 1e6 / d.sft_cost_per_example_usd
    return sft * (1.0 - d.sft_decay_per_round) + bought


def earn_examples(world: World, sft: np.ndarray, revenue_by_segment: np.ndarray) -> np.ndarray:
    """The SFT flywheel: paying users' traffic becomes examples for next quarter's tuning
    (R,C,S)."""
    per_musd = world.scenario.data.proprietary_examples_per_musd_revenue
    return sft + per_musd * revenue_by_segment


def domain_skill(world: World, sft: np.ndarray) -> np.ndarray:
    """0-100 skill per segment with saturating returns (LIMA: a little curated data goes far)."""
    half = world.scenario.data.sft_examples_half_skill
    return 100.0 * sft / (sft + half)


def safety_tuning(
    world: World, stock: np.ndarray, spend: np.ndarray, safety_staff: np.ndarray
) -> np.ndarray:
    """Effective safety-tuning stock ($M); safety staff make each dollar go further, jailbreaks
    erode it."""
    sf = world.scenario.safety
    return stock * (1.0 - sf.safety_decay_per_round) + spend * (
        1.0 + safety_team_strength(world, safety_staff)
    )


def safety_team_strength(world: World, safety_staff: np.ndarray) -> np.ndarray:
    """What a safety team adds, with diminishing returns (R,C): 1 at `safety_staff_scale` people,
    never above 1/(1 - 1/e) ~ 1.58 however many are hired (the tenth red-teamer finds less than the
    first). It multiplies safety tuning, adds safety points and lowers the incident rate."""
    x = safety_staff / world.scenario.safety.safety_staff_scale
    return -np.expm1(-x) / STRENGTH_AT_SCALE


def safety_level(
    world: World, start: np.ndarray, stock: np.ndarray, safety_staff: np.ndarray
) -> np.ndarray:
    """0-100 safety of the offer: the starting level, closed towards 100 by tuning, plus a staff
    bonus."""
    sf = world.scenario.safety
    tuned = start + (100.0 - start) * stock / (stock + sf.tuning_half_musd)
    return np.minimum(
        tuned + sf.staff_safety_points * np.minimum(safety_team_strength(world, safety_staff), 1.0),
        100.0,
    )


def safety_now(world: World, state: State) -> np.ndarray:
    """0-100 safety of what each company sells as the next quarter opens (R,C)."""
    return safety_level(
        world, state.safety_start, state.safety_stock, state.staff[:, :, SAFETY_STAFF]
    )


def alignment_tax(world: World, safety: np.ndarray) -> np.ndarray:
    """Capability points lost to over-refusal above the threshold."""
    sf = world.scenario.safety
    return sf.alignment_tax * np.maximum(safety - sf.alignment_tax_threshold, 0.0)
