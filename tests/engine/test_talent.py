"""The talent market: pay above the market attracts and keeps people, in whole numbers."""

from __future__ import annotations

import numpy as np
import pytest

from app.engine.rules import events, talent

from .factories import SCENARIO_IDS, world


def _market(scenario_id: str, pay: list[float], staff: float, target: float):
    w = world(scenario_id)
    C = w.n_companies
    staff_now = np.full((1, C, 3), staff)
    targets = np.full((1, C, 3), target)
    return talent.hire(w, staff_now, targets, np.array([pay + [1.0] * (C - len(pay))]), events.no_shocks(1))


@pytest.mark.parametrize("scenario_id", SCENARIO_IDS)
def test_paying_above_the_market_keeps_more_people_and_wins_more_of_a_contested_pool(scenario_id: str) -> None:
    """The audit found that paying above market bought nothing; here two companies that want the same people
    differ only in pay."""
    w = world(scenario_id)
    pool = w.scenario.talent.engineers.pool_per_round
    staff, hired, left = _market(scenario_id, [1.3, 1.0], 400.0, 400.0 + 2 * pool)
    assert left[0, 0, 1] < left[0, 1, 1], "better-paid engineers leave less often"
    assert hired[0, 0, 1] > hired[0, 1, 1], "the better payer wins more of the contested pool"
    assert staff[0, 0, 1] > staff[0, 1, 1]
    for counts in (staff, hired, left):
        assert np.array_equal(counts, np.round(counts)), "people come whole"
